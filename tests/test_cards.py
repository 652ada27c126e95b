"""Dataset cards (datagen.cards): the header the Hub reads, the body, and `load_dataset`.

`make_build` writes a small build folder by hand (parquet via pyarrow + build.json) in the
layout of the contracts; the other hub tests import it. One test runs a tiny real
`datagen build` when that command exists.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from datagen import card_markdown, cards
from datagen.versioning import dataset_version, fingerprint

VOCAB = ["Up", "Down", "Left", "Right"]
EVAL_SPLITS = {
    "simple": (VOCAB, VOCAB),
    "cardinal": (["North", "South", "West", "East"], ["North", "South", "West", "East"]),
    "fake_cardinal": (["North", "South", "West", "East"], VOCAB),
}


def _row(index: int, variant: str, vocab: list[str], scored: list[str], sft: bool) -> dict:
    grid = "#####\n#@$.#\n#####"
    row = {
        "id": f"sokoban-{variant}-{index:04d}",
        "task": "sokoban",
        "variant": variant,
        "prompt": [{"role": "user", "content": f"You are a Sokoban solver.\n{grid}\nrow {index}"}],
        "instance": {"grid": grid, "height": 3, "width": 5, "boxes": 1},
        "template": {
            "family": "paper",
            "wording": "paper",
            "symbols": "paper",
            "vocabulary": vocab,
            "scored_vocabulary": scored,
            "show_answers": True,
            "think": False,
        },
        "solution": {"actions": ["r"], "moves": "R", "length": 1},
        "meta": {"seed": index, "length": 1},
    }
    if sft:
        row["completion"] = [{"role": "assistant", "content": "<answer> Right </answer>"}]
    return row


def _write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)


def make_build(root: Path, train_rows: int = 4, eval_rows: int = 2, seed: int = 0) -> Path:
    """A hand-made `DIR/sokoban` folder: answer-only/train, rl/train and three eval splits."""
    task_dir = root / "sokoban"
    configs: dict[str, dict[str, int]] = {"answer-only": {"train": train_rows}}
    configs["rl"] = {"train": train_rows}
    configs["eval"] = {split: eval_rows for split in EVAL_SPLITS}
    for config in ("answer-only", "rl"):
        rows = [_row(i, "train", VOCAB, VOCAB, config != "rl") for i in range(train_rows)]
        _write(task_dir / "data" / config / "train-00000-of-00001.parquet", rows)
    for split, (vocab, scored) in EVAL_SPLITS.items():
        rows = [_row(i, split, vocab, scored, False) for i in range(eval_rows)]
        _write(task_dir / "data" / "eval" / f"{split}-00000-of-00001.parquet", rows)
    options = {"task": "sokoban", "train_size": train_rows, "eval_size": eval_rows, "seed": seed}
    fp = fingerprint(options)
    stats = {
        "answer-only": {
            "train": {
                "rows": train_rows,
                "mean_length": 1.0,
                "length": {"1": train_rows},
                "pushes": {"mean": 1.5, "min": 1, "max": 2, "histogram": {"10": 1, "2": 3}},
            }
        },
        "eval": {split: {"mean_length": 1.0, "boxes": {"1": eval_rows}} for split in EVAL_SPLITS},
    }
    build = {
        "task": "sokoban",
        "version": "0.1.0",
        "fingerprint": fp,
        "dataset_version": dataset_version("0.1.0", fp),
        "options": options,
        "seeds": {"train": seed, "eval": seed + 1},
        "configs": configs,
        "stats": stats,
        "leakage": {"checked": True, "overlaps": 0},
        "created_by": "datagen 0.1.0 (test fixture)",
    }
    (task_dir / "build.json").write_text(json.dumps(build, indent=2))
    return task_dir


@pytest.fixture()
def task_dir(tmp_path: Path) -> Path:
    return make_build(tmp_path / "out")


def test_header_parses_and_lists_every_parquet_file(task_dir: Path) -> None:
    card = cards.render_card(task_dir)
    header = cards.read_header(card)
    on_disk = {p.relative_to(task_dir).as_posix() for p in task_dir.rglob("*.parquet")}
    assert len(on_disk) == 5
    assert cards.header_files(header) == on_disk
    by_config = {c["config_name"]: [f["split"] for f in c["data_files"]] for c in header["configs"]}
    assert by_config == {
        "answer-only": ["train"],
        "rl": ["train"],
        "eval": ["simple", "cardinal", "fake_cardinal"],  # build.json's order, not sorted
    }
    for key in ("license", "task_categories", "tags", "pretty_name"):
        assert header[key], key
    assert header["size_categories"] == ["n<1K"]


def test_header_is_accepted_by_huggingface_hub_card_data(task_dir: Path) -> None:
    from huggingface_hub import DatasetCard

    card = DatasetCard(cards.render_card(task_dir))
    data = card.data.to_dict()
    assert data["license"] == "apache-2.0"
    assert {c["config_name"] for c in data["configs"]} == {"answer-only", "rl", "eval"}


def test_body_records_version_provenance_stats_and_citation(task_dir: Path) -> None:
    build = json.loads((task_dir / "build.json").read_text())
    card = cards.render_card(task_dir)
    assert build["dataset_version"] in card
    assert build["fingerprint"] in card
    assert 'revision="v0.1.0"' in card
    assert "arXiv:2510.00237" in card and "Lin, Xiaofeng" in card
    assert "fake_cardinal" in card and "shortcut" in card
    assert "datagen 0.1.0 (test fixture)" in card
    # stats: a scalar, a summary as mean (min–max), and histograms in numeric order
    assert "| split | rows | mean_length | pushes |" in card
    assert "| `train` | 4 | 1 | 1.5 (1–2) |" in card
    assert "| `train` | `length` | 1: 4 |" in card
    assert "| `train` | `pushes` | 2: 3 · 10: 1 |" in card
    # a sample row from each config and one fake eval row
    for row_id in ("sokoban-train-0000", "sokoban-simple-0000", "sokoban-fake_cardinal-0000"):
        assert row_id in card
    # templates counted from the rows: the fake split announces cardinal words
    assert "`North South West East` (2)" in card
    # absent configs are named as a limitation; no teacher in a build without CoT
    assert "does not contain `diverse-answer-only`" in card
    assert "No teacher" in card


def test_release_recorded_in_build_json_goes_into_the_snippet(task_dir: Path) -> None:
    path = task_dir / "build.json"
    build = json.loads(path.read_text())
    build["release"] = {"repo": "someone/sokoban-sft", "tag": "v0.2.0", "version": "0.2.0"}
    path.write_text(json.dumps(build))
    card = cards.render_card(task_dir)
    assert 'load_dataset("someone/sokoban-sft", "answer-only", revision="v0.2.0")' in card
    assert "OWNER/NAME" not in card


def test_write_card_and_the_folder_loads_with_load_dataset(task_dir: Path, tmp_path: Path) -> None:
    from datasets import load_dataset

    path = cards.write_card(task_dir)
    assert path == task_dir / "README.md"
    cache = tmp_path / "hf-cache"
    evals = load_dataset(str(task_dir), "eval", cache_dir=str(cache))
    assert sorted(evals) == ["cardinal", "fake_cardinal", "simple"]
    assert evals["fake_cardinal"][0]["template"]["scored_vocabulary"] == VOCAB
    train = load_dataset(str(task_dir), "answer-only", cache_dir=str(cache))
    assert train["train"].num_rows == 4


def test_missing_split_file_is_an_error(task_dir: Path) -> None:
    (task_dir / "data" / "eval" / "simple-00000-of-00001.parquet").unlink()
    with pytest.raises(cards.CardError, match="eval/simple"):
        cards.render_card(task_dir)


def test_missing_build_json_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(cards.CardError, match=r"build\.json"):
        cards.render_card(tmp_path)


def test_multi_shard_splits_list_every_shard(task_dir: Path) -> None:
    train = task_dir / "data" / "answer-only"
    first = train / "train-00000-of-00001.parquet"
    rows = pq.read_table(first).to_pylist()
    first.unlink()
    _write(train / "train-00000-of-00002.parquet", rows[:2])
    _write(train / "train-00001-of-00002.parquet", rows[2:])
    header = cards.read_header(cards.render_card(task_dir))
    entry = next(c for c in header["configs"] if c["config_name"] == "answer-only")
    assert entry["data_files"][0]["path"] == [
        "data/answer-only/train-00000-of-00002.parquet",
        "data/answer-only/train-00001-of-00002.parquet",
    ]


@pytest.mark.parametrize(
    ("rows", "category"),
    [
        (0, "n<1K"),
        (999, "n<1K"),
        (1000, "1K<n<10K"),
        (10_000, "10K<n<100K"),
        (250_000, "100K<n<1M"),
    ],
)
def test_size_category(rows: int, category: str) -> None:
    assert cards.size_category(rows) == category


def test_markdown_cells_escape_pipes_and_fences_outlast_backticks() -> None:
    assert card_markdown.cell("a|b") == "a\\|b"
    fenced = card_markdown.fence("```inner```")
    assert fenced.startswith("````\n") and fenced.endswith("\n````")


def test_a_real_build_gets_a_card_that_lists_every_file(tmp_path: Path) -> None:
    """`datagen build` (tiny, points) writes a card; `datagen card` re-renders it identically."""
    import yaml
    from click.testing import CliRunner
    from huggingface_hub import DatasetCard

    from datagen.cli import main

    out = tmp_path / "out"
    args = ["build", "--task", "points", "--train-size", "20", "--eval-size", "5"]
    result = CliRunner().invoke(main, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    task_dir = out / "points"
    text = (task_dir / "README.md").read_text()
    header = yaml.safe_load(text.split("---\n")[1])
    on_disk = {p.relative_to(task_dir).as_posix() for p in task_dir.rglob("*.parquet")}
    assert cards.header_files(header) == on_disk
    build = json.loads((task_dir / "build.json").read_text())
    assert {c["config_name"] for c in header["configs"]} == set(build["configs"])
    eval_splits = next(c for c in header["configs"] if c["config_name"] == "eval")["data_files"]
    assert [f["split"] for f in eval_splits] == list(build["configs"]["eval"])
    assert "all_5_fake" in build["configs"]["eval"]
    assert DatasetCard(text).data.to_dict()["pretty_name"].startswith("General Points")
    assert build["dataset_version"] in text and "arXiv:2510.00237" in text
    fp = fingerprint(build["options"], build["files"])
    assert build["dataset_version"] == f"{build['version']}+{fp}"

    (task_dir / "README.md").unlink()
    result = CliRunner().invoke(main, ["card", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(task_dir / "README.md")
    assert (task_dir / "README.md").read_text() == text


def test_cot_build_shows_teacher_sampling_acceptance_and_clips_long_traces(
    task_dir: Path,
) -> None:
    words = ["tree", "fix", "jade", "freedom", "cat", "dog", "ruby", "soup"]
    rows = []
    for i in range(5):
        vocab = [words[(i + k) % len(words)] for k in range(4)]
        row = _row(i, "train", vocab, vocab, True)
        row["completion"] = [
            {"role": "assistant", "content": "<think>" + "step " * 2000 + "</think> <answer> r"}
        ]
        rows.append(row)
    _write(task_dir / "data" / "diverse-cot" / "train-00000-of-00001.parquet", rows)
    path = task_dir / "build.json"
    build = json.loads(path.read_text())
    build["configs"]["diverse-cot"] = {"train": 5}
    build["teacher"] = {
        "model": "Qwen/Qwen3-8B",
        "backend": "vllm",
        "sampling": {"temperature": 1.0, "top_p": 1.0, "max_new_tokens": 4096},
        "acceptance": {"prompts": 8, "accepted": 5, "rate": 0.625},
    }
    path.write_text(json.dumps(build))
    card = cards.render_card(task_dir)
    assert "| `model` | Qwen/Qwen3-8B |" in card
    assert "| `sampling.temperature` | 1 |" in card
    assert "| `acceptance.rate` | 0.625 |" in card
    assert "No teacher" not in card
    # five distinct vocabularies drawn from eight words: counted, not listed
    assert "5 distinct of 8 words" in card
    # the 10,000-character trace is cut in the sample, and says by how much
    assert "more characters)" in card
    assert "step " * 2000 not in card
    assert "diverse-cot" in cards.read_header(card)["configs"][1]["config_name"]


def test_header_dataset_info_matches_the_parquet_files(task_dir: Path) -> None:
    import pyarrow.parquet as pq

    header = cards.read_header(cards.render_card(task_dir))
    infos = {info["config_name"]: info for info in header["dataset_info"]}
    assert list(infos) == ["answer-only", "rl", "eval"]
    for info in infos.values():
        config_dir = task_dir / "data" / info["config_name"]
        for split in info["splits"]:
            meta = pq.read_metadata(config_dir / f"{split['name']}-00000-of-00001.parquet")
            assert split["num_examples"] == meta.num_rows
            assert split["num_bytes"] > 0
        sizes = sum(p.stat().st_size for p in config_dir.glob("*.parquet"))
        assert info["download_size"] == sizes
        assert info["dataset_size"] == sum(s["num_bytes"] for s in info["splits"])
    build = json.loads((task_dir / "build.json").read_text())
    for entry in header["configs"]:  # the cache key of `datasets` covers the dataset version
        assert build["dataset_version"] in entry["description"]


def test_truncated_changed_or_short_files_are_errors(task_dir: Path) -> None:
    from datagen.versioning import file_digests

    simple = task_dir / "data" / "eval" / "simple-00000-of-00001.parquet"
    good = simple.read_bytes()
    simple.write_bytes(good[: len(good) // 2])
    with pytest.raises(cards.CardError, match="not a readable parquet file"):
        cards.render_card(task_dir)
    simple.write_bytes(good)
    # A file with fewer rows than build.json records.
    rows = pq.read_table(simple).to_pylist()
    _write(simple, rows[:1])
    with pytest.raises(cards.CardError, match=r"1 rows, build\.json says 2"):
        cards.render_card(task_dir)
    _write(simple, rows)
    # With recorded digests, any other bytes (same row count) are refused.
    build = json.loads((task_dir / "build.json").read_text())
    files = [p.relative_to(task_dir).as_posix() for p in task_dir.rglob("*.parquet")]
    build["files"] = file_digests(task_dir, files)
    (task_dir / "build.json").write_text(json.dumps(build))
    cards.render_card(task_dir)
    _write(simple, [{**rows[0], "id": "changed"}, rows[1]])
    with pytest.raises(cards.CardError, match="sha256 differs"):
        cards.render_card(task_dir)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"\xff\xfe\x00garbage", "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'"task version fingerprint dataset_version configs"', "not a JSON object"),
        (
            b'{"task": "sokoban", "version": "0.1.0", "fingerprint": "x", "dataset_version": "x", '
            b'"configs": ["eval"]}',
            "`configs` must map",
        ),
    ],
)
def test_a_broken_build_json_is_one_card_error(task_dir: Path, content: bytes, needle: str) -> None:
    (task_dir / "build.json").write_bytes(content)
    with pytest.raises(cards.CardError, match=needle):
        cards.load_build(task_dir)
