"""FactorVAE score, MIG and DCI on synthetic codes whose structure is known exactly.

A CodedWorld image carries its factor indices, so a synthetic "encoder" can return any function
of the factors: a perfect axis-aligned code, a maximal rotation of it (every dimension an equal
mix of all factors), or a code that misses a factor.
"""
import numpy as np
import pytest

from nar_solver.errors import NarError
from nar_solver.metrics.codes import active_dimensions
from nar_solver.metrics.dci import DCISettings, dci, dci_from_importance
from nar_solver.metrics.factorvae_score import FactorVAESettings, factorvae_score
from nar_solver.metrics.information import discrete_entropy, discrete_mutual_information, histogram_discretize
from nar_solver.metrics.mig import mig
from nar_solver.metrics.sampling import CodedWorld

SIZES = (4, 5, 6, 8)
WORLD = CodedWorld(SIZES)
FAST_FVAE = FactorVAESettings(variance_samples=2000, batch_size=32, train_votes=400, eval_votes=300)
FAST_DCI = DCISettings(train_samples=1500, test_samples=800, trees=15)
# A 4x4 Hadamard matrix / 2 is orthogonal with every entry +-1/2: each code dimension is an equal
# mix of all four factors, the most entangled rotation there is.
HADAMARD = np.array([[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]]) / 2.0


def standardised(factors):
    f = factors.astype(float)
    sizes = np.asarray(SIZES, dtype=float)
    return (f - (sizes - 1) / 2) / np.sqrt((sizes**2 - 1) / 12)  # uniform discrete: mean 0, var 1


def perfect(images):
    return standardised(WORLD.decode(images))


def perfect_with_collapsed(images):
    codes = perfect(images)
    rng = np.random.default_rng(len(images))
    # Two collapsed dimensions: std 0.01, far under the 0.05 threshold, and pure noise.
    return np.concatenate([codes, 0.01 * rng.standard_normal((len(images), 2))], axis=1)


def rotated(images):
    return perfect(images) @ HADAMARD.T


def random_rotation(seed):
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((4, 4)))
    return q * np.sign(np.diag(r))


def missing_factor_2(images):
    return perfect(images)[:, [0, 1, 3]]


def samples(encode, n, seed):
    factors = WORLD.sample_factors(np.random.default_rng(seed), n)
    return encode(WORLD.render(factors)), factors


# ------------------------------------------------------------------------------------------------
# building blocks


def test_mutual_information_matches_scikit_learn():
    from sklearn.metrics import mutual_info_score

    rng = np.random.default_rng(0)
    a = rng.integers(0, 7, 3000)
    b = (a + rng.integers(0, 3, 3000)) % 5
    assert discrete_mutual_information(a, b) == pytest.approx(mutual_info_score(a, b), abs=1e-12)
    assert discrete_entropy(a) == pytest.approx(mutual_info_score(a, a), abs=1e-12)
    assert discrete_mutual_information(a, rng.integers(0, 4, 3000)) < 0.01


def test_histogram_discretize_uses_equal_width_bins_per_dimension():
    even = np.concatenate([[0.0, 20.0], np.repeat(np.arange(20) + 0.5, 5)])  # range 0..20: width 1
    codes = np.stack([even, np.linspace(-50, 50, even.size) ** 3], axis=1)
    binned = histogram_discretize(codes, bins=20)
    assert binned.min() == 0 and binned.max() == 19
    assert np.bincount(binned[:, 0], minlength=20).tolist() == [6] + [5] * 18 + [6]
    # A heavy-tailed dimension piles up in its middle bins: widths are equal, counts are not.
    assert np.bincount(binned[:, 1]).max() > 20
    assert (histogram_discretize(np.ones((10, 1))) == histogram_discretize(np.ones((10, 1)))[0, 0]).all()


def test_active_dimensions_prunes_collapsed_dims():
    codes = perfect_with_collapsed(WORLD.render(WORLD.sample_factors(np.random.default_rng(1), 500)))
    assert active_dimensions(codes).tolist() == [True] * 4 + [False] * 2


def test_dci_from_importance_extremes():
    assert dci_from_importance(np.eye(4)) == pytest.approx((1.0, 1.0))
    assert dci_from_importance(np.ones((4, 4))) == pytest.approx((0.0, 0.0))
    # One dimension carries two factors: disentanglement drops, completeness stays perfect.
    d, c = dci_from_importance(np.array([[1.0, 1.0], [0.0, 0.0]]))
    assert d == pytest.approx(0.0) and c == pytest.approx(1.0)
    # One factor spread over two dimensions: the reverse.
    d, c = dci_from_importance(np.array([[1.0], [1.0]]))
    assert d == pytest.approx(1.0) and c == pytest.approx(0.0)


def test_metrics_reject_bad_samples():
    with pytest.raises(NarError):
        mig(np.zeros((5, 2)), np.zeros((4, 2), dtype=int))
    with pytest.raises(NarError):
        mig(np.full((5, 2), np.nan), np.zeros((5, 2), dtype=int))


# ------------------------------------------------------------------------------------------------
# FactorVAE score


def test_factorvae_score_perfect_code_is_one_even_with_collapsed_dims():
    result = factorvae_score(perfect_with_collapsed, WORLD, np.random.default_rng(0), FAST_FVAE)
    assert result.active_dims == [0, 1, 2, 3]
    assert result.score >= 0.99 and result.train_accuracy >= 0.99
    assert result.chance == pytest.approx(0.25)


def test_factorvae_score_maximal_rotation_is_near_chance():
    result = factorvae_score(rotated, WORLD, np.random.default_rng(0), FAST_FVAE)
    assert result.score < 0.5


def test_factorvae_score_missing_factor_loses_its_votes():
    result = factorvae_score(missing_factor_2, WORLD, np.random.default_rng(0), FAST_FVAE)
    votes = np.array(result.votes)
    assert votes.argmax(axis=1).tolist() == [0, 1, 3]  # no dimension is classified as factor 2
    assert 0.65 < result.score < 0.85  # the other three factors still classify: about 3/4


def test_factorvae_score_all_collapsed_scores_zero():
    result = factorvae_score(lambda im: np.zeros((len(im), 3)), WORLD, np.random.default_rng(0), FAST_FVAE)
    assert result.score == 0.0 and result.active_dims == []


# ------------------------------------------------------------------------------------------------
# MIG


def test_mig_perfect_code_is_near_one():
    result = mig(*samples(perfect, 6000, 0))
    # Our factors have at most 8 values, all distinct bins: the best dimension carries H(factor).
    assert result.score > 0.99
    assert np.allclose(result.per_factor, 1.0, atol=0.02)


def test_mig_rotations_score_low():
    assert mig(*samples(rotated, 6000, 0)).score < 0.15
    for seed in range(3):
        rotation = random_rotation(seed)
        score = mig(*samples(lambda im: perfect(im) @ rotation.T, 6000, 0)).score
        assert score < 0.6


def test_mig_missing_factor_loses_that_factor():
    result = mig(*samples(missing_factor_2, 6000, 0))
    assert result.per_factor[2] < 0.05
    assert min(result.per_factor[k] for k in (0, 1, 3)) > 0.95


def test_mig_is_invariant_to_an_affine_map_of_a_dimension():
    codes, factors = samples(perfect, 4000, 1)
    warped = codes.copy()
    warped[:, 1] = 7.0 * warped[:, 1] - 3.0
    assert mig(warped, factors).score == pytest.approx(mig(codes, factors).score)


DSPRITES_SIZES = (3, 6, 40, 32, 32)


@pytest.mark.parametrize("warp", [np.exp, lambda z: z**3, lambda z: np.tanh(2 * z)], ids=["exp", "cube", "tanh2"])
def test_mig_histogram_is_not_invariant_to_nonlinear_monotone_warps(warp):
    """Equal-width bins over a warped range merge the values the warp squeezes together: a perfect
    code loses MIG (docs/metrics.md, next to the 0.896 cap), although it carries the same information."""
    world = CodedWorld(DSPRITES_SIZES)
    sizes = np.asarray(DSPRITES_SIZES, dtype=float)
    factors = world.sample_factors(np.random.default_rng(0), 10_000)
    codes = (factors - (sizes - 1) / 2) / np.sqrt((sizes**2 - 1) / 12)
    plain, warped = mig(codes, factors), mig(warp(codes), factors)
    assert plain.score == pytest.approx(0.896, abs=0.01)  # the 20-bin cap for 32- and 40-valued factors
    assert warped.score < plain.score - 0.05
    # Only the many-valued factors lose: a 3-valued factor keeps its own bins under any monotone warp.
    assert warped.per_factor[0] == pytest.approx(plain.per_factor[0], abs=0.01)
    assert max(warped.per_factor[k] for k in (2, 3, 4)) < min(plain.per_factor[k] for k in (2, 3, 4))


# ------------------------------------------------------------------------------------------------
# DCI


def _dci(encode):
    train = samples(encode, FAST_DCI.train_samples, 0)
    test = samples(encode, FAST_DCI.test_samples, 1)
    return dci(*train, *test, settings=FAST_DCI)


def test_dci_perfect_code():
    result = _dci(perfect_with_collapsed)
    assert result.disentanglement > 0.95 and result.completeness > 0.9
    assert result.informativeness > 0.99
    importance = np.array(result.importance)
    assert importance[:4].argmax(axis=0).tolist() == [0, 1, 2, 3]


def test_dci_rotations_score_low():
    result = _dci(rotated)
    assert result.disentanglement < 0.5 and result.completeness < 0.5
    for seed in range(2):
        rotation = random_rotation(seed)
        result = _dci(lambda im: perfect(im) @ rotation.T)
        assert result.disentanglement < 0.7


def test_dci_missing_factor_loses_informativeness_for_it():
    result = _dci(missing_factor_2)
    assert result.test_accuracy[2] < 0.3  # 6 values: chance is 1/6
    assert min(result.test_accuracy[k] for k in (0, 1, 3)) > 0.99
    importance = np.array(result.importance)
    # Boosting still hands out importance for the unpredictable factor, but spread thin over
    # dimensions that carry other factors: that is where DCI charges the missing factor.
    assert importance[:, 2].max() < 0.6
    assert [importance[j, k] for j, k in ((0, 0), (1, 1), (2, 3))] == pytest.approx([1, 1, 1], abs=0.01)
