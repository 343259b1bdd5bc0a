"""Closed-form analogies in code space: what the examples say directly about the transformation.

- :func:`slot_deltas` is *latent arithmetic*: the mean code difference between the right output's
  objects and the input's objects, per slot. It is a baseline on its own.
- :func:`start_genomes` turns the examples into starting chromosomes for the GA (a strong solver
  starts from what the data says): the identity, the latent-arithmetic deltas, one exact solution
  per single-object example, and a per-dimension fit that chooses between *shift* and *set* on
  matched (input, output) object pairs.

Slots: with S > 1 an example's output holds S copies of every input object. For a one-object
example the S output objects give S deltas directly; their order differs between examples, so
they are aligned to a reference example by optimal assignment before averaging.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from nar_solver.solve.encoding import EncodedPuzzle
from nar_solver.solve.transform import GenomeLayout


def _example_sets(enc: EncodedPuzzle) -> list[tuple[np.ndarray, np.ndarray]]:
    """(input codes (K, d), right output codes (M, d)) per example, as numpy."""
    ins, outs = enc.example_inputs(), enc.right_outputs()
    sets = []
    for e in range(enc.n_examples):
        sets.append((ins.codes[e][ins.mask[e]].cpu().numpy().astype(np.float64),
                     outs.codes[e][outs.mask[e]].cpu().numpy().astype(np.float64)))
    return sets


def _single_object_deltas(enc: EncodedPuzzle) -> list[np.ndarray]:
    """(S, d) deltas of every example with exactly one input object and S output objects."""
    s = enc.n_slots
    return [out - inp[0] for inp, out in _example_sets(enc) if len(inp) == 1 and len(out) == s]


def _align(reference: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``rows`` reordered to best match ``reference`` row by row (least squared distance)."""
    cost = ((reference[:, None, :] - rows[None, :, :]) ** 2).sum(-1)
    _, order = linear_sum_assignment(cost)
    return rows[order]


def slot_deltas(enc: EncodedPuzzle) -> np.ndarray:
    """Latent arithmetic: the mean output-minus-input code difference per slot, (S, d).

    S = 1: mean over examples of (mean output code - mean input code), exact for a pure shift in
    code space whatever the number of objects. S > 1: the aligned deltas of single-object
    examples; without any, every slot gets the set-level mean difference.
    """
    s, d = enc.n_slots, enc.inputs.codes.shape[-1]
    set_level = [out.mean(0) - inp.mean(0) for inp, out in _example_sets(enc) if len(inp) and len(out)]
    mean_level = np.mean(set_level, axis=0) if set_level else np.zeros(d)
    if s == 1:
        return mean_level[None, :]
    singles = _single_object_deltas(enc)
    if not singles:
        return np.repeat(mean_level[None, :], s, axis=0)
    reference = singles[0]
    return np.mean([reference] + [_align(reference, x) for x in singles[1:]], axis=0)


def matched_pairs(enc: EncodedPuzzle, deltas: np.ndarray) -> list[list[tuple[np.ndarray, np.ndarray]]]:
    """Per slot, (input code, output code) pairs over all examples: every input object moved by
    each slot's delta, matched to the right output's objects by optimal assignment."""
    s = deltas.shape[0]
    pairs: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in range(s)]
    for inp, out in _example_sets(enc):
        if not len(inp) or not len(out):
            continue
        predicted = (inp[None, :, :] + deltas[:, None, :]).reshape(-1, inp.shape[1])   # slot-major
        cost = ((predicted[:, None, :] - out[None, :, :]) ** 2).sum(-1)
        rows, cols = linear_sum_assignment(cost)
        for r, c in zip(rows, cols):
            pairs[r // len(inp)].append((inp[r % len(inp)], out[c]))
    return pairs


def fitted_genome(enc: EncodedPuzzle, layout: GenomeLayout, deltas: np.ndarray,
                  set_ratio: float = 0.5) -> np.ndarray:
    """Per slot and dimension, *shift* (mean difference) or *set* (mean output), whichever leaves
    the smaller spread on matched pairs; set only when clearly better (``set_ratio``)."""
    pairs = matched_pairs(enc, deltas)
    delta = deltas.copy()
    set_mask = np.zeros_like(deltas, dtype=bool)
    set_value = np.full_like(deltas, 0.5)
    for slot, items in enumerate(pairs):
        if len(items) < 2:
            continue
        x = np.stack([a for a, _ in items])
        y = np.stack([b for _, b in items])
        shift_spread = (y - x).var(0)
        set_spread = y.var(0)
        delta[slot] = (y - x).mean(0)
        set_mask[slot] = set_spread < set_ratio * shift_spread
        set_value[slot] = y.mean(0)
    return layout.from_parts(delta, set_mask, set_value)


def start_genomes(enc: EncodedPuzzle, layout: GenomeLayout, limit: int) -> list[np.ndarray]:
    """Up to ``limit`` data-driven starting chromosomes, most general first."""
    deltas = slot_deltas(enc)
    starts = [fitted_genome(enc, layout, deltas), layout.from_parts(deltas), layout.identity()]
    singles = _single_object_deltas(enc)
    reference = singles[0] if singles else None
    for x in singles:
        x = _align(reference, x) if reference is not None else x
        starts.append(layout.from_parts(x))
    return starts[:max(0, limit)]
