"""Tests of teachers.fleet and the openai teacher over several servers: two real `transformers
serve` instances with the tiny model, one of them stopped in the middle of a build; a server that
answers 500 to everything (the fault proxy of test_teachers_openai); a fleet that is all down;
and the routing rules on their own, with a clock the test moves."""

from __future__ import annotations

import threading
import time

import pytest
from test_teachers_openai import FaultProxy, _requests, _teacher, server  # noqa: F401

from datagen.local_server import free_port, serve
from datagen.tasks import get_task
from teachers import SamplingConfig, TeacherError, rejection_sample
from teachers.fleet import Fleet
from teachers.rejection import SampleCache

# Sampling (not greedy), so that each sample depends on its seed: equal rows then show that
# the seed, not the server, decided them.
SAMPLING = SamplingConfig(max_tokens=6)


def _points_rows() -> list[dict]:
    from datagen.templates.points import make_template

    task = get_task("points")
    template = make_template(rule="all_10", faces=(10, 10, 10))
    hands = [["2", "7", "Q", "2"], ["3", "3", "8", "8"], ["A", "5", "9", "K"], ["4", "4", "6", "J"]]
    return [task.make_row("train", cards, 24, template, seed=0) for cards in hands]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_routing_fewest_in_flight_then_fewest_sent_then_order():
    fleet = Fleet(["http://a/v1", "http://b/v1", "http://c/v1"], clock=Clock())
    picked = []
    for _ in range(4):
        chosen = fleet.pick()
        fleet.begin(chosen)
        picked.append(chosen.index)
    assert picked == [0, 1, 2, 0]  # all idle: spread; then the one sent least, first given
    fleet.succeed(fleet.servers[1])
    assert fleet.pick().index == 1  # fewest in flight
    # Sequential use (one in flight at a time) alternates: every server gets its share.
    fleet = Fleet(["http://a/v1", "http://b/v1"], clock=Clock())
    order = []
    for _ in range(4):
        chosen = fleet.pick()
        fleet.begin(chosen)
        fleet.succeed(chosen)
        order.append(chosen.index)
    assert order == [0, 1, 0, 1]


def test_a_failed_server_is_out_with_backoff_and_one_outage_counts_once():
    clock = Clock()
    fleet = Fleet(["http://u:secret@a/v1", "http://b/v1"], clock=clock, backoff_base=1.0)
    a, b = fleet.servers
    sent = [fleet.begin(a) for _ in range(3)]  # three requests in flight to a
    clock.now += 0.1
    for t in sent:
        fleet.fail(a, t, "connection refused")
    assert (a.outages, a.strikes, a.failed, a.in_flight) == (1, 1, 3, 0)
    assert [s.index for s in fleet.up()] == [1] and fleet.pick() is b
    clock.now += 0.95
    assert fleet.pick() is b
    clock.now += 0.1  # 1 s after it went out: back
    sent_b = fleet.begin(b)
    assert fleet.pick() is a  # b has one in flight now
    fleet.fail(a, fleet.begin(a), "answered 503")  # fails again: out twice as long
    assert a.down_until - clock.now == pytest.approx(2.0)
    fleet.fail(b, sent_b, "timed out")
    assert fleet.pick() is None
    assert fleet.wait_seconds() == pytest.approx(1.0)  # b comes back first
    assert "secret" not in fleet.describe_failures()
    assert "http://***@a/v1: answered 503" in fleet.describe_failures()
    clock.now += 2.0
    fleet.begin(a)
    fleet.succeed(a)
    assert a.strikes == 0 and a.down_until == 0.0
    assert [s["url"] for s in fleet.stats()] == ["http://***@a/v1", "http://b/v1"]
    with pytest.raises(ValueError):
        Fleet([])


def test_all_servers_down_is_one_line_naming_each_and_the_resume():
    urls = (f"http://u:secret@127.0.0.1:{free_port()}/v1", f"http://127.0.0.1:{free_port()}/v1")
    teacher = _teacher("m", urls, max_retries=2, timeout=2)
    started = time.monotonic()
    with pytest.raises(TeacherError) as info:
        teacher.generate(_requests(3), SAMPLING)
    message = str(info.value)
    assert message.startswith("no teacher server answered after 3 tries")
    assert "connection refused" in message and "resumes" in message and "\n" not in message
    assert "127.0.0.1" in message and "secret" not in message
    assert time.monotonic() - started < 20


@pytest.mark.slow
def test_a_server_answering_500_is_taken_out_and_its_requests_go_elsewhere(server):  # noqa: F811
    with FaultProxy("http://127.0.0.1:1", lambda k: "500") as broken:
        teacher = _teacher(server.model, (broken.url, server.url), concurrency=2, max_retries=3)
        samples = teacher.generate(_requests(6), SAMPLING)
    assert len(samples) == 6
    bad, good = teacher.fleet.servers
    assert bad.failed >= 1 and bad.succeeded == 0 and bad.outages >= 1
    assert good.succeeded == 6 and teacher.counters["retries"] == bad.failed
    stats = teacher.info()["servers"]
    assert stats[1]["succeeded"] == 6 and stats[0]["failed"] == bad.failed


@pytest.mark.slow
def test_a_server_stopped_mid_build_changes_no_row(server, tmp_path):  # noqa: F811
    """Two real servers, concurrency 1 (transformers serve is deterministic one request at a
    time; with one in flight the fleet alternates between the servers): the second one is
    stopped once a few samples have arrived. The build finishes on the first, and every row,
    rejected sample and cached sample equals that of a build against the first server alone."""
    task = get_task("points")
    rows = _points_rows()
    second = serve(server.model)
    url_b = second.__enter__()
    stop = threading.Event()
    stopped = threading.Event()
    cache_dir = tmp_path / "fleet"

    def watch() -> None:
        while not stop.is_set():
            if sum(len(p.read_bytes().splitlines()) for p in cache_dir.glob("samples-*")) >= 5:
                second.__exit__(None, None, None)  # SIGTERM, then SIGKILL after 10 s
                stopped.set()
                return
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        teacher = _teacher(server.model, (server.url, url_b), concurrency=1, max_retries=3)
        fleet = rejection_sample(
            rows, task, teacher, SAMPLING, cache_dir, initial_samples=2, max_samples=4
        )
    finally:
        stop.set()
        watcher.join()
        if not stopped.is_set():
            second.__exit__(None, None, None)
    assert stopped.is_set()
    first, other = teacher.fleet.servers
    assert other.succeeded >= 2 and other.failed >= 1  # it drew samples, then went away
    assert first.succeeded + other.succeeded == fleet.stats["generated"] == 16

    alone = _teacher(server.model, server.url, concurrency=1)
    reference = rejection_sample(
        rows, task, alone, SAMPLING, tmp_path / "one", initial_samples=2, max_samples=4
    )
    assert fleet.accepted == reference.accepted
    assert fleet.rejected == reference.rejected and len(fleet.rejected) == 16
    assert len({r["text"] for r in fleet.rejected}) > 4  # the seeds matter: samples differ
    key = fleet.stats["cache_key"]
    assert key == reference.stats["cache_key"]  # no URL in the cache key
    entries = SampleCache(cache_dir / f"samples-{key}.jsonl").entries
    assert entries == SampleCache(tmp_path / "one" / f"samples-{key}.jsonl").entries
