"""Choosing the compute device: `--device auto|cpu|cuda`, one code path for both."""
from __future__ import annotations

import os

import torch

from nar_solver.cores import available_cores
from nar_solver.errors import NarError

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def resolve_device(name: str = "auto") -> torch.device:
    """auto = CUDA when available, else CPU. Asking for CUDA without a usable GPU is a one-line error.

    A specific GPU can be named as ``cuda:1``.
    """
    name = (name or "auto").strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise NarError(f"--device {name}: no CUDA GPU is available here (torch {torch.__version__}); "
                           "use --device cpu or auto")
        device = torch.device(name)
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise NarError(f"--device {name}: only {torch.cuda.device_count()} CUDA device(s) present")
        return device
    raise NarError(f"--device {name!r}: expected one of {', '.join(DEVICE_CHOICES)}")


def configure_backend(device: torch.device, threads: int | None = None) -> None:
    """Speed settings that do not change results beyond float noise.

    CUDA: TF32 matmuls/convolutions and cuDNN autotuning. CPU: use all cores (or ``threads``).
    """
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
    else:
        torch.set_num_threads(max(1, threads or available_cores()))


def set_cpu_threads(threads: int = 0, processes: int | None = None) -> int:
    """Set torch's intra-op CPU threads to ``threads``, or to :func:`auto_threads` when 0; returns it.

    ``processes`` (for the automatic count) defaults to torchrun's LOCAL_WORLD_SIZE, so processes
    sharing a machine split its idle cores instead of each taking all of them.
    """
    if threads < 0:
        raise NarError(f"threads must be >= 0, got {threads}")
    if threads == 0:
        if processes is None:
            local = os.environ.get("LOCAL_WORLD_SIZE", "")
            processes = int(local) if local.isdigit() and int(local) > 0 else 1
        threads = auto_threads(processes)
    torch.set_num_threads(threads)
    return threads


def auto_threads(processes: int = 1) -> int:
    """CPU threads per process for "use all cores": the cores not already busy, at least 1.

    Busy = the 1-minute load average at start. On a shared machine oversubscribed OpenMP threads
    spin against each other: a training step measured 3.7x slower with 2 threads than with 1 while
    two other jobs ran on the 2 cores (bench notes in docs/training.md).
    """
    per_process = max(1, available_cores() // max(1, processes))
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):  # pragma: no cover - platforms without getloadavg
        return per_process
    idle = available_cores() - busy
    return max(1, min(per_process, int(idle + 0.5)))


def cpu_has_fast_bf16() -> bool:
    """True when the CPU has native bf16 dot products (AVX512-BF16 or AMX), where bf16 autocast pays."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)
