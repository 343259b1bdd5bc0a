"""How many CPU cores this process may use: no torch, so the CLI can bound --threads at start-up."""
from __future__ import annotations

import os


def available_cores() -> int:
    """CPU cores this process may use (respects affinity masks and cgroup-limited containers)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1
