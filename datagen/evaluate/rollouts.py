"""Episodes: multi-turn Sokoban rollouts and single-turn General Points answers, stepped together.

Every live episode of every variant (and task) is asked in one `policy.generate` call per turn,
so a model backend sees one large batch per turn.

Sokoban, as in the study: one action per turn, up to `max_turns` turns, no history; each turn the
prompt is re-rendered from the current state under the row's own template. The answer is read
with `task.parse_action`, i.e. against the template's *scored* vocabulary (fake variants accept
only the base words). An answer outside it is an invalid turn and leaves the state unchanged; a
valid move into a wall is a valid turn that changes nothing. Success = all boxes on targets.

General Points: one turn, scored by `task.score` (correct = the formula makes the target with
exactly the scored card values; valid = a legal formula on those values).

Under the `study` prompt format the prompt ends with a prefill (`<think>` or `<answer>`); the
answer parsers read the prefill followed by the policy's continuation, and that is the turn's
recorded `response`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from datagen.evaluate.policies import Policy
from datagen.prompts import prefill

# Verdicts of `task.score` that mean no answer could be read at all (a format failure).
FORMAT_FAILURES = frozenset({"no_answer"})


@dataclass
class Episode:
    row: dict
    instance: dict  # the current state (Sokoban: the grid after the moves so far)
    turns: list[dict] = field(default_factory=list)  # one record per turn
    done: bool = False
    success: bool = False
    level: Any = None  # solvers.sokoban.Level of the current state (Sokoban only)

    @property
    def task(self) -> str:
        return self.row["task"]

    @property
    def variant(self) -> str:
        return self.row["variant"]

    def record(self) -> dict:
        """The per-episode JSONL line."""
        return {
            "id": self.row["id"],
            "task": self.task,
            "variant": self.variant,
            "success": self.success,
            "turns": len(self.turns),
            "valid_turns": sum(t["valid"] for t in self.turns),
            "format_failures": sum(t["verdict"] in FORMAT_FAILURES for t in self.turns),
            "actions": "".join(t.get("action") or "." for t in self.turns)
            if self.task == "sokoban"
            else None,
            "final_state": self.instance.get("grid") if self.task == "sokoban" else None,
            "verdicts": [t["verdict"] for t in self.turns],
            "responses": [t["response"] for t in self.turns],
        }


def start(rows: list[dict]) -> list[Episode]:
    episodes = []
    for row in rows:
        episode = Episode(row=row, instance=dict(row["instance"]))
        if row["task"] == "sokoban":
            from solvers.sokoban import Level

            episode.level = Level.parse(row["instance"]["grid"])
        episodes.append(episode)
    return episodes


def prompt_of(episode: Episode, task: Any) -> list[dict]:
    return task.render_prompt(episode.instance, episode.row["template"])


def step(episode: Episode, task: Any, text: str, max_turns: int) -> None:
    """Apply one answer to an episode."""
    row = episode.row
    if episode.task == "points":
        score = task.score(row, text)
        episode.turns.append(
            {
                "response": text,
                "verdict": score.verdict,
                "valid": score.valid,
                "answer": score.answer,
            }
        )
        episode.success = score.correct
        episode.done = True
        return
    # Sokoban: validity and format from the task's own scorer; the move from parse_action.
    # Optimality of each move is not needed here, so no solver runs per turn.
    score = task.score({"template": row["template"], "solution": {"actions": []}}, text)
    action = task.parse_action(text, row["template"])
    moved = False
    if action is not None:
        after = episode.level.step(action)
        if after is not None:
            moved = True
            episode.level = after
            episode.instance = {**episode.instance, "grid": after.xsb()}
    # A valid turn's verdict says what it did ("moved" or "blocked" by a wall or box).
    verdict = score.verdict if action is None else ("moved" if moved else "blocked")
    episode.turns.append(
        {"response": text, "verdict": verdict, "valid": action is not None, "action": action}
    )
    episode.success = episode.level.solved
    episode.done = episode.success or len(episode.turns) >= max_turns


def run(
    policy: Policy,
    rows: list[dict],
    max_turns: int = 30,
    progress: bool = True,
    prompt_format: str = "chat",
) -> list[Episode]:
    """Play every row to the end; returns the episodes in row order."""
    from tqdm.auto import tqdm

    from datagen.tasks import get_task

    tasks = {name: get_task(name) for name in {row["task"] for row in rows}}
    episodes = start(rows)
    mismatches = 0
    for episode in episodes:  # the data's prompt must be what the templates render today
        if prompt_of(episode, tasks[episode.task]) != episode.row["prompt"]:
            mismatches += 1
    if mismatches:
        print(
            f"warning: {mismatches} rows' prompts differ from their re-rendering under this "
            "version's templates; the re-rendered prompts are used",
            file=sys.stderr,
        )
    turns = max_turns if "sokoban" in tasks else 1
    bar = tqdm(total=turns, desc="eval turns", disable=not progress, file=sys.stderr)
    for _ in range(turns):
        live = [e for e in episodes if not e.done]
        if not live:
            break
        prompts = [prompt_of(e, tasks[e.task]) for e in live]
        contexts = [
            {"task": e.task, "instance": e.instance, "template": e.row["template"]} for e in live
        ]
        texts = policy.generate(prompts, contexts)
        if len(texts) != len(live):
            raise RuntimeError(f"policy returned {len(texts)} answers for {len(live)} prompts")
        for episode, text in zip(live, texts, strict=True):
            head = prefill(episode.row["template"], prompt_format)
            step(episode, tasks[episode.task], head + text, max_turns)
        bar.set_postfix(live=sum(not e.done for e in episodes))
        bar.update(1)
    bar.close()
    return episodes
