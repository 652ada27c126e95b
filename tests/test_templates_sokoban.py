"""The Sokoban templater: the study's prompt byte for byte, vocabularies, the training pool."""

import re
from random import Random

import pytest

from datagen.templates.sokoban import (
    EVAL_WORDS,
    SYMBOL_LEGENDS,
    TRAIN_POOL,
    VOCABULARIES,
    WORD_POOL,
    WORDINGS,
    draw_diverse_template,
    make_template,
    normalize_word,
    render_grid,
    render_prompt_text,
)

CELLS = [
    list("######"),
    list("#  . #"),
    list("# $  #"),
    list("# @* #"),
    list("#  + #"[:3] + "  #"),
    list("######"),
]

# The study's prompt, copied from its code (study.md), with the base vocabulary and think ending.
STUDY_PROMPT = """You are a Sokoban solver.

Sokoban Quick Guide
Goal: Push all boxes (X) onto targets (O).

Symbols:
# Wall | _ Floor | O Target | X Box | P You | √ = Box on Target | S = You on Target

Rules:
1. Push boxes (can't pull).
2. Avoid walls (#).

Answers:
<answer> Up </answer> | <answer> Down </answer> | <answer> Left </answer> | <answer> Right </answer>

Rewards:
Move: -0.1
Box on target: +1.0
All boxes placed: +10.0


[Current Observation]:
{grid}
Decide the next action:
Always output: <think> [Your thoughts] </think> <answer> [your answer] </answer> with no extra text. Strictly follow this format."""


def test_grid_uses_the_study_cell_layout():
    grid = render_grid([list("#@$."), list("#*+ ")], "paper")
    assert grid == " # \t P \t X \t O \t\n # \t √ \t S \t _ \t"


def test_paper_prompt_is_byte_exact():
    text = render_prompt_text(CELLS, make_template())
    assert text == STUDY_PROMPT.format(grid=render_grid(CELLS, "paper"))


def test_answer_only_ending_and_other_vocabulary_line():
    text = render_prompt_text(CELLS, make_template(vocabulary="cardinal", think=False))
    assert text.endswith(
        "Always output: <answer> [your answer] </answer> with no extra text. "
        "Strictly follow this format."
    )
    assert (
        "Answers:\n<answer> North </answer> | <answer> South </answer> | <answer> West </answer> "
        "| <answer> East </answer>\nwhere North is Up, South is Down, West is Left, East is Right."
        "\n\nRewards:" in text
    )


def test_empty_variant_shows_no_answers_block():
    text = render_prompt_text(CELLS, make_template(show_answers=False))
    assert "Answers:" not in text and "<answer> Up" not in text
    assert "2. Avoid walls (#).\n\nRewards:" in text


def test_pool_is_the_study_pool_without_duplicates():
    assert sum(len(words) for words in WORD_POOL.values()) == 206
    assert len(TRAIN_POOL) == len(set(TRAIN_POOL)) == 206


def test_training_words_never_meet_an_evaluation_vocabulary():
    assert not {normalize_word(w) for w in TRAIN_POOL} & EVAL_WORDS
    for seed in range(200):
        template = draw_diverse_template(Random(seed), think=True)
        words = template["vocabulary"]
        assert len(set(words)) == 4
        assert not {normalize_word(w) for w in words} & EVAL_WORDS
        assert template["scored_vocabulary"] == words


def test_diverse_draw_is_deterministic_and_varied():
    a = [draw_diverse_template(Random(s), think=False)["vocabulary"] for s in range(50)]
    b = [draw_diverse_template(Random(s), think=False)["vocabulary"] for s in range(50)]
    assert a == b
    assert len({tuple(v) for v in a}) == 50


@pytest.mark.parametrize("wording", sorted(WORDINGS))
@pytest.mark.parametrize("legend", sorted(SYMBOL_LEGENDS))
def test_every_wording_and_legend_renders_the_grid_and_words(wording, legend):
    template = make_template(vocabulary="emoji", wording=wording, symbols=legend)
    text = render_prompt_text(CELLS, template)
    assert render_grid(CELLS, legend) in text
    assert all(word in text for word in VOCABULARIES["emoji"])
    assert not re.search(r"\$\{?[a-z_]+", text)  # no unfilled placeholder


def test_bad_template_options_fail_early():
    with pytest.raises(ValueError, match="wording"):
        make_template(wording="nope")
    with pytest.raises(ValueError, match="duplicate"):
        make_template(scored_vocabulary=["a", "A", "b", "c"])
