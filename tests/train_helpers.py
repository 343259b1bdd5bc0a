"""Test helper: the tiny training config the tests use, and a real run of it on one CPU thread.

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


#: A narrow discriminator and small batches on the CPU keep the tests fast.
TINY = dict(data="objects", device="cpu", d_width=64, batch_size=8)


def tiny_config(**settings) -> TrainConfig:
    """The tiny objects config with ``settings`` on top, resolved."""
    return TrainConfig(**{**TINY, **settings}).resolve()


def train_tiny(run_dir: Path, **settings) -> Path:
    """Train :func:`tiny_config` with ``settings``; return the run folder."""
    config = tiny_config(**settings)
    with one_thread():
        return train(config, run_dir, progress=False, figures=False)
