"""Builds from level collections: move-optimal labels (all optimal actions), the same rows in
any process, leakage against the evaluation levels, budgets and bad levels listed, not lost."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

import datagen.levels as levels
from datagen.build import BuildConfig, BuildError, build
from datagen.levels import LevelSource
from solvers.sokoban import Level, generate_level, optimal_actions, optimal_trajectory

BOXOBAN = Path(__file__).resolve().parent / "data" / "boxoban"


def _collection(path: Path, levels_: list[Level], extra: str = "") -> Path:
    path.write_text("".join(f"; {i}\n{lv.xsb()}\n\n" for i, lv in enumerate(levels_)) + extra)
    return path


def _rows(out: Path, config: str, split: str) -> list[dict]:
    return pq.read_table(
        out / "sokoban" / "data" / config / f"{split}-00000-of-00001.parquet"
    ).to_pylist()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, list[Level]]:
    tmp = tmp_path_factory.mktemp("levels")
    small = [generate_level(seed, 7, 7, 2) for seed in range(12)]
    train = _collection(tmp / "train.txt", small, extra="; bad\n#####\n#@$X#\n#####\n")
    config = BuildConfig(
        task="sokoban",
        train_size=60,
        eval_size=3,
        workers=1,
        variants=("simple",),
        levels=(LevelSource(str(BOXOBAN / "medium.txt")), LevelSource(str(train), "train")),
    )
    infos = build([config], tmp / "out")
    return tmp / "out", infos["sokoban"], small


def test_eval_variant_rows_are_optimally_labelled(built: tuple[Path, dict, list[Level]]) -> None:
    out, info, _ = built
    rows = _rows(out, "eval", "boxoban")
    assert len(rows) == 3 and info["configs"]["eval"]["boxoban"] == 3
    texts = {e.level.xsb() for e in LevelSource(str(BOXOBAN / "medium.txt")).collection().entries}
    for row in rows:
        level = Level.parse(row["instance"]["grid"])
        assert row["instance"]["grid"] in texts and row["variant"] == "boxoban"
        assert tuple(row["solution"]["actions"]) == optimal_actions(level)
        assert level.replay(row["solution"]["moves"]).solved
        assert row["meta"]["optimal_length"] == len(row["solution"]["moves"])
        assert row["template"]["vocabulary"] == row["template"]["scored_vocabulary"]


def test_train_rows_follow_bfs_trajectories(built: tuple[Path, dict, list[Level]]) -> None:
    out, info, small = built
    rows = _rows(out, "rl", "train")
    assert len(rows) == 60
    labels = {}
    for level in small:
        for state, actions in optimal_trajectory(level):
            labels[state.xsb()] = actions
    for row in rows:
        assert tuple(row["solution"]["actions"]) == labels[row["instance"]["grid"]]
    report = info["levels"]["train"]
    assert report["malformed_or_too_large"] == [
        "train.txt level 12 (; bad): unknown character 'X' at row 1, col 3"
    ]
    assert report["levels_read"] == 12 and report["rows"] == 60 and report["rows_asked"] == 60
    assert info["options"]["levels"][1]["split"] == "train"
    assert "path" not in info["options"]["levels"][0]  # the content is fingerprinted, not the path


def test_same_rows_with_two_workers_and_leakage(tmp_path: Path, built: tuple) -> None:
    out, info, small = built
    # A train collection that holds an evaluation level: that level is skipped, counted.
    boxoban = [e.level for e in LevelSource(str(BOXOBAN / "medium.txt")).collection().entries]
    train = _collection(tmp_path / "train.txt", small)
    config = BuildConfig(
        task="sokoban",
        train_size=60,
        eval_size=3,
        workers=2,
        variants=("simple",),
        levels=(LevelSource(str(BOXOBAN / "medium.txt")), LevelSource(str(train), "train")),
    )
    build([config], tmp_path / "again")
    for config_name, split in (("rl", "train"), ("eval", "boxoban"), ("answer-only", "train")):
        name = f"{split}-00000-of-00001.parquet"
        first = (out / "sokoban" / "data" / config_name / name).read_bytes()
        assert (tmp_path / "again" / "sokoban" / "data" / config_name / name).read_bytes() == first
    leaky = _collection(tmp_path / "leaky.txt", boxoban[:6])
    config = BuildConfig(
        task="sokoban",
        train_size=20,
        eval_size=3,
        workers=1,
        variants=("simple",),
        levels=(LevelSource(str(BOXOBAN / "medium.txt")), LevelSource(str(leaky), "train")),
    )
    info = build([config], tmp_path / "leaky")["sokoban"]
    assert info["levels"]["train"]["skipped_for_leakage"] >= 1
    eval_grids = {r["instance"]["grid"] for r in _rows(tmp_path / "leaky", "eval", "boxoban")}
    assert not eval_grids & {
        r["instance"]["grid"] for r in _rows(tmp_path / "leaky", "rl", "train")
    }


def test_levels_over_the_budget_are_listed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(levels, "LEVEL_MAX_NODES", 30)  # easy levels fit, Boxoban ones do not
    easy = [generate_level(seed, 6, 6, 1) for seed in range(3)]
    mixed = tmp_path / "mixed.txt"
    mixed.write_text(
        _collection(tmp_path / "e.txt", easy).read_text() + (BOXOBAN / "hard.txt").read_text()
    )
    config = BuildConfig(
        task="sokoban",
        train_size=5,
        eval_size=20,
        workers=1,
        variants=("simple",),
        levels=(LevelSource(str(mixed), "mixed"),),
    )
    info = build([config], tmp_path / "out")["sokoban"]
    report = info["levels"]["mixed"]
    assert report["levels_read"] == 15 and report["rows"] == info["configs"]["eval"]["mixed"] == 3
    assert len(report["skipped_over_budget"]) == 12
    assert {s["reason"] for s in report["skipped_over_budget"]} == {"node limit"}
    assert all(s["level"].startswith("mixed.txt level ") for s in report["skipped_over_budget"])
    hard = LevelSource(str(BOXOBAN / "hard.txt"), "hard-set")
    config = BuildConfig(
        task="sokoban", train_size=5, eval_size=2, workers=1, variants=("simple",), levels=(hard,)
    )
    with pytest.raises(BuildError, match="no level could be labelled") as error:
        build([config], tmp_path / "none")
    assert "\n" not in str(error.value) and not (tmp_path / "none").exists()


def test_bad_sources_fail_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("")
    for kwargs, message in (
        ({"levels": (LevelSource(str(tmp_path / "empty.txt")),)}, "no usable level"),
        ({"levels": (LevelSource(str(tmp_path / "nope")),)}, "no such file"),
        ({"task": "points", "levels": (LevelSource(str(BOXOBAN)),)}, "for --task sokoban"),
        ({"levels": (LevelSource(str(BOXOBAN)), LevelSource(str(BOXOBAN / "hard.txt")))}, "repeat"),
    ):
        with pytest.raises(ValueError, match=message):
            BuildConfig(**{"task": "sokoban", **kwargs})
    for split, message in (("Train", "lower-case"), ("simple", "generated variant")):
        with pytest.raises(ValueError, match=message):
            LevelSource(str(BOXOBAN), split)
