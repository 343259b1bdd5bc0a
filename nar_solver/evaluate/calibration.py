"""Is a solver's confidence worth its number? Reliability bins, expected calibration error, a
threshold sweep, and the temperature that calibrates a softmax over option scores.

A confidence is *calibrated* when, among the answers given at confidence about p, a fraction p
is right. The reliability table groups answers into equal-width confidence bins and sets each
bin's mean confidence beside its accuracy; the expected calibration error (ECE) is the mean gap,
weighted by the bin's share of answers (Naeini, Cooper and Hauskrecht 2015; Guo, Pleiss, Sun and
Weinberger 2017, who also fit one temperature to a held-out set: temperature scaling, used here by
:func:`fit_temperature`). The sweep says what a ``--min-confidence`` threshold buys: the share of
puzzles still answered (coverage), their accuracy and the share of them that are wrong.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np

#: Equal-width bins of the reliability table over [0, 1].
BINS = 10
#: Thresholds of the sweep that evaluate prints.
THRESHOLDS: tuple[float, ...] = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99)
#: Candidate temperature multipliers of :func:`fit_temperature` (log-spaced, 1/20 to 20).
_GRID = np.exp(np.linspace(np.log(0.05), np.log(20.0), 241))


@dataclass
class ReliabilityBin:
    """Answers with confidence in [low, high) (the last bin includes 1): how many, their mean
    confidence and their accuracy (0 for an empty bin)."""

    low: float
    high: float
    n: int
    confidence: float
    accuracy: float

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class SweepRow:
    """Answers kept at ``confidence >= threshold``: their share of all (``coverage``), how many,
    their accuracy and the share of them that is wrong (0 when none is kept)."""

    threshold: float
    coverage: float
    answered: int
    accuracy: float
    wrong: float

    def to_json(self) -> dict:
        return asdict(self)


def _arrays(confidences: Sequence[float], correct: Sequence[bool]) -> tuple[np.ndarray, np.ndarray]:
    c = np.asarray(confidences, dtype=np.float64).reshape(-1)
    k = np.asarray(correct, dtype=bool).reshape(-1)
    if c.shape != k.shape:
        raise ValueError(f"{c.size} confidences but {k.size} correctness flags")
    return np.clip(c, 0.0, 1.0), k


def reliability_table(confidences: Sequence[float], correct: Sequence[bool], bins: int = BINS) -> list[ReliabilityBin]:
    """Equal-width confidence bins over [0, 1] with each bin's count, mean confidence and accuracy."""
    c, k = _arrays(confidences, correct)
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.minimum((c * bins).astype(int), bins - 1)
    table = []
    for b in range(bins):
        chosen = index == b
        n = int(chosen.sum())
        table.append(ReliabilityBin(float(edges[b]), float(edges[b + 1]), n,
                                    float(c[chosen].mean()) if n else 0.0, float(k[chosen].mean()) if n else 0.0))
    return table


def expected_calibration_error(confidences: Sequence[float], correct: Sequence[bool], bins: int = BINS) -> float:
    """Sum over bins of (bin's share of answers) x |accuracy - mean confidence|; 0 with no answers."""
    table = reliability_table(confidences, correct, bins)
    total = sum(b.n for b in table)
    if total == 0:
        return 0.0
    return float(sum(b.n / total * abs(b.accuracy - b.confidence) for b in table))


def threshold_sweep(confidences: Sequence[float], correct: Sequence[bool],
                    thresholds: Sequence[float] = THRESHOLDS) -> list[SweepRow]:
    """Coverage, accuracy and wrong share of the answers at ``confidence >= t`` for each threshold."""
    c, k = _arrays(confidences, correct)
    rows = []
    for t in thresholds:
        kept = c >= float(t)
        n = int(kept.sum())
        accuracy = float(k[kept].mean()) if n else 0.0
        rows.append(SweepRow(float(t), n / c.size if c.size else 0.0, n, accuracy, 1.0 - accuracy if n else 0.0))
    return rows


def softmax_confidence(scores: np.ndarray, temperature: float) -> np.ndarray:
    """(N, O) option scores -> (N,) softmax probability of the best option at ``temperature``."""
    x = np.asarray(scores, dtype=np.float64) / float(temperature)
    x = x - x.max(-1, keepdims=True)
    p = np.exp(x)
    return (p / p.sum(-1, keepdims=True)).max(-1)


def fit_temperature(scores: Sequence[Sequence[float]], answers: Sequence[int], temperatures: Sequence[float]) -> float:
    """The multiplier t of each puzzle's softmax temperature that minimises the negative
    log-likelihood of the right options (temperature scaling, Guo et al. 2017), over a log-spaced
    grid from 1/20 to 20. ``scores`` (N, O) higher-is-better, ``temperatures`` (N,) the solver's
    own. Fit it on puzzles disjoint from those it is measured on."""
    s = np.asarray(scores, dtype=np.float64)
    a = np.asarray(answers, dtype=np.int64)
    t0 = np.asarray(temperatures, dtype=np.float64)[:, None]
    if s.ndim != 2 or s.shape[0] != a.size or a.size == 0:
        raise ValueError("fit_temperature needs (N, O) scores and N answers, N > 0")
    best, best_nll = 1.0, np.inf
    for t in _GRID:
        x = s / (t0 * t)
        x = x - x.max(-1, keepdims=True)
        logp = x - np.log(np.exp(x).sum(-1, keepdims=True))
        nll = -float(logp[np.arange(a.size), a].mean())
        if nll < best_nll - 1e-12:
            best, best_nll = float(t), nll
    return best
