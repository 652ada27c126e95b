"""Teachers: the sources of chain-of-thought traces and the rejection sampler that verifies them.

    from teachers import make_teacher, TeacherConfig, SamplingConfig, rejection_sample
    teacher = make_teacher(TeacherConfig(backend="search"))          # or "vllm", "openai"
    result = rejection_sample(rows, task, teacher, SamplingConfig(), cache_dir=work / "cot")

Backends: `vllm` (in-process vllm.LLM), `openai` (any OpenAI-compatible server, e.g.
`vllm serve Qwen/Qwen3-8B --reasoning-parser qwen3`), `search` (traces written from the exact
solvers' search; no GPU). Heavy libraries are imported only by the backend that needs them.
"""

from teachers.base import (
    BACKENDS,
    DEFAULT_MODEL,
    Sample,
    SampleRequest,
    SamplingConfig,
    Teacher,
    TeacherConfig,
    TeacherError,
    check_backend,
    make_teacher,
    sample_seed,
    split_thinking,
)
from teachers.rejection import RejectionResult, SampleCache, rejection_sample, write_jsonl

__all__ = [
    "BACKENDS",
    "DEFAULT_MODEL",
    "RejectionResult",
    "Sample",
    "SampleCache",
    "SampleRequest",
    "SamplingConfig",
    "Teacher",
    "TeacherConfig",
    "TeacherError",
    "check_backend",
    "make_teacher",
    "rejection_sample",
    "sample_seed",
    "split_thinking",
    "write_jsonl",
]
