"""The evaluation harness behind `datagen eval`: a model or a scripted policy on the `eval` config.

    from datagen.evaluate import EvalConfig, evaluate
    results = evaluate(EvalConfig(model="runs/sokoban-ao", data="out", limit=20))
    print(results["markdown"])

Modules: `policies` (transformers, vLLM and scripted backends behind one `generate` method),
`rollouts` (multi-turn Sokoban and single-turn General Points episodes, all stepped together),
`report` (metrics per variant and the Table-1-style Markdown). With `out` set, writes
`results.json`, `results.md` and `episodes.jsonl` there. `prompt_format="study"` shows models
the study's own prompt strings and prefill (datagen.prompts) instead of the chat template.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from datagen.evaluate.policies import SCRIPTED, Policy, PolicyError, check_prompts, make_policy
from datagen.evaluate.report import markdown, summarize
from datagen.evaluate.rollouts import Episode, run
from datagen.prompts import FORMATS

BACKENDS = ("transformers", "vllm", *SCRIPTED)

__all__ = [
    "BACKENDS",
    "Episode",
    "EvalConfig",
    "EvalError",
    "Policy",
    "PolicyError",
    "evaluate",
    "load_eval_rows",
    "make_policy",
    "markdown",
    "run",
    "summarize",
]


# The study's generation budgets per turn: 4,096 new tokens for Sokoban, 8,192 for General Points.
MAX_NEW_TOKENS = {"sokoban": 4096, "points": 8192}


class EvalError(ValueError):
    """Bad input to the harness (unknown variant, no eval config, ...)."""


@dataclass
class EvalConfig:
    data: str  # build folder (DIR or DIR/<task>), pulled folder, or Hub id
    model: str | None = None  # model folder or Hub id; not needed by scripted backends
    backend: str = "transformers"  # transformers | vllm | oracle | frozen
    task: str | None = None  # sokoban | points; None = every task in DATA
    variants: tuple[str, ...] = ()  # empty = every variant of the eval config
    ending: str = "think"  # think | answer-only: the prompt's last instruction, as in training
    limit: int | None = None  # episodes per variant (the first N rows of each split)
    temperature: float = 0.5  # the study's evaluation temperature; 0 = greedy
    max_turns: int = 30  # Sokoban episode limit
    max_new_tokens: int | None = None  # None = the study's budget per task (MAX_NEW_TOKENS)
    batch_size: int = 32  # prompts per generate call of the transformers backend
    seed: int = 0
    device: str = "auto"
    dtype: str = "auto"  # auto | bf16 | fp32
    out: str | None = None  # folder for results.json, results.md, episodes.jsonl
    overwrite: bool = False  # replace the results an earlier evaluation wrote to `out`
    chat_template_kwargs: dict | None = None  # as given to `datagen finetune`, if any
    prompt_format: str = "chat"  # chat | study (datagen.prompts), as given to `datagen finetune`
    progress: bool = True
    tensor_parallel_size: int = 1  # vllm backend: GPUs per engine
    data_parallel_size: int = 1  # vllm backend: engine replicas (vLLM in-process: 1)

    def __post_init__(self) -> None:
        self.variants = tuple(self.variants)
        if self.backend not in BACKENDS:
            raise ValueError(f"backend: one of {', '.join(BACKENDS)}, got {self.backend!r}")
        if self.backend not in SCRIPTED and not self.model:
            raise ValueError(f"backend {self.backend} needs a model")
        if self.ending not in ("think", "answer-only"):
            raise ValueError(f"ending: think|answer-only, got {self.ending!r}")
        if self.limit is not None and self.limit < 1:
            raise ValueError("limit must be >= 1")
        if self.temperature < 0:
            raise ValueError("temperature must be >= 0")
        too_few = self.max_new_tokens is not None and self.max_new_tokens < 1
        if self.max_turns < 1 or too_few or self.batch_size < 1:
            raise ValueError("max_turns, max_new_tokens and batch_size must be >= 1")
        if self.dtype not in ("auto", "bf16", "fp32"):
            raise ValueError(f"dtype: auto|bf16|fp32, got {self.dtype!r}")
        if self.prompt_format not in FORMATS:
            raise ValueError(f"prompt_format: chat|study, got {self.prompt_format!r}")
        if self.tensor_parallel_size < 1 or self.data_parallel_size < 1:
            raise ValueError("tensor_parallel_size and data_parallel_size must be >= 1")


def check_out(out: Path, overwrite: bool, written: str = "results.json") -> None:
    """Refuse, before any work, to replace an earlier evaluation's results (EvalError)."""
    if (out / written).exists() and not overwrite:
        raise EvalError(
            f"{out} holds the results of an earlier evaluation ({written}): choose a new --out "
            "or pass --overwrite"
        )


def task_dirs(data: str, task: str | None) -> list[Path]:
    """The task folders to evaluate: the one named, or every task of a local build folder
    (a subfolder with build.json or data/; load_eval_rows says what a broken one lacks)."""
    from datagen.finetune import FinetuneError, resolve_task_dir

    path = Path(data).expanduser()
    if (
        task is None
        and path.is_dir()
        and not (path / "data").is_dir()
        and not (path / "build.json").is_file()
    ):
        found = sorted(
            p for p in path.iterdir() if (p / "data").is_dir() or (p / "build.json").is_file()
        )
        if found:
            return found
    try:
        return [resolve_task_dir(data, task)]
    except FinetuneError as error:
        raise EvalError(str(error)) from error


def _declared_eval_splits(task_dir: Path) -> list[str]:
    """The eval splits that build.json (or, without it, the card's header) says exist."""
    from datagen import cards

    if (task_dir / cards.BUILD_NAME).is_file():
        try:
            return list(cards.load_build(task_dir)["configs"].get("eval", {}))
        except (ValueError, AttributeError) as error:  # CardError: unreadable build.json
            raise EvalError(" ".join(str(error).split())) from None
    card = task_dir / cards.CARD_NAME
    if not card.is_file():
        return []
    try:
        header = cards.read_header(card.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return []
    for entry in header.get("configs") or []:
        if isinstance(entry, dict) and entry.get("config_name") == "eval":
            return [item["split"] for item in entry.get("data_files") or [] if "split" in item]
    return []


def _check_row(task_dir: Path, split: str, index: int, row: dict) -> None:
    """Rebuild a row's puzzle and score an empty answer: a broken row (two players, an unknown
    card, missing fields) is an EvalError naming it, before any model runs."""
    from datagen.tasks import get_task

    try:
        task = get_task(row["task"])
        task.render_prompt(row["instance"], row["template"])
        task.score(row, "")
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        where = f"{task_dir}/data/eval/{split} row {index} (id {row.get('id', '?')})"
        text = " ".join(str(error).split()) or type(error).__name__
        raise EvalError(f"{where} is not a valid row: {text}") from None


def load_eval_rows(
    task_dir: Path, variants: tuple[str, ...] = (), limit: int | None = None
) -> list[dict]:
    """Rows of the `eval` config, variant by variant (split names use '_' for '-').

    A variant that build.json (or the card) lists but the folder lacks, an unreadable parquet
    file and a row whose puzzle cannot be rebuilt are EvalErrors (one line), never skipped.
    """
    import pyarrow as pa

    from datagen.cards import CardError, parquet_info
    from datagen.finetune import available, load_rows

    task_dir = Path(task_dir)
    splits = available(task_dir).get("eval", []) if (task_dir / "data").is_dir() else []
    missing = [s for s in _declared_eval_splits(task_dir) if s not in splits]
    if missing:
        raise EvalError(
            f"{task_dir}: build.json lists the eval variant(s) {', '.join(missing)} but "
            f"data/eval/ has no {missing[0]}-*.parquet; rebuild the folder (or pull it again)"
        )
    if not splits:
        raise EvalError(f"{task_dir}: no eval config (build it with --eval-size N)")
    if variants:
        wanted = [v.replace("-", "_") for v in variants]
        unknown = [v for v, s in zip(variants, wanted, strict=True) if s not in splits]
        if unknown:
            raise EvalError(
                f"{task_dir.name}: unknown variant(s) {', '.join(unknown)}; "
                f"available: {', '.join(s.replace('_', '-') for s in splits)}"
            )
        splits = wanted
    rows: list[dict] = []
    for split in splits:
        try:
            for file in sorted((task_dir / "data" / "eval").glob(f"{split}-*.parquet")):
                parquet_info(file)  # a truncated file fails here, with its name
            part = load_rows(task_dir, "eval", split)
        except (CardError, OSError, ValueError, pa.ArrowException) as error:  # FinetuneError too
            raise EvalError(" ".join(str(error).split())) from None
        part = part[:limit] if limit else part
        for index, row in enumerate(part):
            _check_row(task_dir, split, index, row)
        rows += part
    return rows


def evaluate(cfg: EvalConfig, policy: Policy | None = None) -> dict:
    """Evaluate and return {"config", "metrics", "markdown", "episodes": [records]}.

    `policy` overrides the backend of `cfg` (for tests and scripts).
    """
    from datagen.finetune import available

    if cfg.out:
        check_out(Path(cfg.out), cfg.overwrite)
        from datagen.figures.style import preload

        preload()  # matplotlib loads while the model plays; results.png needs it at the end
    dirs = task_dirs(cfg.data, cfg.task)
    have = {d: {s.replace("_", "-") for s in available(d).get("eval", [])} for d in dirs}
    unknown = [v for v in cfg.variants if not any(v in names for names in have.values())]
    if unknown and len(dirs) > 1:  # (one folder: load_eval_rows names what it has)
        known = ", ".join(sorted(set().union(*have.values())))
        raise EvalError(f"unknown variant(s) {', '.join(unknown)}; available: {known}")
    rows: list[dict] = []
    for task_dir in dirs:
        # With several tasks, each variant belongs to one of them.
        names = tuple(v for v in cfg.variants if v in have[task_dir] or len(dirs) == 1)
        if cfg.variants and not names:
            continue
        rows += load_eval_rows(task_dir, names, cfg.limit)
    if not rows:
        raise EvalError(f"{cfg.data}: no evaluation rows for variants {', '.join(cfg.variants)}")
    think = cfg.ending == "think"
    if any(row["template"]["think"] != think for row in rows):
        from datagen.build import with_think

        rows = [with_think(row, think) for row in rows]
    if policy is None and cfg.backend not in SCRIPTED:
        # A bad tokenizer fails here, before the model loads.
        check_prompts(cfg.model, rows, cfg.prompt_format, cfg.chat_template_kwargs)
    budgets = {
        task: cfg.max_new_tokens or MAX_NEW_TOKENS[task]
        for task in dict.fromkeys(r["task"] for r in rows)
    }
    # Tasks with different budgets run one after the other, in row order, on one policy whose
    # budget is set per group (a given `policy` keeps its own).
    groups = (
        [rows]
        if policy is not None or len(set(budgets.values())) == 1
        else [[r for r in rows if r["task"] == task] for task in budgets]
    )
    own_policy = policy is None
    if policy is None:
        policy = make_policy(
            cfg.backend,
            cfg.model,
            cfg.temperature,
            budgets[rows[0]["task"]],
            cfg.batch_size,
            cfg.seed,
            cfg.device,
            cfg.dtype,
            cfg.chat_template_kwargs,
            cfg.prompt_format,
            cfg.tensor_parallel_size,
            cfg.data_parallel_size,
        )
    episodes: list[Episode] = []
    seconds = 0.0
    for group in groups:
        if own_policy:
            policy.max_new_tokens = budgets[group[0]["task"]]
        t0 = time.perf_counter()
        episodes += run(policy, group, cfg.max_turns, cfg.progress, cfg.prompt_format)
        seconds += time.perf_counter() - t0
    metrics = summarize(episodes)
    if cfg.backend in SCRIPTED:
        title = f"{cfg.backend} policy on {cfg.data}"
    else:
        title = f"{cfg.model} on {cfg.data} ({cfg.backend}, temperature {cfg.temperature})"
    if cfg.prompt_format != "chat":
        title += f", {cfg.prompt_format} prompts"
    table = markdown(metrics, title)
    results = {
        "config": asdict(cfg),
        "prompt_format": cfg.prompt_format,
        "data_dirs": [str(d) for d in dirs],
        "max_new_tokens": budgets,
        "seconds": round(seconds, 3),
        "metrics": metrics,
    }
    if cfg.out:
        out = Path(cfg.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
        (out / "results.md").write_text(table + "\n")
        with (out / "episodes.jsonl").open("w") as f:
            for episode in episodes:
                f.write(json.dumps(episode.record(), ensure_ascii=False) + "\n")
        from datagen.figures import results_figure

        results_figure(metrics, out / "results.png", title)
        print(f"wrote {out}/results.json, results.md, results.png, episodes.jsonl", file=sys.stderr)
    return {**results, "markdown": table, "episodes": [e.record() for e in episodes]}
