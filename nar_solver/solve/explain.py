"""A winning chromosome in words: what each slot does, in the terms of the manifold.

- ``objects-xy``: position is explicit, so x and y are described by what they do to the grid's
  columns and rows (``x +1 (shift right)``, ``y set to row 0``, ``x: columns 0,1,2 -> 0,1,1`` for a
  clamp); the shape code by the dimensions the rule sets or moves and by its effect on the
  puzzle's own objects, each named after the nearest of the world's shapes
  (``shape dims 3,7 set -> nearest shape 'square'``).
- ``objects`` and ``board`` (pure latent): the latent dimensions the rule moves, sets or clamps,
  with their sizes in normalised units (1 = the dimension's range on training data), and the name
  of the factor each dimension carries where a probe or metrics report in the model's folder says
  it (:mod:`nar_solver.run.dimension_names`).

Small changes are left out of the words (see :data:`MOVE` and :data:`CLAMP`): the GA starts from
random small deltas, and a dimension moved by 1% of its range does nothing visible.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from nar_solver.solve.transform import DELTA, HIGH, LOW, SWITCH, VALUE
from nar_solver.world.board import GRID

#: Smallest |delta| (normalised units) described as a move.
MOVE = 0.05
#: Smallest narrowing of [0, 1] (either end, normalised units) described as a clamp.
CLAMP = 0.05
#: At most this many latent dimensions are written out per slot (all of them are in the JSON).
MAX_LISTED = 6
_DIRECTIONS = {"x": ("right", "left"), "y": ("down", "up")}
_LINES = {"x": "column", "y": "row"}


@dataclass
class SlotRule:
    """One slot's transformation: ``text`` for people, the rest for programs (``to_json``)."""

    slot: int
    text: str
    axes: dict[str, Any] = field(default_factory=dict)         # objects-xy: "x"/"y" -> mapping
    shape: dict[str, Any] | None = None                        # objects-xy: shape code's effect
    dimensions: list[dict[str, Any]] = field(default_factory=list)  # every described latent change

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _apply(genes: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One slot's genes (5, dims) on codes (N, dims), exactly as transform.apply_genomes."""
    delta, switch, value, low, high = (genes[i] for i in (DELTA, SWITCH, VALUE, LOW, HIGH))
    x = np.minimum(np.maximum(u + delta, np.minimum(low, high)), np.maximum(low, high))
    return np.clip(np.where(switch > 0.5, value, x), 0.0, 1.0)


def _dimension_changes(genes: np.ndarray, columns: range, latent_dims: list[int], spans: np.ndarray,
                       factors: dict[int, str]) -> list[dict[str, Any]]:
    """Every set, moved or clamped dimension among ``columns`` of the chromosome, largest first."""
    changes = []
    for col, dim, span in zip(columns, latent_dims, spans):
        delta, switch, value = float(genes[DELTA, col]), float(genes[SWITCH, col]), float(genes[VALUE, col])
        low, high = sorted((float(genes[LOW, col]), float(genes[HIGH, col])))
        entry: dict[str, Any] = {"dim": int(dim), "factor": factors.get(int(dim))}
        if switch > 0.5:
            entry.update(change="set", value=value, size=1.0)
        elif abs(delta) >= MOVE:
            entry.update(change="shift", delta=delta, latent_delta=delta * float(span), size=abs(delta))
            if low >= CLAMP or high <= 1 - CLAMP:
                entry.update(low=low, high=high)
        elif low >= CLAMP or high <= 1 - CLAMP:
            entry.update(change="clamp", low=low, high=high, size=low + 1 - high)
        else:
            continue
        changes.append(entry)
    return sorted(changes, key=lambda c: (-c["size"], c["dim"]))


def _dimension_words(change: dict[str, Any]) -> str:
    name = f"z{change['dim']}" + (f" ({change['factor']})" if change.get("factor") else "")
    if change["change"] == "set":
        return f"{name} set to {change['value']:.2f}"
    clamp = f" within [{change['low']:.2f}, {change['high']:.2f}]" if "low" in change else ""
    if change["change"] == "shift":
        return f"{name} {change['delta']:+.2f}{clamp}"
    return f"{name} clamped to [{change['low']:.2f}, {change['high']:.2f}]"


def _axis(genes: np.ndarray, col: int, axis: str) -> dict[str, Any] | None:
    """What a position gene group does to the grid's columns (x) or rows (y); None for nothing."""
    cells = np.arange(GRID)
    moved = _apply(genes[:, col:col + 1], (cells / (GRID - 1))[:, None])[:, 0] * (GRID - 1)
    to = np.rint(moved).astype(int)
    out: dict[str, Any] = {"from": cells.tolist(), "to": to.tolist(), "exact": bool(np.abs(moved - to).max() < 0.25)}
    line = _LINES[axis]
    if genes[SWITCH, col] > 0.5:
        out.update(change="set", text=f"{axis} set to {line} {to[0]}")
        return out
    for k in (1, -1, 2, -2):
        if (to == np.clip(cells + k, 0, GRID - 1)).all():
            direction = _DIRECTIONS[axis][0 if k > 0 else 1]
            times = "" if abs(k) == 1 else f" x{abs(k)}"
            out.update(change="shift", shift=k, text=f"{axis} {k:+d} (shift {direction}{times})")
            return out
    if (to == cells).all():
        return None
    out.update(change="map", text=f"{axis}: {line}s {','.join(map(str, cells))} -> {','.join(map(str, to))}")
    return out


def _shape_effect(genes: np.ndarray, sources: np.ndarray, references: np.ndarray, names: list[str]) -> dict:
    """Nearest world shape of each source object's shape code before and after the slot."""
    def nearest(codes: np.ndarray) -> list[str]:
        d = ((codes[:, None, :] - references[None, :, :]) ** 2).sum(-1)
        return [names[i] for i in d.argmin(1)]

    moved = _apply(genes, sources)
    before, after = nearest(sources), nearest(moved)
    mapping: dict[str, str] = {}
    for a, b in zip(before, after):
        mapping.setdefault(a, b)
    targets = sorted(set(mapping.values()))
    return {"mapping": mapping, "nearest": targets[0] if len(targets) == 1 else None,
            "kept": all(a == b for a, b in mapping.items())}


def _dims_list(changes: list[dict[str, Any]]) -> str:
    """'3,7' or '0-6,8' (runs of unnamed dimensions joined); a named one reads '3 (shape)'."""
    parts: list[str] = []
    run: list[int] = []

    def close() -> None:
        if run:
            parts.append(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}" if len(run) > 2
                         else f"{run[0]},{run[1]}")
            run.clear()

    for c in sorted(changes, key=lambda c: c["dim"]):
        if c.get("factor"):
            close()
            parts.append(f"{c['dim']} ({c['factor']})")
        elif run and c["dim"] == run[-1] + 1:
            run.append(c["dim"])
        else:
            close()
            run.append(c["dim"])
    close()
    return ",".join(parts)


def _xy_slot(slot: int, genes: np.ndarray, manifold, sources: np.ndarray, references: np.ndarray,
             names: list[str], factors: dict[int, str]) -> SlotRule:
    rule = SlotRule(slot, "")
    words = []
    for col, axis in ((0, "x"), (1, "y")):
        effect = _axis(genes, col, axis)
        if effect is not None:
            rule.axes[axis] = effect
            words.append(effect["text"])
    latent = [int(d) for d in manifold.active.tolist()]
    shape_genes = genes[:, 2:]
    rule.dimensions = _dimension_changes(genes, range(2, genes.shape[1]), latent,
                                         manifold.span.cpu().numpy(), factors)
    effect = _shape_effect(shape_genes, sources, references, names) if len(sources) else None
    rule.shape = effect
    parts = []
    for kind, label in (("set", "set"), ("shift", "moved"), ("clamp", "clamped")):
        chosen = [c for c in rule.dimensions if c["change"] == kind]
        if chosen:
            parts.append(f"{_dims_list(chosen)} {label}")
    dims = f"shape dims {', '.join(parts)}" if parts else ""
    if effect is not None and not effect["kept"]:
        if effect["nearest"] is not None:
            target = f"nearest shape '{effect['nearest']}'"
        else:
            target = "shapes " + ", ".join(f"{a}->{b}" for a, b in effect["mapping"].items() if a != b)
        words.append(f"{dims} -> {target}" if dims else f"-> {target}")
    elif dims:
        words.append(f"shapes kept ({dims})")
    rule.text = f"slot {slot}: " + (", ".join(words) if words else "no change (a copy)")
    return rule


def _latent_slot(slot: int, genes: np.ndarray, manifold, factors: dict[int, str]) -> SlotRule:
    latent = [int(d) for d in manifold.active.tolist()]
    rule = SlotRule(slot, "")
    rule.dimensions = _dimension_changes(genes, range(genes.shape[1]), latent, manifold.span.cpu().numpy(),
                                         factors)
    listed = [_dimension_words(c) for c in rule.dimensions[:MAX_LISTED]]
    rest = len(rule.dimensions) - len(listed)
    tail = f" and {rest} smaller change{'s' if rest != 1 else ''}" if rest > 0 else ""
    rule.text = f"slot {slot}: " + (", ".join(listed) + tail if listed else "no change (a copy)")
    return rule


def _shape_references(manifold) -> tuple[np.ndarray, list[str]]:
    """Shape codes (normalised, without the position coordinates) of every world shape, centred."""
    from nar_solver.solve.manifold import reference_images
    from nar_solver.world.glyphs import SHAPES

    codes = manifold.encode(reference_images("objects-xy")).cpu().numpy()
    return codes[:, manifold.positions:], list(SHAPES)


def explain_rule(scorer, genome: np.ndarray, factors: dict[int, str] | None = None) -> list[SlotRule]:
    """Per slot of ``genome`` (a chromosome of ``scorer``'s layout), what it does in words."""
    factors = factors or {}
    manifold = scorer.manifold
    genes = scorer.layout.view(np.asarray(genome, dtype=np.float64))          # (S, 5, dims)
    if manifold.positions:
        inputs = scorer.encoded.inputs
        sources = inputs.codes[inputs.mask].cpu().numpy()[:, manifold.positions:]
        references, names = _shape_references(manifold)
        return [_xy_slot(s, genes[s], manifold, sources, references, names, factors)
                for s in range(genes.shape[0])]
    return [_latent_slot(s, genes[s], manifold, factors) for s in range(genes.shape[0])]


def example_margins(distances: torch.Tensor, answers: torch.Tensor, temperature: float) -> list[float]:
    """(E, O) distances -> per example, how far the nearest wrong option is beyond the right one,
    in temperatures (positive: the right option wins)."""
    from nar_solver.solve.fitness import margins

    return (margins(distances[None], answers)[0] / temperature).cpu().numpy().tolist()
