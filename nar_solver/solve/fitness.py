"""Distances between predicted boards and options, and the whole objective that the GA maximises.

A prediction is a set of object codes. It is compared with each option either in code space
(``code``: a Chamfer distance between the predicted and the option's object codes, no decoding)
or in pixel space after decoding every predicted object and compositing them by ink union
(``pixel-mse``, ``pixel-bce``, ``ssim``). Which one the solver uses by default was chosen by
measurement (docs/solver.md).

Fitness uses the examples, where the right option is known: for each example the log-probability
of the right option under a softmax over negative distances (divided by a temperature), summed
over examples. It rewards preferring the right option over the other three, not closeness alone.
:class:`Objective` adds the rest: an optional Occam cost of the chromosome and a pull toward
matching the right option exactly (its weight depends on the manifold: :data:`MATCH_WEIGHTS`).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from nar_solver.errors import NarError
from nar_solver.solve.encoding import CodeSets, EncodedPuzzle
from nar_solver.solve.manifold import LatentManifold
from nar_solver.solve.transform import GenomeLayout, apply_genomes

DISTANCES: tuple[str, ...] = ("code", "pixel-mse", "pixel-bce", "ssim")
#: Softmax temperature per distance, in that distance's units (chosen by measurement).
TEMPERATURES: dict[str, float] = {"code": 0.05, "pixel-mse": 0.002, "pixel-bce": 0.01, "ssim": 0.02}
#: Default match weight per manifold kind. With positions from perception (objects-xy), pulling the
#: prediction onto the right option fixes genes the examples leave free; with entangled codes
#: (objects, board) the exact match is out of reach and the pull costs accuracy (docs/solver.md).
MATCH_WEIGHTS: dict[str, float] = {"objects-xy": 0.3, "objects": 0.0, "board": 0.0}
#: Cost of an object with no counterpart (squared normalised code distance).
MISSING_COST = 1.0
_BIG = 1e9


def chamfer_distances(pred: CodeSets, options: torch.Tensor, option_mask: torch.Tensor,
                      missing: float = MISSING_COST) -> torch.Tensor:
    """Symmetric Chamfer distance between predicted sets and option sets, per object.

    ``pred`` codes (P, B, N, d) with mask (B, N); ``options`` (B, O, M, d) with mask (B, O, M).
    Each predicted object costs its squared distance to the nearest option object and vice versa;
    an unmatched count difference costs ``missing`` per object. Divided by the number of objects
    in both sets, so puzzles with more objects are on the same scale. Returns (P, B, O).
    """
    diff = pred.codes[:, :, None, :, None, :] - options[None, :, :, None, :, :]      # (P,B,O,N,M,d)
    d2 = diff.pow(2).sum(-1)
    pmask = pred.mask[None, :, None, :, None]                                        # (1,B,1,N,1)
    omask = option_mask[None, :, :, None, :]                                         # (1,B,O,1,M)
    to_option = d2.masked_fill(~omask, _BIG).min(-1).values                         # (P,B,O,N)
    to_option = torch.where(to_option >= _BIG, torch.full_like(to_option, missing), to_option)
    to_option = (to_option * pred.mask[None, :, None, :]).sum(-1)
    to_pred = d2.masked_fill(~pmask, _BIG).min(-2).values                           # (P,B,O,M)
    to_pred = torch.where(to_pred >= _BIG, torch.full_like(to_pred, missing), to_pred)
    to_pred = (to_pred * option_mask[None]).sum(-1)
    n = pred.mask.sum(-1).to(d2.dtype)[None, :, None]                                # (1,B,1)
    m = option_mask.sum(-1).to(d2.dtype)[None]                                       # (1,B,O)
    total = to_option + to_pred + missing * (n - m).abs()
    return total / (n + m).clamp_min(1.0)


def composite_ink(manifold: LatentManifold, pred: CodeSets) -> torch.Tensor:
    """Decode every real predicted object in ONE forward pass and take the ink union (max) per
    board. (P, B, N, d) -> (P, B, 64, 64) ink probabilities.

    Identical codes are decoded once: elites, unchanged objects and copies repeat across a
    population, and the decoder is nearly all of a pixel distance's cost (docs/solver.md)."""
    p, b, n, _ = pred.codes.shape
    mask = pred.mask[None].expand(p, b, n)
    codes = pred.codes[mask]                                                         # (R, d)
    if codes.shape[0] > 1:
        unique, inverse = torch.unique(codes, dim=0, return_inverse=True)
        images = manifold.decode(unique)[inverse] if unique.shape[0] < codes.shape[0] else manifold.decode(codes)
    else:
        images = manifold.decode(codes)                                              # (R,64,64)
    canvas = torch.zeros((p, b, n, *images.shape[-2:]), device=images.device, dtype=images.dtype)
    canvas[mask] = images
    return canvas.amax(dim=2)


def _ssim_map(x: torch.Tensor, y: torch.Tensor, window: int = 7) -> torch.Tensor:
    """Mean SSIM of images in [0, 1] with scikit-image's defaults (uniform 7x7 window, sample
    covariance, K1=0.01, K2=0.03, border of half a window left out). x, y (N, H, W) -> (N,)."""
    x, y = x[:, None].double(), y[:, None].double()
    pool = lambda t: F.avg_pool2d(t, window, stride=1)  # noqa: E731 - a one-line local helper
    n = window * window
    cov = n / (n - 1)
    ux, uy = pool(x), pool(y)
    vx = cov * (pool(x * x) - ux * ux)
    vy = cov * (pool(y * y) - uy * uy)
    vxy = cov * (pool(x * y) - ux * uy)
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    return s.mean(dim=(1, 2, 3)).to(x.dtype if x.dtype != torch.float64 else torch.float32)


def pixel_distances(pred_ink: torch.Tensor, option_ink: torch.Tensor, distance: str) -> torch.Tensor:
    """(P, B, H, W) predictions vs (B, O, H, W) options -> (P, B, O)."""
    p, b = pred_ink.shape[:2]
    o = option_ink.shape[1]
    pred = pred_ink[:, :, None].expand(p, b, o, *pred_ink.shape[-2:])
    target = option_ink[None].expand_as(pred)
    if distance == "pixel-mse":
        return (pred - target).pow(2).mean(dim=(-1, -2))
    if distance == "pixel-bce":
        return F.binary_cross_entropy(pred.clamp(1e-4, 1 - 1e-4), target, reduction="none").mean(dim=(-1, -2))
    if distance == "ssim":
        flat = _ssim_map(pred.reshape(-1, *pred.shape[-2:]), target.reshape(-1, *pred.shape[-2:]))
        return (1.0 - flat).reshape(p, b, o)
    raise NarError(f"unknown distance {distance!r}; choose one of {', '.join(DISTANCES)}")


def log_likelihood(distances: torch.Tensor, answers: torch.Tensor, temperature: float) -> torch.Tensor:
    """Sum over examples of log softmax(-distance / T) at the right option. (P, E, O) -> (P,)."""
    logp = F.log_softmax(-distances / temperature, dim=-1)
    index = answers[None, :, None].expand(distances.shape[0], -1, 1)
    return logp.gather(-1, index)[..., 0].sum(-1)


def margins(distances: torch.Tensor, answers: torch.Tensor) -> torch.Tensor:
    """How far the nearest wrong option is beyond the right one, per example: (P, E, O) -> (P, E).
    Positive where the right option wins."""
    right = distances.gather(-1, answers[None, :, None].expand(distances.shape[0], -1, 1))[..., 0]
    wrong = distances.scatter(-1, answers[None, :, None].expand(distances.shape[0], -1, 1), float("inf"))
    return wrong.min(-1).values - right


class Scorer:
    """Distances of whole populations of chromosomes on one encoded puzzle."""

    def __init__(self, encoded: EncodedPuzzle, manifold: LatentManifold, layout: GenomeLayout,
                 distance: str = "code", temperature: float | None = None):
        if distance not in DISTANCES:
            raise NarError(f"unknown distance {distance!r}; choose one of {', '.join(DISTANCES)}")
        self.encoded, self.manifold, self.layout = encoded, manifold, layout
        self.distance = distance
        self.temperature = TEMPERATURES[distance] if temperature is None else float(temperature)
        e = encoded.n_examples
        self._examples = (encoded.example_inputs(), encoded.options[:e], encoded.option_mask[:e],
                          encoded.option_ink[:e])
        self._query = (encoded.query_inputs(), encoded.options[e:], encoded.option_mask[e:],
                       encoded.option_ink[e:])

    def with_distance(self, distance: str, temperature: float | None = None) -> "Scorer":
        """The same puzzle and chromosome layout scored with another distance."""
        return Scorer(self.encoded, self.manifold, self.layout, distance, temperature)

    def predict(self, genomes: torch.Tensor, query: bool = False) -> CodeSets:
        inputs = (self._query if query else self._examples)[0]
        return apply_genomes(self.layout, genomes, inputs)

    @torch.inference_mode()
    def distances(self, genomes: torch.Tensor, query: bool = False) -> torch.Tensor:
        """(P, size) chromosomes -> (P, B, O) distances on the examples (B = E) or the query (B = 1)."""
        inputs, options, option_mask, option_ink = self._query if query else self._examples
        pred = apply_genomes(self.layout, genomes.to(inputs.codes.device, torch.float32), inputs)
        if self.distance == "code":
            return chamfer_distances(pred, options, option_mask)
        return pixel_distances(composite_ink(self.manifold, pred), option_ink, self.distance)

    @torch.inference_mode()
    def decoded(self, genomes: torch.Tensor) -> torch.Tensor:
        """(P, size) chromosomes -> (P, E+1, 64, 64): the decoded predictions of every example and
        the query (last), in one decoder pass."""
        inputs = self.encoded.inputs
        return composite_ink(self.manifold, apply_genomes(self.layout, genomes.to(inputs.codes.device,
                                                                                   torch.float32), inputs))

    @torch.inference_mode()
    def board_distances(self, genomes: torch.Tensor, distance: str | None = None,
                        ink: torch.Tensor | None = None) -> torch.Tensor:
        """(P, size) -> (P, E+1, O) distances of the examples and the query (last) at once, in
        ``distance`` (default: this scorer's); pixel distances decode once (or use ``ink``, the
        output of :meth:`decoded`)."""
        distance = distance or self.distance
        enc = self.encoded
        if distance == "code":
            pred = apply_genomes(self.layout, genomes.to(enc.inputs.codes.device, torch.float32), enc.inputs)
            return chamfer_distances(pred, enc.options, enc.option_mask)
        ink = self.decoded(genomes) if ink is None else ink
        return pixel_distances(ink, enc.option_ink, distance)

    @torch.inference_mode()
    def separations(self, distance: str | None = None) -> torch.Tensor:
        """(E,) distance from each example's right option to its nearest other option, in
        ``distance`` (default: this scorer's; the scale of :mod:`nar_solver.solve.selfcheck`)."""
        from nar_solver.solve.selfcheck import separations

        distance = distance or self.distance
        _, options, option_mask, option_ink = self._examples
        answers = self.encoded.answers
        e = torch.arange(answers.numel(), device=answers.device)
        if distance == "code":
            right = CodeSets(options[e, answers][None], option_mask[e, answers])
            d = chamfer_distances(right, options, option_mask)[0]
        else:
            d = pixel_distances(option_ink[e, answers][None], option_ink, distance)[0]
        return separations(d, answers)


def match_weight(kind: str, configured: float | None = None) -> float:
    """The match weight of a manifold ``kind``: ``configured`` when given, else :data:`MATCH_WEIGHTS`."""
    return MATCH_WEIGHTS.get(kind, 0.0) if configured is None else float(configured)


class Objective:
    """What the GA maximises on one puzzle, for whole populations of chromosomes:

        log-likelihood of the right options (:func:`log_likelihood`)
        - ``match`` x (distances to the right options) / temperature

    Each call also says by how many temperatures the right option wins on each example (the
    search stops early once it wins on all of them by a margin).
    """

    def __init__(self, scorer: Scorer, match: float = 0.0):
        self.scorer, self.layout = scorer, scorer.layout
        self.match = float(match)

    def __call__(self, genomes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(P, size) chromosomes -> (fitness (P,), margins (P, E) in temperatures)."""
        answers, temperature = self.scorer.encoded.answers, self.scorer.temperature
        distances = self.scorer.distances(genomes)
        fit = log_likelihood(distances, answers, temperature)
        if self.match:
            right = distances.gather(-1, answers[None, :, None].expand(distances.shape[0], -1, 1))[..., 0]
            fit = fit - self.match * right.sum(-1) / temperature
        return fit, margins(distances, answers) / temperature
