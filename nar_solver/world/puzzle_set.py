"""A puzzle set as a list of entries, each read on its own, so one unreadable puzzle spoils only itself.

:func:`nar_solver.world.formats.load_puzzles` reads a whole set or fails; ``evaluate`` and ``tune``
instead want to solve every puzzle that can be read and report the others as skipped
(docs/solver.md, "Evaluating"). An entry names one puzzle (a puzzle folder, or problem ``i`` of a
few-shot-nar problems JSON) and reads it only when asked. Problems with the set itself (no such
path, a problems JSON that is not a list, no image folder) still fail at once: there is no puzzle
to skip.

A folder of puzzle folders can also hold folders with PNGs but no puzzle.json: ``generate`` writes
a puzzle's images first and its puzzle.json last, so that is what a generate killed midway leaves.
They are listed in :attr:`PuzzleSet.incomplete` instead of being passed over silently.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from nar_solver.errors import PuzzleError
from nar_solver.world.formats import (PUZZLE_JSON, fewshot_problem, has_png, natural_key, read_json,
                                      detect_layout, fewshot_files, load_puzzle)
from nar_solver.world.puzzle import Puzzle


@dataclass(frozen=True)
class PuzzleEntry:
    """One puzzle of a set: ``key`` is unique in the set (folder name, or few-shot problem index),
    ``source`` the file or folder to name in messages, ``read`` loads it (raising PuzzleError)."""

    key: str
    source: Path
    read: Callable[[], Puzzle] = field(repr=False, compare=False)

    @classmethod
    def of(cls, puzzle: Puzzle, index: int) -> "PuzzleEntry":
        """An entry for a puzzle already in memory (keyed by its position in the set)."""
        return cls(f"{index}:{puzzle.id}", Path(str(puzzle.id)), lambda: puzzle)


@dataclass
class PuzzleSet:
    """The entries of a set, in order, and the folders that look like unfinished puzzles."""

    entries: list[PuzzleEntry]
    incomplete: list[Path] = field(default_factory=list)


def _folder_entry(folder: Path) -> PuzzleEntry:
    return PuzzleEntry(folder.name, folder, lambda: load_puzzle(folder))


def _fewshot_entries(problems_json: Path, images_dir: Path, limit: int | None) -> list[PuzzleEntry]:
    data = read_json(problems_json)
    if not isinstance(data, list):
        raise PuzzleError("expected a JSON list of problems", problems_json)
    if not images_dir.is_dir():
        raise PuzzleError("no such image folder", images_dir)
    count = len(data) if limit is None else min(limit, len(data))

    def entry(i: int) -> PuzzleEntry:
        return PuzzleEntry(str(i), problems_json, lambda: fewshot_problem(data[i], i, images_dir, problems_json))
    return [entry(i) for i in range(count)]


def fewshot_set(problems_json: str | Path, images_dir: str | Path, limit: int | None = None) -> PuzzleSet:
    """The entries of a few-shot-nar layout given as its problems JSON and image folder."""
    return PuzzleSet(_fewshot_entries(Path(problems_json), Path(images_dir), limit))


def puzzle_set(path: str | Path, limit: int | None = None) -> PuzzleSet:
    """The entries under ``path`` (any layout :func:`~nar_solver.world.formats.load_puzzles` reads),
    the first ``limit`` of them when given."""
    path = Path(path)
    layout = detect_layout(path)
    if layout == "puzzle":
        folder = path.parent if path.is_file() else path
        return PuzzleSet([_folder_entry(folder)][:limit])
    if layout == "folders":
        children = sorted((c for c in path.iterdir() if c.is_dir()), key=natural_key)
        complete = [c for c in children if (c / PUZZLE_JSON).is_file()]
        incomplete = [c for c in children if not (c / PUZZLE_JSON).exists() and has_png(c)]
        return PuzzleSet([_folder_entry(c) for c in complete[:limit]], incomplete)
    return PuzzleSet(_fewshot_entries(*fewshot_files(path), limit))
