"""The trainer's distributed setup: process group, FSDP2 sharding, DCP checkpoints, HF export.

`datagen finetune` runs as one process, or under `torchrun --nproc-per-node N [--nnodes ...]`
(`make finetune NPROC=N`). Under torchrun (`WORLD_SIZE` > 1) every rank joins a process group
(NCCL on GPUs, gloo on CPU), each decoder layer and then the whole model are wrapped with FSDP2
(`torch.distributed.fsdp.fully_shard`): parameters, gradients and optimizer state are sharded
across the ranks, bf16 parameters with fp32 gradient reductions on GPU (`MixedPrecisionPolicy`),
optionally kept on the CPU between uses (`CPUOffloadPolicy`). Only rank 0 reads the weights;
the other ranks build the model on the meta device and get their shards from it
(`load_from_rank0`).

Gradients are reduced as a SUM, not FSDP's default mean: each rank's loss is already divided by
the completion tokens of the whole global batch, so the sum over ranks is the gradient of the
global mean, exactly as in one process.

Checkpoints (`OUT/checkpoint-epoch-N/`): the trainable parameters and the optimizer state as a
distributed checkpoint (`dcp/`, `torch.distributed.checkpoint`; it reshards on load, so a run
resumes at any world size), `trainer_state.json`, and the model gathered on rank 0 into a plain
Hugging Face folder that `from_pretrained` loads.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datagen.finetune_data import FinetuneError

if TYPE_CHECKING:
    import torch


@dataclass
class Dist:
    """Where this process stands: rank, world size, its device, whether the model is sharded."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: str = "cpu"
    backend: str | None = None  # None: no process group (one plain process)
    sharded: bool = False  # FSDP2 applied (world_size > 1, or CPU offload asked for)

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def parallelism(self) -> str:
        return "fsdp2" if self.sharded else "single-process"


def world_from_env() -> tuple[int, int, int]:
    """(rank, world size, local rank) as torchrun sets them; (0, 1, 0) in a plain process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0"))


def pick_device(name: str, local_rank: int = 0, world_size: int = 1) -> str:
    import torch

    cuda = torch.cuda.is_available()
    if name != "auto":
        if name.startswith("cuda") and not cuda:
            raise FinetuneError(f"device {name!r} asked for but CUDA is not available")
        if name == "cuda" and world_size > 1:
            return f"cuda:{local_rank}"  # one GPU per rank
        return name
    if cuda:
        return f"cuda:{local_rank}" if world_size > 1 else "cuda"
    mps = getattr(torch.backends, "mps", None)
    if world_size == 1 and mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def backend_for(device: str) -> str:
    """NCCL for GPUs, gloo for CPUs; a CUDA run on a torch build without NCCL is an error."""
    import torch.distributed as dist

    if device.startswith("cuda"):
        if not dist.is_nccl_available():
            raise FinetuneError(
                "a CUDA run under torchrun needs NCCL, but this torch build has none "
                "(torch.distributed.is_nccl_available() is False): install a CUDA build of torch"
            )
        return "nccl"
    if device == "cpu":
        return "gloo"
    raise FinetuneError(f"device {device!r} cannot run distributed (cuda or cpu only)")


def setup(device: str, global_batch: int, cpu_offload: bool = False) -> Dist:
    """Join the process group torchrun prepared, after checking that the world fits the work.

    Each optimizer step's `global_batch` rows are split evenly across the ranks, so the world
    size must divide `global_batch` (checked before any process group exists, so a bad world
    size costs one line, not a hang). The last, shorter step of an epoch is split as evenly as
    its rows allow.
    """
    import torch
    import torch.distributed as dist

    rank, world, local_rank = world_from_env()
    if global_batch % world:
        raise FinetuneError(
            f"world size {world} does not divide the global batch of {global_batch} rows "
            "(each optimizer step splits its rows evenly across the ranks): run on a divisor "
            f"of {global_batch} or change --global-batch"
        )
    name = pick_device(device, local_rank, world)
    if cpu_offload and not name.startswith("cuda"):
        raise FinetuneError("--cpu-offload moves GPU parameters to the CPU: it needs a CUDA run")
    if world == 1 and not cpu_offload:
        return Dist(device=name)
    backend = backend_for(name)
    if name.startswith("cuda"):
        torch.cuda.set_device(torch.device(name))
    if not dist.is_initialized():
        if world == 1:  # CPU offload in one process: FSDP2 still needs a (one-rank) group
            dist.init_process_group(backend, store=dist.HashStore(), rank=0, world_size=1)
        else:
            dist.init_process_group(backend)
    return Dist(rank, world, local_rank, name, backend, sharded=True)


def teardown(state: Dist, clean: bool = True) -> None:
    """Leave the process group; after an error without the barrier (the others may be gone)."""
    import torch.distributed as dist

    if state.backend is not None and dist.is_initialized():
        if clean:
            dist.barrier()
        dist.destroy_process_group()


def barrier(state: Dist) -> None:
    import torch.distributed as dist

    if state.backend is not None:
        dist.barrier()


def all_reduce_sum(state: Dist, value: torch.Tensor) -> torch.Tensor:
    """The sum over the ranks (the tensor itself in one process)."""
    import torch.distributed as dist

    if state.backend is not None:
        dist.all_reduce(value, op=dist.ReduceOp.SUM)
    return value


def shard(net: Any, state: Dist, compute_dtype: Any, cpu_offload: bool = False) -> Any:
    """FSDP2 on every decoder layer, then on the root (embeddings, final norm, LM head).

    The model's own `_no_split_modules` names its decoder layer class (as accelerate and
    transformers' tensor parallelism read it), so this works for any HF causal LM, wrapped by
    peft or not. Parameters move to the rank's device here: only the shard of each lands there.
    """
    import torch
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import (
        CPUOffloadPolicy,
        FSDPModule,
        MixedPrecisionPolicy,
        OffloadPolicy,
        fully_shard,
    )

    inner = net.get_base_model() if hasattr(net, "get_base_model") else net
    layer_names = set(getattr(inner, "_no_split_modules", None) or ())
    layers = [m for m in net.modules() if type(m).__name__ in layer_names]
    if not layers:
        raise FinetuneError(
            f"{type(inner).__name__}: no decoder layers found to shard (_no_split_modules)"
        )
    mesh = init_device_mesh(state.device.split(":")[0], (state.world_size,))
    options: dict[str, Any] = {"mesh": mesh}
    if compute_dtype is not None:  # bf16 compute, fp32 master weights and gradient reductions
        options["mp_policy"] = MixedPrecisionPolicy(
            param_dtype=compute_dtype, reduce_dtype=torch.float32
        )
    options["offload_policy"] = CPUOffloadPolicy() if cpu_offload else OffloadPolicy()
    for layer in layers:
        fully_shard(layer, **options)
    fully_shard(net, **options)
    for module in net.modules():
        if isinstance(module, FSDPModule):
            # Sum, not mean: the loss is already normalised by the whole batch's token count.
            module.set_gradient_divide_factor(1.0)
            if hasattr(module, "set_force_sum_reduction_for_comms"):  # not in older torch
                module.set_force_sum_reduction_for_comms(True)  # plain SUM: gloo has no PREMUL_SUM
    return net


def load_from_rank0(net: Any, full: dict | None, state: Dist) -> None:
    """Fill the shards of every rank from the full state dict that rank 0 loaded (`full`; None
    on the other ranks, whose model was built on the meta device).

    Parameters and persistent buffers come through `set_model_state_dict`'s broadcast; buffers
    outside the state dict (rotary frequencies) are broadcast one by one, as rank 0 computed them.
    """
    import torch
    import torch.distributed as torch_dist
    from torch.distributed.checkpoint.state_dict import StateDictOptions, set_model_state_dict

    if not state.main:
        net.to_empty(device=state.device)
    options = StateDictOptions(full_state_dict=True, broadcast_from_rank0=True)
    set_model_state_dict(net, full if state.main else {}, options=options)
    with torch.no_grad():
        for buffer in net.buffers():
            torch_dist.broadcast(buffer, src=0)


# ---------------------------------------------------------------------------------------------
# Checkpoints


@contextmanager
def _one_process_is_fine() -> Iterator[None]:
    """DCP warns that it assumes one process when there is no process group: that is intended."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="torch.distributed is disabled")
        yield


def latest_checkpoint(out: Path) -> Path | None:
    """The newest `checkpoint-epoch-N` that holds a distributed checkpoint to resume from."""
    found = []
    for path in out.glob("checkpoint-epoch-*"):
        number = path.name.rsplit("-", 1)[1]
        if number.isdigit() and (path / "trainer_state.json").is_file() and (path / "dcp").is_dir():
            found.append((int(number), path))
    return max(found)[1] if found else None


def _trainable_state(net: Any, optimizer: Any, full_model: bool) -> dict:
    """{"model", "optim"} as DCP state; the model part limited to the trained parameters."""
    from torch.distributed.checkpoint.state_dict import (
        get_model_state_dict,
        get_optimizer_state_dict,
    )

    model = get_model_state_dict(net)
    if not full_model:  # LoRA: the frozen base comes from the base model, not the checkpoint
        trained = {name for name, p in net.named_parameters() if p.requires_grad}
        model = {k: v for k, v in model.items() if k in trained}
    return {"model": model, "optim": get_optimizer_state_dict(net, optimizer)}


def save_checkpoint(
    out: Path,
    epoch: int,
    step: int,
    net: Any,
    optimizer: Any,
    fingerprint: str,
    state: Dist,
    export: Any,
    full_model: bool = True,
) -> Path:
    """Write `OUT/checkpoint-epoch-N` on every rank (DCP) and the HF folder on rank 0.

    Written under a temporary name and renamed at the end, so a killed save never leaves a
    half-written checkpoint that `--resume` would pick; the optimizer state (twice the model in
    fp32) is kept in the latest checkpoint only.
    """
    import torch.distributed.checkpoint as dcp

    path = out / f"checkpoint-epoch-{epoch}"
    tmp = out / f".tmp-{path.name}"
    if state.main:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    barrier(state)
    with _one_process_is_fine():
        dcp.save(_trainable_state(net, optimizer, full_model), checkpoint_id=str(tmp / "dcp"))
    export(tmp)  # collective: every rank takes part in gathering the model
    if state.main:
        record = {"epoch": epoch, "step": step, "fingerprint": fingerprint}
        record["world_size"] = state.world_size  # informative: any world size can resume
        (tmp / "trainer_state.json").write_text(json.dumps(record, indent=2) + "\n")
        shutil.rmtree(path, ignore_errors=True)
        tmp.rename(path)
        for older in out.glob("checkpoint-epoch-*"):
            if older != path:
                shutil.rmtree(older / "dcp", ignore_errors=True)
    barrier(state)
    return path


def read_checkpoint(path: Path) -> dict:
    return json.loads((path / "trainer_state.json").read_text())


def load_checkpoint(path: Path, net: Any, optimizer: Any, full_model: bool = True) -> None:
    """Load `path/dcp` into the (sharded or plain) model and optimizer, at any world size."""
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import (
        StateDictOptions,
        set_model_state_dict,
        set_optimizer_state_dict,
    )

    target = _trainable_state(net, optimizer, full_model)
    with _one_process_is_fine():
        dcp.load(target, checkpoint_id=str(path / "dcp"))
    set_model_state_dict(net, target["model"], options=StateDictOptions(strict=full_model))
    set_optimizer_state_dict(net, optimizer, target["optim"])


def gather_state_dict(net: Any, state: Dist) -> dict:
    """The full model state dict on rank 0's CPU (empty on the other ranks)."""
    if not state.sharded:
        return {k: v.detach().cpu() for k, v in net.state_dict().items()}
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    options = StateDictOptions(full_state_dict=True, cpu_offload=True)
    full = get_model_state_dict(net, options=options)
    # Gathering copies tied weights (embeddings = LM head) apart; alias them again, so that
    # save_pretrained sees the tie and stores one tensor, as it does for an unsharded model.
    first: dict[int, str] = {}
    for name, param in net.named_parameters(remove_duplicate=False):
        if id(param) in first and name in full and first[id(param)] in full:
            full[name] = full[first[id(param)]]
        first.setdefault(id(param), name)
    return full


def save_hf(net: Any, tokenizer: Any, path: Path, state: Dist) -> None:
    """The model, gathered from its shards, as a plain HF folder on rank 0."""
    full = gather_state_dict(net, state)
    if state.main:
        use_cache = net.config.use_cache
        net.config.use_cache = True  # the saved model is for generation
        net.save_pretrained(path, state_dict=full)
        net.config.use_cache = use_cache
        tokenizer.save_pretrained(path)
