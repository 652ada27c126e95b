"""Tests of teachers.base: configs, seeds, the Sample format, make_teacher."""

from __future__ import annotations

import subprocess
import sys

import pytest

from teachers import (
    Sample,
    SamplingConfig,
    TeacherConfig,
    make_teacher,
    sample_seed,
)


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
    assert openai.info()["base_url"] == "http://127.0.0.1:9/v1"
