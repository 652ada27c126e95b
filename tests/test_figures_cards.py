"""Card figures: a build draws them into <task>/figures/, the card links them, datasets ignores them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from datagen.build import BuildConfig, build
from datagen.figures.cards import CAPTIONS, write_card_figures


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cards") / "build"
    configs = [
        BuildConfig(task=task, diverse=True, train_size=40, eval_size=3, workers=1)
        for task in ("sokoban", "points")
    ]
    build(configs, out)
    return out


@pytest.mark.parametrize(
    ("task", "names"),
    [
        ("sokoban", {"optimal_length.png", "examples.png"}),
        ("points", {"solutions.png", "rules.png", "cards.png"}),
    ],
)
def test_build_draws_the_figures_and_the_card_links_each(built: Path, task: str, names) -> None:
    folder = built / task
    assert {p.name for p in (folder / "figures").iterdir()} == names
    card = (folder / "README.md").read_text()
    links = set(re.findall(r"!\[[^\]]*\]\((figures/[^)]+)\)", card))
    assert links == {f"figures/{name}" for name in names}
    assert all((folder / link).is_file() for link in links)
    for name in names:
        assert (folder / "figures" / name).read_bytes()[:4] == b"\x89PNG"
        assert CAPTIONS[name] in card


def test_figures_are_redrawn_identically_and_follow_the_data(built: Path, tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "sokoban"
    shutil.copytree(built / "sokoban", folder)
    before = (folder / "figures" / "examples.png").read_bytes()
    write_card_figures(folder)
    assert (folder / "figures" / "examples.png").read_bytes() == before
    other = tmp_path / "other"
    build([BuildConfig(task="sokoban", train_size=40, eval_size=3, seed=5, workers=1)], other)
    assert (other / "sokoban" / "figures" / "examples.png").read_bytes() != before


def test_load_dataset_reads_only_rows_with_figures_in_the_folder(
    built: Path, tmp_path: Path
) -> None:
    from datasets import load_dataset

    loaded = load_dataset(str(built / "points"), "eval", cache_dir=str(tmp_path / "cache"))
    assert set(loaded) == {p.name.split("-")[0] for p in (built / "points/data/eval").iterdir()}
    assert all(len(split) == 3 for split in loaded.values())
