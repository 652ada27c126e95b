"""The options of one task's build (`BuildConfig`), validated before any work, and its error.

from datagen.build_config import BuildConfig
BuildConfig(task="sokoban", diverse=True, train_size=1000).data_options()  # what build.json records
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from datagen.suites import POINTS_EVAL, SOKOBAN_EVAL, PointsVariant, SokobanVariant


class BuildError(RuntimeError):
    """A build that cannot produce what was asked (the message says why)."""


@dataclass(frozen=True)
class BuildConfig:
    task: str  # "sokoban" | "points"
    diverse: bool = False  # a fresh vocabulary / face-card rule per training row
    train_size: int = 10_000  # training rows (CoT: prompts sent to the teacher)
    eval_size: int | None = None  # rows per evaluation variant; None = the study's sizes
    seed: int = 0
    wordings: tuple[str, ...] = ("paper",)  # opt-in: paraphrased instructions for training rows
    legends: tuple[str, ...] = ("paper",)  # opt-in (Sokoban): grid symbol legends
    targets: tuple[int, ...] = (24,)  # opt-in (points): training targets
    variants: tuple[str, ...] | None = None  # evaluation variants to build; None = all
    min_moves: int = 1  # Sokoban training levels: the shortest optimal length kept
    max_moves: int = 30  # Sokoban training levels: the longest (the study's label cap)
    workers: int = 2
    cot: dict | None = None  # teacher, sampling and rejection options (see datagen.cli.build)
    holdout: str = "hands"  # points: "values" also keeps every eval value multiset out of training
    levels: tuple = ()  # Sokoban: datagen.levels.LevelSource collections (train / eval variants)

    def __post_init__(self) -> None:
        from datagen.templates import points as points_templates
        from datagen.templates import sokoban as sokoban_templates

        if self.task not in ("sokoban", "points"):
            raise ValueError(f"unknown task {self.task!r}")
        if self.train_size < 0 or (self.eval_size is not None and self.eval_size < 0):
            raise ValueError("sizes must be >= 0")
        if self.workers < 1:
            raise ValueError("workers must be >= 1")
        wordings = (
            sokoban_templates.WORDINGS if self.task == "sokoban" else points_templates.WORDINGS
        )
        for wording in self.wordings:
            if wording not in wordings:
                other = "points" if self.task == "sokoban" else "sokoban"
                theirs = points_templates if other == "points" else sokoban_templates
                raise ValueError(
                    f"unknown {self.task} wording {wording!r}; {self.task} has "
                    f"{', '.join(wordings)} ({other}: {', '.join(theirs.WORDINGS)})"
                )
        self._check_plan()
        for legend in self.legends:
            if legend not in sokoban_templates.SYMBOL_LEGENDS:
                raise ValueError(
                    f"unknown symbol legend {legend!r}; choose from "
                    f"{', '.join(sokoban_templates.SYMBOL_LEGENDS)}"
                )
        if self.task == "points" and any(t < 1 for t in self.targets):
            raise ValueError("targets must be positive integers")
        if self.task == "sokoban":
            _check_moves(self.min_moves, self.max_moves)
        from datagen.levels import check_sources

        check_sources(self.levels, self.task)
        known = {v.name for v in (SOKOBAN_EVAL if self.task == "sokoban" else POINTS_EVAL)}
        for variant in self.variants or ():
            if variant not in known:
                raise ValueError(
                    f"unknown {self.task} variant {variant!r}; choose from "
                    f"{', '.join(sorted(known))}"
                )

    def _check_plan(self) -> None:
        """Options that contradict each other or ask for nothing: refused before any work."""
        from datagen.leakage import HOLDOUTS

        if self.train_size == 0 and self.eval_size == 0:
            raise ValueError("nothing to build: --train-size and --eval-size are both 0")
        if self.task == "points" and tuple(self.legends) != ("paper",):
            raise ValueError("--legends applies to Sokoban only (the grid symbols)")
        if self.task == "sokoban" and tuple(self.targets) != (24,):
            raise ValueError("--targets applies to General Points only")
        if self.holdout not in HOLDOUTS:
            raise ValueError(f"holdout: one of {', '.join(HOLDOUTS)}, got {self.holdout!r}")
        if self.task == "sokoban" and self.holdout != "hands":
            raise ValueError("--holdout values applies to General Points only")
        if self.cot is not None:
            most = self.cot.get("max_samples", 1)
            if self.cot.get("initial_samples", 1) > most:
                raise ValueError(
                    f"--initial-samples {self.cot['initial_samples']} exceeds --max-samples {most}"
                )
            if self.cot.get("keep", 1) > most:
                raise ValueError(
                    f"--keep {self.cot['keep']} accepted traces can never come from at most "
                    f"--max-samples {most} samples per prompt"
                )

    @property
    def prefix(self) -> str:
        return "diverse-" if self.diverse else ""

    def eval_size_of(self, variant: SokobanVariant | PointsVariant) -> int:
        return variant.size if self.eval_size is None else self.eval_size

    def data_options(self) -> dict:
        """The options that decide the rows (the fingerprint's input)."""
        options = asdict(self)
        options.pop("workers")
        if self.cot is not None:
            # Never record a secret; keep only the settings the chosen teacher uses. Server URLs
            # (which may hold credentials) and engine parallelism say where and how fast the
            # teacher ran, not what it wrote: out of the fingerprint (build.json["teacher"] and
            # run.json record them, redacted).
            skip = ("api_key", "base_url", "max_retries", "tensor_parallel_size")
            cot = {k: v for k, v in self.cot.items() if k not in {*skip, "data_parallel_size"}}
            if cot["teacher"] == "search":
                cot.pop("model", None)
            options["cot"] = cot
        if self.levels:  # the collections' content, not where they lie
            options["levels"] = [source.describe() for source in self.levels]
        else:
            options.pop("levels")
        if self.task == "points":
            options.pop("legends")
            options.pop("min_moves")
            options.pop("max_moves")
        else:
            options.pop("targets")
            options.pop("holdout")
        return options


def _check_moves(min_moves: int, max_moves: int) -> None:
    """Refuse move filters that no training level (6x6, one box) can meet, before any work."""
    from solvers.sokoban.generator import longest_level

    longest = longest_level(6, 6, 1)
    if min_moves < 1:
        raise ValueError(f"--min-moves must be >= 1, got {min_moves}")
    if max_moves < min_moves:
        raise ValueError(f"--max-moves {max_moves} is below --min-moves {min_moves}")
    if min_moves > longest:
        raise ValueError(
            f"--min-moves {min_moves}: no generated 6x6 one-box level is longer than "
            f"{longest} moves"
        )
