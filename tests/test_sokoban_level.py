"""Level model: XSB parsing and writing, rendering, push-or-move rules, LURD replay, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers.sokoban import STUDY_CELL, STUDY_SYMBOLS, Level, LevelError, split_levels

BOXOBAN = Path(__file__).resolve().parents[2] / "shared" / "data" / "boxoban"

ROOM = """\
#######
#  .  #
# $@$ #
#  .  #
#######"""


def test_parse_reads_every_symbol() -> None:
    level = Level.parse("######\n#+*$.#\n#  - #\n#_ $ #\n######")
    assert (level.height, level.width) == (5, 6)
    assert level.player == (1, 1)
    assert level.goals == {(1, 1), (1, 2), (1, 4)}
    assert level.boxes == {(1, 2), (1, 3), (3, 3)}
    assert (2, 3) not in level.walls and (3, 1) not in level.walls  # '-' and '_' are floor
    assert level.xsb() == "######\n#+*$.#\n#    #\n#  $ #\n######"


def test_xsb_round_trip_and_equality() -> None:
    level = Level.parse(ROOM)
    assert level.xsb() == ROOM
    again = Level.parse("\n" + ROOM.replace(" ", "-") + "\n\n")
    assert again == level and hash(again) == hash(level)
    assert len({level, again}) == 1


def test_ragged_rows_keep_outside_floor() -> None:
    text = "  ####\n###  #\n#@$ .#\n######"
    level = Level.parse(text)
    assert level.width == 6
    assert level.cells()[0][:2] == [" ", " "]
    assert level.xsb() == text


@pytest.mark.skipif(not BOXOBAN.exists(), reason="shared Boxoban data not present")
def test_boxoban_file_round_trips() -> None:
    texts = split_levels((BOXOBAN / "medium" / "valid" / "000.txt").read_text())
    assert len(texts) == 1000
    for text in texts[:200]:
        level = Level.parse(text)
        assert (level.height, level.width, len(level.boxes)) == (10, 10, 4)
        assert Level.parse(level.xsb()) == level


def test_render_with_the_study_symbols() -> None:
    level = Level.parse("#####\n#@$.#\n#####")
    assert level.render(STUDY_SYMBOLS, STUDY_CELL) == (
        " # \t # \t # \t # \t # \t\n # \t P \t X \t O \t # \t\n # \t # \t # \t # \t # \t"
    )
    pushed = level.step("r")
    assert pushed is not None
    assert pushed.render(STUDY_SYMBOLS, row_sep="|") == "#####|#_P√#|#####"
    assert Level.parse("####\n#+$#\n#* #\n#  #\n####").render(STUDY_SYMBOLS, row_sep="/") == (
        "####/#SX#/#√_#/#__#/####"
    )
    assert level.render() == level.xsb()


def test_move_push_and_blocked() -> None:
    level = Level.parse(ROOM)
    up = level.step("u")
    assert up is not None and up.player == (1, 3) and up.boxes == level.boxes
    right = level.step("R")  # case-insensitive
    assert right is not None and right.player == (2, 4) and (2, 5) in right.boxes
    assert right.step("r") is None  # box against the wall
    left_twice = level.step("l")
    assert left_twice is not None and left_twice.step("l") is None
    pair = Level.parse("######\n#@$$.#\n#   .#\n######")
    assert pair.step("r") is None  # two boxes in a row do not move
    assert Level.parse("####\n#@ #\n####").step("u") is None  # wall
    with pytest.raises(LevelError, match="unknown action"):
        level.step("x")


def test_replay_and_solved() -> None:
    level = Level.parse(ROOM)
    assert not level.solved
    done = level.replay("ulldRdrUdrruulDrdL")
    assert done.solved and done.player == (3, 4)
    assert level.replay("ulldRdrU") != level
    assert done.replay("") == done
    with pytest.raises(LevelError, match="position 2"):
        level.replay("luu")
    with pytest.raises(LevelError, match="unknown move 'x' at position 1"):
        level.replay("lx")


def test_levels_are_immutable() -> None:
    level = Level.parse(ROOM)
    with pytest.raises(AttributeError):
        level.player = (1, 1)  # type: ignore[misc]
    level.step("u")
    assert level == Level.parse(ROOM)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("#####\n# $.#\n#####", r"no player"),
        ("#####\n#@$ #\n#####", r"1 box but 0 goals"),
        ("######\n#@$$.#\n######", r"2 boxes but 1 goal"),
        ("#####\n#@$x#\n#####", r"unknown character 'x' at row 1, col 3"),
        ("####\n#@$.\n####", r"open border: .* row 1, col 3"),
        ("#####\n#@$.#\n#   #\n## ##", r"open border: .* row 3, col 2"),
        ("######\n#@$.@#\n######", r"2 players at row 1, col 1, row 1, col 4"),
        ("\n \n", r"empty level"),
    ],
)
def test_malformed_levels_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(LevelError, match=message):
        Level.parse(text)


def test_direct_construction_is_validated() -> None:
    level = Level.parse(ROOM)
    fields = dict(
        height=level.height,
        width=level.width,
        walls=level.walls,
        goals=level.goals,
        boxes=level.boxes,
    )
    assert Level(**fields, player=level.player) == level
    with pytest.raises(LevelError, match="player on a wall"):
        Level(**fields, player=(0, 0))
    with pytest.raises(LevelError, match="player on a box"):
        Level(**fields, player=(2, 2))
    with pytest.raises(LevelError, match="outside"):
        Level(**fields, player=(9, 9))


def test_split_levels_on_blank_and_semicolon_lines() -> None:
    text = "; 0\n#####\n#@$.#\n#####\n\n\n#####\n#.$@#\n#####\n; 2\n####\n#@ #\n####\n"
    blocks = split_levels(text)
    assert blocks == ["#####\n#@$.#\n#####", "#####\n#.$@#\n#####", "####\n#@ #\n####"]
    assert split_levels("\n; only a comment\n") == []


def _split_levels_before(text: str) -> list[str]:
    """The line-by-line splitter before issue #11 (a reference for the faster one)."""
    blocks: list[str] = []
    current: list[str] = []
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped or stripped.startswith(";"):
            if current:
                blocks.append("\n".join(current))
                current = []
            continue
        current.append(line.rstrip("\r"))
    if current:
        blocks.append("\n".join(current))
    return blocks


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["#", "@", " ", "\t", ";", "\n", "\r\n", "; x", "  #"])))
def test_split_levels_splits_as_before(parts: list[str]) -> None:
    text = "".join(parts)
    assert split_levels(text) == _split_levels_before(text)


def test_hostile_level_text() -> None:
    # Byte-order marks (concatenated files) are not XSB: dropped, as are \r line ends.
    assert Level.parse("\ufeff" + ROOM.replace("\n", "\r\n")) == Level.parse(ROOM)
    assert split_levels("\ufeff#1\n\n\ufeff#2") == ["#1", "#2"]
    with pytest.raises(LevelError, match="a level is XSB text, not NoneType"):
        Level.parse(None)  # type: ignore[arg-type]
    with pytest.raises(LevelError, match=r"unknown character '\\x00' at row 1, col 2"):
        Level.parse("#####\n#@\x00.#\n#####")
    with pytest.raises(LevelError, match=r"unknown character '\\ud800' at row 0, col 0"):
        Level.parse("\ud800")
    # A flood of players names three of them: the message stays one short line.
    with pytest.raises(LevelError) as info:
        Level.parse("#" * 10 + "\n" + "@" * 100_000)
    assert str(info.value) == ("100000 players at row 1, col 0, row 1, col 1, row 1, col 2, ...")
    with pytest.raises(LevelError, match="empty level"):
        Level.parse("\n" * 100_000 + " \t \n")
