"""Which server of a fleet gets the next request (`--base-url` given several times).

    fleet = Fleet(["http://gpu1:8000/v1", "http://gpu2:8000/v1"])
    server = fleet.pick()          # None while every server is out: wait fleet.wait_seconds()
    fleet.begin(server); ...; fleet.succeed(server)  # or fleet.fail(server, sent_at)

A request goes to the server with the fewest requests in flight (ties: the one that got the
fewest so far, then the first given), as open-r1 spreads its generation over `vllm serve`
instances. A server that fails (connection refused, 5xx, 429, timeout) is out for a while: 0.5 s
after its first failure, doubled per consecutive failure up to 30 s, and back at once after a
success. Failures of requests sent before it was taken out are part of the same outage and do
not lengthen it (32 requests in flight to a server that dies count once). Routing never changes
a sample: the request is the same on every server (model, messages, sampling, the sample's own
seed), so which server drew it does not matter as long as the fleet serves one model with one
software stack. Pure bookkeeping on one event loop: no I/O, no threads.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from teachers.base import redact_url


@dataclass
class Server:
    url: str  # as given, credentials included: never shown
    index: int
    in_flight: int = 0
    sent: int = 0
    succeeded: int = 0
    failed: int = 0
    outages: int = 0
    strikes: int = 0  # consecutive failures: how long the next outage lasts
    down_until: float = 0.0
    marked_at: float = -1.0  # when it was last taken out
    last_error: str = ""

    @property
    def shown(self) -> str:
        return redact_url(self.url)

    def stats(self) -> dict:
        return {
            "url": self.shown,
            "requests": self.sent,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "outages": self.outages,
        }


class Fleet:
    def __init__(
        self,
        urls: list[str] | tuple[str, ...],
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        if not urls:
            raise ValueError("a fleet needs at least one server")
        self.servers = [Server(url, i) for i, url in enumerate(urls)]
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.clock = clock

    def __len__(self) -> int:
        return len(self.servers)

    def up(self) -> list[Server]:
        now = self.clock()
        return [s for s in self.servers if s.down_until <= now]

    def pick(self) -> Server | None:
        """The server for the next request, or None while every one is out."""
        up = self.up()
        if not up:
            return None
        return min(up, key=lambda s: (s.in_flight, s.sent, s.index))

    def wait_seconds(self) -> float:
        """How long until the first server that is out comes back (0 if one is up)."""
        return max(0.0, min(s.down_until for s in self.servers) - self.clock())

    def begin(self, server: Server) -> float:
        """Count a request sent to `server`; returns its send time (for `fail`)."""
        server.in_flight += 1
        server.sent += 1
        return self.clock()

    def succeed(self, server: Server) -> None:
        server.in_flight -= 1
        server.succeeded += 1
        server.strikes = 0
        server.down_until = 0.0

    def release(self, server: Server) -> None:
        """A request that ended neither way (a refused field, to be sent again, or cancelled)."""
        server.in_flight -= 1

    def fail(self, server: Server, sent_at: float, error: str) -> None:
        """Take `server` out after a failure of a request sent at `sent_at`."""
        server.in_flight -= 1
        server.failed += 1
        server.last_error = error
        if server.marked_at >= sent_at:
            return  # sent before this outage began: the same outage
        now = self.clock()
        server.strikes += 1
        server.outages += 1
        server.marked_at = now
        delay = min(self.backoff_cap, self.backoff_base * 2 ** (server.strikes - 1))
        server.down_until = now + delay

    def describe_failures(self) -> str:
        """`url: last error` of each server that failed, for a one-line message."""
        return "; ".join(f"{s.shown}: {s.last_error}" for s in self.servers if s.last_error)

    def stats(self) -> list[dict]:
        return [s.stats() for s in self.servers]
