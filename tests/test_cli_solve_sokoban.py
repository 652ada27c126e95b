"""`datagen solve sokoban`: JSON lines per level, errors per level, exit status, options."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from datagen.cli.solve_sokoban import sokoban
from solvers.sokoban import Level

EASY = "#####\n#@$.#\n#####"
TWO = "######\n#@$ .#\n#  $ #\n#.   #\n######"
STUCK = "######\n#@$ .#\n#$ . #\n######"


def _run(args: list[str], stdin: str | None = None) -> tuple[int, list[dict], str]:
    result = CliRunner().invoke(sokoban, args, input=stdin)
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return result.exit_code, lines, result.stderr


def test_solves_levels_from_stdin() -> None:
    code, rows, _ = _run([], f"{EASY}\n\n{TWO}\n")
    assert code == 0
    assert [row["index"] for row in rows] == [0, 1]
    assert rows[0] == {
        "index": 0,
        "solved": True,
        "moves": "R",
        "length": 1,
        "pushes": 1,
        "expanded": rows[0]["expanded"],
        "seconds": rows[0]["seconds"],
    }
    assert rows[1]["solved"] and Level.parse(TWO).replay(rows[1]["moves"]).solved
    assert rows[1]["length"] == len(rows[1]["moves"]) == 7


def test_reads_a_file_with_semicolon_headers(tmp_path: Path) -> None:
    path = tmp_path / "levels.txt"
    path.write_text(f"; 0\n{EASY}\n; 1\n{TWO}\n; 2\n{STUCK}\n")
    code, rows, _ = _run([str(path)])
    assert code == 0
    assert [row["solved"] for row in rows] == [True, True, False]
    assert rows[2]["reason"] == "unsolvable" and rows[2]["moves"] == ""


def test_malformed_levels_get_an_error_line_and_exit_1() -> None:
    bad = [
        "#####\n# $.#\n#####",  # no player
        "######\n#@$$.#\n######",  # 2 boxes, 1 goal
        "#####\n#@$x#\n#####",  # unknown character
        "####\n#@$.\n####",  # open border
    ]
    stdin = "\n\n".join([EASY, *bad, TWO]) + "\n"
    code, rows, stderr = _run([], stdin)
    assert code == 1
    assert "4 malformed" in stderr
    assert [row["index"] for row in rows] == [0, 1, 2, 3, 4, 5]
    assert rows[0]["solved"] and rows[5]["solved"]  # the good ones are still solved
    errors = [row["error"] for row in rows[1:5]]
    assert "no player" in errors[0]
    assert "2 boxes but 1 goal" in errors[1]
    assert "'x' at row 1, col 3" in errors[2]
    assert "open border" in errors[3] and "row 1, col 3" in errors[3]
    assert all(set(row) == {"index", "error"} for row in rows[1:5])


def test_metric_and_fast_options() -> None:
    # Walking round the box first saves pushes but costs moves.
    code, by_moves, _ = _run(["--metric", "moves"], TWO)
    assert code == 0
    code, by_pushes, _ = _run(["--metric", "pushes"], TWO)
    assert code == 0 and by_pushes[0]["pushes"] <= by_moves[0]["pushes"]
    code, fast, _ = _run(["--fast"], TWO)
    assert code == 0 and fast[0]["solved"]
    assert Level.parse(TWO).replay(fast[0]["moves"]).solved
    code, _, _ = _run(["--metric", "steps"], TWO)
    assert code == 2


def test_node_limit_reason() -> None:
    code, rows, _ = _run(["--max-nodes", "1"], TWO)
    assert code == 0 and rows[0]["solved"] is False and rows[0]["reason"] == "node limit"


def test_installed_command_runs() -> None:
    datagen = Path(sys.executable).with_name("datagen")
    command = [str(datagen)] if datagen.exists() else [sys.executable, "-c", _MAIN]
    out = subprocess.run(
        [*command, "solve", "sokoban"], input=EASY, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["moves"] == "R"


_MAIN = "from datagen.cli import main; main()"


def test_oversized_level_is_one_error_line_at_once() -> None:
    import time

    room = "\n".join(
        ["#" * 100] + ["#@$." + " " * 95 + "#"] + ["#" + " " * 98 + "#"] * 97 + ["#" * 100]
    )
    start = time.perf_counter()
    code, rows, _ = _run(["--time-limit", "1", "--max-nodes", "10"], f"{room}\n\n{EASY}\n")
    assert time.perf_counter() - start < 2  # the room took 13 s and 814 MB before
    assert code == 1
    assert rows[0]["index"] == 0 and rows[0]["error"].startswith("level too large: 100x100")
    assert rows[1]["solved"] and rows[1]["moves"] == "R"


def test_memory_budget_option() -> None:
    code, rows, _ = _run(["--memory-mb", "0.001"], f"{TWO}\n")
    assert code == 0 and rows[0]["solved"] is False and rows[0]["reason"] == "memory limit"
    code, _, stderr = _run(["--memory-mb", "0"], f"{TWO}\n")
    assert code == 2 and "memory-mb" in stderr


def test_binary_bom_and_empty_input(tmp_path: Path) -> None:
    # Item 12 of issue #11: a UnicodeDecodeError traceback, a BOM as an "unknown character",
    # and an empty file that printed nothing with exit 0.
    binary = tmp_path / "garbage.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    result = CliRunner().invoke(sokoban, [str(binary)])
    assert result.exit_code == 2 and result.stdout == ""
    assert (
        result.stderr.count("\n") == 1
        and "not UTF-8 text (byte 0x80 at offset 128)" in result.stderr
    )
    assert "Traceback" not in result.output
    bom = tmp_path / "bom.txt"
    bom.write_bytes(b"\xef\xbb\xbf" + EASY.encode() + b"\r\n\r\n\xef\xbb\xbf" + TWO.encode())
    code, rows, _ = _run([str(bom)])
    assert code == 0 and [r["solved"] for r in rows] == [True, True]
    for stdin in ("", "\n \n", "; only a comment\n"):
        result = CliRunner().invoke(sokoban, [], input=stdin)
        assert result.exit_code == 2 and result.stdout == ""
        assert result.stderr.strip() == (
            "Error: no level read from stdin: it is empty or holds only blank and ';' lines"
        )
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    result = CliRunner().invoke(sokoban, [str(empty)])
    assert result.exit_code == 2 and "no level read from" in result.stderr


def test_installed_command_reports_binary_input_in_one_line(tmp_path: Path) -> None:
    import os

    binary = tmp_path / "garbage.bin"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.run(
        [sys.executable, "-m", "datagen.cli", "solve", "sokoban", str(binary)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().startswith("Error: ") and proc.stderr.count("\n") == 1
