"""`datagen build` end to end on small sizes: determinism, leakage, labels, load_dataset."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from datagen.build import BuildConfig, BuildError, build
from datagen.tasks import get_task
from solvers.sokoban import Level, bfs_solve

SMALL = ["--train-size", "120", "--eval-size", "6"]


def _datagen(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "datagen.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False)


def _digests(root: Path) -> dict[str, str]:
    """Digest of every file but run.json, the log of one run's timings."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "run.json"
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build") / "out"
    configs = [
        BuildConfig(task=t, diverse=True, train_size=150, eval_size=8, workers=1)
        for t in ("sokoban", "points")
    ]
    build(configs, out)
    return out


def _rows(task_dir: Path, config: str) -> list[dict]:
    return [
        row
        for f in sorted((task_dir / "data" / config).glob("*.parquet"))
        for row in pq.read_table(f).to_pylist()
    ]


def test_same_command_gives_identical_bytes_in_any_process(tmp_path):
    outs = []
    for i, (workers, hashseed) in enumerate([("1", "1"), ("2", "2")]):
        out = tmp_path / f"o{i}"
        env = {**os.environ, "PYTHONHASHSEED": hashseed}
        result = _datagen(
            "build",
            "--task",
            "all",
            "--diverse",
            *SMALL,
            "--workers",
            workers,
            "--out",
            str(out),
            env=env,
        )
        assert result.returncode == 0, result.stderr
        outs.append(_digests(out))
    assert outs[0] == outs[1]
    assert any(name.endswith(".parquet") for name in outs[0])


def test_no_evaluation_start_state_is_a_training_state(built):
    soko_train = {r["instance"]["grid"] for r in _rows(built / "sokoban", "diverse-rl")}
    soko_eval = {r["instance"]["grid"] for r in _rows(built / "sokoban", "eval")}
    assert soko_eval and not soko_train & soko_eval
    points = get_task("points")

    def keys(rows):
        return set().union(
            *(points.leakage_keys(r["instance"]["cards"], r["template"], 24) for r in rows)
        )

    assert not keys(_rows(built / "points", "diverse-rl")) & keys(_rows(built / "points", "eval"))
    for task in ("sokoban", "points"):
        leakage = json.loads((built / task / "build.json").read_text())["leakage"]
        assert leakage["checked"] and leakage["overlaps"] == 0


def test_every_answer_only_label_verifies(built):
    for task_name in ("sokoban", "points"):
        task = get_task(task_name)
        rows = _rows(built / task_name, "diverse-answer-only")
        assert len(rows) == 150 and len({r["id"] for r in rows}) == 150
        for row in rows:
            assert row["completion"][0]["content"] == task.render_answer(row)
            assert task.score(row, row["completion"][0]["content"]).correct
            assert row["prompt"][0]["content"].endswith(
                "Strictly follow this format. " if task_name == "sokoban" else "}\n"
            )


def test_points_hands_are_drawn_as_the_studys_scripts_drew_them(built):
    from solvers.points import TRAIN_FACE_RULES

    faces, large = set("JQK"), {str(v) for v in range(14, 20)}
    eval_rows = _rows(built / "points", "eval")
    assert {r["variant"] for r in eval_rows} >= {"id", "five-cards", "large", "fake"}
    for row in eval_rows:
        cards = set(row["instance"]["cards"])
        if row["variant"] == "large":
            assert cards & large
        elif row["variant"] == "five-cards":
            assert len(row["instance"]["cards"]) == 5
        else:  # id and every face-rule variant: at least one J/Q/K
            assert cards & faces, row["variant"]
    # Diverse training: one block per rule in the study's order; 150 = 6 x 19 + 2 x 18.
    rules = [r["template"]["rule"] for r in _rows(built / "points", "diverse-rl")]
    blocks = [rule for i, rule in enumerate(rules) if i == 0 or rules[i - 1] != rule]
    assert blocks == list(TRAIN_FACE_RULES)
    assert [rules.count(rule) for rule in TRAIN_FACE_RULES] == [19] * 6 + [18] * 2
    # Training hands are uniform: no face card is forced.
    train = _rows(built / "points", "diverse-rl")
    assert any(not set(r["instance"]["cards"]) & faces for r in train)


def test_sokoban_labels_are_optimal_by_bfs(built):
    for row in _rows(built / "sokoban", "eval")[:30] + _rows(built / "sokoban", "diverse-rl")[:60]:
        level = Level.parse(row["instance"]["grid"])
        assert bfs_solve(level).length == row["solution"]["length"]
        assert level.replay(row["solution"]["moves"]).solved


def test_fake_variants_score_the_base_vocabulary_and_nothing_else(built):
    sokoban = get_task("sokoban")
    for row in _rows(built / "sokoban", "eval"):
        if row["variant"] != "fake-emoji":
            continue
        action = row["solution"]["actions"][0]
        index = "udlr".index(action)
        shown = row["template"]["vocabulary"][index]
        base = ["Up", "Down", "Left", "Right"][index]
        assert shown in row["prompt"][0]["content"]
        assert not sokoban.score(row, f"<answer> {shown} </answer>").valid
        assert sokoban.score(row, f"<answer> {base} </answer>").correct
    points = get_task("points")
    for row in _rows(built / "points", "eval"):
        if row["variant"] == "all-5-fake":
            assert "count as '5'" in row["prompt"][0]["content"]
            assert row["template"]["scored_faces"] == [10, 10, 10]
            answer = points.render_answer(row)
            assert points.score(row, answer).correct


def test_every_config_loads_with_datasets(built, tmp_path):
    from datasets import load_dataset

    # datasets keys its cache of a local folder by the folder's name and config, not its
    # content, so another build named "sokoban" would be served from the cache: use a fresh one.

    for task in ("sokoban", "points"):
        info = json.loads((built / task / "build.json").read_text())
        assert set(info["configs"]) == {"diverse-answer-only", "diverse-rl", "eval"}
        for config, splits in info["configs"].items():
            loaded = load_dataset(str(built / task), config, cache_dir=str(tmp_path))
            assert {name: len(split) for name, split in loaded.items()} == splits


def test_build_json_records_options_fingerprint_and_stats(built):
    info = json.loads((built / "sokoban" / "build.json").read_text())
    assert info["options"]["diverse"] is True and info["options"]["train_size"] == 150
    assert info["dataset_version"] == f"{info['version']}+{info['fingerprint']}"
    stats = info["stats"]["diverse-answer-only"]["train"]
    assert stats["rows"] == 150 and stats["distinct_vocabularies"] > 100
    assert sum(stats["labelled_action"].values()) == 150


def test_existing_output_is_refused_and_a_failed_build_leaves_nothing(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    config = BuildConfig(task="points", train_size=5, eval_size=2, workers=1)
    with pytest.raises(BuildError, match="--overwrite"):
        build([config], out)
    assert (out / "keep.txt").read_text() == "mine"

    import datagen.build as module

    def broken(*args, **kwargs):
        raise RuntimeError("killed")

    fresh = tmp_path / "fresh"
    monkeypatch.setattr(module, "write_card", broken, raising=False)
    monkeypatch.setattr("datagen.cards.write_card", broken)
    with pytest.raises(RuntimeError, match="killed"):
        build([config], fresh)
    assert not fresh.exists()
    assert not any(p.name.startswith(".fresh.partial") for p in tmp_path.iterdir())
    monkeypatch.undo()
    build([config], out, overwrite=True)
    assert not (out / "keep.txt").exists() and (out / "points" / "build.json").exists()


def test_config_validation_fails_early():
    with pytest.raises(ValueError, match="wording"):
        BuildConfig(task="sokoban", wordings=("nope",))
    with pytest.raises(ValueError, match="variant"):
        BuildConfig(task="points", variants=("simple",))


def test_cot_build_keeps_only_verified_traces_and_is_reproducible(tmp_path):
    from datagen.cli import main

    def cot_build(out):
        args = "build --task all --cot --teacher search --train-size 40 --eval-size 3"
        args = [*args.split(), "--workers", "1", "--api-key", "sk-secret", "--out", str(out)]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        return _digests(out)

    first = cot_build(tmp_path / "a")
    assert cot_build(tmp_path / "b") == first  # a fresh work folder: everything sampled again
    for task_name in ("sokoban", "points"):
        task = get_task(task_name)
        rows = _rows(tmp_path / "a" / task_name, "cot")
        assert len(rows) == 40
        for row in rows:
            text = row["completion"][0]["content"]
            assert text.startswith("<think>") and "</think>" in text
            assert task.score(row, text).correct
            assert row["meta"]["teacher"]["backend"] == "search"
        info = json.loads((tmp_path / "a" / task_name / "build.json").read_text())
        assert info["teacher"]["accepted"] == 40 and "wall_seconds" not in info["teacher"]
        for name in ("build.json", "README.md"):
            assert "sk-secret" not in (tmp_path / "a" / task_name / name).read_text()
        assert "model" not in info["options"]["cot"]  # the search teacher uses none
        run = json.loads((tmp_path / "a" / task_name / "run.json").read_text())
        assert run["teacher"]["wall_seconds"] >= 0


def test_preference_pairs_become_their_own_config(tmp_path, monkeypatch):
    """A teacher of known accuracy (it knows the answers, so it stands in for a model that is
    sometimes right) gives accepted and rejected samples of the same prompts."""
    import teachers
    from teachers.scripted import AccuracyTeacher

    monkeypatch.setattr(
        teachers, "make_teacher", lambda config: AccuracyTeacher(get_task("points"), 0.5)
    )
    cot = {
        "teacher": "search",
        "model": "x",
        "base_url": "",
        "api_key": "",
        "temperature": 1.0,
        "top_p": 1.0,
        "top_k": -1,
        "max_tokens": 256,
        "max_samples": 4,
        "initial_samples": 2,
        "keep": 1,
        "preference": True,
    }
    config = BuildConfig(task="points", train_size=30, eval_size=2, workers=1, cot=cot)
    info = build([config], tmp_path / "out")["points"]
    pairs = _rows(tmp_path / "out" / "points", "cot-preference")
    assert pairs and info["configs"]["cot-preference"]["train"] == len(pairs)
    points = get_task("points")
    by_id = {r["id"]: r for r in _rows(tmp_path / "out" / "points", "rl")}
    for pair in pairs:
        row = by_id[pair["id"].split("-")[0]]
        assert pair["prompt"] == row["prompt"]
        assert points.score(row, pair["chosen"][0]["content"]).correct
        assert not points.score(row, pair["rejected"][0]["content"]).correct
