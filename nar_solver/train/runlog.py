"""The loss log of a run: per-step stats summed on the device, one row per window of steps."""
from __future__ import annotations

import math
from typing import Any

import torch

from nar_solver.train.step import STAT_NAMES

_DISCRIMINATOR_ONLY = ("d_loss", "d_acc")


class LossLog:
    """Accumulates per-step stats on the device and turns each window of ``log_every`` steps into a row.

    Sums stay on the device between rows, so logging costs one host transfer per window; the
    window's partial sums are part of the training state, so a resumed run logs exactly the same rows.
    """

    def __init__(self, device: torch.device, has_discriminator: bool):
        self.device = device
        self.has_discriminator = has_discriminator
        self.sums = torch.zeros(len(STAT_NAMES), device=device)
        self.count = 0
        self.rows: list[dict[str, Any]] = []

    def add(self, stats: torch.Tensor) -> None:
        self.sums += stats
        self.count += 1

    def flush(self, step: int, seconds: float, reduce=lambda t: t) -> dict[str, Any] | None:
        """Close the window as a row (means over its steps, averaged over ranks by ``reduce``)."""
        if self.count == 0:
            return None
        means = reduce(self.sums / self.count).tolist()
        row: dict[str, Any] = {"step": step}
        for name, value in zip(STAT_NAMES, means):
            row[name] = None if (name in _DISCRIMINATOR_ONLY and not self.has_discriminator) else value
        row["seconds"] = round(seconds, 3)
        self.sums.zero_()
        self.count = 0
        self.rows.append(row)
        return row

    @staticmethod
    def non_finite(row: dict[str, Any]) -> list[str]:
        return [k for k in STAT_NAMES if row.get(k) is not None and not math.isfinite(row[k])]

    def state_dict(self) -> dict[str, Any]:
        return {"sums": self.sums.detach().cpu().clone(), "count": self.count}

    def load_state_dict(self, state: dict[str, Any], rows: list[dict[str, Any]]) -> None:
        self.sums = state["sums"].to(self.device).clone()
        self.count = int(state["count"])
        self.rows = rows
