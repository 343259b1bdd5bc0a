"""beta-VAE score, SAP, Modularity, Explicitness and the unsupervised scores on synthetic codes.

The same CodedWorld codes as tests/test_metrics.py: a perfect axis-aligned code, the maximally
mixing (Hadamard) rotation, random rotations and codes missing factors. Each metric is checked for
what its paper claims and for the weakness later work found in it.
"""
import numpy as np
import pytest

from nar_solver.errors import NarError
from nar_solver.metrics.betavae_score import BetaVAESettings, betavae_score
from nar_solver.metrics.mig import mig
from nar_solver.metrics.modularity import explicitness_per_factor, modularity_explicitness, modularity_from_mi
from nar_solver.metrics.sap import sap, squared_correlation, threshold_accuracy
from nar_solver.metrics.unsupervised import (
    code_mutual_information,
    gaussian_total_correlation,
    mutual_info_score,
    unsupervised_scores,
)
from test_metrics import (
    HADAMARD,
    WORLD,
    missing_factor_2,
    perfect,
    perfect_with_collapsed,
    random_rotation,
    rotated,
    samples,
)

FAST_BETAVAE = BetaVAESettings(batch_size=32, train_votes=400, eval_votes=300)


def missing_factors_2_and_3(images):
    return perfect(images)[:, [0, 1]]


def rotation_encoder(seed):
    rotation = random_rotation(seed)
    return lambda images: perfect(images) @ rotation.T


def split(encode, n_train=1500, n_test=800):
    return (*samples(encode, n_train, 0), *samples(encode, n_test, 1))


# ------------------------------------------------------------------------------------------------
# beta-VAE score (Higgins et al. 2017)


def test_betavae_score_perfect_code_is_one_even_with_collapsed_dims():
    result = betavae_score(perfect_with_collapsed, WORLD, np.random.default_rng(0), FAST_BETAVAE)
    assert result.score >= 0.99 and result.train_accuracy >= 0.99
    assert result.chance == pytest.approx(0.25)


def test_betavae_score_maximal_rotation_is_near_chance():
    # Under the Hadamard rotation every dimension's mean difference is the same whichever factor is
    # fixed, so no linear classifier can tell the votes apart.
    assert betavae_score(rotated, WORLD, np.random.default_rng(0), FAST_BETAVAE).score < 0.45


def test_betavae_score_does_not_see_a_generic_rotation():
    # A generic rotation leaves each fixed factor its own pattern of mean differences: the linear
    # classifier still separates them (why Kim & Mnih 2018 proposed the FactorVAE score).
    assert betavae_score(rotation_encoder(0), WORLD, np.random.default_rng(0), FAST_BETAVAE).score > 0.9


def test_betavae_score_one_missing_factor_still_scores_high_two_lose_one():
    # Kim & Mnih (2018): with K - 1 factors captured the missing one is "the class with no small
    # entry", so the score stays near 1. Two missing factors look alike: the classifier confuses them.
    one = betavae_score(missing_factor_2, WORLD, np.random.default_rng(0), FAST_BETAVAE)
    assert one.score > 0.95
    two = betavae_score(missing_factors_2_and_3, WORLD, np.random.default_rng(0), FAST_BETAVAE)
    assert min(two.per_factor[0], two.per_factor[1]) > 0.95
    assert (two.per_factor[2] + two.per_factor[3]) / 2 < 0.7
    assert two.score < 0.85


# ------------------------------------------------------------------------------------------------
# SAP (Kumar et al. 2018)


def test_sap_building_blocks():
    rng = np.random.default_rng(0)
    z = rng.standard_normal(2000)
    y = 2 * z + rng.standard_normal(2000)
    assert squared_correlation(z, y) == pytest.approx(np.corrcoef(z, y)[0, 1] ** 2, abs=1e-12)
    assert squared_correlation(np.ones(5), np.arange(5)) == 0.0
    labels = rng.integers(0, 5, 2000)
    # Thresholds on a dimension that orders the classes separate them; on noise, chance (0 adjusted).
    assert threshold_accuracy(labels + 0.1 * z, labels, labels + 0.1 * z, labels) == pytest.approx(1.0)
    assert threshold_accuracy(z[:1000], labels[:1000], z[1000:], labels[1000:]) < 0.05


def test_sap_perfect_code_ordered_and_categorical():
    result = sap(*split(perfect_with_collapsed))
    assert result.score > 0.95 and np.allclose(result.per_factor, 1.0, atol=0.02)
    scores = np.array(result.scores)
    assert (scores[4:] == 0).all()  # collapsed dimensions score 0 (Kumar et al.)
    assert sap(*split(perfect), categorical=(True,) * 4).score > 0.95


def test_sap_rotations_score_low():
    assert sap(*split(rotated)).score < 0.1
    for seed in range(3):
        assert sap(*split(rotation_encoder(seed))).score < 0.8


def test_sap_missing_factor_loses_that_factor():
    result = sap(*split(missing_factor_2))
    assert result.per_factor[2] < 0.05
    assert min(result.per_factor[k] for k in (0, 1, 3)) > 0.95


def test_sap_rejects_wrong_flags():
    with pytest.raises(NarError):
        sap(*split(perfect), categorical=(True,))


# ------------------------------------------------------------------------------------------------
# Modularity and Explicitness (Ridgeway & Mozer 2018)


def _modularity(encode):
    train_codes, train_factors, test_codes, test_factors = split(encode)
    mi = np.array(mig(train_codes, train_factors).mutual_information)
    return modularity_explicitness(train_codes, train_factors, test_codes, test_factors, mi)


def test_modularity_from_mi_extremes():
    assert modularity_from_mi(np.eye(3)) == pytest.approx([1, 1, 1])
    assert modularity_from_mi(np.ones((2, 3))) == pytest.approx([0, 0])
    # One factor at half the best one's information: 1 - 0.5^2 / (1 * 2).
    assert modularity_from_mi(np.array([[1.0, 0.5, 0.0]]))[0] == pytest.approx(0.875)
    assert np.isnan(modularity_from_mi(np.zeros((1, 3)))[0])


def test_modularity_perfect_code_and_maximal_rotation():
    perfect_result = _modularity(perfect_with_collapsed)
    assert perfect_result.modularity > 0.99
    assert perfect_result.active_dims == [0, 1, 2, 3]
    assert np.isnan(perfect_result.per_dimension[4:]).all()  # collapsed dimensions are left out
    assert _modularity(rotated).modularity < 0.4


def test_modularity_does_not_see_a_missing_factor_but_explicitness_does():
    result = _modularity(missing_factor_2)
    assert result.modularity > 0.99  # each remaining dimension still serves one factor only
    assert result.explicitness_per_factor[2] == pytest.approx(0.5, abs=0.05)  # chance AUC
    assert min(result.explicitness_per_factor[k] for k in (0, 1, 3)) > 0.75


def test_explicitness_is_rotation_invariant_and_one_for_linearly_separable_values():
    # Explicitness is about linear decodability, not alignment: the rotated code scores the same.
    assert _modularity(rotated).explicitness == pytest.approx(_modularity(perfect).explicitness, abs=0.02)
    # A middle value of an ordered axis cannot be cut out by one hyperplane (AUC < 1), a one-hot code can.
    assert _modularity(perfect).explicitness < 0.9
    train_codes, train_factors, test_codes, test_factors = split(perfect)
    one_hot = lambda f: np.eye(4)[f[:, 0]]  # noqa: E731  (factor 0 has 4 values)
    explicit = explicitness_per_factor(one_hot(train_factors), train_factors[:, :1], one_hot(test_factors),
                                       test_factors[:, :1])
    assert explicit[0] > 0.99


# ------------------------------------------------------------------------------------------------
# Unsupervised scores (Locatello et al. 2019)


def test_gaussian_total_correlation_matches_the_closed_form():
    rng = np.random.default_rng(0)
    rho = 0.8
    codes = rng.multivariate_normal([0, 0, 0], [[1, rho, 0], [rho, 1, 0], [0, 0, 4]], 40_000)
    assert gaussian_total_correlation(codes) == pytest.approx(-0.5 * np.log(1 - rho**2), abs=0.02)
    assert gaussian_total_correlation(rng.standard_normal((40_000, 3)) * [1, 5, 0.1]) < 0.001
    duplicated = np.concatenate([codes[:, :1], codes[:, :1]], axis=1)
    assert gaussian_total_correlation(duplicated) == float("inf")
    assert gaussian_total_correlation(np.concatenate([codes, np.ones((40_000, 1))], axis=1)) == pytest.approx(
        gaussian_total_correlation(codes))  # a constant dimension is dropped


def test_gaussian_total_correlation_sees_linear_dependence_only():
    perfect_codes = samples(perfect, 6000, 0)[0]
    assert gaussian_total_correlation(perfect_codes) < 0.01
    # Independent unit-variance dimensions rotated keep an identity covariance: still 0.
    assert gaussian_total_correlation(perfect_codes @ HADAMARD.T) < 0.01
    sheared = perfect_codes @ np.array([[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1.0]]).T
    assert gaussian_total_correlation(sheared) == pytest.approx(-0.5 * np.log(1 - 0.5), abs=0.02)  # corr 1/sqrt(2)


def test_mutual_info_score_sees_rotations_of_non_gaussian_codes():
    perfect_codes = samples(perfect, 6000, 0)[0]
    mi = code_mutual_information(perfect_codes)
    assert np.allclose(mi, mi.T) and np.diag(mi).min() > 1.0  # the diagonal: each dimension's entropy
    assert mutual_info_score(mi) < 0.01
    # Rotating independent, uniform (non-Gaussian) dimensions makes them dependent.
    assert unsupervised_scores(perfect_codes @ HADAMARD.T).mutual_info_score > 0.1
    assert unsupervised_scores(samples(missing_factor_2, 6000, 0)[0]).mutual_info_score < 0.01
    assert mutual_info_score(np.array([[2.0]])) == 0.0
