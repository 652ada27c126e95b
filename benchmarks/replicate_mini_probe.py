"""Does a diverse Sokoban model read the vocabulary out of its prompt? A probe on held-out rows.

For each of the first N rows of a config of a build (rows the model has not trained on: another
seed), the model answers greedily the prompt it was trained with; the probe reports validity
(the answer is one of the row's four words), success (it names an optimal action) and the mean
loss of the target's answer word, in nats. A model that ignores the prompt's vocabulary pays
about the entropy of the word pool (5.4 nats here); one that reads the four words pays at most
ln 4 = 1.39 for them. `datagen eval` asks the same on the `eval` variants, whose vocabularies
are not pool words.

    python benchmarks/replicate_mini_probe.py RUN_DIR BUILD/sokoban [--config diverse-answer-only]
        [--rows 100]    # prints one JSON line
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def probe(run: Path, task_dir: Path, config: str, rows: int) -> dict:
    import pyarrow.parquet as pq
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from datagen.tasks.sokoban import parse_action

    tokenizer = AutoTokenizer.from_pretrained(run)
    model = AutoModelForCausalLM.from_pretrained(run).eval()
    files = sorted((task_dir / "data" / config).glob("train-*.parquet"))
    table = [row for f in files for row in pq.read_table(f).to_pylist()][:rows]
    valid = success = 0
    losses = []
    for row in table:
        prompt = tokenizer.apply_chat_template(
            row["prompt"], tokenize=False, add_generation_prompt=True
        )
        ids = tokenizer(prompt, return_tensors="pt").input_ids
        full = tokenizer.apply_chat_template(row["prompt"] + row["completion"], tokenize=False)
        full_ids = tokenizer(full, return_tensors="pt").input_ids
        with torch.no_grad():
            out = model.generate(ids, max_new_tokens=16, do_sample=False)
            logprobs = torch.log_softmax(model(full_ids).logits[0, :-1], -1)
        action = parse_action(tokenizer.decode(out[0, ids.shape[1] :]), row["template"])
        valid += action is not None
        success += action in row["solution"]["actions"]
        # The answer word is the completion token the target's text names between the tags.
        word = row["completion"][0]["content"].split("<answer>")[1].split("</answer>")[0].strip()
        for t in range(ids.shape[1] - 1, full_ids.shape[1] - 1):
            token = full_ids[0, t + 1]
            if tokenizer.decode([token]).strip() == word:
                losses.append(-logprobs[t, token].item())
                break
    n = len(table)
    return {
        "run": str(run),
        "rows": n,
        "validity": round(valid / n, 4),
        "success": round(success / n, 4),
        "answer_word_loss_nats": round(sum(losses) / len(losses), 3) if losses else None,
        "answer_word_found": len(losses),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("task_dir", type=Path)
    parser.add_argument("--config", default="diverse-answer-only")
    parser.add_argument("--rows", type=int, default=100)
    args = parser.parse_args(argv)
    if not (args.task_dir / "data" / args.config).is_dir():
        print(f"probe: {args.task_dir} has no {args.config} config", file=sys.stderr)
        return 1
    print(json.dumps(probe(args.run, args.task_dir, args.config, args.rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
