"""Tests of teachers.rejection: adaptive schedule, verification, cache, kill -9 resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from datagen.tasks import get_task
from teachers import Sample, SamplingConfig, rejection_sample, write_jsonl
from teachers.rejection import SampleCache, cache_key
from teachers.scripted import AccuracyTeacher

ROOT = Path(__file__).resolve().parents[1]


def sokoban_rows(n_levels: int = 2) -> list[dict]:
    from datagen.templates.sokoban import make_template
    from solvers.sokoban import generate_level

    task = get_task("sokoban")
    rows = []
    for seed in range(n_levels):
        level = generate_level(seed, min_moves=3)
        rows += task.trajectory_rows(level, seed, lambda i: make_template())
    return rows


def points_rows() -> list[dict]:
    from datagen.templates.points import make_template

    task = get_task("points")
    template = make_template(rule="all_10", faces=(10, 10, 10))
    hands = [["2", "7", "Q", "2"], ["3", "8", "3", "8"], ["A", "5", "5", "5"], ["4", "6", "K", "2"]]
    return [task.make_row("train", cards, 24, template, seed=i) for i, cards in enumerate(hands)]


class FixedTeacher:
    """Answers every request with the same sample (for reasons that need a crafted sample)."""

    backend = "fixed"
    model = "fixed"

    def __init__(self, sample: Sample):
        self.sample = sample

    def info(self) -> dict:
        return {"backend": self.backend, "model": self.model}

    def generate(self, requests, sampling, on_sample=None):
        return [self.sample for _ in requests]


def test_perfect_teacher_needs_only_the_first_round(tmp_path):
    task = get_task("sokoban")
    rows = sokoban_rows()
    teacher = AccuracyTeacher(task, accuracy=1.0)
    result = rejection_sample(rows, task, teacher, SamplingConfig(), tmp_path, initial_samples=2)
    assert [r["id"] for r in result.accepted] == [r["id"] for r in rows]
    assert result.stats["samples"] == 2 * len(rows)
    assert result.stats["accepted"] == len(rows) and result.stats["yield"] == 1.0
    for row in result.accepted:
        content = row["completion"][0]["content"]
        assert content.startswith("<think>\n") and "</think>\n\n<answer>" in content
        assert task.score(row, content).correct
        assert list(row)[:5] == ["id", "task", "variant", "prompt", "completion"]
        assert row["meta"]["teacher"]["sample_index"] == 0
        assert row["meta"]["teacher"]["temperature"] == 0.6


def test_hopeless_teacher_stops_at_max_samples_and_keeps_reasons(tmp_path):
    task = get_task("points")
    rows = points_rows()
    result = rejection_sample(
        rows,
        task,
        AccuracyTeacher(task, accuracy=0.0),
        SamplingConfig(),
        tmp_path,
        max_samples=6,
        initial_samples=2,
    )
    assert result.accepted == []
    assert result.stats["samples"] == 6 * len(rows)
    assert result.stats["rounds"] == 3
    assert result.stats["rejections"] == {"no_answer": 6 * len(rows)}
    assert {r["reason"] for r in result.rejected} == {"no_answer"}
    assert sorted({r["sample"] for r in result.rejected}) == list(range(6))


def test_adaptive_samples_only_unsolved_prompts(tmp_path):
    task = get_task("sokoban")
    rows = sokoban_rows(4)
    teacher = AccuracyTeacher(task, accuracy=0.3)
    result = rejection_sample(rows, task, teacher, SamplingConfig(seed=1), tmp_path)
    per_prompt = {}
    for rec in result.rejected:
        per_prompt[rec["id"]] = max(per_prompt.get(rec["id"], 0), rec["sample"] + 1)
    for row in result.accepted:
        index = row["meta"]["teacher"]["sample_index"]
        # The trace kept is the first accepted sample; nothing was drawn past its round.
        assert row["meta"]["teacher"]["samples_drawn"] == (index // 2 + 1) * 2
        assert per_prompt.get(row["id"], 0) <= row["meta"]["teacher"]["samples_drawn"]
    assert result.stats["samples"] < 16 * len(rows) / 2
    assert 0.9 <= result.stats["yield"] <= 1.0
    # Round sizes shrink: only prompts without a trace are asked again.
    assert teacher.calls == sorted(teacher.calls, reverse=True)


def test_keep_two_gives_two_rows_per_prompt_with_distinct_ids(tmp_path):
    task = get_task("points")
    rows = points_rows()
    result = rejection_sample(
        rows,
        task,
        AccuracyTeacher(task, accuracy=0.5),
        SamplingConfig(),
        tmp_path,
        keep=2,
        max_samples=16,
    )
    ids = [r["id"] for r in result.accepted]
    assert len(ids) == len(set(ids))
    assert len(ids) == 2 * len(rows)
    assert {i for i in ids if "-" not in i} == {r["id"] for r in rows}


def test_truncated_and_empty_thinking_are_rejected_with_reasons(tmp_path):
    task = get_task("sokoban")
    rows = sokoban_rows(1)[:2]
    answer = task.render_answer(rows[0])
    cases = {
        "truncated": Sample(answer, "", "length", 50),
        "empty_thinking": Sample(answer, "  ", "stop", 5),
    }
    for reason, sample in cases.items():
        result = rejection_sample(
            rows[:1], task, FixedTeacher(sample), SamplingConfig(), tmp_path / reason, max_samples=2
        )
        assert result.accepted == []
        assert [r["reason"] for r in result.rejected] == [reason, reason]


def test_answer_is_rerendered_in_the_task_format(tmp_path):
    task = get_task("sokoban")
    row = sokoban_rows(1)[0]
    word = row["template"]["scored_vocabulary"]["udlr".index(row["solution"]["actions"][-1])]
    sample = Sample(f"So I go with <answer>{word}</answer> then.", "plan", "stop", 9)
    result = rejection_sample([row], task, FixedTeacher(sample), SamplingConfig(), tmp_path)
    content = result.accepted[0]["completion"][0]["content"]
    assert content == f"<think>\nplan\n</think>\n\n<answer> {word} </answer>"


def test_preference_pairs(tmp_path):
    task = get_task("points")
    rows = points_rows()
    result = rejection_sample(
        rows, task, AccuracyTeacher(task, accuracy=0.5), SamplingConfig(), tmp_path, preference=True
    )
    assert result.pairs
    side = tmp_path / "side" / "rejected.jsonl"
    again = rejection_sample(
        rows,
        task,
        AccuracyTeacher(task, accuracy=0.5),
        SamplingConfig(),
        tmp_path,
        preference=True,
        rejected_path=side,
    )
    assert [json.loads(x) for x in side.read_text().splitlines()] == [
        json.loads(json.dumps(r, sort_keys=True)) for r in again.rejected
    ]
    assert len((tmp_path / "side" / "rejected.pairs.jsonl").read_text().splitlines()) == len(
        result.pairs
    )
    for pair in result.pairs:
        row = next(r for r in rows if pair["id"].startswith(r["id"]))
        assert task.score(row, pair["chosen"][0]["content"]).correct
        assert not task.score(row, pair["rejected"][0]["content"]).correct


def test_second_run_is_served_from_the_cache(tmp_path):
    task = get_task("sokoban")
    rows = sokoban_rows(2)
    first = rejection_sample(
        rows, task, AccuracyTeacher(task, accuracy=0.4), SamplingConfig(), tmp_path
    )
    again_teacher = AccuracyTeacher(task, accuracy=0.4)
    second = rejection_sample(rows, task, again_teacher, SamplingConfig(), tmp_path)
    assert again_teacher.calls == []
    assert second.accepted == first.accepted and second.rejected == first.rejected
    assert second.stats["reused"] == first.stats["samples"] and second.stats["generated"] == 0
    # Other sampling settings are another cache file: nothing reused.
    third = rejection_sample(
        rows, task, AccuracyTeacher(task, accuracy=0.4), SamplingConfig(temperature=1.0), tmp_path
    )
    assert third.stats["reused"] == 0
    index = json.loads((tmp_path / "index.json").read_text())
    assert len(index) == 2


def test_torn_last_line_is_cut_and_appends_continue(tmp_path):
    path = tmp_path / "samples-x.jsonl"
    cache = SampleCache(path)
    cache.append("a", "d", 0, 1, Sample("t", "k", "stop", 3))
    cache.close()
    with path.open("a") as fh:
        fh.write('{"prompt_id": "a", "digest": "d", "ind')  # killed mid-write
    cache = SampleCache(path)
    assert set(cache.entries) == {("a", "d", 0)}
    cache.append("a", "d", 1, 2, Sample("u", "k", "stop", 4))
    cache.close()
    assert len(SampleCache(path).entries) == 2


def test_damaged_lines_cost_one_sample_each_and_never_the_resume(tmp_path):
    task = get_task("sokoban")
    rows = sokoban_rows(2)
    first = rejection_sample(
        rows, task, AccuracyTeacher(task, accuracy=0.4), SamplingConfig(), tmp_path
    )
    path = next(tmp_path.glob("samples-*.jsonl"))
    lines = path.read_bytes().split(b"\n")[:-1]
    assert len(lines) >= 6
    lines[1] = lines[1][:20] + b"\xff\xfe" + lines[1][22:]  # one bad byte (not UTF-8)
    lines[3] = lines[3][: len(lines[3]) // 2]  # a garbled, cut line in the middle
    lines[4] = b'{"prompt_id": 7, "digest": [], "index": "x", "sample": {}}'  # wrong types
    path.write_bytes(b"\n".join(lines) + b"\n" + b"\x00\x01 garbage\n")
    teacher = AccuracyTeacher(task, accuracy=0.4)
    again = rejection_sample(rows, task, teacher, SamplingConfig(), tmp_path)
    assert again.accepted == first.accepted and again.rejected == first.rejected
    assert again.stats["generated"] == 3 and sum(teacher.calls) == 3
    assert again.stats["reused"] == first.stats["samples"] - 3
    # The damaged lines stay (nothing is rewritten); the samples drawn again follow them.
    assert len(SampleCache(path).entries) == first.stats["samples"]
    (tmp_path / "index.json").write_text("[1, 2]")  # a damaged index is rebuilt
    rejection_sample(rows, task, AccuracyTeacher(task, accuracy=0.4), SamplingConfig(), tmp_path)
    assert isinstance(json.loads((tmp_path / "index.json").read_text()), dict)


def test_line_separators_inside_a_sample_do_not_split_its_line(tmp_path):
    path = tmp_path / "samples-x.jsonl"
    cache = SampleCache(path)
    odd = Sample("a\u2028b\x85c\u2029d\x0ce", "k\rl", "stop", 3)
    cache.append("a", "d", 0, 1, odd)
    cache.close()
    assert SampleCache(path).entries == {("a", "d", 0): odd}


def test_validation():
    task = get_task("points")
    teacher = AccuracyTeacher(task, 1.0)
    for kwargs in ({"keep": 0}, {"initial_samples": 0}, {"max_samples": 1, "initial_samples": 2}):
        with pytest.raises(ValueError):
            rejection_sample([], task, teacher, SamplingConfig(), Path("/nonexistent"), **kwargs)
    with pytest.raises(ValueError, match="top_k"):
        SamplingConfig(top_k=0)


def test_cache_key_names_model_and_settings():
    task = get_task("points")
    a = cache_key(AccuracyTeacher(task, 0.5), SamplingConfig())
    assert a == cache_key(AccuracyTeacher(task, 0.5), SamplingConfig())
    assert a != cache_key(AccuracyTeacher(task, 0.5, model="other"), SamplingConfig())
    assert a != cache_key(AccuracyTeacher(task, 0.5), SamplingConfig(max_tokens=4096))


def test_write_jsonl_round_trips(tmp_path):
    records = [{"id": "a", "reason": "truncated"}, {"id": "b", "reason": "no_answer"}]
    path = write_jsonl(tmp_path / "rejected.jsonl", records)
    assert [json.loads(line) for line in path.read_text().splitlines()] == records


_RUN = """
import json, sys, time
from pathlib import Path
from datagen.tasks import get_task
from teachers import SamplingConfig, rejection_sample
from teachers.scripted import AccuracyTeacher
sys.path.insert(0, {tests!r})
from test_rejection import sokoban_rows

class Slow(AccuracyTeacher):
    def generate(self, requests, sampling, on_sample=None):
        out = []
        for i, req in enumerate(requests):
            time.sleep({delay})
            out += super().generate([req], sampling)
            if on_sample:
                on_sample(i, out[-1])
        return out

task = get_task("sokoban")
result = rejection_sample(sokoban_rows(3), task, Slow(task, 0.25), SamplingConfig(),
                          Path(sys.argv[1]), batch_size=8)
Path(sys.argv[2]).write_text(json.dumps([result.accepted, result.rejected]))
"""


def _run(tmp_path: Path, cache: Path, out: Path, delay: float) -> subprocess.Popen:
    script = tmp_path / f"run_{delay}.py"
    script.write_text(_RUN.format(tests=str(ROOT / "tests"), delay=delay))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, str(script), str(cache), str(out)], env=env, start_new_session=True
    )


@pytest.mark.slow
def test_kill_9_and_resume_gives_the_same_dataset(tmp_path):
    reference = tmp_path / "reference.json"
    assert _run(tmp_path, tmp_path / "cache-ref", reference, 0.0).wait(timeout=120) == 0
    cache, out = tmp_path / "cache", tmp_path / "resumed.json"
    proc = _run(tmp_path, cache, out, 0.02)
    try:
        deadline = time.monotonic() + 60
        files = []
        while time.monotonic() < deadline:
            files = list(cache.glob("samples-*.jsonl"))
            if files and len(files[0].read_text().splitlines()) >= 25:
                break
            assert proc.poll() is None, "the run finished before it could be killed"
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not out.exists()
    kept = len(files[0].read_text().splitlines())
    assert kept >= 25
    assert _run(tmp_path, cache, out, 0.0).wait(timeout=120) == 0
    assert json.loads(out.read_text()) == json.loads(reference.read_text())
    total = len(files[0].read_text().splitlines())
    assert total == len(
        {(r["prompt_id"], r["index"]) for r in map(json.loads, files[0].read_text().splitlines())}
    )  # nothing drawn twice
    assert total > kept


def test_console_gets_one_line_per_batch(tmp_path):
    class Console:
        def __init__(self):
            self.lines: list[str] = []

        def print(self, text):
            self.lines.append(text)

    task = get_task("points")
    console = Console()
    rejection_sample(
        points_rows(),
        task,
        AccuracyTeacher(task, 1.0),
        SamplingConfig(),
        tmp_path,
        console=console,
        batch_size=3,
    )
    assert len(console.lines) == 3  # 4 prompts x 2 samples in batches of 3
    assert console.lines[-1].startswith("cot round 1: 8 samples (0 from cache), 4/4 prompts")


def test_repeated_rows_share_their_samples(tmp_path):
    task = get_task("points")
    rows = points_rows()
    twin = {**rows[0], "meta": {**rows[0]["meta"], "seed": 99}}
    teacher = AccuracyTeacher(task, 1.0)
    result = rejection_sample([*rows, twin], task, teacher, SamplingConfig(), tmp_path)
    assert result.stats["prompts"] == len(rows) and result.stats["samples"] == 2 * len(rows)
    assert len(result.accepted) == len(rows) + 1
    assert result.accepted[-1]["meta"]["seed"] == 99
    assert result.accepted[-1]["completion"] == result.accepted[0]["completion"]
