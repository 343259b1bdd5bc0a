"""Test helpers for the solver: an exactly disentangled analytic "VAE" and crafted puzzles.

The analytic model's code of an image is (ink centroid column, centroid row, ink mass): position
and shape-ish factors, perfectly separated, with no training. It lets the GA, the slots and the
clipping be tested exactly; the learned model is tested separately (test_solve_trained.py).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from nar_solver.solve.manifold import LatentManifold
from nar_solver.world.board import Board, render_board
from nar_solver.world.program import run_program
from nar_solver.world.puzzle import Example, Puzzle

#: Centre of the tiles of columns/rows 0 and 2, in pixels; ink mass range of the glyphs.
CELL0, CELL2 = 12.0, 52.0


class AnalyticVAE(nn.Module):
    """encode: (centroid col / 64, centroid row / 64, ink / 100); decode: a blob of that size there."""

    z_dim = 3

    def encode(self, x: torch.Tensor):
        ink = x[:, 0]
        mass = ink.sum((1, 2)).clamp_min(1e-6)
        idx = torch.arange(ink.shape[-1], dtype=ink.dtype) + 0.5
        col = (ink.sum(1) * idx).sum(1) / mass
        row = (ink.sum(2) * idx).sum(1) / mass
        mu = torch.stack([col / 64, row / 64, mass / 100], 1)
        return mu, torch.zeros_like(mu)

    def decode(self, z: torch.Tensor):
        idx = torch.arange(64, dtype=z.dtype) + 0.5
        col, row, mass = z[:, 0] * 64, z[:, 1] * 64, z[:, 2] * 100
        radius = (mass / 3.0).clamp_min(1.0).sqrt()[:, None, None]
        d2 = (idx[None, None, :] - col[:, None, None]) ** 2 + (idx[None, :, None] - row[:, None, None]) ** 2
        return (8.0 * (1.0 - d2 / radius ** 2))[:, None]


def analytic_manifold() -> LatentManifold:
    low = torch.tensor([CELL0 / 64, CELL0 / 64, 0.10])
    high = torch.tensor([CELL2 / 64, CELL2 / 64, 1.15])
    return LatentManifold(AnalyticVAE(), low, high, kind="objects")


def crafted_puzzle(program, inputs, distractor_programs, query, query_distractors, puzzle_id="crafted") -> Puzzle:
    """A puzzle from boards: examples ``inputs`` (Boards) transformed by ``program``; options are
    the right output and the outputs of ``distractor_programs``; the right option is placed at
    rotating indices."""
    def options_for(board, wrong_programs, index):
        right = run_program(program, board)
        wrong = [run_program(p, board) for p in wrong_programs]
        boards = wrong[:index] + [right] + wrong[index:]
        return np.stack([render_board(b) for b in boards]), index

    examples = []
    for i, board in enumerate(inputs):
        options, index = options_for(board, distractor_programs, i % (len(distractor_programs) + 1))
        examples.append(Example(render_board(board), options, index, board))
    q_options, q_index = options_for(query, query_distractors, 2 % (len(query_distractors) + 1))
    return Puzzle(puzzle_id, examples, render_board(query), q_options, q_index, list(program), None, query)


def board(*items) -> Board:
    return Board.of(items)
