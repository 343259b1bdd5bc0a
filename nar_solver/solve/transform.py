"""The chromosome: per slot, one transformation applied to every object's (normalised) code.

For each slot s and each searchable latent dimension j there are five real genes:

- ``delta``: an additive shift of the code (a move along a disentangled axis: a shift);
- ``switch`` and ``value``: when switch > 0.5 the dimension is *set* to value whatever the source
  (a conversion such as to-square sets the shape dimensions regardless of the source shape);
- ``low`` and ``high``: a clamp interval (ordered on use). Composed clamped shifts (shiftright
  then shiftleft sends column 2 to 1 but leaves 0 and 1) are clamps, not pure shifts.

    code'_j = value_j                                   if switch_j > 0.5
            = clip(code_j + delta_j, min(low_j, high_j), max(low_j, high_j))   otherwise

and the result is clipped to [0, 1], the range the encoder produces on training data. Every object
of the input yields one object per slot, so a prediction holds S x K objects.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from nar_solver.solve.encoding import CodeSets

GENES: tuple[str, ...] = ("delta", "switch", "value", "low", "high")
DELTA, SWITCH, VALUE, LOW, HIGH = range(len(GENES))
#: Allowed range of each gene kind, in normalised code units.
GENE_BOUNDS: dict[str, tuple[float, float]] = {
    "delta": (-1.0, 1.0), "switch": (0.0, 1.0), "value": (0.0, 1.0), "low": (0.0, 1.0), "high": (0.0, 1.0),
}


@dataclass(frozen=True)
class GenomeLayout:
    """Where each gene lives in a flat chromosome of ``slots * 5 * dims`` floats (slot-major)."""

    slots: int
    dims: int

    @property
    def size(self) -> int:
        return self.slots * len(GENES) * self.dims

    def lower(self) -> np.ndarray:
        return self._bound(0)

    def upper(self) -> np.ndarray:
        return self._bound(1)

    def _bound(self, side: int) -> np.ndarray:
        per_kind = np.array([GENE_BOUNDS[g][side] for g in GENES], dtype=np.float64)
        return np.broadcast_to(per_kind[None, :, None], (self.slots, len(GENES), self.dims)).reshape(-1).copy()

    def view(self, genome: np.ndarray) -> np.ndarray:
        """(..., size) -> (..., slots, 5, dims)."""
        return np.asarray(genome).reshape(*np.shape(genome)[:-1], self.slots, len(GENES), self.dims)

    def identity(self) -> np.ndarray:
        """The chromosome that changes nothing."""
        g = np.zeros((self.slots, len(GENES), self.dims))
        g[:, VALUE] = 0.5
        g[:, HIGH] = 1.0
        return g.reshape(-1)

    def from_parts(self, delta: np.ndarray | None = None, set_mask: np.ndarray | None = None,
                   set_value: np.ndarray | None = None) -> np.ndarray:
        """A chromosome from per-slot deltas (slots, dims) and optional set dimensions/values."""
        g = self.view(self.identity()).copy()
        if delta is not None:
            g[:, DELTA] = np.clip(np.broadcast_to(delta, (self.slots, self.dims)), *GENE_BOUNDS["delta"])
        if set_mask is not None:
            g[:, SWITCH] = np.where(np.broadcast_to(set_mask, (self.slots, self.dims)), 1.0, 0.0)
            if set_value is not None:
                g[:, VALUE] = np.clip(np.broadcast_to(set_value, (self.slots, self.dims)), 0.0, 1.0)
        return g.reshape(-1)


def apply_genomes(layout: GenomeLayout, genomes: torch.Tensor, inputs: CodeSets) -> CodeSets:
    """Transform every input object by every slot of every chromosome.

    ``genomes`` (P, size), ``inputs`` (B, K, dims) -> predicted sets with codes (P, B, S*K, dims)
    (slot-major within a set) and mask (B, S*K).
    """
    p = genomes.shape[0]
    s, d = layout.slots, layout.dims
    g = genomes.reshape(p, s, len(GENES), d).to(inputs.codes.dtype)
    delta, switch, value, low, high = (g[:, :, i, None, None, :] for i in range(len(GENES)))  # (P,S,1,1,d)
    x = inputs.codes[None, None] + delta                                          # (P,S,B,K,d)
    x = torch.minimum(torch.maximum(x, torch.minimum(low, high)), torch.maximum(low, high))
    x = torch.where(switch > 0.5, value.expand_as(x), x).clamp(0.0, 1.0)
    b, k = inputs.mask.shape
    codes = x.permute(0, 2, 1, 3, 4).reshape(p, b, s * k, d)
    mask = inputs.mask[:, None, :].expand(b, s, k).reshape(b, s * k)
    return CodeSets(codes, mask)
