"""`--seed` fixes every random source: python `random`, numpy and torch."""
from __future__ import annotations

import random

import numpy as np


def seed_everything(seed: int) -> np.random.Generator:
    """Seed python, numpy's legacy global state and torch (if installed); return a fresh numpy Generator."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    try:
        import torch
    except ImportError:  # the pure world never needs torch
        pass
    else:
        torch.manual_seed(seed)
    return np.random.default_rng(seed)
