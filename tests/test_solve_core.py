"""Solver core on an exactly disentangled analytic model: slots, the chromosome, clipping, distances,
fitness, the GA, latent arithmetic and the model-free baselines."""
import dataclasses
import warnings

import numpy as np
import pytest
import torch
from skimage.metrics import structural_similarity

from nar_solver.solve.encoding import CodeSets, encode_puzzle, infer_slots
from nar_solver.solve.fitness import (MATCH_WEIGHTS, Objective, Scorer, _ssim_map, chamfer_distances, log_likelihood,
                                      margins, match_weight)
from nar_solver.solve.ga import GAConfig
from nar_solver.solve.registry import make_solver
from nar_solver.solve.solver import SolverSettings
from nar_solver.solve.transform import DELTA, HIGH, LOW, SWITCH, VALUE, GenomeLayout, apply_genomes
from nar_solver.world.board import render_board
from nar_solver.world.puzzle import generate_puzzles
from solve_helpers import analytic_manifold, board, crafted_puzzle

R, L, U, D = ["shiftright", "out"], ["shiftleft", "out"], ["shiftup", "out"], ["shiftdown", "out"]


@pytest.fixture(scope="module")
def manifold():
    return analytic_manifold()


def shift_right_puzzle():
    inputs = [board(("k", 0, 0)), board(("square", 1, 1), ("b", 0, 2)), board(("circle", 0, 1)),
              board(("x", 1, 0), ("s", 2, 2)), board(("theta", 2, 1)), board(("pi", 0, 2), ("d", 1, 0))]
    return crafted_puzzle(R, inputs, [L, U, D], board(("m", 1, 1), ("z", 0, 0)), [L, U, D])


def test_slots_are_output_over_input_objects_and_must_agree():
    assert infer_slots([1, 2, 3], [2, 4, 6]).slots == 2 and infer_slots([1, 2, 3], [2, 4, 6]).consistent
    assert infer_slots([1, 0, 2], [1, 0, 2]).ratios == (1.0, None, 1.0)
    assert infer_slots([1, 0, 2], [1, 0, 2]).slots == 1, "an empty example says nothing"
    mixed = infer_slots([1, 1, 2, 2], [2, 2, 2, 3])
    assert not mixed.consistent and mixed.slots == 2, "fallback: the most common whole ratio"
    assert not infer_slots([0, 0], [0, 0]).consistent


def test_slot_inference_on_puzzles_with_several_outs(manifold):
    program = ["shiftright", "out", "clear", "shiftdown", "out"]
    inputs = [board(("k", 0, 0)), board(("b", 0, 0), ("d", 1, 0)), board(("e", 0, 1))]
    puzzle = crafted_puzzle(program, inputs, [R, D, ["shiftright", "shiftdown", "out"]], board(("g", 1, 0)),
                            [R, D, ["shiftright", "shiftdown", "out"]])
    encoded = encode_puzzle(puzzle, manifold)
    assert encoded.n_slots == 2 and encoded.slots.consistent
    assert encoded.inputs.mask.sum().item() == 5  # 1 + 2 + 1 example objects + 1 query object


def test_chromosome_shift_set_and_clamp(manifold):
    layout = GenomeLayout(slots=2, dims=3)
    codes = torch.tensor([[[0.2, 0.5, 0.3], [0.9, 0.1, 0.7]]])
    inputs = CodeSets(codes, torch.tensor([[True, True]]))
    identity = torch.from_numpy(layout.identity())[None].float()
    out = apply_genomes(layout, identity, inputs)
    assert out.codes.shape == (1, 1, 4, 3) and out.mask.tolist() == [[True] * 4]
    assert torch.allclose(out.codes[0, 0, :2], codes[0]) and torch.allclose(out.codes[0, 0, 2:], codes[0])

    g = layout.view(layout.identity()).copy()
    g[0, DELTA, 0] = 0.3                       # slot 0: shift dim 0
    g[1, SWITCH, 2], g[1, VALUE, 2] = 1.0, 0.8  # slot 1: set dim 2
    g[1, LOW, 1], g[1, HIGH, 1] = 0.4, 0.45     # slot 1: clamp dim 1 into [0.4, 0.45]
    out = apply_genomes(layout, torch.from_numpy(g.reshape(1, -1)).float(), inputs).codes[0, 0]
    assert torch.allclose(out[0], torch.tensor([0.5, 0.5, 0.3]))
    assert torch.allclose(out[1], torch.tensor([1.0, 0.1, 0.7])), "clipped to the training range"
    assert torch.allclose(out[2], torch.tensor([0.2, 0.45, 0.8]))
    assert torch.allclose(out[3], torch.tensor([0.9, 0.4, 0.8]))


def test_clipping_to_the_training_range_reproduces_the_clamped_shift(manifold):
    codes = manifold.encode(np.stack([render_board(board(("k", x, 1))) for x in range(3)]))
    layout = GenomeLayout(1, manifold.dims)
    step = (codes[1, 0] - codes[0, 0]).item()
    genome = torch.from_numpy(layout.from_parts(np.array([[step, 0.0, 0.0]]))).float()[None]
    moved = apply_genomes(layout, genome, CodeSets(codes[None], torch.ones(1, 3, dtype=torch.bool))).codes[0, 0]
    assert torch.allclose(moved[0], codes[1], atol=1e-4)
    assert torch.cdist(moved, codes).argmin(1).tolist() == [1, 2, 2], "column 2 shifted right stays put"
    assert float(moved[2, 0]) == pytest.approx(1.0), "... because the code is clipped at the range's edge"


def test_chamfer_distance_is_a_set_distance():
    a = torch.tensor([[0.1, 0.2], [0.8, 0.9]])
    opts = torch.stack([a, a.flip(0), torch.tensor([[0.1, 0.2], [0.0, 0.0]])])[None]   # (1, 3, 2, 2)
    mask = torch.ones(1, 3, 2, dtype=torch.bool)
    pred = CodeSets(a[None, None], torch.ones(1, 2, dtype=torch.bool))
    d = chamfer_distances(pred, opts, mask)[0, 0]
    assert d[0].item() == pytest.approx(0.0) and d[1].item() == pytest.approx(0.0), "order does not matter"
    assert d[2].item() > 0.1
    one = mask.clone()
    one[0, 2, 1] = False  # option 2 has one object fewer
    d2 = chamfer_distances(pred, opts, one)[0, 0]
    assert d2[2] > 0.0 and d2[0] == pytest.approx(0.0)
    empty = CodeSets(torch.zeros(1, 1, 1, 2), torch.zeros(1, 1, dtype=torch.bool))
    assert torch.isfinite(chamfer_distances(empty, opts, mask)).all()


def test_ssim_matches_scikit_image():
    rng = np.random.default_rng(0)
    x = rng.random((3, 64, 64)).astype(np.float32)
    y = np.clip(x + rng.normal(0, 0.2, x.shape), 0, 1).astype(np.float32)
    ours = _ssim_map(torch.from_numpy(x), torch.from_numpy(y)).numpy()
    ref = [structural_similarity(a, b, data_range=1.0) for a, b in zip(x, y)]
    assert np.allclose(ours, ref, atol=1e-4)


def test_fitness_prefers_the_right_option_and_margins_say_by_how_much():
    d = torch.tensor([[[0.1, 0.5, 0.6, 0.7]], [[0.5, 0.1, 0.6, 0.7]]])   # (P=2, E=1, O=4)
    answers = torch.tensor([0])
    fit = log_likelihood(d, answers, 0.1)
    assert fit[0] > fit[1] and fit[0] < 0
    assert margins(d, answers)[:, 0].tolist() == pytest.approx([0.4, -0.4])


def test_objective_adds_the_match_pull(manifold):
    encoded = encode_puzzle(shift_right_puzzle(), manifold)
    scorer = Scorer(encoded, manifold, GenomeLayout(encoded.n_slots, manifold.dims))
    genomes = torch.from_numpy(np.stack([scorer.layout.identity(), scorer.layout.from_parts(
        np.full((1, manifold.dims), 0.2), set_mask=np.eye(1, manifold.dims, dtype=bool))])).float()
    distances = scorer.distances(genomes)
    plain, margin = Objective(scorer)(genomes)
    assert torch.allclose(plain, log_likelihood(distances, encoded.answers, scorer.temperature))
    assert torch.allclose(margin, margins(distances, encoded.answers) / scorer.temperature)
    pulled, _ = Objective(scorer, match=0.5)(genomes)
    right = distances[torch.arange(2)[:, None], torch.arange(encoded.n_examples), encoded.answers[None]]
    assert torch.allclose(pulled, plain - 0.5 * right.sum(-1) / scorer.temperature)
    assert match_weight("objects-xy") == MATCH_WEIGHTS["objects-xy"] > 0 and match_weight("board") == 0.0
    assert match_weight("board", 0.7) == 0.7


def test_ga_solves_a_shift_puzzle_and_checks_itself(manifold):
    puzzle = shift_right_puzzle()
    solution = make_solver("ga", SolverSettings(seed=3), manifold).solve(puzzle, with_images=True)
    assert solution.answer == puzzle.query_answer
    assert solution.examples_solved == 6 and solution.confidence > 0.5
    assert solution.details["predicted_query"].shape == (64, 64)
    assert solution.details["predicted_examples"].shape == (6, 64, 64)
    json = solution.to_json()
    assert set(json) == {"answer", "scores", "confidence", "examples_solved", "seconds", "abstain",
                         "abstain_reason"} and len(json["scores"]) == 4


def test_ga_stops_early_once_every_example_is_won(manifold):
    solution = make_solver("ga", SolverSettings(ga=GAConfig(generations=200)), manifold).solve(shift_right_puzzle())
    assert solution.details["stopped_early"] and solution.details["generations"] < 200


def test_ga_is_reproducible_with_a_seed_and_creates_deap_classes_once(manifold):
    puzzle = next(generate_puzzles(11, 1, "mixed"))
    settings = SolverSettings(seed=5, ga=GAConfig(population=16, generations=8, stop_margin=1e9))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # DEAP warns when a creator class is created twice
        first = make_solver("ga", settings, manifold).solve(puzzle)
        second = make_solver("ga", settings, manifold).solve(puzzle)
    assert first.scores == second.scores and first.answer == second.answer
    assert np.array_equal(first.details["genome"], second.details["genome"])
    other = make_solver("ga", dataclasses.replace(settings, seed=6), manifold).solve(puzzle)
    assert not np.array_equal(first.details["genome"], other.details["genome"])


def test_ga_with_pixel_distance_decodes_and_solves(manifold):
    settings = SolverSettings(ga=GAConfig(population=12, generations=6, distance="pixel-mse"))
    solution = make_solver("ga", settings, manifold).solve(shift_right_puzzle())
    assert solution.answer == shift_right_puzzle().query_answer


def test_ga_beats_latent_arithmetic_where_a_shift_is_not_enough(manifold):
    """to-square: a *set*, not an additive move, so the mean difference misleads; the GA's set genes fit it."""
    puzzles = list(generate_puzzles(21, 8, "shape"))
    ga = make_solver("ga", SolverSettings(), manifold)
    arithmetic = make_solver("latent-arithmetic", SolverSettings(), manifold)
    ga_acc = np.mean([ga.solve(p).answer == p.query_answer for p in puzzles])
    la_acc = np.mean([arithmetic.solve(p).answer == p.query_answer for p in puzzles])
    assert ga_acc >= 0.75 and ga_acc > la_acc


def test_latent_arithmetic_solves_a_pure_shift(manifold):
    puzzle = shift_right_puzzle()
    solution = make_solver("latent-arithmetic", SolverSettings(), manifold).solve(puzzle)
    assert solution.answer == puzzle.query_answer and solution.examples_solved >= 5


def test_pixel_analogy_solves_a_puzzle_whose_query_repeats_the_examples():
    inputs = [board(("k", 0, 1))] * 3
    puzzle = crafted_puzzle(R, inputs, [U, D, ["shiftright", "shiftright", "out"]], board(("k", 0, 1)),
                            [U, D, ["shiftright", "shiftright", "out"]])
    solution = make_solver("pixel").solve(puzzle, with_images=True)
    assert solution.answer == puzzle.query_answer and solution.examples_solved == 3
    assert solution.details["predicted_query"].shape == (64, 64)


def test_options_only_picks_the_most_central_option():
    puzzle = shift_right_puzzle()
    opts = np.stack([render_board(board(("k", 0, 0))), render_board(board(("k", 0, 0), ("b", 2, 2))),
                     render_board(board(("k", 0, 0), ("b", 2, 1))), render_board(board(("square", 1, 1)))])
    puzzle.query_options = opts
    assert make_solver("options-only").solve(puzzle).answer in (0, 1, 2)
    assert make_solver("options-only").solve(puzzle).answer != 3


def test_random_is_seeded_per_puzzle_and_roughly_uniform():
    puzzles = list(generate_puzzles(3, 40, "shift1"))
    solver = make_solver("random", SolverSettings(seed=1))
    picks = [solver.solve(p).answer for p in puzzles]
    assert picks == [solver.solve(p).answer for p in puzzles]
    assert set(picks) == {0, 1, 2, 3}
    other = [make_solver("random", SolverSettings(seed=2)).solve(p).answer for p in puzzles]
    assert other != picks


def test_quantile_map_is_monotone_pinned_and_invertible():
    from nar_solver.solve.manifold import QuantileMap

    rng = np.random.default_rng(0)
    # Three uneven clusters on dim 0 (a VAE's columns), a smooth spread on dim 1.
    codes = torch.tensor(np.stack([np.repeat([-2.0, -1.5, 1.0], 20) + rng.normal(0, 0.02, 60),
                                   rng.normal(0, 1, 60)], 1), dtype=torch.float32)
    low, high = torch.tensor([-2.5, -3.0]), torch.tensor([1.5, 3.0])
    qmap = QuantileMap(codes, low, high)
    u = qmap.forward(codes)
    assert float(u.min()) >= 0.0 and float(u.max()) <= 1.0
    assert torch.allclose(qmap.forward(torch.stack([low, high])), torch.tensor([[0.0, 0.0], [1.0, 1.0]]), atol=1e-4)
    centres = [float(u[i * 20:(i + 1) * 20, 0].mean()) for i in range(3)]
    assert np.allclose(np.diff(centres), 1 / 3, atol=0.02), "uneven clusters become evenly spaced"
    grid = torch.linspace(-2.5, 1.5, 50)[:, None].repeat(1, 2)
    assert bool((qmap.forward(grid).diff(dim=0) >= -1e-6).all()), "monotone"
    assert torch.allclose(qmap.inverse(qmap.forward(codes)), codes, atol=1e-3)


def test_objects_xy_codes_hold_exact_grid_positions_and_decode_in_place():
    from nar_solver.solve.manifold import LatentManifold
    from nar_solver.solve.perception import split_objects
    from solve_helpers import AnalyticVAE

    manifold = LatentManifold(AnalyticVAE(), torch.tensor([0.1, 0.1, 0.1]), torch.tensor([0.9, 0.9, 1.2]),
                              kind="objects-xy")
    assert manifold.dims == 2 + 3
    image = render_board(board(("k", 0, 2), ("square", 2, 0), ("circle", 1, 1)))
    codes = manifold.encode_objects(split_objects(image))
    assert codes[:, :2].tolist() == [[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]]
    # the shape part is the same whatever the cell: every object was encoded in the middle cell
    again = manifold.encode_objects(split_objects(render_board(board(("k", 2, 0)))))
    assert torch.allclose(again[0, 2:], codes[2, 2:], atol=1e-5)
    # a shift is an exact step on x, clamped at the edge by the clip to [0, 1]
    layout = GenomeLayout(1, manifold.dims)
    genome = torch.from_numpy(layout.from_parts(np.array([[0.5, 0, 0, 0, 0]]))).float()[None]
    moved = apply_genomes(layout, genome, CodeSets(codes[None], torch.ones(1, 3, dtype=torch.bool))).codes[0, 0]
    assert moved[:, 0].tolist() == [1.0, 1.0, 0.5]
    # decoding puts the object back in its cell
    ink = manifold.decode(codes).numpy()
    rows, cols = np.indices((64, 64))
    for i, (x, y) in enumerate([(2, 0), (1, 1), (0, 2)]):
        centre = ((rows * ink[i]).sum() / ink[i].sum(), (cols * ink[i]).sum() / ink[i].sum())
        assert abs(centre[0] - (12 + 20 * y)) < 2 and abs(centre[1] - (12 + 20 * x)) < 2


def test_objects_xy_off_grid_objects_use_their_centre_of_mass():
    from nar_solver.solve.manifold import LatentManifold
    from nar_solver.solve.perception import split_components
    from solve_helpers import AnalyticVAE

    manifold = LatentManifold(AnalyticVAE(), torch.tensor([0.1, 0.1, 0.1]), torch.tensor([0.9, 0.9, 1.2]),
                              kind="objects-xy")
    image = np.full((64, 64), 255, np.uint8)
    image[20:30, 40:44] = 0                       # a bar centred at row 24.5, column 41.5
    code = manifold.encode_objects(split_components(image))[0]
    assert code[0].item() == pytest.approx((42 - 12) / 40, abs=1e-3)
    assert code[1].item() == pytest.approx((25 - 12) / 40, abs=1e-3)
