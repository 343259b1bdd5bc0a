"""The self-check behind ``examples_solved``: does a rule *reproduce* each example's right option?

A rule is fitted to the six examples, so the right option merely being the nearest of four is
weak evidence: on the ``board`` manifold the GA moves ten free dimensions until each right option is
a little nearer than the others, while the decoded predictions look nothing like them (puzzles/
shape-a claimed 6/6 at a query confidence of 0.46). An example counts as solved only when

- its right option is strictly the nearest of the options (a tie is not a win), and
- the prediction lies within :data:`REPRODUCE_FRACTION` of the distance between the right option
  and its nearest other option. The distances are squared (code Chamfer, pixel MSE), so a quarter
  means within half the Euclidean gap: nearer the right option than any wrong option could be.

A rule that reproduces the right options (objects-xy: a prediction 0.01 from the right option,
options 0.05 or more apart) passes; one that only leans toward them does not.

That test is for ``objects-xy``. On the pure latent manifolds (``objects``, ``board``) a code never
comes back exactly (half of the right answers said 0/6), so there an example counts when the
rule's *decoded* prediction lies strictly nearest, in pixels, to the right option
(:func:`nearest_mask`, applied by ``solver.rule_solution``): the prediction is drawn and looks more
like the right option than like any other.
"""
from __future__ import annotations

import torch

#: Largest (prediction to right option) / (right option to nearest other option) distance ratio of
#: a solved example.
REPRODUCE_FRACTION = 0.25


def separations(option_distances: torch.Tensor, answers: torch.Tensor) -> torch.Tensor:
    """(E, O) distances from each example's right option to every option -> (E,) distance to the
    nearest *other* option."""
    e = torch.arange(answers.numel(), device=answers.device)
    d = option_distances.clone()
    d[e, answers] = float("inf")
    return d.min(-1).values


def solved_mask(distances: torch.Tensor, answers: torch.Tensor, separation: torch.Tensor,
                fraction: float = REPRODUCE_FRACTION) -> torch.Tensor:
    """(E, O) prediction-to-option distances -> (E,) bool: right option strictly nearest and
    reproduced. Strictly: when options tie (a blank puzzle's identical options) the right one is
    not nearer than the others, and argmin's first-on-ties would count it solved whenever it is
    option 0."""
    e = torch.arange(answers.numel(), device=answers.device)
    right = distances[e, answers]
    others = distances.clone()
    others[e, answers] = float("inf")
    return (right < others.min(-1).values) & (right <= fraction * separation)


def nearest_mask(distances: torch.Tensor, answers: torch.Tensor) -> torch.Tensor:
    """(E, O) prediction-to-option distances -> (E,) bool: the right option strictly nearest
    (the self-check of the pure latent manifolds, in pixels of the decoded prediction)."""
    e = torch.arange(answers.numel(), device=answers.device)
    others = distances.clone()
    others[e, answers] = float("inf")
    return distances[e, answers] < others.min(-1).values


def ratios(distances: torch.Tensor, answers: torch.Tensor, separation: torch.Tensor) -> torch.Tensor:
    """(E,) distance to the right option over that option's separation (0 = exact reproduction)."""
    e = torch.arange(answers.numel(), device=answers.device)
    return distances[e, answers] / separation.clamp_min(1e-12)
