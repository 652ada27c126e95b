"""`datagen card`, `datagen push`, `datagen pull` through the real command line.

The error paths run the installed `datagen` in a subprocess with no network (offline mode, no
token, or an unreachable HF_ENDPOINT): exit status 1, one `Error:` line, no traceback, nothing
changed. The happy paths run in-process with click's CliRunner, where `huggingface_hub.HfApi`
is replaced by tests/test_hub.py's FakeHub (only the network calls are fake).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_cards import make_build
from test_hub import FakeHub

from datagen.cli import main

UNREACHABLE = "http://127.0.0.1:9"  # the discard port: connection refused at once


def _datagen(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"}
    }
    # An empty HF home: no saved login token, no cache; never the real Hub.
    clean.update(HF_HOME=str(tmp_path / "hf-home"), HF_ENDPOINT=UNREACHABLE, **env)
    script = Path(sys.executable).parent / "datagen"
    entry = "from datagen.cli import main; main(prog_name='datagen')"
    command = [str(script)] if script.exists() else [sys.executable, "-c", entry]
    return subprocess.run(
        command + args, capture_output=True, text=True, env=clean, timeout=120, check=False
    )


def _assert_one_line_error(done: subprocess.CompletedProcess, *needles: str) -> None:
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.mark.parametrize(
    ("env", "needles"),
    [
        ({"HF_HUB_OFFLINE": "1", "HF_TOKEN": "hf_test"}, ("offline", "unset HF_HUB_OFFLINE")),
        ({}, ("no Hugging Face token", "HF_TOKEN", "hf auth login")),
        ({"HF_TOKEN": "hf_test"}, ("cannot reach the Hub", "check your network")),
    ],
    ids=["offline", "no-token", "no-network"],
)
def test_push_without_hub_access_fails_in_one_line(
    tmp_path: Path, env: dict[str, str], needles: tuple[str, ...]
) -> None:
    task_dir = make_build(tmp_path / "out")
    before = _snapshot(task_dir)
    done = _datagen(["push", str(task_dir), "--repo", "me/sokoban"], tmp_path, **env)
    _assert_one_line_error(done, *needles)
    assert _snapshot(task_dir) == before  # no release recorded for a push that did not happen


@pytest.mark.parametrize(
    ("env", "needles"),
    [
        ({"HF_HUB_OFFLINE": "1"}, ("offline", "unset HF_HUB_OFFLINE")),
        ({}, ("unreachable", "check your network")),
    ],
    ids=["offline", "no-network"],
)
def test_pull_without_hub_access_fails_in_one_line(
    tmp_path: Path, env: dict[str, str], needles: tuple[str, ...]
) -> None:
    out = tmp_path / "pulled"
    done = _datagen(["pull", "me/sokoban@v0.1.0", "--out", str(out)], tmp_path, **env)
    _assert_one_line_error(done, *needles)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if ".pull-" in p.name] == []


def test_bad_repo_id_and_missing_build_fail_in_one_line(tmp_path: Path) -> None:
    task_dir = make_build(tmp_path / "out")
    done = _datagen(["push", str(task_dir), "--repo", "nope"], tmp_path, HF_TOKEN="hf_test")
    _assert_one_line_error(done, "not a Hub dataset id")
    done = _datagen(["card", str(tmp_path)], tmp_path)
    _assert_one_line_error(done, "no build.json")


@pytest.fixture()
def fake_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeHub:
    import huggingface_hub

    fake = FakeHub(tmp_path / "hub")
    monkeypatch.setattr(huggingface_hub, "HfApi", lambda token=None: fake)
    monkeypatch.setenv("HF_TOKEN", "hf_test")
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    return fake


def test_push_then_pull_through_the_cli(fake_hub: FakeHub, tmp_path: Path) -> None:
    runner = CliRunner()
    task_dir = make_build(tmp_path / "out")
    pushed = runner.invoke(main, ["push", str(tmp_path / "out"), "--repo", "me/sokoban"])
    assert pushed.exit_code == 0, pushed.output
    record = json.loads(pushed.stdout.strip().splitlines()[-1])
    build = json.loads((task_dir / "build.json").read_text())
    assert record["changed"] is True and record["tag"] == "v0.1.0"
    assert record["fingerprint"] == build["fingerprint"]

    again = runner.invoke(main, ["push", str(task_dir), "--repo", "me/sokoban"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout.strip().splitlines()[-1])["changed"] is False

    other = make_build(tmp_path / "other", seed=7)
    refused = runner.invoke(main, ["push", str(other), "--repo", "me/sokoban"])
    assert refused.exit_code == 1
    assert "Error: " in refused.output and "--version 0.1.1" in refused.output
    assert "Traceback" not in refused.output
    bumped = runner.invoke(main, ["push", str(other), "--repo", "me/sokoban", "--version", "0.1.1"])
    assert bumped.exit_code == 0, bumped.output
    assert set(fake_hub.repos["me/sokoban"]["tags"]) == {"v0.1.0", "v0.1.1"}

    out = tmp_path / "pulled"
    pulled = runner.invoke(main, ["pull", "me/sokoban", "--revision", "v0.1.0", "--out", str(out)])
    assert pulled.exit_code == 0, pulled.output
    record = json.loads(pulled.stdout.strip().splitlines()[-1])
    assert record == {
        "repo_id": "me/sokoban",
        "revision": "v0.1.0",
        "path": str(out),
        "task": "sokoban",
        "dataset_version": build["dataset_version"],
        "fingerprint": build["fingerprint"],
    }
    assert (out / "data" / "eval" / "fake_cardinal-00000-of-00001.parquet").is_file()
    # the pulled folder works like a local build for `datagen show` and the trainer's loader
    shown = runner.invoke(main, ["show", str(out), "--config", "eval", "--split", "fake_cardinal"])
    assert shown.exit_code == 0, shown.output
    assert "sokoban-fake_cardinal-0000" in shown.output
    from datagen.finetune import resolve_task_dir

    assert resolve_task_dir(str(out)) == out


def test_card_command_rerenders_every_task(tmp_path: Path) -> None:
    task_dir = make_build(tmp_path / "out")
    result = CliRunner().invoke(main, ["card", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(task_dir / "README.md")
    assert (task_dir / "README.md").read_text().startswith("---\nlicense: apache-2.0\n")
