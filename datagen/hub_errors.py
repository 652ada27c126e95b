"""The Hub's failures as one-line `HubError`s, and the few settings every Hub call reads.

    with hub_errors("push to", "me/points-sft"):
        api.create_repo(...)          # RepositoryNotFoundError -> HubError("cannot push to ...")

`HubError` is a `click.ClickException`: inside a command it prints `Error: ...` and exits 1.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import click

LOGIN_HINT = "set HF_TOKEN or run `hf auth login`"


class HubError(click.ClickException):
    """A failure the user can act on; the message is one line that says what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


def offline() -> bool:
    # huggingface_hub reads HF_HUB_OFFLINE once at import; look at the environment too so that a
    # setting made after import (tests, notebooks) is honoured.
    from huggingface_hub import constants

    value = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return value.strip().upper() in {"1", "ON", "YES", "TRUE"} or constants.is_offline_mode()


def endpoint() -> str:
    from huggingface_hub import constants

    return constants.ENDPOINT.rstrip("/")


def short(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= 200 else text[:199] + "…"


@contextlib.contextmanager
def hub_errors(action: str, repo_id: str, revision: str | None = None) -> Iterator[None]:
    """Turn huggingface_hub and network errors into one-line HubErrors that say what to do."""
    from huggingface_hub.errors import (
        HfHubHTTPError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        import httpx2 as httpx  # what huggingface_hub 2.x speaks
    except ImportError:  # pragma: no cover - huggingface_hub 1.x
        import httpx

    where = f"{repo_id}@{revision}" if revision else repo_id
    try:
        yield
    except HubError:
        raise
    except OfflineModeIsEnabled:
        raise HubError(
            f"cannot {action} {where}: offline mode is on; unset HF_HUB_OFFLINE"
        ) from None
    except RevisionNotFoundError:
        raise HubError(
            f"{repo_id} has no revision {revision!r}: see its tags at "
            f"{endpoint()}/datasets/{repo_id}/tree/main"
        ) from None
    except RepositoryNotFoundError:
        raise HubError(
            f"cannot {action} {where}: no such dataset repo, or it is private and your token "
            f"cannot see it ({LOGIN_HINT})"
        ) from None
    except LocalEntryNotFoundError:
        # Raised by downloads that could not reach the Hub and found nothing in the cache.
        raise HubError(
            f"cannot {action} {where}: the Hub is unreachable and nothing is cached; check your "
            "network (or HF_ENDPOINT) and run again"
        ) from None
    except HfHubHTTPError as error:
        status = getattr(getattr(error, "response", None), "status_code", None)
        if status in (401, 403):
            raise HubError(
                f"the Hub refused to {action} {where} (HTTP {status}): use a token with write "
                f"access to it ({LOGIN_HINT})"
            ) from None
        raise HubError(
            f"the Hub answered HTTP {status} when asked to {action} {where}: {short(error)}"
        ) from None
    except httpx.TransportError as error:
        raise HubError(
            f"cannot reach the Hub at {endpoint()} to {action} {where} ({short(error)}): check "
            "your network (or HF_ENDPOINT) and run again"
        ) from None


def hub_api(api: Any, token: str | None) -> Any:
    if api is not None:
        return api
    from huggingface_hub import HfApi

    return HfApi(token=token)


def require_token(token: str | None) -> str:
    from huggingface_hub import get_token

    token = token or get_token()
    if not token:
        raise HubError(f"no Hugging Face token to push with: {LOGIN_HINT}")
    return token
