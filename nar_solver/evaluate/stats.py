"""Confidence intervals of accuracies: one function, used wherever an interval is shown."""
from __future__ import annotations

from scipy.stats import binomtest

#: Confidence level of every interval the tool reports.
CONFIDENCE = 0.95


def wilson_interval(correct: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval of ``correct`` successes in ``n`` trials, from
    ``scipy.stats.binomtest(correct, n).proportion_ci(confidence, "wilson")``: better than the
    normal interval near 0 and 1 and for small n, and exactly 0 (1) at 0/n (n/n). (0, 1) when n is 0.
    """
    n, correct = int(n), int(correct)
    if n <= 0:
        return 0.0, 1.0
    if not 0 <= correct <= n:
        raise ValueError(f"correct must be in 0..{n}, got {correct}")
    ci = binomtest(correct, n).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def error_bars(accuracy: float, interval: tuple[float, float]) -> tuple[float, float]:
    """(below, above) distances from ``accuracy`` to the interval's ends, never negative (for
    matplotlib's ``yerr``, which refuses negative values)."""
    low, high = interval
    return max(0.0, accuracy - low), max(0.0, high - accuracy)
