"""Tests of teachers.openai_client against a real server: `transformers serve` with the tiny
model, behind a small fault-injecting proxy (500s, 429s, dropped connections, timeouts)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest

from datagen.local_server import free_port, serve
from datagen.tiny_model import tiny_model_path
from teachers import (
    SampleRequest,
    SamplingConfig,
    TeacherConfig,
    TeacherError,
    make_teacher,
    rejection_sample,
    sample_seed,
    split_thinking,
)
from teachers.openai_response import to_sample

ROOT = Path(__file__).resolve().parents[1]

SAMPLING = SamplingConfig(max_tokens=4)


class FaultProxy:
    """Forwards POSTs to `upstream`; request k (0-based) gets `plan(k)`: "ok", "500", "429",
    "404", "drop" (close without answer), "slow" (answer after `slow_seconds`), "401" (a
    hostile server that echoes the Authorization header it got in its error body), "html" and
    "json" (a 200 that is no chat completion)."""

    def __init__(self, upstream: str, plan, slow_seconds: float = 3.0):
        self.upstream = upstream.rstrip("/")
        self.plan = plan
        self.slow_seconds = slow_seconds
        self.count = 0
        self.faults = 0
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep pytest output clean
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with proxy.lock:
                    k = proxy.count
                    proxy.count += 1
                action = proxy.plan(k)
                if action != "ok":
                    with proxy.lock:
                        proxy.faults += 1
                if action == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                if action in ("500", "429", "404"):
                    return self._send(int(action), b'{"error": "injected"}')
                if action == "html":  # a captive portal or misrouted proxy: 200, not JSON
                    return self._send(200, b"<html>login</html>", "text/html")
                if action == "json":  # 200 with JSON that is no chat completion
                    return self._send(200, b'{"choices": [{"message": 3}]}')
                if action == "401":
                    got = self.headers.get("Authorization", "")
                    return self._send(401, json.dumps({"error": f"bad key {got}"}).encode())
                if action == "slow":
                    time.sleep(proxy.slow_seconds)
                req = urllib.request.Request(
                    proxy.upstream + self.path,
                    data=body,
                    headers={"Content-Type": "application/json"},
                )
                try:
                    with urllib.request.urlopen(req, timeout=120) as resp:
                        self._send(resp.status, resp.read())
                except urllib.error.HTTPError as err:
                    self._send(err.code, err.read())

            def _send(self, status: int, payload: bytes, kind: str = "application/json"):
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def server():
    model = tiny_model_path()
    with serve(model) as base_url:
        yield SimpleNamespace(model=str(model), url=base_url)


def _teacher(model: str, url: str, **kwargs):
    config = TeacherConfig(backend="openai", model=model, base_url=url, **kwargs)
    teacher = make_teacher(config)
    teacher.backoff_base = 0.02  # keep the test fast; the schedule is what is tested
    return teacher


def _requests(n: int, prompt_id: str = "p") -> list[SampleRequest]:
    messages = [{"role": "user", "content": "Decide the next action:"}]
    return [SampleRequest(prompt_id, i, messages, sample_seed(0, prompt_id, i)) for i in range(n)]


@pytest.mark.slow
def test_retries_through_faults_and_loses_nothing(server):
    faults = ["500", "429", "drop", "slow", "500"]
    plan = lambda k: faults[k] if k < len(faults) else "ok"  # noqa: E731
    with FaultProxy(server.url.removesuffix("/v1"), plan, slow_seconds=2) as proxy:
        teacher = _teacher(server.model, proxy.url, concurrency=3, max_retries=6, timeout=1)
        seen = []
        samples = teacher.generate(
            _requests(5), SAMPLING, on_sample=lambda i, s: seen.append((i, s))
        )
    assert len(samples) == 5 and sorted(i for i, _ in seen) == list(range(5))
    assert all(s.tokens <= 4 and s.finish_reason in ("length", "stop") for s in samples)
    assert teacher.counters["retries"] >= 5
    assert teacher.counters["max_in_flight"] <= 3
    # transformers serve refuses top_k by name: the client drops it and says so.
    assert teacher.info()["ignored_by_server"] == ["top_k"]


@pytest.mark.slow
def test_gives_up_after_max_retries_and_the_cache_keeps_what_arrived(server, tmp_path):
    from datagen.tasks import get_task

    task = get_task("points")
    from datagen.templates.points import make_template

    template = make_template(rule="all_10", faces=(10, 10, 10))
    rows = [task.make_row("train", c, 24, template, seed=0) for c in (["2", "7", "Q", "2"],)]
    healthy = lambda k: "ok"  # noqa: E731
    broken = lambda k: "ok" if k < 4 else "500"  # noqa: E731  (first try + top_k retry = 2 each)
    with FaultProxy(server.url.removesuffix("/v1"), broken) as proxy:
        teacher = _teacher(server.model, proxy.url, concurrency=1, max_retries=2)
        with pytest.raises(TeacherError, match="failed after 3 tries"):
            rejection_sample(rows, task, teacher, SAMPLING, tmp_path, initial_samples=4)
    lines = next(tmp_path.glob("samples-*.jsonl")).read_text().splitlines()
    assert len(lines) >= 2
    with FaultProxy(server.url.removesuffix("/v1"), healthy) as proxy:
        teacher = _teacher(server.model, proxy.url, concurrency=2)
        result = rejection_sample(
            rows, task, teacher, SAMPLING, tmp_path, initial_samples=4, max_samples=4
        )
    assert result.stats["reused"] == len(lines)
    assert result.stats["generated"] == 4 - len(lines)
    # A random tiny model never finishes a formula in 4 tokens: every sample is rejected.
    assert result.accepted == []
    assert {r["reason"] for r in result.rejected} <= {"truncated", "empty_thinking", "no_answer"}
    assert result.stats["teacher"]["backend"] == "openai"


@pytest.mark.slow
def test_same_seed_same_sample_when_sequential(server):
    teacher = _teacher(server.model, server.url, concurrency=1)
    first = teacher.generate(_requests(2), SAMPLING)
    again = teacher.generate(_requests(2), SAMPLING)
    assert first == again


@pytest.mark.slow
def test_a_model_the_server_does_not_serve_is_named_with_what_it_serves(server):
    teacher = _teacher("nope/model", server.url, max_retries=3)
    with pytest.raises(TeacherError) as info:
        teacher.generate(_requests(2), SAMPLING)
    message = str(info.value)
    assert "does not serve model 'nope/model'" in message and "--model" in message
    assert repr(server.model) in message and "\n" not in message
    assert teacher.counters["retries"] == 0


def test_an_answer_that_is_no_chat_completion_is_one_line():
    for action in ("html", "json"):
        with FaultProxy("http://127.0.0.1:1", lambda k, a=action: a) as proxy:
            teacher = _teacher("m", proxy.url, max_retries=1)
            with pytest.raises(TeacherError) as info:
                teacher.generate(_requests(2), SAMPLING)
        assert "\n" not in str(info.value) and proxy.url in str(info.value)


def test_unreachable_server_fails_with_a_one_line_error():
    teacher = _teacher("m", f"http://127.0.0.1:{free_port()}/v1", max_retries=1, timeout=2)
    with pytest.raises(TeacherError, match="failed after 2 tries") as info:
        teacher.generate(_requests(1), SAMPLING)
    assert "\n" not in str(info.value)


def test_client_error_is_not_retried():
    with FaultProxy("http://127.0.0.1:1", lambda k: "404") as proxy:
        teacher = _teacher("m", proxy.url, max_retries=3)
        with pytest.raises(TeacherError, match="answered 404"):
            teacher.generate(_requests(2), SAMPLING)
    assert teacher.counters["retries"] == 0
    assert proxy.count <= 2


def test_split_thinking_reads_every_server_style():
    assert split_thinking("<think>\nplan\n</think>\n\nUp") == ("plan", "Up")
    assert split_thinking("plan</think>Up") == ("plan", "Up")  # template pre-filled <think>
    assert split_thinking("Up", reasoning="plan") == ("plan", "Up")
    assert split_thinking("<think>never closed") == ("", "<think>never closed")
    assert split_thinking(None) == ("", "")


def test_reasoning_fields_of_vllm_servers_are_read():
    for field in ("reasoning_content", "reasoning"):
        message = SimpleNamespace(model_dump=lambda f=field: {"content": "B", f: "think"})
        resp = SimpleNamespace(
            choices=[SimpleNamespace(message=message, finish_reason="stop")],
            usage=SimpleNamespace(completion_tokens=7, prompt_tokens=3),
        )
        sample = to_sample(resp)
        assert (sample.thinking, sample.text, sample.tokens) == ("think", "B", 7)


def test_config_validation_and_recorded_info():
    with pytest.raises(ValueError, match="backend"):
        TeacherConfig(backend="ollama")
    with pytest.raises(ValueError, match="concurrency"):
        TeacherConfig(backend="openai", concurrency=0)
    config = TeacherConfig(backend="openai", api_key="secret", base_url="http://h/v1")
    assert "secret" not in json.dumps(config.to_dict())
    assert config.to_dict()["model"] == "Qwen/Qwen3-8B"


# ---------------------------------------------------------------------------------------------
# Through the real CLI (`python -m datagen.cli build`, a subprocess): what a user sees.

BUILD = ["build", "--task", "points", "--train-size", "3", "--eval-size", "2", "--workers", "1"]
COT = ["--cot", "--teacher", "openai", "--max-samples", "1", "--initial-samples", "1"]


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    env.pop("OPENAI_API_KEY", None)
    return subprocess.run(
        [sys.executable, "-m", "datagen.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def _one_line_error(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: ")
    return last


def test_cli_connection_refused_is_one_line_and_keeps_the_work(tmp_path):
    url = f"http://user:secret@127.0.0.1:{free_port()}/v1"
    out = tmp_path / "out"
    proc = _cli(*BUILD, *COT, "--base-url", url, "--max-retries", "1", "--out", str(out))
    line = _one_line_error(proc)
    assert "connection refused" in line and "--base-url" in line and "resumes" in line
    assert "secret" not in proc.stderr + proc.stdout
    assert not out.exists()
    assert (tmp_path / ".out.work" / "points" / "cot-cache" / "index.json").exists()


def test_cli_401_is_one_line_and_never_shows_the_key(tmp_path):
    with FaultProxy("http://127.0.0.1:1", lambda k: "401") as proxy:
        proc = _cli(
            *BUILD, *COT, "--base-url", proxy.url, "--api-key", "sk-topsecret",
            "--out", str(tmp_path / "out"),
        )  # fmt: skip
    line = _one_line_error(proc)
    assert "refused the API key (401)" in line and "--api-key" in line
    assert "sk-topsecret" not in proc.stderr + proc.stdout
    assert proc.stderr.count("Error:") == 1 and proxy.count <= 3  # 3 samples, none retried


@pytest.mark.slow
def test_cli_build_with_no_accepted_trace_fails_and_names_the_rejected_file(server, tmp_path):
    proc = _cli(
        *BUILD, *COT, "--base-url", server.url, "--model", server.model, "--max-tokens", "4",
        "--out", str(tmp_path / "out"),
    )  # fmt: skip
    line = _one_line_error(proc)
    assert "no accepted trace in 3 samples" in line
    path = Path(line.rsplit(" ", 1)[-1])
    assert path.name == "rejected.jsonl" and len(path.read_text().splitlines()) == 3
    assert not (tmp_path / "out").exists()


class OracleServer:
    """An OpenAI-compatible server whose "model" answers every prompt it was told about
    correctly: a test double for a teacher that solves the puzzles, which no model that runs
    here does. It records the Authorization headers it got."""

    def __init__(self, answers: dict[str, str]):
        oracle = self
        self.auth: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                oracle.auth.append(self.headers.get("Authorization", ""))
                key = json.dumps(body["messages"], sort_keys=True)
                text = f"<think>\nI know this one.\n</think>\n\n{answers.get(key, 'no idea')}"
                payload = json.dumps(
                    {
                        "id": "x",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body["model"],
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": text},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 9, "total_tokens": 10},
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.slow  # three builds
def test_cli_build_records_no_credential_and_the_url_does_not_change_the_data(tmp_path):
    import pyarrow.parquet as pq

    from datagen.tasks import get_task

    task = get_task("points")
    plain = _cli(*BUILD, "--out", str(tmp_path / "plain"))
    assert plain.returncode == 0, plain.stderr
    rl = pq.read_table(next((tmp_path / "plain" / "points" / "data" / "rl").glob("*.parquet")))
    answers = {
        json.dumps(row["prompt"], sort_keys=True): task.render_answer(row) for row in rl.to_pylist()
    }
    outs = {}
    with OracleServer(answers) as oracle:
        urls = {
            "creds": f"http://user:pw-zq81@127.0.0.1:{oracle.port}/v1",
            "plain": f"http://127.0.0.1:{oracle.port}/v1/",
        }
        for name, url in urls.items():
            out = tmp_path / name / "out"
            proc = _cli(
                *BUILD, *COT, "--base-url", url, "--model", "oracle", "--api-key",
                "sk-topsecret", "--out", str(out),
            )  # fmt: skip
            assert proc.returncode == 0, proc.stderr
            assert "pw-zq81" not in proc.stderr + proc.stdout
            outs[name] = out / "points"
    creds = outs["creds"]
    info = json.loads((creds / "build.json").read_text())
    assert info["configs"]["cot"]["train"] == 3  # every trace accepted
    for name in ("build.json", "README.md", "run.json"):
        text = (creds / name).read_text()
        assert "pw-zq81" not in text and "sk-topsecret" not in text, name
    run = json.loads((creds / "run.json").read_text())
    assert run["teacher"]["teacher"]["base_urls"] == [f"http://***@127.0.0.1:{oracle.port}/v1"]
    assert run["teacher"]["teacher"]["servers"][0]["succeeded"] == 3
    # Where the server is (and how to log in) is no part of the data: same bytes, fingerprint.
    for name in ("build.json", "README.md", "data/cot/train-00000-of-00001.parquet"):
        assert (creds / name).read_bytes() == (outs["plain"] / name).read_bytes(), name
    assert "base_url" not in json.dumps(info["options"])
