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

# The study's user turn, transcribed from its code (XiaofengLin7/debunking-sft-generalization
# at 077d4cf): the instruction of debunk_sft/utils/dataset/sokoban/create_diverse_dataset.py:10-34
# (its `Decide the next action:\` + newline is a line continuation: no backslash, no newline) and
# the user part of the wrapper at :62, `{prompt}\nAlways output: ... format. <|im_end|>`, which
# leaves a space before the end of the turn. The evaluation prompt (debunk_sft/env/sokoban/
# env.py:28-50) is the same with {action_section} in place of the answers (env.py:40) and a
# literal backslash after "action:" (env.py:50), the defect we drop.
STUDY_PROMPT = """You are a Sokoban solver.

Sokoban Quick Guide
Goal: Push all boxes (X) onto targets (O).

Symbols:
# Wall | _ Floor | O Target | X Box | P You | √ = Box on Target | S = You on Target

Rules:
1. Push boxes (can't pull).
2. Avoid walls (#).

{action_section}

Rewards:
Move: -0.1
Box on target: +1.0
All boxes placed: +10.0


[Current Observation]:
{grid}
Decide the next action:
{ending} """

# debunk_sft/env/sokoban/env.py:63 (think) and create_dataset.py:39 (answer-only).
THINK = (
    "Always output: <think> [Your thoughts] </think> <answer> [your answer] </answer> with no "
    "extra text. Strictly follow this format."
)
ANSWER_ONLY = (
    "Always output: <answer> [your answer] </answer> with no extra text. Strictly follow this "
    "format."
)

# debunk_sft/env/sokoban/env.py:53-59, one per evaluation vocabulary: cardinal and emoji have no
# "where ... is Up" line; empty has no section at all.
ACTION_SECTIONS = {
    "base": "Answers:\n<answer> Up </answer> | <answer> Down </answer> | <answer> Left </answer> "
    "| <answer> Right </answer>",
    "cardinal": "Answers:\n<answer> North </answer> | <answer> South </answer> | "
    "<answer> West </answer> | <answer> East </answer>",
    "emoji": "Answers:\n<answer> \u2b06\ufe0f </answer> | <answer> \u2b07\ufe0f </answer> | "
    "<answer> \u2b05\ufe0f </answer> | <answer> \u27a1\ufe0f </answer>",
    "empty": "",
    "numerical": "Answers:\n<answer> 1 </answer> | <answer> 2 </answer> | <answer> 3 </answer> | "
    "<answer> 4 </answer>\nwhere 1 is Up, 2 is Down, 3 is Left, 4 is Right.",
    "alphabetical": "Answers:\n<answer> A </answer> | <answer> B </answer> | <answer> C </answer> "
    "| <answer> D </answer>\nwhere A is Up, B is Down, C is Left, D is Right.",
    "random": "Answers:\n<answer> * </answer> | <answer> & </answer> | <answer> 1 </answer> | "
    "<answer> M </answer>\nwhere * is Up, & is Down, 1 is Left, M is Right.",
}


def study_prompt(section: str, ending: str = THINK) -> str:
    return STUDY_PROMPT.format(
        action_section=section, grid=render_grid(CELLS, "paper"), ending=ending
    )


def test_grid_uses_the_study_cell_layout():
    # ragen/env/sokoban/env.py GRID_LOOKUP (RAGEN 0d63165): " <symbol> \t", rows joined by "\n".
    grid = render_grid([list("#@$."), list("#*+ ")], "paper")
    assert grid == " # \t P \t X \t O \t\n # \t √ \t S \t _ \t"


@pytest.mark.parametrize("think", [True, False], ids=["think", "answer-only"])
@pytest.mark.parametrize("name", sorted(ACTION_SECTIONS))
def test_every_evaluation_vocabulary_and_ending_is_byte_exact(name, think):
    vocabulary = "base" if name == "empty" else name
    template = make_template(vocabulary=vocabulary, show_answers=name != "empty", think=think)
    expected = study_prompt(ACTION_SECTIONS[name], THINK if think else ANSWER_ONLY)
    assert render_prompt_text(CELLS, template) == expected


def test_fake_variants_show_the_prompt_of_their_vocabulary():
    for name in ("cardinal", "emoji", "numerical"):
        fake = make_template(vocabulary=name, scored_vocabulary="base")
        assert render_prompt_text(CELLS, fake) == study_prompt(ACTION_SECTIONS[name])
    assert "where" not in render_prompt_text(CELLS, make_template(vocabulary="cardinal"))


def test_quirks_trailing_space_and_the_blank_lines_of_the_empty_variant():
    text = render_prompt_text(CELLS, make_template(show_answers=False))
    assert "Answers:" not in text and "<answer> Up" not in text
    assert "2. Avoid walls (#).\n\n\n\nRewards:" in text
    assert text.endswith("Strictly follow this format. ")
    assert "Decide the next action:\nAlways output" in text  # no backslash


def test_diverse_words_get_the_meaning_line():
    # action_space_shared.py:10-44 builds "Answers:\n<tags>\n" + "where w1 is Up, ... .\n" (no
    # direction word among them) and replace_answers_in_prompt (:47-74) puts it before "\nRewards:".
    words = ["tree", "fix", "jade", "freedom"]
    section = (
        "Answers:\n<answer> tree </answer> | <answer> fix </answer> | <answer> jade </answer> | "
        "<answer> freedom </answer>\nwhere tree is Up, fix is Down, jade is Left, freedom is Right."
    )
    template = make_template(vocabulary=words, scored_vocabulary=words, family="diverse")
    assert render_prompt_text(CELLS, template) == study_prompt(section)
    # A direction word among them: the study's builder leaves the line out (:39-40).
    mixed = ["North", "cat", "dog", "fish"]
    assert "where" not in render_prompt_text(CELLS, make_template(vocabulary=mixed))


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
