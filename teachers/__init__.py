"""Teachers: the sources of chain-of-thought traces and the rejection sampler that verifies them.

    from teachers import make_teacher, TeacherConfig, SamplingConfig, rejection_sample
    teacher = make_teacher(TeacherConfig(backend="search"))          # or "vllm", "openai"
    result = rejection_sample(rows, task, teacher, SamplingConfig(), cache_dir=work / "cot")

Backends: `vllm` (in-process vllm.LLM), `openai` (any OpenAI-compatible server, e.g.
`vllm serve Qwen/Qwen3-8B --reasoning-parser qwen3`), `search` (traces written from the exact
solvers' search; no GPU). Heavy libraries are imported only by the backend that needs them.
Each backend joins the registry with `@register_backend(name)` (teachers.base); `backends()`
lists them. The openai teacher takes several `base_url`s: a fleet of servers (teachers.fleet).
"""

from teachers.base import (
    DEFAULT_MODEL,
    Sample,
    SampleRequest,
    SamplingConfig,
    Teacher,
    TeacherConfig,
    TeacherError,
    backends,
    check_backend,
    make_teacher,
    redact_url,
    register_backend,
    sample_seed,
    split_thinking,
)
from teachers.rejection import RejectionResult, SampleCache, rejection_sample, write_jsonl

__all__ = [
    "DEFAULT_MODEL",
    "RejectionResult",
    "Sample",
    "SampleCache",
    "SampleRequest",
    "SamplingConfig",
    "Teacher",
    "TeacherConfig",
    "TeacherError",
    "backends",
    "check_backend",
    "make_teacher",
    "redact_url",
    "register_backend",
    "rejection_sample",
    "sample_seed",
    "split_thinking",
    "write_jsonl",
]
