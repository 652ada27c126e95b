"""Does a diverse Sokoban model read the vocabulary out of its prompt? A probe on held-out rows.

For each of the first N rows of a config of a build (rows the model has not trained on: another
seed), the model answers greedily the prompt it was trained with; the probe reports validity
(the answer is one of the row's four words), success (it names an optimal action) and the mean
loss of the target's answer word, in nats. A model that ignores the prompt's vocabulary pays
about the entropy of the word pool (5.4 nats here); one that reads the four words pays at most
ln 4 = 1.39 for them. `datagen eval` asks the same on the `eval` variants, whose vocabularies
are not pool words.

`--swap TRAIN/sokoban` (the model's training build) adds `swaps`: the same rows with their four
words replaced, at the same places, by
- four other words the model was trained to write (`seen words`: targets of TRAIN's rows);
  reading by content survives that, a fixed-offset lookup too, a memorised answer does not;
- the words of the `eval` variants, which no training row has as a target (`North South West
  East`, `Up Down Left Right`, `A B C D`); a model that reads but can only write its trained
  targets fails here.
Each set gives `prompt_word` (the answer is one of the four words the prompt shows) and `target`
(it is the right one), over the rows.

    python benchmarks/replicate_mini_probe.py RUN_DIR BUILD/sokoban [--config diverse-answer-only]
        [--rows 100] [--swap TRAIN/sokoban]    # prints one JSON line
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

UNSEEN = {  # words of the eval variants that no diverse training row writes
    "North South West East": ["North", "South", "West", "East"],
    "Up Down Left Right": ["Up", "Down", "Left", "Right"],
    "A B C D": ["A", "B", "C", "D"],
}


def _rows(task_dir: Path, config: str, rows: int | None = None) -> list[dict]:
    from datagen.finetune_data import load_rows

    return load_rows(task_dir, config)[:rows]


def _word(row: dict) -> str:
    """The answer word of a row's target."""
    from datagen.tasks.sokoban import answer_of

    return answer_of(row["completion"][0]["content"])


def load(run: Path):
    """The run's (tokenizer, model), for every probe of one invocation."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoTokenizer.from_pretrained(run), AutoModelForCausalLM.from_pretrained(run).eval()


def _prompt_ids(tokenizer, messages: list[dict]):
    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return tokenizer(prompt, return_tensors="pt").input_ids


def _reply(tokenizer, model, ids) -> str:
    """The model's greedy continuation of `ids`, as text."""
    import torch

    with torch.no_grad():
        out = model.generate(ids, max_new_tokens=16, do_sample=False)
    return tokenizer.decode(out[0, ids.shape[1] :])


def probe(tokenizer, model, task_dir: Path, config: str, rows: int) -> dict:
    import torch

    from datagen.tasks.sokoban import parse_action

    table = _rows(task_dir, config, rows)
    valid = success = 0
    losses = []
    for row in table:
        ids = _prompt_ids(tokenizer, row["prompt"])
        full = tokenizer.apply_chat_template(row["prompt"] + row["completion"], tokenize=False)
        full_ids = tokenizer(full, return_tensors="pt").input_ids
        with torch.no_grad():
            logprobs = torch.log_softmax(model(full_ids).logits[0, :-1], -1)
        action = parse_action(_reply(tokenizer, model, ids), row["template"])
        valid += action is not None
        success += action in row["solution"]["actions"]
        # The answer word is the completion token the target's text names between the tags.
        word = _word(row)
        for t in range(ids.shape[1] - 1, full_ids.shape[1] - 1):
            token = full_ids[0, t + 1]
            if tokenizer.decode([token]).strip() == word:
                losses.append(-logprobs[t, token].item())
                break
    n = len(table)
    return {
        "rows": n,
        "validity": round(valid / n, 4),
        "success": round(success / n, 4),
        "answer_word_loss_nats": round(sum(losses) / len(losses), 3) if losses else None,
        "answer_word_found": len(losses),
    }


def swapped(row: dict, words: list[str]) -> tuple[list[dict], str]:
    """The row's messages with its four words replaced, in order, by `words`, and the new answer
    word. Whole words only, in one pass, so that a new word is never replaced again."""
    old = row["template"]["vocabulary"]
    table = dict(zip(old, words, strict=True))
    pattern = re.compile("|".join(rf"(?<!\w){re.escape(w)}(?!\w)" for w in old))
    messages = [dict(m) for m in row["prompt"]]
    messages[-1]["content"] = pattern.sub(lambda m: table[m.group(0)], messages[-1]["content"])
    return messages, table[_word(row)]


def swap_probe(tokenizer, model, task_dir: Path, train_dir: Path, config: str, rows: int) -> dict:
    """`{set: {"prompt_word": share, "target": share}}` over the swapped rows (see the top)."""
    from datagen.tasks.sokoban import answer_of

    seen = sorted({_word(r) for r in _rows(train_dir, config)})
    table = _rows(task_dir, config, rows)
    rng = random.Random(0)
    out = {}
    for name, words in {"seen words": None, **UNSEEN}.items():
        hits = right = 0
        for row in table:
            new = words
            if new is None:
                others = [w for w in seen if w not in row["template"]["vocabulary"]]
                if len(others) < 4:
                    raise ValueError(f"{train_dir}'s targets hold fewer than 4 other words")
                new = rng.sample(others, 4)
            messages, target = swapped(row, new)
            word = answer_of(_reply(tokenizer, model, _prompt_ids(tokenizer, messages)))
            hits += word in new
            right += word == target
        out[name] = {
            "prompt_word": round(hits / len(table), 4),
            "target": round(right / len(table), 4),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("task_dir", type=Path)
    parser.add_argument("--config", default="diverse-answer-only")
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--swap", type=Path, metavar="TRAIN/sokoban")
    args = parser.parse_args(argv)
    for task_dir in filter(None, (args.task_dir, args.swap)):
        if not (task_dir / "data" / args.config).is_dir():
            print(f"probe: {task_dir} has no {args.config} config", file=sys.stderr)
            return 1
    tokenizer, model = load(args.run)
    try:
        record = {"run": str(args.run)}
        record |= probe(tokenizer, model, args.task_dir, args.config, args.rows)
        if args.swap:
            swaps = swap_probe(tokenizer, model, args.task_dir, args.swap, args.config, args.rows)
            record["swaps"] = swaps
    except ValueError as error:  # FinetuneError included: an unreadable build
        print(f"probe: {error}", file=sys.stderr)
        return 1
    print(json.dumps(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
