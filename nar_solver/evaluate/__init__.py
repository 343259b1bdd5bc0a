"""Measuring solvers: puzzle accuracy with Wilson intervals, GA tuning, and the resumable and sharded
machinery that runs them over a puzzle set.

    from nar_solver.evaluate import evaluate
    report = evaluate(puzzles, make_solver("ga"))              # accuracy with Wilson intervals

The disentanglement metrics are in :mod:`nar_solver.metrics`, the manifold probe in
:mod:`nar_solver.probe`. The submodules hold the full API; the names below are the ones most
callers need.
"""
from nar_solver.evaluate.accuracy import AccuracyReport, evaluate, wilson_interval
from nar_solver.evaluate.tuning import TuneReport, tune

__all__ = ["AccuracyReport", "evaluate", "wilson_interval", "TuneReport", "tune"]
