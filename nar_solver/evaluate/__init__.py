"""Measuring solvers and models: puzzle accuracy, GA tuning, disentanglement against ground truth.

    from nar_solver.evaluate import evaluate, evaluate_checkpoint
    report = evaluate(puzzles, make_solver("ga"))              # accuracy with Wilson intervals
    metrics = evaluate_checkpoint("checkpoints/objects")        # FactorVAE, MIG, DCI, SIS

The submodules hold the full API; the names below are the ones most callers need.
"""
from nar_solver.evaluate.accuracy import AccuracyReport, evaluate, wilson_interval
from nar_solver.evaluate.disentanglement import (DisentanglementReport, DisentanglementSettings,
                                                 evaluate_checkpoint, evaluate_disentanglement)
from nar_solver.evaluate.tuning import TuneReport, tune

__all__ = ["AccuracyReport", "evaluate", "wilson_interval", "DisentanglementReport", "DisentanglementSettings",
           "evaluate_checkpoint", "evaluate_disentanglement", "TuneReport", "tune"]
