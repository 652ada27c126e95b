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

    # A fresh cache keeps this test independent; one shared cache is tested below
    # (test_load_dataset_serves_each_folder_its_own_rows_from_one_cache).

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
    # --overwrite replaces only a folder this tool wrote: the user's file stays.
    with pytest.raises(BuildError, match=r"keep\.txt"):
        build([config], out, overwrite=True)
    assert (out / "keep.txt").read_text() == "mine"
    (out / "keep.txt").unlink()
    build([config], out)  # an existing empty folder is written into
    build([BuildConfig(task="sokoban", train_size=5, eval_size=2, workers=1)], out, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == ["sokoban"]  # the earlier build is replaced
    with pytest.raises(BuildError, match="one task's folder"):
        build([config], out / "sokoban", overwrite=True)


def test_config_validation_fails_early():
    with pytest.raises(ValueError, match="wording"):
        BuildConfig(task="sokoban", wordings=("nope",))
    with pytest.raises(ValueError, match="variant"):
        BuildConfig(task="points", variants=("simple",))
    # Sokoban has `terse`, points has not: the error names both tasks' wordings.
    BuildConfig(task="sokoban", wordings=("paper", "brief", "tutor", "terse"))
    with pytest.raises(ValueError, match=r"points has paper, brief, tutor \(sokoban: .*terse"):
        BuildConfig(task="points", wordings=("paper", "terse"))
    with pytest.raises(ValueError, match="nothing to build"):
        BuildConfig(task="points", train_size=0, eval_size=0)
    with pytest.raises(ValueError, match="Sokoban only"):
        BuildConfig(task="points", legends=("xsb",))
    with pytest.raises(ValueError, match="General Points only"):
        BuildConfig(task="sokoban", targets=(12,))
    with pytest.raises(ValueError, match="holdout"):
        BuildConfig(task="points", holdout="everything")
    cot = {"teacher": "search", "max_samples": 2, "initial_samples": 2, "keep": 1}
    BuildConfig(task="points", cot=cot)
    with pytest.raises(ValueError, match="--initial-samples 5 exceeds --max-samples 2"):
        BuildConfig(task="points", cot={**cot, "initial_samples": 5})
    with pytest.raises(ValueError, match="--keep 3"):
        BuildConfig(task="points", cot={**cot, "keep": 3})


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


# ---------------------------------------------------------------------------------------------
# Hardening (issue 11): caches, output folders, leakage under canonical keys, content fingerprint


def _points(train: int, seed: int = 0, **options) -> list[BuildConfig]:
    return [
        BuildConfig(task="points", train_size=train, eval_size=2, seed=seed, workers=1, **options)
    ]


def test_load_dataset_serves_each_folder_its_own_rows_from_one_cache(tmp_path):
    from datasets import load_dataset

    cache = str(tmp_path / "one-cache")  # one cache for every load, as with one HF_HOME

    def loaded(root: Path) -> list[str]:
        return load_dataset(str(root / "points"), "answer-only", split="train", cache_dir=cache)[
            "id"
        ]

    build(_points(40), tmp_path / "a")
    assert len(loaded(tmp_path / "a")) == 40
    build(_points(70), tmp_path / "b")  # same folder name `points`, same configs
    assert len(loaded(tmp_path / "b")) == 70
    assert len(loaded(tmp_path / "a")) == 40
    # Rebuilt in place with as many rows (another seed): the new rows, not the cached ones.
    build(_points(40, seed=1), tmp_path / "a", overwrite=True)
    ids = [row["id"] for row in _rows(tmp_path / "a" / "points", "answer-only")]
    assert loaded(tmp_path / "a") == ids
    evals = load_dataset(str(tmp_path / "a" / "points"), "eval", cache_dir=cache)
    assert {name: len(split) for name, split in evals.items()} == json.loads(
        (tmp_path / "a" / "points" / "build.json").read_text()
    )["configs"]["eval"]


def test_fingerprint_names_the_content_and_identical_rebuilds_keep_it(tmp_path):
    from datagen.build import build_task
    from datagen.build_writer import write_task

    config = _points(20)[0]
    first = build_task(config)
    info_a = write_task(first, tmp_path / "a")
    info_b = write_task(build_task(config), tmp_path / "b")
    assert info_a["fingerprint"] == info_b["fingerprint"]
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")
    # Same options, other rows (as a sampling teacher gives): another fingerprint and version.
    other = build_task(config)
    row = other.configs["answer-only"]["train"][0]
    row["completion"] = [{"role": "assistant", "content": row["completion"][0]["content"] + " "}]
    info_c = write_task(other, tmp_path / "c")
    assert info_c["options"] == info_a["options"]
    assert info_c["fingerprint"] != info_a["fingerprint"]
    assert info_c["dataset_version"] != info_a["dataset_version"]
    assert set(info_c["files"]) == {
        p.relative_to(tmp_path / "c").as_posix() for p in (tmp_path / "c").rglob("*.parquet")
    }


def test_an_existing_empty_folder_is_written_into_and_a_failed_rename_keeps_the_build(
    tmp_path, monkeypatch
):
    out = tmp_path / "volume"
    out.mkdir()
    build(_points(10), out)
    assert sorted(p.name for p in out.iterdir()) == ["points"]
    # Test double for a mount point that refuses the final rename (EBUSY): the finished build
    # stays in the staging folder named in the error.
    import errno

    from datagen import folders

    real = os.rename

    def busy(source, target):
        if Path(source).parent.name == ".datagen-partial":
            raise OSError(errno.EBUSY, os.strerror(errno.EBUSY))
        return real(source, target)

    monkeypatch.setattr(folders.os, "rename", busy)
    with pytest.raises(
        BuildError, match=r"Device or resource busy.*complete in .*\.datagen-partial"
    ):
        build(_points(12), out, overwrite=True)
    monkeypatch.undo()
    kept = out / ".datagen-partial" / "points"
    assert json.loads((kept / "build.json").read_text())["configs"]["answer-only"]["train"] == 12
    assert len(_rows(out / "points", "answer-only")) == 10  # the earlier build is untouched


def _unshare(script: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, check=False
    )


def _namespaces() -> bool:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        try:
            return _unshare(f"mount --bind {folder} {folder}").returncode == 0
        except FileNotFoundError:
            return False


@pytest.mark.skipif(not _namespaces(), reason="needs unshare and mount in a user namespace")
def test_build_onto_a_real_empty_mount_point_and_a_read_only_one(tmp_path):
    volume, mount = tmp_path / "volume", tmp_path / "mnt"
    volume.mkdir()
    mount.mkdir()
    command = f"{sys.executable} -m datagen.cli build --task points --train-size 8 --eval-size 2"
    env = f"PYTHONPATH={Path(__file__).resolve().parents[1]} OMP_NUM_THREADS=1"
    done = _unshare(
        f"mount --bind {volume} {mount} && cd {tmp_path} && "
        f"env {env} {command} --workers 1 --out {mount}"
    )
    assert done.returncode == 0, done.stderr
    assert (volume / "points" / "build.json").is_file()  # written through the mount point
    assert sorted(p.name for p in volume.iterdir()) == ["points"]

    readonly = tmp_path / "readonly"
    readonly.mkdir()
    done = _unshare(
        f"mount --bind {readonly} {readonly} && mount -o remount,bind,ro {readonly} && "
        f"env {env} {command} --workers 1 --out {readonly / 'out'}"
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("Error: cannot write to")
    assert "Read-only file system" in done.stderr


def _region_key(grid: str) -> tuple:
    """Walls, goals, boxes and the set of cells the player reaches (an independent check)."""
    level = Level.parse(grid)
    region, todo = set(), [level.player]
    while todo:
        cell = todo.pop()
        if cell in region or cell in level.walls or cell in level.boxes:
            continue
        region.add(cell)
        r, c = cell
        todo += [(r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)]
    return level.walls, level.goals, level.boxes, frozenset(region)


def test_sokoban_keys_states_by_the_player_region():
    from datagen.leakage import sokoban_key

    left = "######\n#@  .#\n#  $ #\n######"
    moved = "######\n#  @.#\n#  $ #\n######"  # same region: the same puzzle
    assert sokoban_key(left) == sokoban_key(moved) and left != moved
    walled = "#######\n#@#  .#\n# # $ #\n#######"
    other = "#######\n# #@ .#\n# # $ #\n#######"  # the wall separates the regions
    assert sokoban_key(walled) != sokoban_key(other)


def test_no_training_state_poses_an_evaluation_puzzle(built):
    task_dir = built / "sokoban"
    eval_keys = {_region_key(row["instance"]["grid"]) for row in _rows(task_dir, "eval")}
    train = _rows(task_dir, "diverse-rl")
    assert train and not any(_region_key(r["instance"]["grid"]) in eval_keys for r in train)
    leakage = json.loads((task_dir / "build.json").read_text())["leakage"]
    assert "reachable region" in leakage["key"] and leakage["overlaps"] == 0


def _values(row: dict, faces_key: str) -> tuple:
    from solvers.points import hand_values

    values = hand_values(row["instance"]["cards"], tuple(row["template"][faces_key]))
    return tuple(sorted(values)), row["instance"]["target"]


def _arithmetic(row: dict) -> set:
    return {_values(row, "faces"), _values(row, "scored_faces")}


def test_points_arithmetic_overlap_is_measured_per_variant(built):
    task_dir = built / "points"
    info = json.loads((task_dir / "build.json").read_text())
    train = set().union(*(_arithmetic(r) for r in _rows(task_dir, "diverse-rl")))
    measured = info["leakage"]["arithmetic"]["per_variant"]
    evaluation = _rows(task_dir, "eval")
    assert set(measured) == {row["variant"] for row in evaluation}
    for variant, figures in measured.items():
        rows = [row for row in evaluation if row["variant"] == variant]
        posed = sum(bool(_arithmetic(row) & train) for row in rows)
        assert figures == {
            "hands": len(rows),
            "posed_by_training": posed,
            "share": round(posed / len(rows), 4),
        }
    assert measured["id"]["posed_by_training"] > 0  # 715 multisets: the overlap is real
    assert measured["five-cards"]["posed_by_training"] == 0
    card = (task_dir / "README.md").read_text()
    assert "arithmetic.per_variant.id.share" in card


def test_holdout_values_keeps_every_evaluation_multiset_out_of_training(tmp_path):
    configs = [
        BuildConfig(
            task="points", diverse=True, train_size=150, eval_size=8, workers=1, holdout="values"
        )
    ]
    build(configs, tmp_path / "out")
    task_dir = tmp_path / "out" / "points"
    evaluation = set().union(*(_arithmetic(r) for r in _rows(task_dir, "eval")))
    train = _rows(task_dir, "diverse-rl")
    assert len(train) == 150 and not any(_arithmetic(r) & evaluation for r in train)
    leakage = json.loads((task_dir / "build.json").read_text())["leakage"]
    shares = {v["share"] for v in leakage["arithmetic"]["per_variant"].values()}
    assert shares == {0.0}
    held = {key for key in evaluation if len(key[0]) == 4 and max(key[0]) <= 10}
    assert leakage["holdout"] == {
        "mode": "values",
        "train_space": 715,  # multisets of four values in 1..10, one target
        "held_out": len(held),
        "share_of_train_space": round(len(held) / 715, 4),
    }
