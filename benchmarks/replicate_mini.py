"""`make replicate-mini`: a miniature replication of the study's first two effects, on CPU.

Builds small `answer-only` and `diverse-answer-only` datasets for General Points and Sokoban,
builds a small Qwen3-architecture model per seed (datagen.tiny_model's `MINI_CONFIG`, its
tokenizer trained on the project's prompts and every prompt of the builds, so that the evaluation
vocabularies are tokens of their own), pre-trains it on a task-agnostic copying task
(replicate_mini_pretrain.py; `--pretrain-steps 0` keeps it from scratch), fine-tunes it on each
SFT config with `datagen finetune`, evaluates every model on every variant of the `eval` config
with `datagen eval` (greedy, with the prompt ending it was trained on: answer-only, but the think
instruction for diverse Sokoban, as the study), and writes OUT/results.json, OUT/results.md,
OUT/coverage.json, OUT/prompt_tokens.json and the figures (replicate_mini_report.py,
replicate_mini_coverage.py, replicate_mini_lengths.py).

    python benchmarks/replicate_mini.py [--out replication/mini] [--seeds 1,2] [--jobs 2] ...

Every step goes through the real CLI, in subprocesses (`--jobs` at a time, one thread each).
Resumable: a step whose output folder is complete is skipped, so running the same command again
continues an interrupted run; a training cut off mid-way resumes from its last epoch checkpoint.
The settings, and the time of each step, are recorded in OUT/replication.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TASKS = ("points", "sokoban")
CONFIGS = {"answer-only": "answer-only", "diverse-answer-only": "diverse"}  # config -> build


@dataclass(frozen=True)
class Settings:
    """Everything that decides the result; recorded in OUT/replication.json."""

    out: str = "replication/mini"
    seeds: tuple[int, ...] = (1, 2)  # model initialisation and training order
    data_seed: int = 1  # the datasets are the same for every seed
    train_size: int = 1200  # 1500 took 44.9 minutes against the 40
    eval_size: int = 40  # rows built per variant
    points_limit: int = 40  # episodes evaluated per variant
    sokoban_limit: int = 5  # 30 turns each: Sokoban's evaluation costs as much as training
    points_max_new_tokens: int = 80
    sokoban_max_new_tokens: int = 24
    max_turns: int = 30  # the study's Sokoban turn limit
    epochs: int = 2
    lr: float = 1e-3  # a tiny model: far above the study's 1e-5 for 7-8 B models
    # 300 optimizer steps of 8 rows (1200 rows x 2 epochs). At 1500 rows, 375 steps of 8 learned
    # more than 282 of 16 over 3 epochs (General Points `id` validity 78% against 62%) in 40% of
    # the time.
    global_batch: int = 8
    max_len: int = 512  # one Sokoban row, two General Points rows per packed sequence
    max_steps: int | None = None  # smoke tests only
    eval_every: int = 0  # in-loop evaluation (train_log.jsonl, curves) every K steps; 0 = off
    eval_limit: int = 10
    jobs: int = 2  # models trained/evaluated at once
    model: dict = field(default_factory=dict)  # overrides of MINI_CONFIG's fields
    # Task-agnostic pre-training of each base (replicate_mini_pretrain.py); 0 = from scratch.
    # Copying forms around step 250 and is exact by step 600.
    pretrain_steps: int = 600

    def __post_init__(self) -> None:
        if len(self.seeds) < 1 or len(set(self.seeds)) != len(self.seeds):
            raise ValueError("seeds must be distinct and at least one")
        for name in ("train_size", "eval_size", "points_limit", "sokoban_limit", "epochs"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive")
        if self.lr <= 0 or self.global_batch < 1 or self.max_len < 16 or self.jobs < 1:
            raise ValueError("lr, global_batch, max_len and jobs must be positive")
        if self.pretrain_steps < 0:
            raise ValueError("pretrain_steps must be 0 (from scratch) or positive")


def cli(*args: str, log: Path, env: dict[str, str]) -> float:
    """Run `python -m datagen.cli ARGS`, its output to `log`; return the seconds it took."""
    return logged([sys.executable, "-m", "datagen.cli", *args], f"datagen {args[0]}", log, env)


def logged(command: list[str], what: str, log: Path, env: dict[str, str]) -> float:
    """Run `command`, its output appended to `log`; return the seconds it took."""
    start = time.perf_counter()
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as f:
        f.write(f"$ {' '.join(command[1:])}\n")
        f.flush()
        proc = subprocess.run(command, stdout=f, stderr=subprocess.STDOUT, env=env)
    if proc.returncode:
        raise RuntimeError(f"{what} failed (exit {proc.returncode}); see {log}")
    return time.perf_counter() - start


def environment(cache: Path) -> dict[str, str]:
    """One thread per process, offline, and a private datasets cache: `load_dataset` caches a
    local folder by its name, and both builds have folders named `points` and `sokoban`."""
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "HF_HOME": str(cache),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }


def build_data(s: Settings, out: Path, times: dict) -> None:
    """The two builds (answer-only and diverse), each with both tasks and the `eval` config."""
    for kind in ("answer-only", "diverse"):
        folder = out / "data" / kind
        if all((folder / t / "build.json").exists() for t in TASKS):
            continue
        args = ["build", "--task", "all", "--train-size", str(s.train_size)]
        args += ["--eval-size", str(s.eval_size), "--seed", str(s.data_seed), "--workers", "1"]
        args += ["--out", str(folder), "--overwrite"] + (["--diverse"] if kind == "diverse" else [])
        times[f"build/{kind}"] = round(
            cli(
                *args,
                log=out / "logs" / f"build-{kind}.log",
                env=environment(out / "cache" / "build"),
            ),
            1,
        )


def corpus(out: Path) -> list[str]:
    """Texts for the tokenizer: every eval prompt's vocabulary (two rows of each split) and the
    first rows of each training config, prompts and completions."""
    import pyarrow.parquet as pq

    texts: list[str] = []
    for kind, config in (("answer-only", "answer-only"), ("diverse", "diverse-answer-only")):
        for task in TASKS:
            data = out / "data" / kind / task / "data"
            files = sorted((data / "eval").glob("*.parquet")) if kind == "answer-only" else []
            files += sorted((data / config).glob("*.parquet"))
            for file in files:
                rows = pq.read_table(file).slice(0, 2 if "eval" in file.parts else 200).to_pylist()
                for row in rows:
                    for message in [*row["prompt"], *(row.get("completion") or [])]:
                        texts.append(message["content"])
    return texts


def build_base(s: Settings, out: Path, seed: int) -> Path:
    """The untrained from-scratch model for `seed` (built once, into place by a rename)."""
    from datagen.tiny_model import MINI_CONFIG, TinyModelConfig, build_tiny_model

    final = out / "models" / f"base-seed{seed}"
    if (final / "tiny_model.json").exists():
        return final
    scratch = final.with_name(final.name + ".partial")
    shutil.rmtree(scratch, ignore_errors=True)
    config = TinyModelConfig(**{**asdict(MINI_CONFIG), **s.model})
    build_tiny_model(scratch, seed=seed, config=config, corpus=corpus(out))
    shutil.rmtree(final, ignore_errors=True)
    scratch.rename(final)
    return final


def pretrain_base(s: Settings, out: Path, seed: int) -> dict:
    """The pre-trained base of `seed` (OUT/models/pretrained-seed<S>), in a subprocess."""
    final = out / "models" / f"pretrained-seed{seed}"
    if (final / "pretrain.json").exists():
        return {}
    base = out / "models" / f"base-seed{seed}"
    command = [sys.executable, str(HERE / "replicate_mini_pretrain.py"), str(base), str(final)]
    command += ["--steps", str(s.pretrain_steps), "--seed", str(seed)]
    seconds = logged(
        command,
        "pre-training",
        out / "logs" / f"pretrain-seed{seed}.log",
        environment(out / "cache"),
    )
    return {f"pretrain/seed{seed}": round(seconds, 1)}


def start_model(s: Settings, out: Path, seed: int) -> Path:
    """The model each fine-tuning of `seed` starts from."""
    kind = "pretrained" if s.pretrain_steps else "base"
    return out / "models" / f"{kind}-seed{seed}"


def training_ending(out: Path, task: str, config: str) -> str:
    """The `datagen eval --ending` of the prompts a config trains on: the study's diverse
    answer-only Sokoban rows keep the think instruction (their target follows a `<think>`
    prefill), the other answer-only rows end with the answer-only one."""
    import pyarrow.parquet as pq

    data = out / "data" / CONFIGS[config] / task / "data" / config
    first = pq.read_table(sorted(data.glob("*.parquet"))[0], columns=["template"]).slice(0, 1)
    return "think" if first.to_pylist()[0]["template"].get("think") else "answer-only"


def train_and_eval(s: Settings, out: Path, task: str, config: str, seed: int, ending: str) -> dict:
    """Fine-tune one model, then evaluate it on every variant; skip what is complete."""
    name = f"{task}-{config}-seed{seed}"
    run, evals = out / "runs" / name, out / "evals" / name
    log, env = out / "logs" / f"{name}.log", environment(out / "cache" / name)
    times: dict[str, float] = {}
    if not (run / "model.safetensors").exists() or not (run / "tokenizer_config.json").exists():
        args = ["finetune", "--model", str(start_model(s, out, seed))]
        args += ["--data", str(out / "data" / CONFIGS[config] / task), "--config", config]
        args += ["--out", str(run), "--epochs", str(s.epochs), "--lr", str(s.lr)]
        args += ["--global-batch", str(s.global_batch), "--max-len", str(s.max_len)]
        args += ["--seed", str(seed), "--device", "cpu", "--dtype", "fp32", "--no-progress"]
        if s.max_steps:
            args += ["--max-steps", str(s.max_steps)]
        if s.eval_every:
            args += ["--eval-every", str(s.eval_every), "--eval-limit", str(s.eval_limit)]
        if any(run.glob("checkpoint-epoch-*")):
            args.append("--resume")
        else:
            shutil.rmtree(run, ignore_errors=True)
        times["finetune_s"] = round(cli(*args, log=log, env=env), 1)
    if not (evals / "results.png").exists():
        shutil.rmtree(evals, ignore_errors=True)
        limit = s.points_limit if task == "points" else s.sokoban_limit
        budget = s.points_max_new_tokens if task == "points" else s.sokoban_max_new_tokens
        args = ["eval", "--model", str(run), "--data", str(out / "data" / "answer-only" / task)]
        args += ["--ending", ending, "--temperature", "0", "--limit", str(limit)]
        args += ["--max-new-tokens", str(budget), "--max-turns", str(s.max_turns)]
        args += ["--seed", str(seed), "--device", "cpu", "--dtype", "fp32", "--no-progress"]
        args += ["--out", str(evals)]
        times["eval_s"] = round(cli(*args, log=log, env=env), 1)
    return {name: times}


def run(s: Settings) -> Path:
    """The whole pipeline; returns OUT. Raises RuntimeError naming the log of a failed step."""
    from replicate_mini_report import write_report

    out = Path(s.out)
    out.mkdir(parents=True, exist_ok=True)
    record_file = out / "replication.json"
    record = json.loads(record_file.read_text()) if record_file.exists() else {}
    settings = json.loads(json.dumps(asdict(s)))

    def decisive(x: dict) -> dict:  # where and how many at once do not change the result
        return {k: v for k, v in x.items() if k not in ("out", "jobs")}

    if decisive(record.get("settings", settings)) != decisive(settings):
        raise RuntimeError(f"{out} holds a run with other settings; pick another OUT or remove it")
    record["settings"] = settings
    times = record.setdefault("seconds", {})
    start = time.perf_counter()

    def save() -> None:  # after every step, so that a cut-off run can be reported and resumed
        times["this_invocation_s"] = round(time.perf_counter() - start, 1)
        record_file.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")

    save()
    build_data(s, out, times)
    for seed in s.seeds:
        build_base(s, out, seed)
    save()
    if s.pretrain_steps:
        with ThreadPoolExecutor(max_workers=s.jobs) as pool:
            for spent in pool.map(lambda seed: pretrain_base(s, out, seed), s.seeds):
                times.update(spent)
        record["pretrain_copy_accuracy"] = {
            str(seed): json.loads((start_model(s, out, seed) / "pretrain.json").read_text())[
                "copy_accuracy"
            ]
            for seed in s.seeds
        }
        save()
    # Each model is evaluated with the prompt ending it was trained on.
    endings = record["endings"] = {
        f"{t}/{c}": training_ending(out, t, c) for t in TASKS for c in CONFIGS
    }
    jobs = [(t, c, seed, endings[f"{t}/{c}"]) for seed in s.seeds for t in TASKS for c in CONFIGS]
    with ThreadPoolExecutor(max_workers=s.jobs) as pool:
        futures = [pool.submit(train_and_eval, s, out, *job) for job in jobs]
        errors = []
        for future in futures:
            try:
                for name, spent in future.result().items():
                    times.setdefault(name, {}).update(spent)
            except RuntimeError as error:
                errors.append(str(error))
            save()
    if errors:
        raise RuntimeError("; ".join(errors))
    write_report(out, s.seeds, record)
    return out


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x.strip())


def main(argv: list[str] | None = None) -> int:
    defaults = Settings()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.environ.get("OUT") or defaults.out)
    parser.add_argument("--seeds", type=_ints, default=defaults.seeds, help="e.g. 1,2")
    for name in (
        "train_size",
        "eval_size",
        "points_limit",
        "sokoban_limit",
        "epochs",
        "global_batch",
        "max_len",
        "max_steps",
        "eval_every",
        "eval_limit",
        "jobs",
        "points_max_new_tokens",
        "sokoban_max_new_tokens",
        "max_turns",
        "data_seed",
        "pretrain_steps",
    ):
        parser.add_argument(
            "--" + name.replace("_", "-"), type=int, default=getattr(defaults, name)
        )
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument(
        "--model",
        type=json.loads,
        default={},
        help='MINI_CONFIG overrides as JSON, e.g. {"hidden_size": 384}',
    )
    args = vars(parser.parse_args(argv))
    try:
        settings = Settings(**args)
        started = time.time()
        out = run(settings)
    except (ValueError, TypeError, RuntimeError, OSError) as error:
        print(f"replicate-mini: {error}", file=sys.stderr)
        return 1
    print(
        f"replicate-mini: wrote {out}/results.md, results.json "
        f"({time.time() - started:.0f} s this invocation)"
    )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    sys.exit(main())
