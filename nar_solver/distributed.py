"""The torchrun context of training and evaluation: ranks, devices, the process group, collectives.

torchrun sets RANK, WORLD_SIZE and LOCAL_RANK; without them everything runs in one process and every
helper here is a no-op. Training joins a group on its device (gloo on CPU, NCCL on CUDA): each rank
draws its own data stream, DistributedDataParallel averages gradients, only rank 0 writes files.
Evaluation joins a gloo group only to gather its ranks' results.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

from nar_solver.errors import NarError

#: How long a training collective may wait for the slowest rank.
TRAIN_TIMEOUT = timedelta(minutes=10)


@dataclass(frozen=True)
class DistContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @classmethod
    def from_env(cls) -> "DistContext":
        try:
            world = int(os.environ.get("WORLD_SIZE", "1"))
            rank = int(os.environ.get("RANK", "0"))
            local = int(os.environ.get("LOCAL_RANK", str(rank)))
        except ValueError:
            raise NarError("RANK / WORLD_SIZE / LOCAL_RANK must be integers (set by torchrun)") from None
        return cls(rank, world, local)

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def device_for(self, device: torch.device) -> torch.device:
        """One GPU per process: rank r uses cuda:LOCAL_RANK."""
        if self.enabled and device.type == "cuda":
            if self.local_rank >= torch.cuda.device_count():
                raise NarError(f"LOCAL_RANK {self.local_rank} but only {torch.cuda.device_count()} GPU(s)")
            return torch.device("cuda", self.local_rank)
        return device

    @contextlib.contextmanager
    def process_group(self, device: torch.device | None = None, timeout: timedelta = TRAIN_TIMEOUT):
        """Join the ranks' process group for the ``with`` block (a no-op in one process).

        With a CUDA ``device`` the group is NCCL on that GPU; otherwise (or with no device: results
        only, never tensors) gloo. A group that already exists is used and left standing; one
        created here is destroyed on the way out.
        """
        created = self.enabled and not dist.is_initialized()
        if created:
            cuda = device is not None and device.type == "cuda"
            if cuda:
                torch.cuda.set_device(device)
            dist.init_process_group(backend="nccl" if cuda else "gloo", rank=self.rank,
                                    world_size=self.world_size, timeout=timeout)
        try:
            yield
        finally:
            if created and dist.is_initialized():
                dist.destroy_process_group()

    # -- collectives (no-ops in one process) ---------------------------------------------------

    def mean(self, tensor: torch.Tensor) -> torch.Tensor:
        """Average a tensor over ranks (used for logged losses)."""
        if not self.enabled:
            return tensor
        out = tensor.clone()
        dist.all_reduce(out, op=dist.ReduceOp.SUM)
        return out / self.world_size

    def any(self, flag: bool, device: torch.device) -> bool:
        """True on every rank if any rank says True (stop requests must be agreed on)."""
        if not self.enabled:
            return flag
        value = torch.tensor([1.0 if flag else 0.0], device=device)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item() > 0)

    def gather_bytes(self, data: torch.Tensor) -> list[torch.Tensor]:
        """Every rank's copy of a fixed-size uint8 tensor (e.g. an RNG state), in rank order."""
        if not self.enabled:
            return [data]
        parts = [torch.empty_like(data) for _ in range(self.world_size)]
        dist.all_gather(parts, data)
        return parts

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()


def fingerprint(*modules: torch.nn.Module) -> str:
    """SHA-256 of every parameter's bytes: equal on all ranks iff their weights are identical."""
    digest = hashlib.sha256()
    for module in modules:
        if module is None:
            continue
        for name, param in sorted(module.state_dict().items()):
            digest.update(name.encode())
            digest.update(param.detach().float().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def fingerprint_tensor(text: str, device: torch.device) -> torch.Tensor:
    return torch.tensor(list(bytes.fromhex(text)), dtype=torch.uint8, device=device)
