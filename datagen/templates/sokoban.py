"""Sokoban instructions: action vocabularies, the diverse word pool, symbol legends, wordings.

The "paper" wording with the "paper" legend renders the study's user turn byte for byte (its
training bytes: `debunk_sft/utils/dataset/sokoban/create_diverse_dataset.py` and the wrapper of
`create_dataset.py`), quirks included: the turn ends `Strictly follow this format. ` (a space), the
cardinal and emoji answers have no `where ... is Up` line, and the empty variant keeps the blank
lines of the missing answers block. The one study defect left out is the evaluation prompt's stray
backslash (`Decide the next action:\\`, `debunk_sft/env/sokoban/env.py:50`). The other wordings and
legends are opt-in diversity axes of ours (`datagen build --wordings --legends`).
A template records every choice, so any row can be re-rendered and scored under its own rules:

    {"family": "paper" | "diverse", "wording": "paper", "symbols": "paper",
     "vocabulary": ["Up", "Down", "Left", "Right"],          # shown in the prompt (u, d, l, r)
     "scored_vocabulary": ["Up", "Down", "Left", "Right"],   # what the environment accepts
     "show_answers": True, "think": True}
"""

from __future__ import annotations

from random import Random
from string import Template

# Words for the actions u, d, l, r, in the study's order (Up, Down, Left, Right).
VOCABULARIES: dict[str, tuple[str, str, str, str]] = {
    "base": ("Up", "Down", "Left", "Right"),
    "cardinal": ("North", "South", "West", "East"),
    "emoji": ("⬆️", "⬇️", "⬅️", "➡️"),
    "numerical": ("1", "2", "3", "4"),
    "alphabetical": ("A", "B", "C", "D"),
    "random": ("*", "&", "1", "M"),
}

# The study's 206-word pool for diverse training, by theme.
_POOL_TEXT = {
    "animals": (
        "cat dog bird fish lion tiger bear wolf fox deer eagle hawk owl duck swan frog snake "
        "turtle rabbit mouse elephant giraffe zebra monkey panda koala dolphin whale shark "
        "butterfly"
    ),
    "nature": (
        "tree flower leaf rock stone water fire wind earth sun moon star cloud rain snow "
        "mountain valley river ocean forest desert island beach cave volcano meadow field "
        "garden pond lake"
    ),
    "colours": (
        "red blue green yellow orange purple pink brown black white gray silver gold copper "
        "bronze maroon navy teal lime olive aqua crimson scarlet amber jade ruby sapphire "
        "emerald pearl coral"
    ),
    "objects": (
        "book pen cup key phone chair table lamp door window box bag hat shoe clock mirror "
        "brush knife fork spoon plate bowl bottle glass camera computer keyboard screen "
        "speaker"
    ),
    "food": (
        "apple banana grape cherry strawberry peach pear lemon bread cheese milk egg meat "
        "rice pasta pizza burger salad soup cake cookie candy chocolate honey sugar salt "
        "pepper"
    ),
    "actions": (
        "run jump fly swim walk dance sing laugh cry sleep wake eat drink play work study "
        "read write draw paint build create fix open close start stop move push pull"
    ),
    "abstract": (
        "happy quick bright calm strong wise kind brave gentle fierce magic power energy "
        "force spirit dream hope love peace freedom truth beauty wonder mystery secret "
        "destiny luck chance victory glory"
    ),
}
WORD_POOL: dict[str, tuple[str, ...]] = {
    theme: tuple(text.split()) for theme, text in _POOL_TEXT.items()
}


def normalize_word(word: str) -> str:
    """Case-folded, without emoji variation selectors: how answers are compared."""
    return word.replace("\ufe0f", "").replace("\ufe0e", "").strip().casefold()


# Training words never overlap any evaluation vocabulary (the study's pool already avoids them;
# this keeps it so if either list changes). dict.fromkeys dedupes while keeping the order.
EVAL_WORDS = frozenset(normalize_word(w) for vocab in VOCABULARIES.values() for w in vocab)
TRAIN_POOL: tuple[str, ...] = tuple(
    dict.fromkeys(
        w for words in WORD_POOL.values() for w in words if normalize_word(w) not in EVAL_WORDS
    )
)

# Symbols per XSB cell: wall, floor, target, box, box on target, player, player on target.
XSB_CELLS = ("#", " ", ".", "$", "*", "@", "+")
SYMBOL_LEGENDS: dict[str, tuple[str, ...]] = {
    "paper": ("#", "_", "O", "X", "√", "P", "S"),
    "xsb": ("#", "-", ".", "$", "*", "@", "+"),
    "letters": ("W", ".", "T", "B", "D", "A", "a"),
}

_THINK = (
    "Always output: <think> [Your thoughts] </think> <answer> [your answer] </answer> "
    "with no extra text. Strictly follow this format."
)
_ANSWER_ONLY = (
    "Always output: <answer> [your answer] </answer> with no extra text. "
    "Strictly follow this format."
)

# $answers_section has no newline of its own and is empty without answers: the study's
# `{action_section}` (env.py:40), so the empty variant keeps "\n\n\n\n" before "Rewards:".
# $answers_block (our wordings) is empty or ends with a blank line. Symbol names are the legend's.
# The paper turn ends with a space: the study's wrapper puts " <|im_end|>" after the instruction.
WORDINGS: dict[str, Template] = {
    "paper": Template(
        "You are a Sokoban solver.\n\n"
        "Sokoban Quick Guide\n"
        "Goal: Push all boxes ($box) onto targets ($target).\n\n"
        "Symbols:\n"
        "$wall Wall | $floor Floor | $target Target | $box Box | $player You | "
        "$box_on_target = Box on Target | $player_on_target = You on Target\n\n"
        "Rules:\n"
        "1. Push boxes (can't pull).\n"
        "2. Avoid walls ($wall).\n\n"
        "${answers_section}\n\n"
        "Rewards:\n"
        "Move: -0.1\n"
        "Box on target: +1.0\n"
        "All boxes placed: +10.0\n\n\n"
        "[Current Observation]:\n"
        "$grid\n"
        "Decide the next action:\n"
        "$output_instruction "
    ),
    "brief": Template(
        "Play Sokoban. Move the player ($player) and push every box ($box) onto a target "
        "($target). Boxes can be pushed but never pulled, and nobody walks through walls "
        "($wall).\n\n"
        "Legend: $wall wall, $floor floor, $target target, $box box, $box_on_target box on a "
        "target, $player player, $player_on_target player on a target.\n\n"
        "${answers_block}"
        "Board:\n$grid\n\n"
        "What is your next move?\n$output_instruction"
    ),
    "tutor": Template(
        "You are helping a friend with a Sokoban puzzle.\n"
        "The board uses these symbols: $wall = wall, $floor = empty floor, $target = target, "
        "$box = box, $box_on_target = box already on a target, $player = the player, "
        "$player_on_target = the player standing on a target.\n"
        "The player moves one square at a time and pushes a box when walking into it, if the "
        "square behind the box is free. Boxes cannot be pulled. The puzzle is solved when every "
        "box sits on a target.\n\n"
        "${answers_block}"
        "Here is the board right now:\n$grid\n\n"
        "Give the single best next move.\n$output_instruction"
    ),
    "terse": Template(
        "SOKOBAN\n"
        "goal: all $box on $target | walls: $wall | floor: $floor | "
        "you: $player ($player_on_target on target) | done box: $box_on_target\n"
        "push only, no pull\n\n"
        "${answers_block}"
        "state:\n$grid\n"
        "next action?\n$output_instruction"
    ),
}


def make_template(
    *,
    vocabulary: str | list[str] = "base",
    scored_vocabulary: str | list[str] = "base",
    show_answers: bool = True,
    think: bool = True,
    wording: str = "paper",
    symbols: str = "paper",
    family: str = "paper",
) -> dict:
    """A template dict; vocabularies by name (VOCABULARIES) or as four words for u, d, l, r."""
    shown = list(VOCABULARIES[vocabulary] if isinstance(vocabulary, str) else vocabulary)
    scored = list(
        VOCABULARIES[scored_vocabulary] if isinstance(scored_vocabulary, str) else scored_vocabulary
    )
    if len(shown) != 4 or len(scored) != 4:
        raise ValueError("a vocabulary has exactly four words (Up, Down, Left, Right)")
    if len({normalize_word(w) for w in scored}) != 4:
        raise ValueError(f"scored vocabulary has duplicate words: {scored}")
    if wording not in WORDINGS:
        raise ValueError(f"unknown wording {wording!r}; choose from {sorted(WORDINGS)}")
    if symbols not in SYMBOL_LEGENDS:
        raise ValueError(f"unknown symbol legend {symbols!r}; choose from {sorted(SYMBOL_LEGENDS)}")
    return {
        "family": family,
        "wording": wording,
        "symbols": symbols,
        "vocabulary": shown,
        "scored_vocabulary": scored,
        "show_answers": show_answers,
        "think": think,
    }


def draw_diverse_template(
    rng: Random,
    *,
    think: bool,
    wordings: tuple[str, ...] = ("paper",),
    legends: tuple[str, ...] = ("paper",),
) -> dict:
    """The study's diversity: four distinct pool words per row (plus our opt-in axes)."""
    words = rng.sample(TRAIN_POOL, 4)
    return make_template(
        vocabulary=words,
        scored_vocabulary=words,
        think=think,
        wording=rng.choice(wordings),
        symbols=rng.choice(legends),
        family="diverse",
    )


# The study explains a vocabulary ("where 1 is Up, ...") except the base, cardinal and emoji ones
# (env.py:53-59) and any containing a direction word (action_space_shared.py:38-42).
_SELF_EXPLAINED = {VOCABULARIES[name] for name in ("base", "cardinal", "emoji")}
_DIRECTION_WORDS = frozenset(VOCABULARIES["base"] + VOCABULARIES["cardinal"])


def explains_words(words: list[str] | tuple[str, ...]) -> bool:
    """Whether the answers block says what each word means, as the study's code decides it."""
    return tuple(words) not in _SELF_EXPLAINED and not _DIRECTION_WORDS & set(words)


def answers_section(template: dict) -> str:
    """`Answers:` and the answer tags (and the meaning line), no trailing newline; '' if hidden."""
    if not template["show_answers"]:
        return ""
    words = template["vocabulary"]
    section = "Answers:\n" + " | ".join(f"<answer> {w} </answer>" for w in words)
    if explains_words(words):
        meaning = ", ".join(
            f"{w} is {base}" for w, base in zip(words, VOCABULARIES["base"], strict=True)
        )
        section += f"\nwhere {meaning}."
    return section


def answers_block(template: dict) -> str:
    """The answers section followed by a blank line, or '' (our wordings)."""
    section = answers_section(template)
    return section + "\n\n" if section else ""


def render_grid(cells: list[list[str]], symbols: str) -> str:
    """Each cell as " <symbol> \\t", rows joined by newlines (the study's layout)."""
    legend = dict(zip(XSB_CELLS, SYMBOL_LEGENDS[symbols], strict=True))
    return "\n".join("".join(f" {legend[c]} \t" for c in row) for row in cells)


def render_prompt_text(cells: list[list[str]], template: dict) -> str:
    legend = SYMBOL_LEGENDS[template["symbols"]]
    names = ("wall", "floor", "target", "box", "box_on_target", "player", "player_on_target")
    return WORDINGS[template["wording"]].substitute(
        dict(zip(names, legend, strict=True)),
        answers_section=answers_section(template),
        answers_block=answers_block(template),
        grid=render_grid(cells, template["symbols"]),
        output_instruction=_THINK if template["think"] else _ANSWER_ONLY,
    )
