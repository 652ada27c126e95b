"""datagen.importers: the study's layouts read back, every planted defect counted exactly.

Fixtures (tests/study_fixtures.py) are written in the study's exact layouts with the real
`datasets` library; nothing here is mocked.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import study_fixtures as fx
from hypothesis import given
from hypothesis import strategies as st

from datagen.importers import ImportFailure, import_source
from datagen.importers.audit import audit_folder
from datagen.importers.layouts import match
from datagen.importers.sokoban import RowError, parse_grid, strip_wrapper
from solvers.sokoban import Level, optimal_actions

KINDS = ("rl", "diverse-rl", "answer-only", "diverse-answer-only", "cot", "diverse-cot")


@pytest.fixture(autouse=True)
def _fresh_hf_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))


def _rows(task_dir: Path, config: str, split: str) -> list[dict]:
    return pq.read_table(task_dir / "data" / config / f"{split}-00000-of-00001.parquet").to_pylist()


def _raw_prompt(raw: dict) -> str:
    return raw["prompt"][0]["content"] if isinstance(raw["prompt"], list) else raw["prompt"]


@pytest.mark.parametrize("kind", KINDS)
def test_sokoban_layouts_every_defect_counted(tmp_path: Path, kind: str) -> None:
    train = fx.sokoban_rows(kind)
    expected = fx.plant_sokoban(train, kind)
    test = fx.sokoban_rows("rl", levels=2, seed=100, split="test")
    fx.write_snapshot(tmp_path / "snap", {"train": train, "test": test})
    task_dir = import_source(str(tmp_path / "snap"), tmp_path / "out")["sokoban"]
    audit = json.loads((task_dir / "audit.json").read_text())

    labels = dict(expected["labels"], optimal=expected["labels"]["optimal"] + len(test))
    assert audit["labels"] == labels
    assert audit["rows"] == expected["rows"] + len(test)
    assert [d["index"] for d in audit["defects"]["not_optimal"]] == expected["not_optimal"]
    assert [d["index"] for d in audit["defects"]["illegal"]] == expected["illegal"]
    assert [(u["split"], u["index"]) for u in audit["unreadable"]] == [("train", 3)]
    assert "unknown grid cell" in audit["unreadable"][0]["reason"]
    pairs = [(d["index"], d["first"]) for d in audit["duplicates"]["list"]]
    assert pairs == expected["duplicates"]
    assert audit["leaks"]["rows"] == 0 and audit["solution_mismatch"] == 0
    assert audit["layout"] == {
        "train": "sokoban-sft" if "rl" not in kind else "sokoban-rl",
        "test": "sokoban-rl",
    }

    config = kind  # our config names are the study kinds
    build = json.loads((task_dir / "build.json").read_text())
    assert set(build["configs"]) == {config, "eval"}
    assert build["configs"]["eval"] == {"study_test": len(test)}
    assert build["source"]["splits"]["train"]["layout"] == audit["layout"]["train"]

    rows = _rows(task_dir, config, "train")
    assert len(rows) == len(train) - 1  # the unreadable one is listed, not written
    for row in rows:
        raw = train[row["meta"]["source"]["index"]]
        content, prefill = row["prompt"][0]["content"], row["template"]["prefill"]
        # The study's bytes: re-wrapping the kept content gives the raw prompt back.
        assert f"<|im_start|>user\n{content}<|im_end|>\n<|im_start|>assistant\n{prefill}" == (
            _raw_prompt(raw)
        )
        assert row["meta"]["source"]["split"] == "train"
        assert row["template"]["family"] == "study-import"
        assert row["template"]["think"] is (kind != "answer-only")
        assert prefill == ("<answer>" if kind == "answer-only" else "<think>")
        if "rl" in kind:
            assert "completion" not in row
        else:
            assert row["completion"] == [{"role": "assistant", "content": raw["response"]}]
        level = Level.parse(row["instance"]["grid"])
        assert row["solution"]["actions"] == list(optimal_actions(level))
        assert level.replay(row["solution"]["moves"]).solved
        assert row["meta"]["paper_prompt"] is True  # the study's text is our paper rendering
        assert row["template"]["show_answers"] is True
        if kind.startswith("diverse"):
            assert row["template"]["vocabulary"] != ["Up", "Down", "Left", "Right"]
    assert {r["variant"] for r in _rows(task_dir, "eval", "study_test")} == {"study-test"}


@pytest.mark.parametrize("kind", KINDS)
def test_points_layouts_every_defect_counted(tmp_path: Path, kind: str) -> None:
    train = fx.points_rows(kind)
    expected = fx.plant_points(train, kind)
    fx.write_snapshot(tmp_path / "snap", {"train": train})
    task_dir = import_source(str(tmp_path / "snap"), tmp_path / "out")["points"]
    audit = json.loads((task_dir / "audit.json").read_text())
    assert audit["labels"] == expected["labels"]
    assert [d["index"] for d in audit["defects"]["wrong"]] == expected["wrong"]
    assert [u["index"] for u in audit["unreadable"]] == expected["unreadable"]
    assert [(d["index"], d["first"]) for d in audit["duplicates"]["list"]] == expected["duplicates"]
    assert audit["solution_mismatch"] == 0
    rows = _rows(task_dir, kind, "train")
    for row in rows:
        raw = train[row["meta"]["source"]["index"]]
        question = (
            raw["question"] if isinstance(raw["question"], str) else (raw["question"][0]["content"])
        )
        assert row["prompt"][0]["content"] == question  # verbatim, newlines included
        assert row["instance"]["cards"] == raw["extra_info"]["cards"]
        if "answer" in raw:
            assert row["completion"][0]["content"] == raw["answer"]
        assert row["template"]["rule"] == raw["extra_info"].get("face_card_mapping", "all_10")
    # The study's SFTvsRL wording ("count as '10'") is read but is not our paper rendering.
    assert all(r["meta"]["paper_prompt"] is (kind not in ("rl", "answer-only")) for r in rows)


def test_points_test_sets_score_the_fake_rule(tmp_path: Path) -> None:
    splits = {"train": fx.points_rows("diverse-rl")}
    for name in ("id", "fake", "all_5_fake"):
        splits[f"test_{name}"] = fx.points_rows("test", n=6, seed=3, test=name)
    fx.write_snapshot(tmp_path / "snap", splits)
    task_dir = import_source(str(tmp_path / "snap"), tmp_path / "out")["points"]
    build = json.loads((task_dir / "build.json").read_text())
    assert build["configs"]["eval"] == {"id": 6, "fake": 6, "all_5_fake": 6}
    fake = _rows(task_dir, "eval", "fake")
    assert {r["variant"] for r in fake} == {"fake"}
    assert all(r["template"]["faces"] == [11, 12, 13] for r in fake)
    assert all(r["template"]["scored_faces"] == [10, 10, 10] for r in fake)
    five = _rows(task_dir, "eval", "all_5_fake")
    assert all(r["template"]["faces"] == [5, 5, 5] for r in five)
    assert all(r["template"]["scored_faces"] == [10, 10, 10] for r in five)
    audit = json.loads((task_dir / "audit.json").read_text())
    assert audit["labels"] == {"correct": len(splits["train"]) + 18, "wrong": 0, "unreadable": 0}


def test_leaks_against_the_study_test_splits_and_our_suite(tmp_path: Path) -> None:
    from datagen.build import BuildConfig, build

    train = fx.sokoban_rows("rl", levels=3)
    test = fx.sokoban_rows("rl", levels=2, seed=100, split="test")
    train += [json.loads(json.dumps(test[0])), json.loads(json.dumps(test[1]))]  # 2 test states
    ours = build(
        [BuildConfig(task="sokoban", train_size=0, eval_size=2, workers=1, variants=("simple",))],
        tmp_path / "suite",
    )
    assert ours
    suite_row = _rows(tmp_path / "suite" / "sokoban", "eval", "simple")[0]
    grid = Level.parse(suite_row["instance"]["grid"])
    from solvers.sokoban import STUDY_CELL, STUDY_SYMBOLS

    obs = grid.render(STUDY_SYMBOLS, STUDY_CELL)
    leaked = json.loads(json.dumps(train[0]))
    old = fx.strip_obs(leaked["prompt"][0]["content"])
    leaked["prompt"][0]["content"] = leaked["prompt"][0]["content"].replace(old, obs)
    train.append(leaked)
    fx.write_snapshot(tmp_path / "snap", {"train": train, "test": test})
    task_dir = import_source(
        str(tmp_path / "snap"), tmp_path / "out", against=[tmp_path / "suite"]
    )["sokoban"]
    audit = json.loads((task_dir / "audit.json").read_text())
    leaks = audit["leaks"]
    assert leaks["by_suite"] == {"eval config": 2, str(tmp_path / "suite"): 1}
    assert leaks["rows"] == 3
    assert sorted(d["index"] for d in leaks["list"]) == [
        len(train) - 3,
        len(train) - 2,
        len(train) - 1,
    ]
    build_json = json.loads((task_dir / "build.json").read_text())
    assert build_json["leakage"]["overlaps"] == 3


def test_audit_of_our_own_build_is_clean_and_matches_the_import(tmp_path: Path) -> None:
    from datagen.build import BuildConfig, build

    build([BuildConfig(task="points", train_size=20, eval_size=3, workers=1)], tmp_path / "b")
    report = audit_folder(tmp_path / "b" / "points")
    assert report["labels"]["wrong"] == 0 and report["labels"]["correct"] == report["rows"]
    assert report["duplicates"]["rows"] == 0 and report["leaks"]["rows"] == 0
    assert report["leaks"]["checked_against"] == ["eval config"]
    assert report["solution_mismatch"] == 0

    train = fx.points_rows("diverse-cot")
    expected = fx.plant_points(train, "diverse-cot")
    fx.write_snapshot(tmp_path / "snap", {"train": train})
    task_dir = import_source(str(tmp_path / "snap"), tmp_path / "out")["points"]
    again = audit_folder(task_dir)
    written = json.loads((task_dir / "audit.json").read_text())
    assert again["labels"] == written["labels"] == expected["labels"]
    assert again["duplicates"] == written["duplicates"]


def test_same_input_same_bytes(tmp_path: Path) -> None:
    train = fx.sokoban_rows("diverse-rl", levels=2)
    fx.write_snapshot(tmp_path / "snap", {"train": train})
    a = import_source(str(tmp_path / "snap"), tmp_path / "a")["sokoban"]
    b = import_source(str(tmp_path / "snap"), tmp_path / "b")["sokoban"]
    for path in sorted(p for p in a.rglob("*") if p.is_file()):
        text = path.read_bytes().replace(str(tmp_path / "a").encode(), b"X")
        other = (b / path.relative_to(a)).read_bytes().replace(str(tmp_path / "b").encode(), b"X")
        assert text == other, path


def test_single_parquet_file_and_layout_detection(tmp_path: Path) -> None:
    fx.write_snapshot(tmp_path / "snap", {"train": fx.points_rows("answer-only")})
    file = tmp_path / "snap" / "data" / "train-00000-of-00001.parquet"
    assert match(pq.read_schema(file)).name == "points-sft"
    task_dir = import_source(str(file), tmp_path / "out")["points"]
    assert json.loads((task_dir / "build.json").read_text())["configs"] == {
        "answer-only": {"train": 12}
    }
    other = tmp_path / "other.parquet"
    import pyarrow as pa

    pq.write_table(pa.table({"text": ["a"], "label": [1]}), other)
    assert match(pq.read_schema(other)) is None
    with pytest.raises(ImportFailure, match="columns found: text: string, label: int64"):
        import_source(str(other), tmp_path / "bad")
    assert not (tmp_path / "bad").exists()


def test_hostile_prompts_are_row_errors() -> None:
    with pytest.raises(RowError, match="never switches"):
        strip_wrapper("<|im_start|>user\nhello")
    with pytest.raises(RowError, match="after the assistant turn"):
        strip_wrapper("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nsurprise")
    assert strip_wrapper("plain text") == ("plain text", "", False)
    with pytest.raises(RowError, match="no \\[Current Observation\\]"):
        parse_grid("no grid here")
    with pytest.raises(RowError, match="does not end with a tab"):
        parse_grid("[Current Observation]:\n # \t #\nDecide the next action:")
    # a long hostile line is read in linear time and rejected
    with pytest.raises(RowError):
        parse_grid("[Current Observation]:\n" + " _ \t" * 100_000 + "x\nDecide the next action:")


def test_bulk_rows_pauses_the_collector_and_restores_it():
    import gc

    from datagen.importers.audit import bulk_rows

    assert gc.isenabled()
    with pytest.raises(KeyError), bulk_rows():
        assert not gc.isenabled()
        raise KeyError("a failed import")
    assert gc.isenabled()  # back on after an error too
    frozen = gc.get_freeze_count()
    with bulk_rows():
        survivor = [(i, str(i)) for i in range(1000)]
    assert gc.get_freeze_count() >= frozen + len(survivor)  # what outlives the rows is frozen
    gc.unfreeze()
    gc.disable()
    try:
        with bulk_rows():
            pass
        assert not gc.isenabled()  # a caller's own setting is kept
    finally:
        gc.enable()


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=5) | st.integers(), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(_JSON)
def test_report_json_is_the_report(value) -> None:
    from datagen.importers.audit import report_json

    assert json.loads(report_json(value)) == json.loads(json.dumps(value))


def test_report_json_puts_each_listed_row_on_a_line() -> None:
    from datagen.importers.audit import report_json

    report = {
        "rows": 3,
        "duplicates": {"list": [{"index": 2, "first": 0}, {"index": 3, "first": 1}]},
    }
    assert report_json(report).splitlines() == [
        "{",
        '  "rows": 3,',
        '  "duplicates": {',
        '    "list": [',
        '      {"index": 2, "first": 0},',
        '      {"index": 3, "first": 1}',
        "    ]",
        "  }",
        "}",
    ]
