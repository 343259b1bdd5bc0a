"""Sobol intervention score (SIS): intervening on one factor at a time, made exact with ground truth
(docs/metrics.md, "The Sobol intervention score").

The idea is to intervene on one object property at a time and watch which latent
dimensions move. With a factor world we can do that exactly, and both halves of the idea are
classical variance-based (Sobol) sensitivity indices of each code dimension z_j with respect to
the factors f:

(a) Intervention: render a scene, render it again with only factor k changed, encode both.
    ``T[k, j] = E[(z_j(f') - z_j(f))^2] / (2 Var z_j)`` is the *total-effect index* of factor k on
    dimension j (Jansen's estimator): the share of z_j's variance that involves factor k at all.
    The intervention of a disentangled code moves one dimension only, so its
    **concentration** ``C_k = max_j T[k, j] / sum_j T[k, j]`` is 1.
(b) The dual: fix factor k, vary every other factor. ``S[k, j] = 1 - E[Var(z_j | f_k)] / Var z_j``
    is the *first-order index*: the share of z_j's variance that factor k explains alone. The
    dimension that answers factor k (``j* = argmax_j T[k, j]``) should stand still when k is
    fixed, so its **stillness** ``S[k, j*]`` is 1.

Per factor ``SIS_k = C_k * S[k, j*]`` and ``SIS = mean_k SIS_k``, in [0, 1]: 1 exactly when every
factor drives one dimension that nothing else moves; 0 for a factor that no dimension sees.
An entangled code loses on (a) when one factor spreads over several dimensions and on (b) when a
dimension mixes factors (a rotation loses on both). Because indices are ratios of variances, any
invertible per-dimension rescaling (even non-linear) of a disentangled code still scores 1.

The intervened value is drawn uniformly among the *other* values (the issue asks for a changed
scene); the factor ``(n - 1) / n`` turns that back into the unbiased total-effect estimator.
Dimensions whose code mean varies less than 0.05 (collapsed, as in the FactorVAE score) are left
out; variances are normalised by each dimension's variance over random scenes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nar_solver.data.factors import FactorWorld
from nar_solver.metrics.codes import COLLAPSE_STD, active_dimensions
from nar_solver.metrics.sampling import Encoder, encode_factors, encode_pair, fix_factor, intervene, random_codes


@dataclass(frozen=True)
class InterventionSettings:
    variance_samples: int = 10_000
    pairs: int = 2_000  # interventions per factor, for (a)
    groups: int = 64  # fixed values per factor, for (b)
    group_size: int = 64  # scenes per fixed value
    collapse_std: float = COLLAPSE_STD


@dataclass
class InterventionResult:
    score: float  # SIS, mean over factors of concentration * stillness
    per_factor: list[float]
    concentration: list[float]  # (a) per factor
    stillness: list[float]  # (b) per factor
    dimension: list[int]  # j* per factor (index into the full code), -1 when no dimension is active
    #: total_effect[k][j], first_order[k][j]: Sobol indices over the active dimensions.
    total_effect: list[list[float]]
    first_order: list[list[float]]
    active_dims: list[int]


def intervention_score(encode: Encoder, world: FactorWorld, rng: np.random.Generator,
                       settings: InterventionSettings = InterventionSettings(),
                       global_codes: np.ndarray | None = None) -> InterventionResult:
    """SIS of an encoder on a factor world; ``global_codes`` reuses a random sample's codes."""
    global_codes = random_codes(encode, world, rng, settings.variance_samples, global_codes)
    active = active_dimensions(global_codes, settings.collapse_std)
    active_ids = np.flatnonzero(active)
    n_factors = len(world.factor_sizes)
    variance = global_codes[:, active].var(axis=0, ddof=1)

    total = np.zeros((n_factors, active_ids.size))
    first = np.zeros((n_factors, active_ids.size))
    concentration = [0.0] * n_factors
    stillness = [0.0] * n_factors
    dimension = [-1] * n_factors
    per_factor = [float("nan") if size < 2 else 0.0 for size in world.factor_sizes]  # nan: nothing to vary
    for k, size in enumerate(world.factor_sizes):
        if size < 2 or active_ids.size == 0:
            continue
        base = world.sample_factors(rng, settings.pairs)
        changed = intervene(world, rng, base, k)
        after, before = encode_pair(encode, world, rng, changed, base)  # same nuisance: only factor k changed
        delta = after[:, active] - before[:, active]
        total[k] = (size - 1) / size * (delta**2).mean(axis=0) / (2.0 * variance)

        grouped = fix_factor(world, rng, k, settings.groups, settings.group_size)
        codes = encode_factors(encode, world, grouped, rng)[:, active].reshape(settings.groups, settings.group_size, -1)
        within = codes.var(axis=1, ddof=1).mean(axis=0)
        first[k] = np.clip(1.0 - within / variance, 0.0, 1.0)

        spread = total[k].sum()
        if spread <= 0:  # no dimension moves: the factor is invisible to the code
            continue
        j = int(total[k].argmax())
        concentration[k] = float(total[k, j] / spread)
        stillness[k] = float(first[k, j])
        dimension[k] = int(active_ids[j])
        per_factor[k] = concentration[k] * stillness[k]

    scored = [v for v, size in zip(per_factor, world.factor_sizes) if size > 1]
    score = float(np.mean(scored)) if scored else 0.0
    return InterventionResult(
        score=score,
        per_factor=per_factor,
        concentration=concentration,
        stillness=stillness,
        dimension=dimension,
        total_effect=total.tolist(),
        first_order=first.tolist(),
        active_dims=active_ids.tolist(),
    )
