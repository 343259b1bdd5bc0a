"""NAR programs: the nine primitives, `out`/`clear`, the grammar, validity, and sampling by family.

Semantics (docs/world.md). A program runs on a *working board* that starts as the input. A primitive
rewrites every object of the working board; `out` appends a copy of the working board to the
output; `clear` resets the working board to the original input. Shifts clamp at the edge.

Design: :func:`run_program` never fails on a grammatical program; it returns the output as a
:class:`Board` multiset (all emitted copies), which may hold two objects in one cell.
:func:`is_valid_example` is the single place that decides whether an (input, program) pair makes
a well-formed example.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from nar_solver.world.board import GRID, Board, Obj

SHIFTS: tuple[str, ...] = ("shiftright", "shiftleft", "shiftup", "shiftdown")
CONVERSIONS: tuple[str, ...] = ("to-square", "to-circle", "to-triangle", "to-delta")
PRIMITIVES: tuple[str, ...] = SHIFTS + CONVERSIONS + ("flip",)
CONTROL: tuple[str, ...] = ("out", "clear")
TOKENS: tuple[str, ...] = PRIMITIVES + CONTROL
MAX_OUTS = 3

FAMILIES: tuple[str, ...] = ("shift1", "shift", "shape", "mixed")
#: Default number of primitives (control tokens not counted) per family, drawn uniformly.
DEFAULT_LENGTHS: dict[str, tuple[int, int]] = {
    "shift1": (1, 1), "shift": (1, 3), "shape": (1, 3), "mixed": (1, 3),
}

_MOVES = {"shiftright": (1, 0), "shiftleft": (-1, 0), "shiftup": (0, -1), "shiftdown": (0, 1)}
_TARGET = {"to-square": "square", "to-circle": "circle", "to-triangle": "triangle", "to-delta": "delta"}
_FLIP = {"triangle": "delta", "delta": "triangle"}
_INVERSE = {"shiftright": "shiftleft", "shiftleft": "shiftright", "shiftup": "shiftdown", "shiftdown": "shiftup"}
_CONVERSION_SET = frozenset(CONVERSIONS)
_PRIMITIVE_SET = frozenset(PRIMITIVES)


def _clamp(v: int) -> int:
    return 0 if v < 0 else GRID - 1 if v >= GRID else v


def apply_primitive(name: str, board: Board) -> Board:
    """Apply one primitive to every object of ``board``."""
    if name in _MOVES:
        dx, dy = _MOVES[name]
        return Board(tuple(Obj(o.shape, _clamp(o.x + dx), _clamp(o.y + dy)) for o in board.objects))
    if name in _TARGET:
        target = _TARGET[name]
        return Board(tuple(Obj(target, o.x, o.y) for o in board.objects))
    if name == "flip":
        return Board(tuple(Obj(_FLIP.get(o.shape, o.shape), o.x, o.y) for o in board.objects))
    raise ValueError(f"unknown primitive {name!r}; primitives: {', '.join(PRIMITIVES)}")


def run_program(tokens: Sequence[str], board: Board) -> Board:
    """The output of ``tokens`` on ``board``: every emitted copy, as one (possibly colliding) multiset.

    Raises ValueError if ``tokens`` is not a grammatical program.
    """
    if not is_valid_program(tokens):
        raise ValueError(f"not a valid program: {' '.join(tokens) or '<empty>'}")
    return Board(tuple(obj for copy in emitted_boards(tokens, board) for obj in copy.objects))


def emitted_boards(tokens: Sequence[str], board: Board) -> list[Board]:
    """The working board at each `out`, in order (no grammar check)."""
    working, emitted = board, []
    for token in tokens:
        if token == "out":
            emitted.append(working)
        elif token == "clear":
            working = board
        else:
            working = apply_primitive(token, working)
    return emitted


def is_valid_program(tokens: Sequence[str]) -> bool:
    """The NAR grammar: known tokens; last token `out`; no `out out`; `clear` only right after
    `out`; no two shape conversions next to each other; at most three `out`."""
    if not tokens or tokens[-1] != "out":
        return False
    previous = None
    outs = 0
    for token in tokens:
        if token == "out":
            if previous == "out":
                return False
            outs += 1
        elif token == "clear":
            if previous != "out":
                return False
        elif token in _PRIMITIVE_SET:
            if token in _CONVERSION_SET and previous in _CONVERSION_SET:
                return False
        else:
            return False
        previous = token
    return outs <= MAX_OUTS


def count_outs(tokens: Sequence[str]) -> int:
    return sum(1 for t in tokens if t == "out")


def primitive_count(tokens: Sequence[str]) -> int:
    """Program length as used by sampling: the number of primitives (control tokens not counted)."""
    return sum(1 for t in tokens if t in _PRIMITIVE_SET)


def is_valid_example(tokens: Sequence[str], board: Board) -> bool:
    """True when ``tokens`` on ``board`` makes a well-formed example: a grammatical program with at
    most three `out`, an input with distinct cells, and an output of |input| x outs objects in
    distinct cells."""
    if not is_valid_program(tokens) or not board.has_distinct_cells:
        return False
    output = run_program(tokens, board)
    return len(output) == len(board) * count_outs(tokens) and output.has_distinct_cells


# ----------------------------------------------------------------------------------------------
# Sampling


def _check_family(family: str) -> None:
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; families: {', '.join(FAMILIES)}")


def _draw_primitives(rng: np.random.Generator, pool: Sequence[str], length: int) -> list[str]:
    """``length`` primitives from ``pool`` avoiding pairs that undo or duplicate each other:
    adjacent conversions (ungrammatical), `flip flip`, and a shift followed by its inverse."""
    out: list[str] = []
    while len(out) < length:
        token = pool[int(rng.integers(len(pool)))]
        prev = out[-1] if out else None
        if prev is not None and (
            (token in _CONVERSION_SET and prev in _CONVERSION_SET)
            or (token == "flip" and prev == "flip")
            or _INVERSE.get(prev) == token
        ):
            continue
        out.append(token)
    return out


def _with_branches(rng: np.random.Generator, prims: list[str], outs: int | None = None) -> list[str]:
    """Add extra `out` tokens (each maybe followed by `clear`) between primitives, then the final `out`.

    Without ``outs``, half the programs get no branch, 35% one and 15% two (at most one per gap);
    an extra `out` may stand first (it emits the input itself).
    """
    if outs is None:
        draw = rng.random()
        n_extra = 0 if draw < 0.5 else 1 if draw < 0.85 else 2
        n_extra = min(n_extra, len(prims))
    else:
        n_extra = outs - 1
    gaps = sorted(int(g) for g in rng.choice(len(prims), size=n_extra, replace=False)) if n_extra else []
    tokens: list[str] = []
    for i, prim in enumerate(prims):
        if i in gaps:
            tokens.append("out")
            if i > 0 and rng.random() < 0.5:  # clear at the start would be a no-op
                tokens.append("clear")
        tokens.append(prim)
    tokens.append("out")
    return tokens


def sample_program(
    rng: np.random.Generator, family: str, length: int | None = None, outs: int | None = None,
) -> list[str]:
    """A random grammatical program of ``family``.

    ``length`` is the number of primitives (control tokens not counted); None draws it uniformly
    from :data:`DEFAULT_LENGTHS`. Families: ``shift1`` one shift; ``shift`` shifts only; ``shape``
    conversions and flip; ``mixed`` any primitives, about half with an `out`/`clear` branch.
    ``outs`` fixes the number of `out` tokens (only ``mixed`` programs have more than one; it
    needs ``length >= outs - 1``). Programs that leave an ordinary board unchanged are redrawn
    (see :data:`_PROBE`).
    """
    _check_family(family)
    if length is None:
        low, high = DEFAULT_LENGTHS[family]
        if outs is not None and family == "mixed":
            low = max(low, outs - 1)
        length = int(rng.integers(low, max(low, high) + 1))
    if length < 1:
        raise ValueError(f"program length must be at least 1, got {length}")
    if family == "shift1" and length != 1:
        raise ValueError(f"family shift1 has programs of length 1 only, got {length}")
    if outs is not None:
        top = 1 if family != "mixed" else min(MAX_OUTS, length + 1)
        if not 1 <= outs <= top:
            raise ValueError(f"a {family} program of length {length} has 1-{top} `out` tokens, not {outs}")
    for _ in range(_PROBE_TRIES):
        if family in ("shift1", "shift"):
            tokens = _draw_primitives(rng, SHIFTS, length) + ["out"]
        elif family == "shape":
            tokens = _draw_primitives(rng, CONVERSIONS + ("flip",), length) + ["out"]
        else:
            tokens = _with_branches(rng, _draw_primitives(rng, PRIMITIVES, length), outs)
        if run_program(tokens, _PROBE) != _PROBE:
            return tokens
    raise ValueError(f"no {family} program of length {length} changes a board")  # pragma: no cover


#: An ordinary board: one letter in the centre. Sampled programs must change it, which rules out
#: programs that only act on rare content (``flip`` alone touches only triangles and deltas) or
#: undo themselves (``shiftright flip shiftleft``). Puzzles built on such programs would have to
#: pick unusual inputs, and that choice would hint at the answer.
_PROBE = Board((Obj("b", 1, 1),))
_PROBE_TRIES = 1000
