"""Sobol intervention score (proposal 3.1) on synthetic encoders with known structure."""
from dataclasses import asdict

import numpy as np
import pytest

from nar_solver.errors import NarError
from nar_solver.metrics.sampling import CodedWorld, fix_factor, intervene
from nar_solver.metrics.intervention import InterventionSettings, intervention_score

SIZES = (4, 5, 6, 8)
WORLD = CodedWorld(SIZES)
FAST = InterventionSettings(variance_samples=3000, pairs=600, groups=24, group_size=24)
HADAMARD = np.array([[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]]) / 2.0


def standardised(factors):
    sizes = np.asarray(SIZES, dtype=float)
    return (factors - (sizes - 1) / 2) / np.sqrt((sizes**2 - 1) / 12)


def perfect(images):
    return standardised(WORLD.decode(images).astype(float))


def score(encode, seed=0):
    return intervention_score(encode, WORLD, np.random.default_rng(seed), FAST)


def test_intervention_changes_only_the_chosen_factor():
    rng = np.random.default_rng(0)
    base = WORLD.sample_factors(rng, 2000)
    for k in range(len(SIZES)):
        changed = intervene(WORLD, rng, base, k)
        others = [i for i in range(len(SIZES)) if i != k]
        assert (changed[:, others] == base[:, others]).all()
        assert (changed[:, k] != base[:, k]).all()
        # every other value is reachable, uniformly
        counts = np.bincount((changed[:, k] - base[:, k]) % SIZES[k], minlength=SIZES[k])
        assert counts[0] == 0 and counts[1:].min() > 0.6 * counts[1:].mean()


def test_intervene_refuses_a_single_valued_factor():
    world = CodedWorld((1, 3))
    with pytest.raises(NarError):
        intervene(world, np.random.default_rng(0), world.sample_factors(np.random.default_rng(0), 5), 0)


def test_fix_factor_holds_one_value_per_group_and_varies_the_rest():
    groups = fix_factor(WORLD, np.random.default_rng(0), 2, groups=10, group_size=50).reshape(10, 50, -1)
    assert (groups[:, :, 2] == groups[:, :1, 2]).all()
    assert all(len(np.unique(groups[g, :, 0])) > 1 for g in range(10))


def test_perfect_code_scores_one_and_survives_non_linear_rescaling():
    result = score(perfect)
    assert result.score > 0.97
    assert result.dimension == [0, 1, 2, 3]
    assert min(result.concentration) > 0.99 and min(result.stillness) > 0.95
    warped = score(lambda im: np.tanh(perfect(im)) * [1, 5, 0.2, 3])
    assert warped.score > 0.97
    cubed = score(lambda im: perfect(im) ** 3)
    assert cubed.score > 0.95


def test_total_effect_of_a_perfect_code_is_the_identity():
    total = np.array(score(perfect).total_effect)
    assert total == pytest.approx(np.eye(4), abs=0.1)


def test_collapsed_dimensions_are_ignored():
    def with_noise(images):
        rng = np.random.default_rng(len(images))
        return np.concatenate([0.01 * rng.standard_normal((len(images), 2)), perfect(images)], axis=1)

    result = score(with_noise)
    assert result.active_dims == [2, 3, 4, 5]
    assert result.dimension == [2, 3, 4, 5] and result.score > 0.97


def test_maximal_rotation_scores_low_on_both_halves():
    result = score(lambda im: perfect(im) @ HADAMARD.T)
    # Every intervention spreads equally over 4 dimensions and every dimension is a quarter each factor.
    assert max(result.concentration) < 0.4 and max(result.stillness) < 0.4
    assert result.score < 0.1


def test_random_rotations_score_well_below_perfect():
    # For a linear code z = R f the score is mean_k (max_j R_jk^2)^2: about 0.4 for a random
    # 4-d rotation (some rotations lie close to the axes and score higher).
    scores = []
    for seed in range(8):
        q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((4, 4)))
        rotation = q * np.sign(np.diag(r))
        result = score(lambda im: perfect(im) @ rotation.T)
        expected = np.mean(np.max(rotation**2, axis=0) ** 2)
        assert result.score == pytest.approx(expected, abs=0.06)
        scores.append(result.score)
    assert np.mean(scores) < 0.55 and max(scores) < 0.9


def test_missing_factor_scores_zero_for_that_factor():
    result = score(lambda im: perfect(im)[:, [0, 1, 3]])
    assert result.per_factor[2] == 0.0 and result.concentration[2] == 0.0
    assert min(result.per_factor[k] for k in (0, 1, 3)) > 0.95
    assert result.score == pytest.approx(0.75, abs=0.03)


def test_a_dimension_shared_by_two_factors_fails_stillness():
    # dim 0 = f0 + f1 (two factors in one dimension), dims 1, 2 = f2, f3.
    def shared(images):
        f = perfect(images)
        return np.stack([f[:, 0] + f[:, 1], f[:, 2], f[:, 3]], axis=1)

    result = score(shared)
    # Each intervention on f0 or f1 is concentrated in dim 0 ...
    assert result.concentration[0] > 0.99 and result.concentration[1] > 0.99
    # ... but dim 0 does not stand still when f0 is fixed: f1 still moves it (half its variance).
    assert result.stillness[0] == pytest.approx(0.5, abs=0.1)
    assert result.stillness[1] == pytest.approx(0.5, abs=0.1)
    assert result.per_factor[2] > 0.95


def test_score_is_reproducible_with_a_seed():
    assert asdict(score(perfect, seed=3)) == asdict(score(perfect, seed=3))
