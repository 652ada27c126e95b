"""Evaluation inside a training run: the study's Figure 2 (validity decaying during SFT).

    evaluator = InLoopEval.create(data="out/sokoban", variants=("simple", "numerical"), limit=20,
                                  ending="answer-only", tokenizer_source="Qwen/Qwen2.5-1.5B")
    entry.update(evaluator(model, step))   # {"eval/sokoban/simple/success": 0.4, ...}

The same harness as `datagen eval` (rows of the `eval` config, multi-turn Sokoban, the same
scoring), greedy and batched, on the model in memory: it is switched to eval mode for the
rollouts and back to train mode afterwards, and gradients are off throughout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from datagen.evaluate.policies import TransformersPolicy
from datagen.evaluate.report import summarize
from datagen.evaluate.rollouts import run


@dataclass
class InLoopEval:
    rows: list[dict]
    tokenizer: Any  # pads on the left, for batched generation
    max_new_tokens: int
    max_turns: int = 30
    batch_size: int = 32
    chat_template_kwargs: dict | None = None
    prompt_format: str = "chat"  # as the model is trained: chat template or the study's string

    @classmethod
    def create(
        cls,
        data: str,
        variants: tuple[str, ...],
        limit: int | None,
        ending: str,
        tokenizer_source: str,
        **options: Any,
    ) -> InLoopEval:
        """Load the evaluation rows once, under the prompt ending the model is trained with."""
        from transformers import AutoTokenizer

        from datagen.build import with_think
        from datagen.evaluate import load_eval_rows, task_dirs

        rows = []
        for task_dir in task_dirs(data, None):
            rows += load_eval_rows(task_dir, variants, limit)
        think = ending == "think"
        rows = [
            row if row["template"]["think"] == think else with_think(row, think) for row in rows
        ]
        tokenizer = AutoTokenizer.from_pretrained(tokenizer_source, padding_side="left")
        return cls(rows, tokenizer, **options)

    def __call__(self, net: Any, step: int) -> dict[str, float]:
        """Success and validity per variant, as flat log keys `eval/<task>/<variant>/<metric>`."""
        import torch

        policy = TransformersPolicy.live(
            net,
            self.tokenizer,
            self.max_new_tokens,
            self.batch_size,
            self.chat_template_kwargs,
            self.prompt_format,
        )
        net.eval()
        try:
            with torch.no_grad():
                episodes = run(policy, self.rows, self.max_turns, False, self.prompt_format)
        finally:
            net.train()
        return {
            f"eval/{task}/{variant}/{key}": round(metrics[key], 6)
            for task, variants in summarize(episodes).items()
            for variant, metrics in variants.items()
            for key in ("success", "validity")
        }
