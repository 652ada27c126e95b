"""The settings of a `datagen grpo` run: the study's GRPO defaults, checked, mapped onto TRL.

    cfg = GrpoConfig(model="runs/sft", data="out/sokoban", out="runs/rl")
    trl_args = cfg.trl_kwargs(world_size=1)   # -> trl.GRPOConfig(**trl_args)

The study ran verl (`debunk_sft/scripts/sokoban/sokoban_grpo.sh`, `scripts/gp_l/gp_l_grpo.sh`,
`trainer/config/ppo_trainer.yaml`): 256 prompts per step, 8 completions each, one optimizer update
per rollout (`ppo_mini_batch_size` 256, `ppo_epochs` 1), lr 1e-6 constant, weight decay 0.01,
gradient clipping 1.0, clip ratio 0.2, no KL (`kl_coef` 0, no KL loss), no entropy bonus,
temperature 1.0, top-p 1, no top-k, responses up to 1024 tokens (Sokoban) / 4096 (General Points),
token-mean loss, advantages normalised by the group's std. TRL counts its batch in completions:
`prompts_per_step * num_generations` completions make one optimizer step, reached by gradient
accumulation over micro-batches of `per_device_batch` completions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RL_CONFIGS = ("rl", "diverse-rl")
REWARDS = ("ours", "study")
VLLM_MODES = ("auto", "off", "colocate", "server")
# The study's response budget per task (data.max_response_length of its two GRPO scripts).
STUDY_MAX_COMPLETION = {"sokoban": 1024, "points": 4096}


@dataclass
class GrpoConfig:
    model: str  # base model or an SFT run of `datagen finetune` (RL warm-started)
    data: str  # build folder (DIR or DIR/<task>), pulled folder, or Hub id OWNER/NAME[@rev]
    out: str  # RUN folder: final model, grpo.json, command.txt, train_log.jsonl
    config: str = "diverse-rl"
    task: str | None = None
    prompt_format: str = "chat"  # chat | study: the same as the SFT run being warm-started
    chat_template_kwargs: dict | None = None
    reward: str = "ours"  # ours: correct + valid (weighted); study: the study's reward shapes
    correct_weight: float = 1.0
    valid_weight: float = 0.0  # the study rewarded correctness only: validity is opt-in
    prompts_per_step: int = 256  # study: data.train_batch_size
    num_generations: int = 8  # study: actor_rollout_ref.rollout.n
    per_device_batch: int = 8  # completions per forward/backward micro-batch (memory only)
    lr: float = 1e-6  # study: actor.optim.lr, constant schedule, no warm-up
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    beta: float = 0.0  # KL coefficient (study: kl_coef 0)
    epsilon: float = 0.2  # PPO clip ratio (study: clip_ratio 0.2)
    temperature: float = 1.0
    top_p: float = 1.0
    max_completion_length: int | None = None  # None: the study's per task (1024 / 4096)
    # More sampling options for TRL's generation_kwargs (transformers GenerationConfig or vLLM
    # SamplingParams), e.g. {"repetition_penalty": 1.05}; they override the ones above.
    generation_kwargs: dict | None = None
    loss_type: str = "dapo"  # TRL's name for verl's token-mean aggregation
    epochs: float = 1.0  # the study's runs (total_epochs 500/2000) were stopped by hand
    max_steps: int | None = None
    seed: int = 0
    limit: int | None = None  # train on the first N rows only
    vllm: str = "auto"  # auto: colocated vLLM when installed and on CUDA, else transformers
    vllm_server_url: str | None = None  # for vllm="server" (`trl vllm-serve`)
    vllm_gpu_memory_utilization: float = 0.3
    dtype: str = "auto"  # auto: bf16 on a bf16 GPU, else fp32
    gradient_checkpointing: bool = False
    save_steps: int = 0  # 0: only the final model
    report_to: str = "none"  # TRL/transformers trackers: none, wandb, trackio, tensorboard

    def __post_init__(self) -> None:
        checks = [
            (self.config in RL_CONFIGS, f"config: GRPO trains on {' or '.join(RL_CONFIGS)}"),
            (self.prompt_format in ("chat", "study"), "prompt_format: chat or study"),
            (self.reward in REWARDS, f"reward: one of {', '.join(REWARDS)}"),
            (self.correct_weight >= 0 and self.valid_weight >= 0, "reward weights must be >= 0"),
            (self.correct_weight + self.valid_weight > 0, "at least one reward weight > 0"),
            (self.prompts_per_step >= 1, "prompts_per_step must be >= 1"),
            (self.num_generations >= 2, "num_generations must be >= 2 (GRPO compares a group)"),
            (self.per_device_batch >= 1, "per_device_batch must be >= 1"),
            (self.lr > 0, "lr must be > 0"),
            (self.weight_decay >= 0 and self.grad_clip >= 0, "weight_decay, grad_clip >= 0"),
            (self.beta >= 0 and self.epsilon > 0, "beta >= 0 and epsilon > 0"),
            (self.temperature > 0 and 0 < self.top_p <= 1, "temperature > 0, top_p in (0, 1]"),
            (
                self.max_completion_length is None or self.max_completion_length >= 1,
                "max_completion_length must be >= 1",
            ),
            (self.epochs > 0, "epochs must be > 0"),
            (self.max_steps is None or self.max_steps >= 1, "max_steps must be >= 1"),
            (self.limit is None or self.limit >= 1, "limit must be >= 1"),
            (self.vllm in VLLM_MODES, f"vllm: one of {', '.join(VLLM_MODES)}"),
            (self.vllm != "server" or bool(self.vllm_server_url), "vllm server needs its URL"),
            (self.dtype in ("auto", "bf16", "fp32"), "dtype: auto, bf16 or fp32"),
            (self.save_steps >= 0, "save_steps must be >= 0"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    def completion_budget(self, task: str) -> int:
        return self.max_completion_length or STUDY_MAX_COMPLETION[task]

    def accumulation(self, world_size: int) -> int:
        """Micro-batches per optimizer step so that one step = one rollout of the whole batch."""
        completions = self.prompts_per_step * self.num_generations
        per_step = self.per_device_batch * world_size
        if completions % per_step:
            raise ValueError(
                f"prompts_per_step x num_generations = {completions} completions is not a "
                f"multiple of per_device_batch x processes = {per_step}"
            )
        return completions // per_step

    def trl_kwargs(self, task: str, world_size: int, vllm_mode: str | None, bf16: bool) -> dict:
        """The arguments of trl.GRPOConfig for this run (vllm_mode None: transformers)."""
        kwargs: dict[str, Any] = dict(
            output_dir=self.out,
            learning_rate=self.lr,
            lr_scheduler_type="constant",
            warmup_steps=0,
            weight_decay=self.weight_decay,
            max_grad_norm=self.grad_clip if self.grad_clip > 0 else 1e9,
            per_device_train_batch_size=self.per_device_batch,
            gradient_accumulation_steps=self.accumulation(world_size),
            num_generations=self.num_generations,
            max_completion_length=self.completion_budget(task),
            temperature=self.temperature,
            top_p=self.top_p,
            top_k=0,
            beta=self.beta,
            epsilon=self.epsilon,
            num_iterations=1,
            loss_type=self.loss_type,
            scale_rewards="group",
            num_train_epochs=self.epochs,
            max_steps=self.max_steps or -1,
            seed=self.seed,
            data_seed=self.seed,
            logging_steps=1,
            save_strategy="steps" if self.save_steps else "no",
            save_steps=self.save_steps or 500,
            report_to=self.report_to,
            bf16=bf16,
            gradient_checkpointing=self.gradient_checkpointing,
            remove_unused_columns=False,  # the reward functions read task/instance/template/...
            log_completions=False,  # ours go to RUN/completions.jsonl (datagen.grpo.logging)
            disable_tqdm=True,
            use_vllm=vllm_mode is not None,
        )
        if self.generation_kwargs:
            kwargs["generation_kwargs"] = self.generation_kwargs
        if vllm_mode is not None:
            kwargs["vllm_mode"] = vllm_mode
            kwargs["vllm_gpu_memory_utilization"] = self.vllm_gpu_memory_utilization
            if vllm_mode == "server":
                kwargs["vllm_server_base_url"] = self.vllm_server_url
        return kwargs
