"""Test helper: a real training run of the tiny size tests need, on one CPU thread.

Tiny batches run as fast on one thread and never oversubscribe a shared machine; the caller's
thread count is restored afterwards.
"""
from __future__ import annotations

import contextlib
from pathlib import Path

import torch

from nar_solver.train import TrainConfig, train


@contextlib.contextmanager
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def train_tiny(run_dir: Path, **settings) -> Path:
    """Train an objects run with ``settings`` (on top of tiny CPU defaults); return its folder."""
    config = TrainConfig(**{"data": "objects", "device": "cpu", "d_width": 64, **settings}).resolve()
    with one_thread():
        return train(config, run_dir, progress=False, figures=False)
