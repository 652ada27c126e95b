"""Level collections: Boxoban headers become titles, folders are read recursively in order,
every malformed or oversized level is one error line naming it, empty collections fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from solvers.sokoban.collection import CollectionError, parse_collection, read_collection

DATA = Path(__file__).resolve().parent / "data" / "boxoban"
EASY = "#####\n#@$.#\n#####"


def test_boxoban_file() -> None:
    collection = read_collection(DATA / "medium.txt")
    assert len(collection.entries) == 12 and collection.errors == ()
    first = collection.entries[0]
    assert (first.source, first.number, first.title) == ("medium.txt", 0, "0")
    assert first.level.height == first.level.width == 10 and len(first.level.boxes) == 4
    assert first.where == "medium.txt level 0 (; 0)"
    assert len(collection.sha256) == 64


def test_folder_is_read_in_path_order(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x.xsb").write_text(EASY + "\n")
    (tmp_path / "a.txt").write_text(f"; one\n{EASY}\n\n; two\n{EASY.replace('@$.', '.$@')}\n")
    (tmp_path / "notes.md").write_text("#####\n")  # not a level file: ignored
    collection = read_collection(tmp_path)
    assert collection.files == ("a.txt", "b/x.xsb")
    assert [(e.source, e.number, e.title) for e in collection.entries] == [
        ("a.txt", 0, "one"),
        ("a.txt", 1, "two"),
        ("b/x.xsb", 0, None),
    ]
    again = read_collection(tmp_path)
    assert again.sha256 == collection.sha256
    (tmp_path / "a.txt").write_text(EASY)
    assert read_collection(tmp_path).sha256 != collection.sha256


def test_malformed_levels_are_named_and_the_rest_kept() -> None:
    text = (
        f"; 0\n{EASY}\n\n; 1\n#####\n#@$X#\n#####\n\nTitle: metadata separates\n"
        f"#####\n#@$$.#\n#####\n\n{EASY}\n\n" + "#" * 70 + "\n#@$." + " " * 65 + "#\n" + "#" * 70
    )
    entries, errors = parse_collection(text, "set.txt")
    assert [e.number for e in entries] == [0, 3]
    assert errors == [
        "set.txt level 1 (; 1): unknown character 'X' at row 1, col 3",
        "set.txt level 2: 2 boxes but 1 goal",
        "set.txt level 4: level too large: 3x70 (at most 64)",
    ]


def test_bom_binary_and_empty(tmp_path: Path) -> None:
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbf" + EASY.encode())
    assert len(read_collection(tmp_path / "bom.txt").entries) == 1
    (tmp_path / "bin.txt").write_bytes(b"\xff\xfe\x00garbage")
    collection = read_collection(tmp_path)  # the BOM file still counts
    assert collection.errors == ("bin.txt: not UTF-8 text (byte 0)",)
    (tmp_path / "empty.txt").write_text("; nothing here\n\n")
    for path, message in (
        (tmp_path / "empty.txt", "no usable level$"),
        (tmp_path / "bin.txt", "no usable level; 1 error"),
        (tmp_path / "missing", "no such file or folder"),
    ):
        with pytest.raises(CollectionError, match=message):
            read_collection(path)
    (tmp_path / "sub").mkdir()
    with pytest.raises(CollectionError, match="no level files"):
        read_collection(tmp_path / "sub")
