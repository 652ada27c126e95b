"""Reading an OpenAI-compatible server's answers, which are hostile text like any model output.

`to_sample` turns a chat completion into a `Sample` (thinking from `reasoning_content`,
`reasoning` or an inline `<think>` block) or raises `EmptyResponse` (retried like a 5xx) or
`BadResponse` (a 200 that is no chat completion: not retried); the other helpers turn a failed
request into the short reason or the refused field names that the client (teachers.openai_client)
acts on. Nothing here evaluates or trusts the text; every search is linear in it.
"""

from __future__ import annotations

import re
from typing import Any

from teachers.base import Sample, split_thinking


async def served_models(client) -> list[str] | None:
    """The model ids the server lists at /models, or None if it does not answer that."""
    try:
        page = await client.models.list()
        return [str(m.id) for m in page.data][:100]
    except Exception:  # any failure here only means no list to show
        return None


def failure_reason(exc: Exception) -> str:
    if isinstance(exc, EmptyResponse):
        return "empty response"
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return "timed out"
    seen: Exception | None = exc
    for _ in range(10):  # the chain: openai -> httpx -> httpcore -> OSError -> the cause
        if seen is None:
            break
        if isinstance(seen, ConnectionRefusedError) or "refused" in str(seen).lower():
            return "connection refused"
        if isinstance(seen, ConnectionResetError):
            return "connection reset"
        seen = seen.__cause__ or seen.__context__
    return "connection failed"


class EmptyResponse(RuntimeError):
    """A 200 without a choice (seen from overloaded proxies): retried like a 5xx."""


class BadResponse(RuntimeError):
    """A 200 that is no chat completion (a login page, another API): not retried."""


def to_sample(resp) -> Sample:
    if isinstance(resp, (str, bytes)):
        raise BadResponse("not JSON")
    if not getattr(resp, "choices", None):
        raise EmptyResponse("response without choices")
    try:
        choice = resp.choices[0]
        message = choice.message
        fields = message.model_dump() if hasattr(message, "model_dump") else dict(message)
        content = fields.get("content")
        reasoning = fields.get("reasoning_content") or fields.get("reasoning")
        if not isinstance(content, (str, type(None))) or not isinstance(
            reasoning, (str, type(None))
        ):
            raise TypeError("content is not text")
        thinking, text = split_thinking(content, reasoning)
        usage = getattr(resp, "usage", None)
        finish = choice.finish_reason or "stop"
        tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
    except (AttributeError, TypeError, ValueError, KeyError, IndexError) as error:
        raise BadResponse(f"no chat completion: {error}"[:200]) from error
    return Sample(
        text=text,
        thinking=thinking,
        finish_reason="length" if finish == "length" else "stop",
        tokens=max(0, tokens),
        prompt_tokens=max(0, prompt_tokens),
    )


def refused_fields(exc, extra: dict[str, Any]) -> set[str]:
    """The extra fields a 400/422 names (e.g. "Unexpected fields in the request: {'top_k'}")."""
    text = short_error(exc, 2000)
    return {name for name in extra if re.search(rf"\b{re.escape(name)}\b", text)}


def short_error(exc: Exception, limit: int = 300) -> str:
    body = getattr(exc, "body", None)
    text = str(body) if body else str(exc)
    return " ".join(text.split())[:limit]
