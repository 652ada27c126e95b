"""The RL baseline: TRL's GRPOTrainer on an `rl` / `diverse-rl` build, scored by our rewards.

    datagen grpo --model runs/sft --data out/sokoban --config diverse-rl --out runs/rl
    accelerate launch --config_file CONF.yaml -m datagen.cli grpo ...   # several GPUs

No RL loop lives here: `config` maps the study's GRPO settings onto TRL's, `data` renders the
prompts exactly as `datagen.prompts` does, `rewards` wraps `datagen.rewards` (and the study's
reward shapes) in TRL's signature, and `trainer` builds the trainer and the RUN folder's records.
"""

from __future__ import annotations

from datagen.grpo.config import GrpoConfig
from datagen.grpo.data import GrpoError

__all__ = ["GrpoConfig", "GrpoError", "run"]


def run(cfg: GrpoConfig, argv: list[str] | None = None) -> dict:
    from datagen.grpo.trainer import run as _run

    return _run(cfg, argv)
