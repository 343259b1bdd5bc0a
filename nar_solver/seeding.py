"""`--seed` fixes every random source: python `random`, numpy and torch."""
from __future__ import annotations

import random
import sys

import numpy as np


def seed_everything(seed: int) -> np.random.Generator:
    """Seed python, numpy's legacy global state and torch; return a fresh numpy Generator.

    Torch is seeded when it has been imported: a process that never uses it (the pure world,
    `nar-solver generate`) does not pay seconds to import it. Import torch before seeding.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)
    return np.random.default_rng(seed)
