"""Tests of teachers.base: configs, seeds, the Sample format, the backend registry, redaction."""

from __future__ import annotations

import subprocess
import sys

import pytest

from teachers import (
    Sample,
    SamplingConfig,
    TeacherConfig,
    backends,
    check_backend,
    make_teacher,
    redact_url,
    register_backend,
    sample_seed,
)
from teachers import base as teachers_base


def test_sample_seed_is_stable_across_processes_and_distinct():
    here = [sample_seed(0, "abc", i) for i in range(3)]
    code = "from teachers import sample_seed; print([sample_seed(0, 'abc', i) for i in range(3)])"
    there = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert str(here) == there
    assert len(set(here)) == 3 and all(0 <= s < 2**31 for s in here)
    assert sample_seed(1, "abc", 0) != here[0]


def test_completion_is_think_block_then_answer():
    sample = Sample(
        text=" <answer> Up </answer>\n", thinking="\nplan\n", finish_reason="stop", tokens=5
    )
    assert sample.completion() == "<think>\nplan\n</think>\n\n<answer> Up </answer>"


def test_sampling_defaults_are_qwen3_thinking_settings_and_validated():
    s = SamplingConfig()
    assert (s.temperature, s.top_p, s.top_k, s.enable_thinking) == (0.6, 0.95, 20, True)
    study = SamplingConfig(temperature=1.0, top_p=1.0, top_k=-1, max_tokens=4096)
    assert study.to_dict()["top_k"] == -1
    for bad in (
        {"temperature": -1},
        {"top_p": 0},
        {"top_k": -2},
        {"max_tokens": 0},
        {"min_p": 1.0},
    ):
        with pytest.raises(ValueError):
            SamplingConfig(**bad)


def test_teacher_config_defaults_and_make_teacher():
    assert TeacherConfig(backend="search").model_name == "search"
    assert TeacherConfig(backend="openai").model_name == "Qwen/Qwen3-8B"
    with pytest.raises(ValueError, match="device"):
        TeacherConfig(device="tpu")
    teacher = make_teacher(TeacherConfig(backend="search"))
    assert (teacher.backend, teacher.model) == ("search", "search")
    openai = make_teacher(TeacherConfig(backend="openai", base_url="http://127.0.0.1:9/v1/"))
    assert openai.info()["base_urls"] == ["http://127.0.0.1:9/v1"]
    fleet = TeacherConfig(backend="openai", base_url=("http://a:1/v1", "http://b:2/v1/"))
    assert fleet.base_urls == ("http://a:1/v1", "http://b:2/v1")
    assert TeacherConfig(backend="openai").base_urls == ("http://127.0.0.1:8000/v1",)
    for bad in ("localhost:8000", "ftp://h/v1", "http://h:port/v1", "http:///v1"):
        with pytest.raises(ValueError, match="base_url must be an http"):
            TeacherConfig(backend="openai", base_url=bad)
    with pytest.raises(ValueError, match="twice"):
        TeacherConfig(backend="openai", base_url=("http://a/v1", "http://a/v1/"))
    with pytest.raises(ValueError, match="data_parallel_size"):
        TeacherConfig(data_parallel_size=0)


def test_base_imports_no_backend_and_the_registry_finds_them_by_name():
    code = (
        "import sys, teachers.base as b\n"
        "before = sorted(m for m in sys.modules if m.startswith('teachers.'))\n"
        "print(before, b.backends(), 'teachers.openai_client' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    # The package's __init__ loads base and the rejection sampler (and its cache); no backend
    # until one is asked for.
    assert out == (
        "['teachers.base', 'teachers.cache', 'teachers.rejection'] ('openai', 'search', 'vllm') True"
    )
    assert backends() == ("openai", "search", "vllm")


def test_a_new_backend_joins_by_decorator_alone(monkeypatch):
    monkeypatch.setattr(teachers_base, "_REGISTRY", dict(teachers_base._REGISTRY))
    checked = []

    @register_backend("echo")
    class EchoTeacher:
        backend = "echo"

        @staticmethod
        def check(config):
            checked.append(config.backend)

        def __init__(self, config):
            self.model = config.model_name

    assert "echo" in backends()
    config = TeacherConfig(backend="echo", model="m")
    check_backend(config)
    assert checked == ["echo"]
    teacher = make_teacher(config)
    assert isinstance(teacher, EchoTeacher) and teacher.model == "m"
    register_backend("echo")(EchoTeacher)  # the same class again: harmless
    with pytest.raises(ValueError, match="registered twice"):
        register_backend("echo")(type("Other", (), {}))
    with pytest.raises(ValueError, match="choose from echo, openai, search, vllm"):
        TeacherConfig(backend="ollama")


def test_urls_lose_their_credentials_when_shown():
    assert redact_url("http://user:secret@host:8000/v1") == "http://***@host:8000/v1"
    assert redact_url("https://token@host/v1") == "https://***@host/v1"
    assert redact_url("http://host/v1?api-key=secret") == "http://host/v1?***"
    assert redact_url("http://host:8000/v1") == "http://host:8000/v1"
    assert "secret" not in redact_url("http://u:secret@[::1/v1")  # unparsable: nothing shown
    config = TeacherConfig(
        backend="openai", base_url=("http://u:secret@a/v1", "http://b/v1"), api_key="sk-key"
    )
    shown = str(config.to_dict())
    assert "secret" not in shown and "sk-key" not in shown and "http://b/v1" in shown
    assert config.base_urls[0] == "http://u:secret@a/v1"  # the client still gets them


def test_sample_from_dict_refuses_anything_but_a_sample():
    good = Sample("a", "b", "stop", 3, 1)
    assert Sample.from_dict(good.to_dict()) == good
    for bad in (
        [],
        {"text": "a"},
        {**good.to_dict(), "tokens": "3"},
        {**good.to_dict(), "tokens": True},
        {**good.to_dict(), "finish_reason": "abort"},
        {**good.to_dict(), "text": None},
        {**good.to_dict(), "extra": 1},
    ):
        with pytest.raises(ValueError):
            Sample.from_dict(bad)
