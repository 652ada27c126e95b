"""A teacher of known accuracy, for the benchmark and the tests of the rejection sampler.

Each sample is correct with probability `accuracy`, drawn from the sample's own seed (so it is
as reproducible as a seeded model): a correct sample thinks a few words and gives the task's
answer (`task.render_answer(row)`); a wrong one gives no parseable answer; with probability
`truncate` a sample is cut off instead (`finish_reason="length"`, `max_tokens` tokens). A
finished sample costs a number of tokens drawn uniformly from [tokens/2, 3*tokens/2]. It is not
offered by `make_teacher`: it knows the answers.
"""

from __future__ import annotations

import random
from typing import Any

from teachers.base import Sample, SampleRequest, SamplingConfig


class AccuracyTeacher:
    backend = "scripted"

    def __init__(
        self,
        task,
        accuracy: float,
        truncate: float = 0.0,
        tokens: int = 100,
        model: str | None = None,
    ):
        if not 0 <= accuracy <= 1 or not 0 <= truncate <= 1:
            raise ValueError("accuracy and truncate must be probabilities")
        self.task = task
        self.accuracy = accuracy
        self.truncate = truncate
        self.tokens = tokens
        self.model = model or f"accuracy-{accuracy:g}"
        self.calls: list[int] = []  # batch sizes, for the tests

    def info(self) -> dict[str, Any]:
        return {"backend": self.backend, "model": self.model, "accuracy": self.accuracy}

    def generate(
        self, requests: list[SampleRequest], sampling: SamplingConfig, on_sample=None
    ) -> list[Sample]:
        self.calls.append(len(requests))
        out = []
        for i, req in enumerate(requests):
            rng = random.Random(req.seed)
            cost = rng.randint(self.tokens // 2, self.tokens * 3 // 2)
            if rng.random() < self.truncate:
                sample = Sample("", "", "length", sampling.max_tokens)
            elif rng.random() < self.accuracy:
                sample = Sample(
                    self.task.render_answer(req.row),
                    f"Sample {req.index}: solved.",
                    "stop",
                    cost,
                )
            else:
                sample = Sample("I am not sure.", f"Sample {req.index}: lost.", "stop", cost)
            out.append(sample)
            if on_sample is not None:
                on_sample(i, sample)
        return out
