"""Version and fingerprint rules (datagen.versioning)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest

from datagen import versioning as v


def test_fingerprint_is_first_16_hex_of_sha256_of_canonical_json() -> None:
    options = {"task": "points", "train_size": 20, "seed": 0}
    expected = hashlib.sha256(b'{"seed":0,"task":"points","train_size":20}').hexdigest()[:16]
    assert v.fingerprint(options) == expected
    assert v.is_fingerprint(expected)


def test_fingerprint_ignores_key_order_and_container_kind() -> None:
    a = {"task": "sokoban", "sizes": (6, 6), "rules": {"b": 1, "a": 2}}
    b = {"rules": {"a": 2, "b": 1}, "sizes": [6, 6], "task": "sokoban"}
    assert v.fingerprint(a) == v.fingerprint(b)


def test_fingerprint_changes_with_any_data_option() -> None:
    base = {"task": "points", "train_size": 20, "seed": 0, "diverse": False}
    prints = {v.fingerprint(base)}
    for key, value in [("train_size", 21), ("seed", 1), ("diverse", True), ("task", "sokoban")]:
        prints.add(v.fingerprint({**base, key: value}))
    assert len(prints) == 5
    # 1 and True and 1.0 are different options in JSON; they must not collide.
    assert v.fingerprint({"x": 1}) != v.fingerprint({"x": True})
    assert v.fingerprint({"x": 1}) != v.fingerprint({"x": 1.5})


def test_non_data_options_do_not_change_the_fingerprint() -> None:
    base = {"task": "points", "teacher": {"model": "m", "base_url": "http://x"}}
    noisy = {
        **base,
        "out": "/tmp/a",
        "overwrite": True,
        "cache_dir": Path("/tmp/cache"),
        "teacher": {**base["teacher"], "api_key": "secret"},
    }
    assert v.fingerprint(base) == v.fingerprint(noisy)
    assert "secret" not in v.canonical_json(noisy)


def test_canonical_handles_paths_sets_enums_dataclasses() -> None:
    import enum

    class Kind(enum.Enum):
        A = "a"

    @dataclasses.dataclass
    class Cfg:
        n: int
        kind: Kind

    data = {"p": PurePosixPath("a/b"), "s": {3, 1, 2}, "c": Cfg(1, Kind.A)}
    assert json.loads(v.canonical_json(data)) == {
        "c": {"kind": "a", "n": 1},
        "p": "a/b",
        "s": [1, 2, 3],
    }


@pytest.mark.parametrize("bad", [{"x": object()}, {"x": float("nan")}, {1.5: 1}, ["not a dict"]])
def test_fingerprint_refuses_values_without_exact_json(bad: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        v.fingerprint(bad)  # type: ignore[arg-type]


def test_dataset_version_round_trip_and_validation() -> None:
    fp = v.fingerprint({"a": 1})
    text = v.dataset_version("0.1.0", fp)
    assert text == f"0.1.0+{fp}"
    assert v.parse_dataset_version(text) == ("0.1.0", fp)
    for version, bad_fp in [("0.1", fp), ("01.1.0", fp), ("0.1.0", fp[:15]), ("0.1.0", fp.upper())]:
        with pytest.raises(ValueError):
            v.dataset_version(version, bad_fp)
    with pytest.raises(ValueError):
        v.parse_dataset_version("0.1.0")


def test_tags_and_next_version() -> None:
    assert v.tag_for("1.2.3") == "v1.2.3"
    assert v.version_of_tag("v1.2.3") == "1.2.3"
    assert v.version_of_tag("main") is None
    assert v.version_of_tag("v1.2") is None
    with pytest.raises(ValueError):
        v.tag_for("v1.2.3")
    assert v.version_key("0.10.0") > v.version_key("0.9.9")
    assert v.next_version("0.1.0") == "0.1.1"
    assert v.next_version("0.1.0", ["0.1.0", "0.1.1", "0.2.4", "junk"]) == "0.2.5"


def test_command_line_prints_the_fingerprint(tmp_path: Path) -> None:
    options = {"task": "points", "seed": 3}
    path = tmp_path / "options.json"
    path.write_text(json.dumps(options))
    done = subprocess.run(
        [sys.executable, "-m", "datagen.versioning", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == v.fingerprint(options)


def test_fingerprint_with_files_covers_the_content(tmp_path: Path) -> None:
    options = {"task": "points", "seed": 0}
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.parquet").write_bytes(b"rows of one build")
    files = v.file_digests(tmp_path, ["data/a.parquet"])
    assert files == {"data/a.parquet": hashlib.sha256(b"rows of one build").hexdigest()}
    same = v.fingerprint(options, dict(files))
    assert v.fingerprint(options, files) == same and v.is_fingerprint(same)
    # Other bytes under the same options: another fingerprint; no files: the options' one.
    (tmp_path / "data" / "a.parquet").write_bytes(b"rows of another build")
    other = v.fingerprint(options, v.file_digests(tmp_path, ["data/a.parquet"]))
    assert len({same, other, v.fingerprint(options)}) == 3
    # File names are content too, even those that look like non-data option names.
    renamed = {"out": files["data/a.parquet"]}
    assert v.fingerprint(options, renamed) != same
    with pytest.raises(TypeError, match="files"):
        v.fingerprint(options, {"data/a.parquet": 1})  # type: ignore[dict-item]
