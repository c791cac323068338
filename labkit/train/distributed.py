"""Data-parallel training under `torchrun`: who am I, how to wrap the model, how to agree on numbers.

`fit` always goes through a `DistContext`; with one process every collective is a no-op, so the
single-process and the torchrun code paths are the same loop.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch.utils.data import DistributedSampler


@dataclass(frozen=True)
class DistContext:
    """rank / world size of this process; `world_size == 1` means plain single-process training."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Only rank 0 writes run files and shows progress."""
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    def device(self, device: torch.device) -> torch.device:
        """One GPU per process under torchrun: cuda -> cuda:LOCAL_RANK."""
        if self.enabled and device.type == "cuda" and device.index is None:
            return torch.device("cuda", self.local_rank)
        return device

    def wrap(self, model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
        """DistributedDataParallel around `model` when distributed, else the model itself."""
        if not self.enabled:
            return model
        ids = [device.index] if device.type == "cuda" else None
        return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)

    def train_sampler(self, dataset, seed: int) -> DistributedSampler:
        """Shuffled shard of the training set, reshuffled from (seed, epoch).

        Used with one process too: global batch i is then the same clips whatever the world
        size (rank r takes every world_size-th index of one seeded permutation).
        """
        return DistributedSampler(dataset, num_replicas=self.world_size, rank=self.rank,
                                  shuffle=True, seed=seed, drop_last=False)

    def eval_indices(self, n: int) -> list[int]:
        """This rank's share of an evaluation set: every clip exactly once across ranks."""
        return list(range(self.rank, n, self.world_size))

    def sum(self, values: list[float]) -> list[float]:
        """Element-wise sum of `values` over all ranks (float64 so counts stay exact)."""
        if not self.enabled:
            return list(values)
        t = torch.tensor(values, dtype=torch.float64, device=self._comm_device())
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return t.tolist()

    def any(self, flag: bool) -> bool:
        """True on every rank if `flag` is True on any rank (stop requests, non-finite losses)."""
        if not self.enabled:
            return bool(flag)
        return self.sum([float(bool(flag))])[0] > 0

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()

    def _comm_device(self) -> torch.device:
        return torch.device("cuda", self.local_rank) if dist.get_backend() == "nccl" else torch.device("cpu")


def from_env() -> DistContext:
    """This process's place from torchrun's RANK / WORLD_SIZE / LOCAL_RANK (none: single process)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext()
    return DistContext(rank=int(os.environ["RANK"]), world_size=world,
                       local_rank=int(os.environ.get("LOCAL_RANK", "0")))


def setup(device: torch.device) -> DistContext:
    """Read torchrun's RANK / WORLD_SIZE / LOCAL_RANK and join the process group if needed.

    gloo on CPU, NCCL on CUDA. Without those variables (or WORLD_SIZE=1) this is single-process.
    """
    ctx = from_env()
    if not ctx.enabled:
        return ctx
    if not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(ctx.local_rank)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return ctx
