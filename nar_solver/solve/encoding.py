"""A puzzle turned into padded tensors of object codes: what the fitness and the GA work on.

Every board of the puzzle (example inputs, all options, the query and its options) is split into
objects by the manifold and every object is encoded in one batched pass. Sets of objects have
different sizes, so they are padded and carry a mask.

The number of *slots* S (copies a program emits: its `out` count) is inferred from the examples:
the right option holds S times as many objects as the input.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch

from nar_solver.errors import PuzzleError
from nar_solver.solve.manifold import LatentManifold
from nar_solver.model.images import ink_of
from nar_solver.solve.perception import PerceivedObject
from nar_solver.world.puzzle import Puzzle


@dataclass(frozen=True)
class SlotInference:
    """S inferred from (input objects, output objects) per example; ``consistent`` when every
    example with objects agrees on one whole number, else S is the most common ratio (a fallback)."""

    slots: int
    consistent: bool
    ratios: tuple[float | None, ...]


def infer_slots(input_counts: Sequence[int], output_counts: Sequence[int]) -> SlotInference:
    """Slots from object counts: output / input, which must be a whole number agreeing across
    examples. On disagreement the most common whole ratio (smallest on a tie) is used and
    ``consistent`` is False; examples with an empty input say nothing."""
    if len(input_counts) != len(output_counts):
        raise ValueError("input_counts and output_counts differ in length")
    ratios: list[float | None] = [None if k == 0 else m / k for k, m in zip(input_counts, output_counts)]
    known = [r for r in ratios if r is not None]
    if not known:
        return SlotInference(1, False, tuple(ratios))
    whole = [int(round(r)) for r in known if abs(r - round(r)) < 1e-9 and round(r) >= 1]
    if len(whole) == len(known) and len(set(whole)) == 1:
        return SlotInference(whole[0], True, tuple(ratios))
    if whole:
        counts = Counter(whole)
        best = max(counts.values())
        slots = min(s for s, c in counts.items() if c == best)
    else:
        slots = max(1, int(round(float(np.median(known)))))
    return SlotInference(slots, False, tuple(ratios))


@dataclass
class CodeSets:
    """A batch of object sets: ``codes`` (B, N, dims) padded, ``mask`` (B, N) True where real."""

    codes: torch.Tensor
    mask: torch.Tensor

    @property
    def counts(self) -> torch.Tensor:
        return self.mask.sum(-1)


@dataclass
class EncodedPuzzle:
    """Examples (only those with a known answer) and the query, as padded code sets.

    ``inputs`` (E+1 sets: examples then the query), ``options`` (E+1, O, M, dims) with
    ``option_mask``; ``option_ink`` (E+1, O, 64, 64) for pixel distances; ``answers`` (E,).
    """

    slots: SlotInference
    inputs: CodeSets
    options: torch.Tensor
    option_mask: torch.Tensor
    option_ink: torch.Tensor
    answers: torch.Tensor
    example_index: list[int]
    input_objects: list[list[PerceivedObject]] = field(repr=False)
    option_objects: list[list[list[PerceivedObject]]] = field(repr=False)

    @property
    def n_examples(self) -> int:
        return int(self.answers.numel())

    @property
    def n_slots(self) -> int:
        return self.slots.slots

    def example_inputs(self) -> CodeSets:
        return CodeSets(self.inputs.codes[:-1], self.inputs.mask[:-1])

    def query_inputs(self) -> CodeSets:
        return CodeSets(self.inputs.codes[-1:], self.inputs.mask[-1:])

    def right_outputs(self) -> CodeSets:
        """The right option's objects of each example: (E, M, dims) with mask."""
        e = torch.arange(self.n_examples, device=self.answers.device)
        return CodeSets(self.options[e, self.answers], self.option_mask[e, self.answers])


def _pad(groups: list[torch.Tensor], dims: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    width = max([g.shape[0] for g in groups] + [1])
    codes = torch.zeros((len(groups), width, dims), device=device)
    mask = torch.zeros((len(groups), width), dtype=torch.bool, device=device)
    for i, g in enumerate(groups):
        codes[i, : g.shape[0]] = g
        mask[i, : g.shape[0]] = True
    return codes, mask


def encode_puzzle(puzzle: Puzzle, manifold: LatentManifold) -> EncodedPuzzle:
    """Split and encode every board of ``puzzle``; infer the slots. Raises PuzzleError when no
    example has a known answer (nothing to learn the program from)."""
    labelled = [i for i, ex in enumerate(puzzle.examples) if ex.answer is not None]
    if not labelled:
        raise PuzzleError(f"puzzle {puzzle.id}: no example has a known answer, so nothing shows the program")
    n_options = int(puzzle.query_options.shape[0])
    boards_in = [puzzle.examples[i].input for i in labelled] + [puzzle.query]
    boards_opt = [puzzle.examples[i].options for i in labelled] + [puzzle.query_options]
    for i, opts in zip(labelled, boards_opt):
        if opts.shape[0] != n_options:
            raise PuzzleError(f"puzzle {puzzle.id}: example {i} has {opts.shape[0]} options, the query {n_options}")

    input_objects = [manifold.split(b) for b in boards_in]
    option_objects = [[manifold.split(o) for o in opts] for opts in boards_opt]
    flat = [o for objs in input_objects for o in objs]
    flat += [o for per_board in option_objects for objs in per_board for o in objs]
    codes = manifold.encode_objects(flat)

    cursor = 0
    in_groups = []
    for objs in input_objects:
        in_groups.append(codes[cursor:cursor + len(objs)])
        cursor += len(objs)
    opt_groups = []
    for per_board in option_objects:
        for objs in per_board:
            opt_groups.append(codes[cursor:cursor + len(objs)])
            cursor += len(objs)
    device = manifold.device
    in_codes, in_mask = _pad(in_groups, manifold.dims, device)
    opt_codes, opt_mask = _pad(opt_groups, manifold.dims, device)
    b = len(boards_in)
    opt_codes = opt_codes.reshape(b, n_options, -1, manifold.dims)
    opt_mask = opt_mask.reshape(b, n_options, -1)
    option_ink = torch.from_numpy(np.stack([ink_of(np.asarray(o)) for o in boards_opt])).to(device)
    answers = torch.tensor([int(puzzle.examples[i].answer) for i in labelled], device=device)
    if bool((answers < 0).any()) or bool((answers >= n_options).any()):
        raise PuzzleError(f"puzzle {puzzle.id}: an example's answer is outside 0..{n_options - 1}")

    if manifold.kind == "board":
        slots = SlotInference(1, True, tuple(1.0 for _ in labelled))
    else:
        slots = infer_slots([len(input_objects[j]) for j in range(len(labelled))],
                            [len(option_objects[j][int(answers[j])]) for j in range(len(labelled))])
    return EncodedPuzzle(slots, CodeSets(in_codes, in_mask), opt_codes, opt_mask, option_ink, answers,
                         labelled, input_objects, option_objects)
