"""Disentanglement metrics against ground-truth factors (docs/metrics.md), one module per metric:

- :mod:`~nar_solver.metrics.factorvae_score` (Kim & Mnih 2018), :mod:`~nar_solver.metrics.mig`
  (Chen et al. 2018), :mod:`~nar_solver.metrics.dci` (Eastwood & Williams 2018),
  :mod:`~nar_solver.metrics.betavae_score` (Higgins et al. 2017), :mod:`~nar_solver.metrics.sap`
  (Kumar et al. 2018), :mod:`~nar_solver.metrics.modularity` (Modularity and Explicitness,
  Ridgeway & Mozer 2018), :mod:`~nar_solver.metrics.intervention` (the Sobol intervention score)
  and :mod:`~nar_solver.metrics.unsupervised` (the factor-free scores of Locatello et al. 2019);
- :mod:`~nar_solver.metrics.sampling` builds the scenes they are made of, :mod:`~nar_solver.metrics.codes`
  and :mod:`~nar_solver.metrics.information` hold what several metrics share;
- :mod:`~nar_solver.metrics.runner` runs them all on one encoder or checkpoint.

    from nar_solver.metrics import evaluate_checkpoint
    report = evaluate_checkpoint("checkpoints/objects")        # FactorVAE, MIG, DCI, SIS, ...
"""
from nar_solver.metrics.runner import (DisentanglementReport, DisentanglementSettings, evaluate_checkpoint,
                                       evaluate_disentanglement)

__all__ = ["DisentanglementReport", "DisentanglementSettings", "evaluate_checkpoint", "evaluate_disentanglement"]
