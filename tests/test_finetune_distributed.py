"""The trainer under real `torchrun` processes (gloo, FSDP2) against one process: same losses,
resume across world sizes, a loadable final folder; and the distributed bad-input errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from datagen.finetune import FinetuneError, pack, split_step  # noqa: E402
from datagen.finetune_dist import setup  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny() -> str:
    from datagen.tiny_model import tiny_model_path

    return str(tiny_model_path())


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from datagen.build import BuildConfig, build

    out = tmp_path_factory.mktemp("ftd") / "build"
    build([BuildConfig(task="sokoban", train_size=24, eval_size=1, workers=1)], out)
    return out


def finetune(
    tiny: str, data: Path, out: Path, *extra: str, nproc: int = 1, env: dict | None = None
) -> subprocess.CompletedProcess:
    """`datagen finetune` as a real process, or under `torchrun --standalone` (a free port)."""
    args = ["finetune", "--model", tiny, "--data", str(data), "--out", str(out)]
    args += ["--epochs", "2", "--global-batch", "8", "--lr", "3e-3", "--max-len", "512"]
    args += ["--no-progress", *extra]
    launcher = [sys.executable, "-m", "datagen.cli"]
    if nproc > 1:
        launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
        launcher += ["--nproc-per-node", str(nproc), "-m", "datagen.cli"]
    return subprocess.run(
        [*launcher, *args],
        env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
        cwd=out.parent,
    )


def losses(out: Path) -> list[float]:
    return [json.loads(line)["loss"] for line in (out / "train_log.jsonl").read_text().splitlines()]


def test_split_step_gives_each_rank_an_even_share_packed():
    rows = [([1] * n, [0] * (n - 1) + [1]) for n in (9, 3, 7, 5, 2, 8, 4, 6)]
    assert split_step(rows, 1, 10) == [
        [[rows[i] for i in b] for b in pack([9, 3, 7, 5, 2, 8, 4, 6], 10)]
    ]
    shares = split_step(rows, 2, 10)
    assert len(shares) == 2
    flat = [sorted(len(r[0]) for seq in share for r in seq) for share in shares]
    assert flat == [sorted([9, 7, 2, 4]), sorted([3, 5, 8, 6])]  # rows r, r+N, ...
    assert all(sum(len(r[0]) for r in seq) <= 10 for share in shares for seq in share)
    # The last, short step of an epoch: a rank may get no row at all (it runs a weight-0 pass).
    assert split_step(rows[:1], 2, 10)[1] == []


def test_only_rank_zero_reads_the_weights(tiny, monkeypatch):
    # Under torchrun the other ranks build the model on the meta device and get their shards
    # from rank 0 (the two-rank test below checks the numbers): they never load the weights.
    import transformers

    from datagen import finetune_dist, finetune_model
    from datagen.finetune import FinetuneConfig
    from datagen.finetune_dist import Dist

    def no_weights(*args, **kwargs):
        raise AssertionError("rank 1 read the weights")

    handed: list = []
    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", no_weights)
    monkeypatch.setattr(finetune_dist, "shard", lambda net, *args: net)
    monkeypatch.setattr(finetune_dist, "load_from_rank0", lambda *args: handed.append(args))
    cfg = FinetuneConfig(model=tiny, data="unused", out="unused")
    rank1 = Dist(rank=1, world_size=2, local_rank=1, backend="gloo", sharded=True)
    net, _ = finetune_model.load_model(cfg, rank1, None)
    assert {p.device.type for p in net.parameters()} == {"meta"}
    assert handed and handed[0][1] is None  # rank 1 hands over no state dict of its own


def test_world_size_must_divide_the_global_batch(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "3")
    with pytest.raises(FinetuneError, match="world size 3 does not divide the global batch of 128"):
        setup("cpu", 128)
    monkeypatch.setenv("WORLD_SIZE", "4")
    with pytest.raises(FinetuneError, match=r"--cpu-offload .* needs a CUDA run"):
        setup("cpu", 128, cpu_offload=True)


@pytest.mark.slow
def test_cli_bad_world_size_is_one_line_before_any_work(tiny, build_dir, tmp_path):
    # torchrun's environment for rank 0 of 3: the check comes before the process group, so
    # this one process fails exactly as each rank of a real `torchrun --nproc-per-node 3` does.
    env = {"WORLD_SIZE": "3", "RANK": "0", "LOCAL_RANK": "0"}
    done = finetune(tiny, build_dir, tmp_path / "out", env=env)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "Error: world size 3 does not divide the global batch of 8 rows (each optimizer step "
        "splits its rows evenly across the ranks): run on a divisor of 8 or change --global-batch"
    ]
    assert not (tmp_path / "out").exists()


def test_cli_cuda_run_without_nccl(tiny, build_dir, tmp_path, monkeypatch):
    """No GPU here: CUDA is made to look present and NCCL absent (the only test double)."""
    from click.testing import CliRunner

    from datagen.cli.finetune import finetune as command

    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.distributed, "is_nccl_available", lambda: False)
    args = [
        "--model",
        tiny,
        "--data",
        str(build_dir),
        "--out",
        str(tmp_path / "o"),
        "--no-progress",
    ]
    result = CliRunner().invoke(command, args)
    assert result.exit_code == 1, result.output
    assert result.output.strip().startswith("Error: a CUDA run under torchrun needs NCCL")
    assert len(result.output.strip().splitlines()) == 1 and not (tmp_path / "o").exists()


@pytest.mark.slow
def test_two_ranks_match_one_process_and_resume_across_world_sizes(tiny, build_dir, tmp_path):
    """Steps 1-3 at N=2 and 4-6 at N=2 (resumed from N=1) against six steps at N=1; resumes
    N=1 -> 2 and 2 -> 1 end on the weights of the run that never stopped. (Activation
    checkpointing is not in the fingerprint: it changes memory, not the numbers.)"""
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    one, two = tmp_path / "one", tmp_path / "two"
    first = finetune(tiny, build_dir, one, "--max-steps", "3")  # epoch 1 of 2 at N=1
    assert first.returncode == 0, first.stderr
    half = tmp_path / "one-then-two"
    shutil.copytree(one, half)
    straight = finetune(tiny, build_dir, one, "--resume")  # the N=1 reference: six steps
    assert straight.returncode == 0, straight.stderr
    up = finetune(tiny, build_dir, half, "--resume", nproc=2)  # epoch 2 at N=2
    assert up.returncode == 0, up.stderr[-3000:]
    assert len(up.stdout.strip().splitlines()) == 1  # the summary from rank 0 only
    assert json.loads(up.stdout)["world_size"] == 2
    # Epoch 1 at N=2, with activation checkpointing (recomputation inside FSDP2's hooks).
    ckpt = "--gradient-checkpointing"
    down_first = finetune(tiny, build_dir, two, "--max-steps", "3", ckpt, nproc=2)
    assert down_first.returncode == 0, down_first.stderr[-3000:]
    assert down_first.stderr.count("rows from") == 1  # logs from rank 0 only
    down = finetune(tiny, build_dir, two, "--resume")  # epoch 2 at N=1
    assert down.returncode == 0, down.stderr

    reference = losses(one)
    assert len(reference) == 6
    assert losses(two)[:3] == pytest.approx(reference[:3], abs=1e-5)  # N=2 from scratch
    assert losses(half)[3:] == pytest.approx(reference[3:], abs=1e-5)  # N=2 resumed from N=1
    assert losses(two)[3:] == pytest.approx(reference[3:], abs=1e-5)  # N=1 resumed from N=2

    record = json.loads((two / "checkpoint-epoch-1" / "trainer_state.json").read_text())
    assert record["world_size"] == 2 and record["step"] == 3
    resolved = json.loads((half / "finetune.json").read_text())
    assert resolved["world_size"] == 2 and resolved["parallelism"]["kind"] == "fsdp2"
    assert resolved["parallelism"]["backend"] == "gloo"
    assert resolved["parallelism"]["rows_per_rank"] == 4

    expected = load_file(one / "model.safetensors")
    for out in (half, two):
        got = load_file(out / "model.safetensors")
        assert got.keys() == expected.keys()  # tied embeddings stored once, as by one process
        for key in expected:
            assert torch.allclose(got[key], expected[key], atol=1e-5), (out.name, key)
    model = AutoModelForCausalLM.from_pretrained(half)  # the gathered folder loads as is
    assert model.config.architectures == ["Qwen3ForCausalLM"]
    assert AutoModelForCausalLM.from_pretrained(half / "checkpoint-epoch-2") is not None
    assert not (half / "checkpoint-epoch-1" / "dcp").exists()  # optimizer: latest only
    assert (half / "checkpoint-epoch-2" / "dcp").is_dir()


@pytest.mark.slow
def test_in_loop_eval_is_refused_under_torchrun(tiny, build_dir, tmp_path):
    done = finetune(tiny, build_dir, tmp_path / "out", "--eval-every", "1", nproc=2)
    assert done.returncode != 0
    ours = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert ours == [
        "Error: --eval-every runs in one process only: under torchrun, evaluate the per-epoch "
        "checkpoints afterwards (datagen eval --checkpoints OUT)"
    ]  # one line, from rank 0 only
    assert not (tmp_path / "out" / "train_log.jsonl").exists()
