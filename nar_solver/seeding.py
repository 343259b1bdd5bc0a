"""`--seed` fixes every random source: python `random`, numpy and torch."""
from __future__ import annotations

import random
import sys

import numpy as np

from nar_solver.errors import NarError

#: The largest seed: numpy's legacy global state takes 32 bits, so a larger seed would be folded
#: onto a smaller one (two seeds, one stream), and torch refuses seeds past 64 bits with a traceback.
#: Every ``--seed`` option and config.json's ``seed`` are checked against this range.
MAX_SEED = 2**32 - 1


def check_seed(seed: int, what: str = "seed") -> int:
    """``seed`` if it is a whole number in 0..MAX_SEED, else a one-line NarError."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise NarError(f"{what} must be a whole number from 0 to {MAX_SEED}, got {seed!r}")
    return seed


def seed_everything(seed: int) -> np.random.Generator:
    """Seed python, numpy's legacy global state and torch; return a fresh numpy Generator.

    Torch is seeded when it has been imported: a process that never uses it (the pure world,
    `nar-solver generate`) does not pay seconds to import it. Import torch before seeding.
    """
    check_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)
    return np.random.default_rng(seed)
