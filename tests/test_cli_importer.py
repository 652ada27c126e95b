"""`datagen import`, `datagen audit`, and `datagen pull` of the study's repos, on the command line.

Hub sources go through tests/test_hub.py's FakeHub (the HfApi stand-in the Hub tests use: only
the network is fake) holding a snapshot written in the study's layout; bad input runs the real
`datagen` in a subprocess (one `Error:` line, exit 1, nothing at --out). The round trip trains
the tiny offline model on an imported config and evaluates it on the imported test split.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import study_fixtures as fx
from click.testing import CliRunner
from conftest import QUICK_EVAL
from test_cli_hub import _assert_one_line_error, _datagen
from test_hub import FakeHub

from datagen.cli import main


@pytest.fixture()
def fake_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeHub:
    import huggingface_hub

    fake = FakeHub(tmp_path / "hub")
    monkeypatch.setattr(huggingface_hub, "HfApi", lambda token=None: fake)
    monkeypatch.setenv("HF_TOKEN", "hf_test")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    return fake


def _publish(fake: FakeHub, repo_id: str, folder: Path, tag: str | None = None) -> str:
    """Put a snapshot folder on the fake hub as one commit (what push_to_hub leaves)."""
    oid = "a" * 40
    fake.repos[repo_id] = {
        "private": False,
        "commits": {oid: {"files": fx.snapshot_files(folder), "message": "Upload dataset"}},
        "head": oid,
        "tags": {tag: oid} if tag else {},
    }
    return oid


@pytest.fixture()
def study_repo(fake_hub: FakeHub, tmp_path: Path) -> dict:
    train = fx.sokoban_rows("diverse-answer-only", levels=3)
    expected = fx.plant_sokoban(train, "diverse-answer-only")
    test = fx.sokoban_rows("rl", levels=2, seed=100, split="test")
    fx.write_snapshot(tmp_path / "snap", {"train": train, "test": test})
    _publish(fake_hub, "Xiaofeng77/diverse-answer-only-sokoban", tmp_path / "snap", tag="v1")
    return {"expected": expected, "test": len(test), "train": len(train)}


def test_import_from_the_hub_stand_in(study_repo: dict, fake_hub: FakeHub, tmp_path: Path) -> None:
    out = tmp_path / "imported"
    result = CliRunner().invoke(
        main, ["import", "Xiaofeng77/diverse-answer-only-sokoban@v1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"sokoban": str(out / "sokoban")}
    assert "layout sokoban-sft" in result.stderr and "layout sokoban-rl" in result.stderr
    assert "snapshot_download" in fake_hub.calls
    build = json.loads((out / "sokoban" / "build.json").read_text())
    assert build["source"]["repo"] == "Xiaofeng77/diverse-answer-only-sokoban"
    assert build["source"]["revision"] == "v1"
    assert build["configs"] == {
        "diverse-answer-only": {"train": study_repo["train"] - 1},
        "eval": {"study_test": study_repo["test"]},
    }
    audit = json.loads((out / "sokoban" / "audit.json").read_text())
    expected = study_repo["expected"]["labels"]
    assert audit["labels"] == dict(expected, optimal=expected["optimal"] + study_repo["test"])
    card = (out / "sokoban" / "README.md").read_text()
    assert "Imported, not generated" in card and "Xiaofeng77/diverse-answer-only-sokoban" in card

    # `datagen audit` prints the same labels; show and stats read the folder
    audited = CliRunner().invoke(main, ["audit", str(out / "sokoban")])
    assert audited.exit_code == 0, audited.output
    assert json.loads(audited.stdout)["labels"] == audit["labels"]
    shown = CliRunner().invoke(main, ["show", str(out / "sokoban"), "--n", "1"])
    assert shown.exit_code == 0, shown.output
    assert "You are a Sokoban solver." in shown.stdout
    stats = CliRunner().invoke(main, ["stats", str(out / "sokoban"), "--json"])
    assert stats.exit_code == 0, stats.output
    figures = json.loads(stats.stdout)["diverse-answer-only"]["train"]
    assert figures["rows"] == study_repo["train"] - 1
    assert figures["distinct_vocabularies"] > 1

    # and it publishes like any build
    pushed = CliRunner().invoke(main, ["push", str(out / "sokoban"), "--repo", "me/imported"])
    assert pushed.exit_code == 0, pushed.output
    assert "audit.json" in fake_hub.tagged("me/imported", "v" + build["version"])
    assert "data/eval/study_test-00000-of-00001.parquet" in fake_hub.tagged(
        "me/imported", "v" + build["version"]
    )


def test_pull_hands_a_study_repo_to_the_importer(study_repo: dict, tmp_path: Path) -> None:
    out = tmp_path / "pulled"
    result = CliRunner().invoke(
        main, ["pull", "Xiaofeng77/diverse-answer-only-sokoban", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout.strip().splitlines()[-1])
    assert record["path"] == str(out / "sokoban") and record["task"] == "sokoban"
    assert (out / "sokoban" / "audit.json").is_file()
    # a second pull replaces the first one
    again = CliRunner().invoke(
        main, ["pull", "Xiaofeng77/diverse-answer-only-sokoban", "--out", str(out)]
    )
    assert again.exit_code == 0, again.output


def test_import_from_a_local_points_folder_with_test_sets(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    splits = {"train": fx.points_rows("diverse-rl")}
    expected = fx.plant_points(splits["train"], "diverse-rl")
    splits["test_fake"] = fx.points_rows("test", n=4, seed=5, test="fake")
    fx.write_snapshot(tmp_path / "snap", splits)
    result = CliRunner().invoke(
        main, ["import", str(tmp_path / "snap"), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 0, result.output
    audit = json.loads((tmp_path / "o" / "points" / "audit.json").read_text())
    assert audit["labels"] == dict(expected["labels"], correct=expected["labels"]["correct"] + 4)
    assert audit["splits"] == {"diverse-rl": {"train": 12}, "eval": {"fake": 4}}


@pytest.mark.parametrize("case", ["other-dataset", "corrupted", "no-parquet", "not-empty"])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path: Path, case: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = tmp_path / "src"
    (source / "data").mkdir(parents=True)
    out = tmp_path / "out"
    needle = {
        "other-dataset": "not one of the study's layouts",
        "corrupted": "cannot read",
        "no-parquet": "no Parquet files",
        "not-empty": "exists and is not empty",
    }[case]
    if case == "other-dataset":
        pq.write_table(pa.table({"text": ["hi"], "label": [0]}), source / "data" / "train.parquet")
    elif case == "corrupted":
        fx.write_snapshot(source, {"train": fx.points_rows("rl", n=3)})
        file = source / "data" / "train-00000-of-00001.parquet"
        file.write_bytes(file.read_bytes()[:-40])
    elif case == "no-parquet":
        (source / "README.md").write_text("---\n---\n")
    else:
        fx.write_snapshot(source, {"train": fx.points_rows("rl", n=3)})
        out.mkdir()
        (out / "keep.txt").write_text("mine")
    done = _datagen(["import", str(source), "--out", str(out)], tmp_path)
    _assert_one_line_error(done, needle)
    if case == "not-empty":
        assert [p.name for p in out.iterdir()] == ["keep.txt"]
    else:
        assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if ".import-" in p.name] == []


def test_round_trip_finetune_then_eval(tmp_path: Path, monkeypatch) -> None:
    """Import -> `datagen finetune` on the tiny model (a few steps) -> `datagen eval` runs."""
    pytest.importorskip("torch")
    from datagen.tiny_model import tiny_model_path

    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    train = fx.sokoban_rows("answer-only", levels=3)
    test = fx.sokoban_rows("rl", levels=1, seed=100, split="test")
    fx.write_snapshot(tmp_path / "snap", {"train": train, "test": test})
    imported = CliRunner().invoke(
        main, ["import", str(tmp_path / "snap"), "--out", str(tmp_path / "i")]
    )
    assert imported.exit_code == 0, imported.output
    data = tmp_path / "i" / "sokoban"
    model = tmp_path / "model"
    trained = CliRunner().invoke(
        main,
        [
            "finetune",
            "--model",
            str(tiny_model_path()),
            "--data",
            str(data),
            "--config",
            "answer-only",
            "--out",
            str(model),
            "--epochs",
            "1",
            "--global-batch",
            "4",
            "--limit",
            "8",
            "--max-steps",
            "2",
            "--max-len",
            "1024",
            "--no-progress",
        ],
    )
    assert trained.exit_code == 0, trained.output
    result = CliRunner().invoke(
        main,
        [
            "eval",
            "--model",
            str(model),
            "--data",
            str(data),
            *QUICK_EVAL,
        ],
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)["metrics"]["sokoban"]
    assert set(metrics) == {"study-test"}
    assert metrics["study-test"]["episodes"] == 1
