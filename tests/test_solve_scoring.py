"""Decoded-image scoring: batched decoding equals one-by-one decoding, the deduplicated composite
equals the plain one, examples and query share one pass, and the pure latent self-check counts
examples whose decoded prediction is nearest, in pixels, to the right option."""
import dataclasses

import numpy as np
import pytest
import torch

from nar_solver.solve.encoding import CodeSets, encode_puzzle
from nar_solver.solve.fitness import Scorer, composite_ink
from nar_solver.solve.ga import GAConfig
from nar_solver.solve.manifold import load_manifold
from nar_solver.solve.registry import make_solver
from nar_solver.solve.selfcheck import nearest_mask
from nar_solver.solve.solver import SolverSettings
from nar_solver.solve.transform import GenomeLayout
from nar_solver.world.puzzle import generate_puzzles


@pytest.fixture(scope="module")
def manifold():
    torch.set_num_threads(1)
    return load_manifold(None, "objects", "cpu")  # the shipped broadcast object model


@pytest.fixture(scope="module")
def puzzle():
    return next(iter(generate_puzzles(7_000_003, 1, "mixed")))


def test_batched_decoding_equals_one_by_one(manifold):
    u = torch.rand(24, manifold.dims, generator=torch.Generator().manual_seed(0))
    batched = manifold.decode(u)
    single = torch.stack([manifold.decode(u[i:i + 1])[0] for i in range(u.shape[0])])
    assert batched.shape == (24, 64, 64)
    torch.testing.assert_close(batched, single, atol=1e-5, rtol=0)
    assert float(batched.std(0).mean()) > 1e-3  # different codes draw different images


def test_deduplicated_composite_equals_plain_composite(manifold):
    g = torch.Generator().manual_seed(1)
    base = torch.rand(3, manifold.dims, generator=g)
    codes = base[torch.tensor([[0, 1, 0], [2, 2, 1]])][None].expand(2, 2, 3, -1).clone()  # repeats
    codes[1, 0, 0] = torch.rand(manifold.dims, generator=g)
    mask = torch.tensor([[True, True, True], [True, False, True]])
    ink = composite_ink(manifold, CodeSets(codes, mask))
    plain = torch.zeros(2, 2, 64, 64)
    for p in range(2):
        for b in range(2):
            objects = [manifold.decode(codes[p, b, k][None])[0] for k in range(3) if mask[b, k]]
            plain[p, b] = torch.stack(objects).amax(0)
    torch.testing.assert_close(ink, plain, atol=1e-5, rtol=0)


@pytest.mark.parametrize("distance", ["code", "pixel-bce"])
def test_board_distances_are_examples_then_query_in_one_pass(manifold, puzzle, distance):
    encoded = encode_puzzle(puzzle, manifold)
    scorer = Scorer(encoded, manifold, GenomeLayout(encoded.n_slots, manifold.dims), distance)
    genomes = torch.from_numpy(np.stack([scorer.layout.identity(), scorer.layout.identity() * 0.9])).float()
    both = scorer.board_distances(genomes)
    torch.testing.assert_close(both[:, :-1], scorer.distances(genomes), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(both[:, -1:], scorer.distances(genomes, query=True), atol=1e-5, rtol=1e-5)


def test_nearest_mask_needs_the_right_option_strictly_nearest():
    d = torch.tensor([[0.1, 0.2, 0.3], [0.2, 0.2, 0.3], [0.5, 0.1, 0.3]])
    assert nearest_mask(d, torch.tensor([0, 0, 0])).tolist() == [True, False, False]


def test_pure_latent_examples_solved_counts_decoded_predictions_nearest_in_pixels(manifold, puzzle):
    ga = dataclasses.replace(GAConfig(), population=8, generations=2)
    solver = make_solver("ga", SolverSettings(manifold="objects", device="cpu", ga=ga), manifold)
    solution = solver.solve(puzzle, with_images=True)
    encoded, scorer = solver.prepare(puzzle)
    genome = torch.from_numpy(np.asarray(solution.details["genome"], dtype=np.float32))[None]
    pixels = scorer.board_distances(genome, "pixel-mse")[0, :-1]
    assert solution.examples_solved == int(nearest_mask(pixels, encoded.answers).sum())
    assert solution.details["predicted_examples"].shape == (encoded.n_examples, 64, 64)


@pytest.mark.parametrize("mode", ["never", "fallback"])
def test_code_search_reranked_by_decoded_images_scores_in_pixels(manifold, puzzle, mode):
    ga = dataclasses.replace(GAConfig(), population=8, generations=2, distance="pixel-mse", pixel_search=mode,
                             rerank=3)
    solver = make_solver("ga", SolverSettings(manifold="objects", device="cpu", ga=ga), manifold)
    solution = solver.solve(puzzle)
    _, scorer = solver.prepare(puzzle)
    genome = torch.from_numpy(np.asarray(solution.details["genome"], dtype=np.float32))[None]
    query = scorer.distances(genome, query=True)[0, 0]
    np.testing.assert_allclose(solution.scores, (-query).numpy(), rtol=1e-5, atol=1e-7)


def test_pixel_search_mode_is_checked():
    from nar_solver.errors import NarError

    with pytest.raises(NarError, match="pixel_search"):
        GAConfig(pixel_search="sometimes")
    with pytest.raises(NarError, match="rerank"):
        GAConfig(rerank=0)
