"""Policies: whatever answers prompts in the evaluation harness.

A policy has one method, `generate(prompts, contexts) -> list[str]`: one completion per chat
prompt. Model backends read the prompts (and, under the `study` prompt format, each context's
template, which decides the prefill); the scripted policies (used to check the harness and a
build without a model) read the puzzle state from `contexts`, one dict per prompt with `task`,
`instance` (the current state) and `template` (the row's instructions). Under `study` a policy
returns what follows the prefill (datagen.prompts), and the harness parses prefill + that.

- `TransformersPolicy`: batched `generate` with left padding; temperature sampling seeded per
  call, greedy at temperature 0.
- `VLLMPolicy`: vLLM's offline engine (imported lazily; an install hint if missing).
- `ScriptedPolicy("oracle")`: the solver's optimal move (Sokoban) or a solution formula (General
  Points) written in the vocabulary / face-card rule the prompt *shows*.
- `ScriptedPolicy("frozen")`: the same, but always in the training vocabulary (Up/Down/Left/
  Right, J/Q/K = 10): the shortcut the study's claim 1 is about.
"""

from __future__ import annotations

from typing import Any, Protocol

from datagen.prompts import PromptFormatError, check_tokenizer, continuation, prompt_text

BASE_VOCABULARY = ("Up", "Down", "Left", "Right")
BASE_FACES = (10, 10, 10)
SCRIPTED = ("oracle", "frozen")


class Policy(Protocol):
    def generate(self, prompts: list[list[dict]], contexts: list[dict] | None = None) -> list[str]:
        """One completion per prompt, in order."""
        ...


class PolicyError(RuntimeError):
    """A backend could not be set up (missing package, no chat template, ...)."""


class ScriptedPolicy:
    """A policy that plays from the true puzzle state: a check of the harness, not a model."""

    def __init__(self, kind: str, prompt_format: str = "chat") -> None:
        if kind not in SCRIPTED:
            raise ValueError(f"scripted policy: one of {SCRIPTED}, got {kind!r}")
        self.kind = kind
        self.prompt_format = prompt_format

    def generate(self, prompts: list[list[dict]], contexts: list[dict] | None = None) -> list[str]:
        if contexts is None or len(contexts) != len(prompts):
            raise ValueError("scripted policies need one context per prompt")
        # Under study its answer continues the prefill, as a model trained on the study's
        # targets would write it ('Up </answer>\n' after '<answer>').
        return [continuation(self.answer(c), c["template"], self.prompt_format) for c in contexts]

    def answer(self, context: dict) -> str:
        template = context["template"]
        if context["task"] == "sokoban":
            from solvers.sokoban import ACTIONS, Level, optimal_actions

            actions = optimal_actions(Level.parse(context["instance"]["grid"]))
            if not actions:
                return "<answer> none </answer>"
            words = template["vocabulary"] if self.kind == "oracle" else BASE_VOCABULARY
            return f"<answer> {words[ACTIONS.index(actions[0])]} </answer>"
        if context["task"] == "points":
            from datagen.templates.points import render_answer_text
            from solvers.points import hand_values, solve

            faces = tuple(template["faces"]) if self.kind == "oracle" else BASE_FACES
            cards = list(context["instance"]["cards"])
            values = list(hand_values(cards, faces))
            formulas = solve(values, context["instance"]["target"])
            # No solution under the rule it believes in: it says so, which scores as wrong.
            return render_answer_text(cards, values, formulas[0] if formulas else "no solution")
        raise ValueError(f"unknown task {context['task']!r}")


def _templates(prompts: list, contexts: list[dict] | None, prompt_format: str) -> list[dict]:
    """Each prompt's template; the chat format needs none, the study format decides by it."""
    if contexts is not None and len(contexts) == len(prompts):
        return [c["template"] for c in contexts]
    if prompt_format != "chat":
        raise ValueError(f"the {prompt_format} prompt format needs one context per prompt")
    return [{} for _ in prompts]


def check_prompts(
    model: str, rows: list[dict], prompt_format: str, chat_template_kwargs: dict | None = None
) -> None:
    """Before any model work: the tokenizer renders this format, and the first row of each task."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model)
    firsts = {row["task"]: row for row in reversed(rows)}.values()
    try:
        check_tokenizer(tokenizer, prompt_format)
        for row in firsts:
            kwargs = chat_template_kwargs
            prompt_text(tokenizer, row["prompt"], row["template"], prompt_format, kwargs)
    except PromptFormatError as error:
        raise PolicyError(f"{model}: {error}") from error


def _device(name: str) -> str:
    import torch

    if name != "auto":
        return name
    if torch.cuda.is_available():
        return "cuda"
    return "cpu"


class TransformersPolicy:
    """Batched generation with transformers (left padding, seeded sampling)."""

    def __init__(
        self,
        model: str,
        temperature: float = 0.5,
        max_new_tokens: int = 4096,
        batch_size: int = 32,
        seed: int = 0,
        device: str = "auto",
        dtype: str = "auto",
        chat_template_kwargs: dict | None = None,
        prompt_format: str = "chat",
    ) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        device = _device(device)
        tokenizer = AutoTokenizer.from_pretrained(model, padding_side="left")
        try:
            check_tokenizer(tokenizer, prompt_format)
        except PromptFormatError as error:
            raise PolicyError(f"{model}: {error}") from error
        if dtype == "auto":
            bf16 = device.startswith("cuda") and torch.cuda.is_bf16_supported()
            dtype = "bf16" if bf16 else "fp32"
        torch_dtype = {"bf16": torch.bfloat16, "fp32": torch.float32}[dtype]
        net = AutoModelForCausalLM.from_pretrained(model, dtype=torch_dtype)
        net.to(device).eval()
        self._setup(net, tokenizer, device, temperature, max_new_tokens, batch_size, seed)
        self.template_kwargs = chat_template_kwargs or {}
        self.prompt_format = prompt_format

    @classmethod
    def live(
        cls,
        net: Any,
        tokenizer: Any,
        max_new_tokens: int,
        batch_size: int = 32,
        chat_template_kwargs: dict | None = None,
        prompt_format: str = "chat",
    ) -> TransformersPolicy:
        """Greedy generation with a model already in memory (evaluation inside a training run).

        `tokenizer` must pad on the left; the model's own generation config is left untouched.
        """
        policy = cls.__new__(cls)
        device = str(next(net.parameters()).device)
        policy._setup(net, tokenizer, device, 0.0, max_new_tokens, batch_size, 0)
        policy.template_kwargs = chat_template_kwargs or {}
        policy.prompt_format = prompt_format
        return policy

    def _setup(
        self,
        net: Any,
        tokenizer: Any,
        device: str,
        temperature: float,
        max_new_tokens: int,
        batch_size: int,
        seed: int,
    ) -> None:
        import copy

        self.model, self.tokenizer, self.device = net, tokenizer, device
        self.temperature = temperature
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size
        self.seed = seed
        self.calls = 0
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        # A copy: a model being trained keeps its own generation config for saving.
        config = copy.deepcopy(self.model.generation_config)
        config.max_new_tokens = max_new_tokens
        config.pad_token_id = self.tokenizer.pad_token_id
        # The study sampled with temperature only (vLLM: top-p 1, no top-k); a model's own
        # generation_config (Qwen: top-k 20, top-p 0.8) would silently change that.
        config.do_sample = temperature > 0
        config.temperature = temperature if temperature > 0 else None
        config.top_p = 1.0 if temperature > 0 else None
        config.top_k = 0 if temperature > 0 else None
        self.generation_config = config

    def generate(self, prompts: list[list[dict]], contexts: list[dict] | None = None) -> list[str]:
        import torch

        templates = _templates(prompts, contexts, self.prompt_format)
        texts = [
            prompt_text(self.tokenizer, p, t, self.prompt_format, self.template_kwargs)
            for p, t in zip(prompts, templates, strict=True)
        ]
        # Longest first: similar lengths share a batch, so there is little padding.
        order = sorted(range(len(texts)), key=lambda i: (-len(texts[i]), i))
        outputs: list[str] = [""] * len(texts)
        self.calls += 1
        self.generation_config.max_new_tokens = self.max_new_tokens  # the harness may change it
        generator_seed = self.seed * 1_000_003 + self.calls
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            enc = self.tokenizer(
                [texts[i] for i in chunk],
                return_tensors="pt",
                padding=True,
                add_special_tokens=False,
            ).to(self.device)
            torch.manual_seed(generator_seed + start)  # deterministic given the seed and call
            with torch.no_grad():
                out = self.model.generate(**enc, generation_config=self.generation_config)
            new = out[:, enc["input_ids"].shape[1] :]
            for i, text in zip(
                chunk, self.tokenizer.batch_decode(new, skip_special_tokens=True), strict=True
            ):
                outputs[i] = text
        return outputs


class VLLMPolicy:
    """vLLM's offline engine; every request gets its own seed, so results are reproducible."""

    def __init__(
        self,
        model: str,
        temperature: float = 0.5,
        max_new_tokens: int = 4096,
        seed: int = 0,
        dtype: str = "auto",
        chat_template_kwargs: dict | None = None,
        prompt_format: str = "chat",
        tensor_parallel_size: int = 1,
        data_parallel_size: int = 1,
        **engine_kwargs: Any,
    ) -> None:
        if data_parallel_size > 1:  # vLLM's LLM raises for it in one process ("may hang")
            raise PolicyError(
                f"--data-parallel-size {data_parallel_size}: vLLM's in-process engine runs one "
                "replica per process; run one `datagen eval` per GPU group on --variants subsets"
            )
        try:
            from vllm import LLM, SamplingParams
        except ImportError as error:
            raise PolicyError(
                "the vllm backend needs vLLM: pip install 'sft-myth-datagen[vllm]' "
                "(or use --backend transformers)"
            ) from error
        self._sampling = SamplingParams
        vllm_dtype = {"auto": "auto", "bf16": "bfloat16", "fp32": "float32"}[dtype]
        from teachers.vllm_engine import shut_down_at_exit

        self.llm = shut_down_at_exit(
            LLM(
                model=model,
                seed=seed,
                dtype=vllm_dtype,
                tensor_parallel_size=tensor_parallel_size,
                data_parallel_size=data_parallel_size,
                **engine_kwargs,
            )
        )
        self.temperature = temperature
        self.max_new_tokens = max_new_tokens
        self.seed = seed
        self.calls = 0
        self.template_kwargs = chat_template_kwargs or {}
        self.prompt_format = prompt_format
        if prompt_format != "chat":
            try:
                check_tokenizer(self.llm.get_tokenizer(), prompt_format)
            except PromptFormatError as error:
                raise PolicyError(f"{model}: {error}") from error

    def generate(self, prompts: list[list[dict]], contexts: list[dict] | None = None) -> list[str]:
        self.calls += 1
        base = self.seed * 1_000_003 + self.calls * 100_003
        params = [
            self._sampling(
                temperature=self.temperature,
                top_p=1.0,
                max_tokens=self.max_new_tokens,
                seed=base + i,
            )
            for i in range(len(prompts))
        ]
        if self.prompt_format == "chat":
            results = self.llm.chat(
                prompts,
                sampling_params=params,
                use_tqdm=False,
                chat_template_kwargs=self.template_kwargs or None,
            )
            return [r.outputs[0].text for r in results]
        # The study's text, tokenized as the trainer does (no special tokens added: the text
        # carries its own), so the engine sees exactly the ids the model was trained on.
        tokenizer = self.llm.get_tokenizer()
        templates = _templates(prompts, contexts, self.prompt_format)
        inputs = [
            {
                "prompt_token_ids": tokenizer(
                    prompt_text(tokenizer, p, t, self.prompt_format, self.template_kwargs),
                    add_special_tokens=False,
                )["input_ids"]
            }
            for p, t in zip(prompts, templates, strict=True)
        ]
        results = self.llm.generate(inputs, sampling_params=params, use_tqdm=False)
        return [r.outputs[0].text for r in results]


def make_policy(
    backend: str,
    model: str | None,
    temperature: float = 0.5,
    max_new_tokens: int = 4096,
    batch_size: int = 32,
    seed: int = 0,
    device: str = "auto",
    dtype: str = "auto",
    chat_template_kwargs: dict | None = None,
    prompt_format: str = "chat",
    tensor_parallel_size: int = 1,
    data_parallel_size: int = 1,
) -> Policy:
    """The policy for a `--backend` name."""
    if backend in SCRIPTED:
        return ScriptedPolicy(backend, prompt_format)
    if not model:
        raise PolicyError(f"--backend {backend} needs --model")
    if backend == "transformers":
        return TransformersPolicy(
            model,
            temperature,
            max_new_tokens,
            batch_size,
            seed,
            device,
            dtype,
            chat_template_kwargs,
            prompt_format,
        )
    if backend == "vllm":
        return VLLMPolicy(
            model,
            temperature,
            max_new_tokens,
            seed,
            dtype,
            chat_template_kwargs,
            prompt_format,
            tensor_parallel_size=tensor_parallel_size,
            data_parallel_size=data_parallel_size,
        )
    raise PolicyError(f"unknown backend {backend!r}: vllm, transformers, oracle or frozen")
