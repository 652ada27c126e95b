"""Fixtures in the study's published layouts, written the way its scripts write them.

Rows are built from the column definitions of the study's scripts (debunk_sft/utils/dataset/
sokoban/create_diverse_dataset.py, create_ultra_mixed_dataset.py, create_sft_dataset.py,
gp_l/process_gp_l.py, create_training_dataset.py, create_test_dataset.py,
convert_gen_file_to_sft_dataset.py): the same keys, nesting and prompt strings; they are stored
with the real `datasets.Dataset.from_list(...).to_parquet` under `data/<split>-00000-of-00001
.parquet` next to a README.md, as `snapshot_download` leaves a `push_to_hub` dataset. Levels come
from our generator and labels from our BFS (the study's came from RAGEN's; the layout is what
matters here). `plant_*` then spoils a few rows on purpose and returns what the audit must count.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from solvers.points import FACE_RULES, hand_values, solve
from solvers.sokoban import STUDY_CELL, STUDY_SYMBOLS, generate_level, optimal_trajectory

# The study's strings (create_diverse_dataset.py; the template's trailing `\` joins lines).
SINGLE_ACTION = """You are a Sokoban solver.

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
{observation}
Decide the next action:"""
QWEN = (
    "<|im_start|>user\n{prompt}\nAlways output: <think> [Your thoughts] </think> <answer> "
    "[your answer] </answer> with no extra text. Strictly follow this format. <|im_end|>\n"
    "<|im_start|>assistant\n<think>"
)
QWEN_ANSWER_ONLY = (
    "<|im_start|>user\n{prompt}\nAlways output: <answer> [your answer] </answer> with no extra "
    "text. Strictly follow this format. <|im_end|>\n<|im_start|>assistant\n<answer>"
)
ACTION_LOOKUP = {1: "Up", 2: "Down", 3: "Left", 4: "Right"}
POOL = ("tree", "fix", "jade", "freedom", "cat", "river", "amber", "soup", "glory", "lamp")

GP_TEMPLATE = """
[Task Description]
You are an expert {target_number} points card game player. You will receive a set of {num_cards} cards.
Note that {face_card_msg}, and each card must be used once.
Your goal is to output a formula that evaluates to {target_number} using numbers from the cards and operators such as '+', '-', '*', '/', '(', ')', and '='.

[Input]
Cards: {cards}

[Output]
{{
  "cards": [x, y, z, w], where {face_card_msg},
  "number": [a, b, c, d], where a, b, c, and d are the numbers on the cards,
  "formula": 'an equation that equals {target_number}',
}}
"""
DIVERSE_RULES = ("all_8", "all_9", "all_10", "mixed_8_9_10", "sequential_7_8_9", "skip_6_8_10")


def _answers_block(words: list[str]) -> str:
    tags = " | ".join(f"<answer> {w} </answer>" for w in words)
    explanation = ", ".join(
        f"{w} is {b}" for w, b in zip(words, ACTION_LOOKUP.values(), strict=True)
    )
    return f"Answers:\n{tags}\nwhere {explanation}.\n"


def sokoban_states(levels: int, seed: int = 0, size: int = 6) -> list[tuple[str, int]]:
    """(observation text, action id) along an optimal trajectory of each level."""
    out = []
    for i in range(levels):
        level = generate_level(seed + i, size, size, 1)
        for state, actions in optimal_trajectory(level):
            out.append((state.render(STUDY_SYMBOLS, STUDY_CELL), "udlr".index(actions[0]) + 1))
    return out


def sokoban_rows(kind: str, levels: int = 4, seed: int = 0, split: str = "train") -> list[dict]:
    """kind: rl | diverse-rl | answer-only | diverse-answer-only | cot | diverse-cot."""
    rng = random.Random(seed)
    rows = []
    for i, (obs, action) in enumerate(sokoban_states(levels, seed)):
        body = SINGLE_ACTION.format(observation=obs)
        words = list(ACTION_LOOKUP.values())
        if kind.startswith("diverse"):
            words = rng.sample(POOL, 4)
            body = body.replace(
                "Answers:\n<answer> Up </answer> | <answer> Down </answer> | <answer> Left "
                "</answer> | <answer> Right </answer>\n",
                _answers_block(words),
            )
        word = words[action - 1]
        if kind == "answer-only":
            raw, response = QWEN_ANSWER_ONLY.format(prompt=body), f"{word} </answer>\n"
        else:
            raw, response = QWEN.format(prompt=body), f"</think> <answer> {word} </answer>\n"
        if kind.endswith("cot"):
            response = f"The box is near the target, so {word} is best. {response}"
        truth = {"style": "rule", "ground_truth": [action]}
        if kind == "rl":  # create_diverse_dataset.py
            rows.append(
                {
                    "data_source": "sokoban_6x6_1horizon",
                    "prompt": [{"role": "user", "content": raw}],
                    "ability": "bfs",
                    "reward_model": truth,
                    "extra_info": {"split": split, "index": i},
                    "id": f"{split}_{i}",
                }
            )
        elif kind == "diverse-rl":  # create_ultra_mixed_dataset.py, rl_instance
            rows.append(
                {
                    "data_source": "sokoban_6x6_1horizon_random",
                    "prompt": [{"role": "user", "content": raw}],
                    "response": response,
                    "ability": "bfs",
                    "reward_model": truth,
                    "extra_info": {"split": split, "index": i},
                }
            )
        else:  # create_sft_dataset.py / ultra mixed sft_instance
            placeholder = {"style": "rule", "ground_truth": {"target": 0, "numbers": [0, 0]}}
            rows.append(
                {
                    "data_source": "sokoban_6x6_1horizon"
                    + ("_random" if "diverse" in kind else ""),
                    "prompt": raw,
                    "response": response,
                    "ability": "bfs",
                    "reward_model": placeholder if kind == "answer-only" else truth,
                    "extra_info": {"split": split, "index": i},
                }
            )
    return rows


def plant_sokoban(rows: list[dict], kind: str) -> dict:
    """Spoil rows 1 (not optimal), 2 (illegal), 3 (unreadable), copy row 0 to the end (duplicate).

    Returns the counts and indices the audit must report."""
    rl = kind.endswith("rl")

    def relabel(row: dict, action_id: int | None, word: str | None = None) -> None:
        if rl:
            row["reward_model"]["ground_truth"] = [action_id]
        else:
            text = row["response"]
            old = text.rsplit("</answer>", 1)[0].rsplit("<answer>", 1)[-1].strip()
            row["response"] = text.replace(f"{old} </answer>", f"{word} </answer>")

    from datagen.importers.sokoban import parse_grid, strip_wrapper
    from solvers.sokoban import Level, optimal_actions

    def level_of(row: dict) -> Level:
        text = row["prompt"][0]["content"] if rl else row["prompt"]
        return Level.parse(parse_grid(strip_wrapper(text)[0]))

    def words_of(row: dict) -> list[str]:
        from datagen.importers.sokoban import parse_vocabulary

        text = row["prompt"][0]["content"] if rl else row["prompt"]
        return parse_vocabulary(strip_wrapper(text)[0])

    # row 1: a legal move that is not optimal (there is one on every 6x6 trajectory start here)
    level = level_of(rows[1])
    best = optimal_actions(level)
    legal = [a for a in "udlr" if level.step(a) is not None and a not in best]
    assert legal, "fixture level without a legal non-optimal move"
    a = "udlr".index(legal[0])
    relabel(rows[1], a + 1, words_of(rows[1])[a])
    # row 2: an action outside the vocabulary (id 7 / a word the prompt never offered)
    relabel(rows[2], 7, "Jump")
    # row 3: a grid cell the legend does not have
    if rl:
        rows[3]["prompt"][0]["content"] = rows[3]["prompt"][0]["content"].replace(
            " # \t", " Z \t", 1
        )
    else:
        rows[3]["prompt"] = rows[3]["prompt"].replace(" # \t", " Z \t", 1)
    rows.append(json.loads(json.dumps(rows[0])))
    n = len(rows)
    return {
        "rows": n,
        "labels": {"optimal": n - 3, "not_optimal": 1, "illegal": 1, "unreadable": 1},
        "not_optimal": [1],
        "illegal": [2],
        "unreadable": [3],
        "duplicates": [(n - 1, 0)],
    }


# ---------------------------------------------------------------------------------------------
# General Points


def _face_msg(faces: tuple[int, int, int]) -> str:
    j, q, k = faces
    if j == q == k:
        return f"'J', 'Q', and 'K' all count as '{j}'"
    return f"'J' counts as '{j}', 'Q' counts as '{q}', and 'K' counts as '{k}'"


def _hand(rng: random.Random, faces: tuple[int, int, int], fake: bool, face: bool):
    ranks = ["A", *map(str, range(2, 11)), "J", "Q", "K"]
    while True:
        cards = [rng.choice(ranks) for _ in range(4)]
        if face and not any(c in "JQK" for c in cards):
            continue
        values = list(hand_values(cards, (10, 10, 10) if fake else faces))
        formulas = solve(values)
        if formulas:
            return cards, values, list(formulas)


def points_rows(
    kind: str, n: int = 12, seed: int = 0, test: str | None = None, distinct: bool = True
) -> list[dict]:
    """kind: rl | diverse-rl | answer-only | diverse-answer-only | cot | diverse-cot | test.

    `test` names the study's test set for kind "test" (id, fake, all_5_fake, ...). `distinct`
    draws each hand once (there are 1,820 four-card hands: large fixtures need False)."""
    rng = random.Random(seed)
    rows, seen = [], set()
    for i in range(n):
        mapping = "all_10"
        if kind.startswith("diverse"):
            mapping = DIVERSE_RULES[i % len(DIVERSE_RULES)]
        if kind == "test":
            mapping = {"fake": "mixed_11_12_13", "all_5_fake": "all_5", "id": "all_10"}[test]
        faces = FACE_RULES[mapping]
        fake = kind == "test" and test.endswith("fake")
        cards, values, formulas = _hand(rng, faces, fake, face=kind == "test")
        # distinct hands: the only duplicates are the planted ones
        while distinct and tuple(sorted(cards)) in seen:
            cards, values, formulas = _hand(rng, faces, fake, face=kind == "test")
        seen.add(tuple(sorted(cards)))
        if kind in ("rl", "answer-only"):  # process_gp_l.py: SFTvsRL's wording
            msg = "'J', 'Q', and 'K' count as '10'"
        else:
            msg = _face_msg(faces)
        body = GP_TEMPLATE.format(target_number=24, face_card_msg=msg, cards=cards, num_cards=4)
        question = (body + "\n") if kind == "test" else body
        if kind in ("rl", "answer-only"):
            question = question.strip()
        answer = (
            f'{{\n"cards": {json.dumps(cards)},\n "number": {values},\n '
            f'"formula": "{formulas[0]}"\n}}'
        )
        if kind.endswith("cot"):
            answer = f"I try {formulas[0]} and it makes 24.</think>\n{answer}"
        if kind in ("rl", "answer-only"):
            extra = {
                "cards": cards,
                "display_cards": values,
                "solution": formulas[0],
                "target": 24,
                "treat_face_cards_as_10": True,
                "index": i,
            }
        else:
            extra = {
                "index": i,
                "cards": cards,
                "display_cards": values,
                "solution": formulas,
                "target": 24,
                "face_card_mapping": mapping,
            }
        source = {"test": f"gp_l_{test}", "rl": "gp-l", "answer-only": "gp-l"}.get(
            kind, f"gp-l-{mapping}"
        )
        if kind in ("rl", "diverse-rl", "test"):
            rows.append(
                {
                    "data_source": source,
                    "question": [{"content": question, "role": "user"}],
                    "extra_info": extra,
                }
            )
        else:
            rows.append(
                {"data_source": source, "question": question, "answer": answer, "extra_info": extra}
            )
    return rows


def plant_points(rows: list[dict], kind: str) -> dict:
    """Spoil rows 1 (wrong label), 2 (unreadable), copy row 0 to the end (duplicate)."""
    if "answer" in rows[1]:
        rows[1]["answer"] = rows[1]["answer"].replace('"formula": "', '"formula": "1+', 1)
    elif isinstance(rows[1]["extra_info"]["solution"], list):
        rows[1]["extra_info"]["solution"] = [*rows[1]["extra_info"]["solution"], "1+2+3+4"]
    else:
        rows[1]["extra_info"]["solution"] = "1+2+3+4"
    key = "question"
    text = rows[2][key] if isinstance(rows[2][key], str) else rows[2][key][0]["content"]
    broken = text.replace("Cards: [", "Cards: (")
    if isinstance(rows[2][key], str):
        rows[2][key] = broken
    else:
        rows[2][key][0]["content"] = broken
    rows.append(json.loads(json.dumps(rows[0])))
    n = len(rows)
    return {
        "rows": n,
        "labels": {"correct": n - 2, "wrong": 1, "unreadable": 1},
        "wrong": [1],
        "unreadable": [2],
        "duplicates": [(n - 1, 0)],
    }


# ---------------------------------------------------------------------------------------------
# Writing


def write_snapshot(
    folder: Path, splits: dict[str, list[dict]], features: dict | None = None
) -> Path:
    """A folder as snapshot_download leaves a push_to_hub dataset: README.md and data/."""
    from datasets import Dataset

    (folder / "data").mkdir(parents=True, exist_ok=True)
    for split, rows in splits.items():
        Dataset.from_list(rows).to_parquet(folder / "data" / f"{split}-00000-of-00001.parquet")
    names = "\n".join(f"  - split: {s}\n    path: data/{s}-*" for s in splits)
    (folder / "README.md").write_text(
        f"---\nconfigs:\n- config_name: default\n  data_files:\n{names}\n---\n"
    )
    return folder


def snapshot_files(folder: Path) -> dict[str, bytes]:
    """The files of a snapshot folder, for the FakeHub store."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def strip_obs(raw: str) -> str:
    """The grid text of a raw Sokoban prompt (to swap in another state)."""
    start = raw.index("[Current Observation]:\n") + len("[Current Observation]:\n")
    return raw[start : raw.index("\nDecide the next action:")]
