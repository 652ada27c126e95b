"""`datagen build --levels`: bad collections and options are one line and a non-zero exit;
malformed levels are one console line each while the rest are used."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from datagen.cli import main

BOXOBAN = Path(__file__).resolve().parent / "data" / "boxoban"
EASY = "#####\n#@$.#\n#####"
BASE = ["build", "--task", "sokoban", "--train-size", "5", "--eval-size", "1", "--workers", "1"]


def _build(tmp_path: Path, *args: str) -> tuple[int, str, Path]:
    out = tmp_path / "out"
    result = CliRunner().invoke(main, [*BASE, *args, "--out", str(out)])
    return result.exit_code, result.output, out


def test_bad_inputs_are_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "big.txt").write_text("#" * 70 + "\n#@$." + " " * 65 + "#\n" + "#" * 70 + "\n")
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\xff")
    cases = [
        (["--levels", str(tmp_path / "empty.txt")], "no usable level"),
        (["--levels", str(tmp_path / "big.txt")], "level too large: 3x70"),
        (["--levels", str(tmp_path / "binary.txt")], "not UTF-8 text"),
        (["--levels", str(tmp_path / "missing")], "no such file or folder"),
        (["--levels", str(BOXOBAN), "--levels-split", "Bad Name"], "lower-case"),
        (
            ["--levels", str(BOXOBAN), "--levels-split", "train", "--levels-split", "x"],
            "one --levels-split",
        ),
        (["--levels", str(BOXOBAN), "--levels", str(BOXOBAN)], "repeat"),
    ]
    for args, message in cases:
        code, output, out = _build(tmp_path, *args)
        assert code != 0 and message in output, (args, output)
        assert "Traceback" not in output and not out.exists()
        error_lines = [line for line in output.splitlines() if line.startswith("Error:")]
        assert len(error_lines) == 1
    result = CliRunner().invoke(
        main, ["build", "--task", "points", "--levels", str(BOXOBAN), "--out", str(tmp_path / "p")]
    )
    assert result.exit_code != 0 and "--levels is for --task sokoban" in result.output


def test_malformed_levels_are_reported_and_the_rest_used(tmp_path: Path) -> None:
    collection = tmp_path / "set.txt"
    collection.write_text(
        f"; 0\n{EASY}\n\n; 1\n#####\n#@$X#\n#####\n\n; 2\n{EASY.replace('@$.', '.$@')}\n"
    )
    code, output, out = _build(tmp_path, "--levels", str(collection), "--levels-split", "mine")
    assert code == 0, output
    assert (
        "levels mine: skipped set.txt level 1 (; 1): unknown character 'X' at row 1, col 3"
        in output
    )
    info = json.loads((out / "sokoban" / "build.json").read_text())
    assert info["configs"]["eval"]["mine"] == 1
    assert info["levels"]["mine"]["levels_read"] == 2
    assert len(info["levels"]["mine"]["malformed_or_too_large"]) == 1
