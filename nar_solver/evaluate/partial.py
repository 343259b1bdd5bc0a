"""The ``.partial.jsonl`` beside a results file: finished work, one line each, as it finishes.

``evaluate`` and ``tune`` write their JSON report once, at the end (atomically). Until then every
finished puzzle (or grid point) is appended to ``<json-out>.partial.jsonl`` and flushed to disk
(fsync), so a crash, a kill or a signal loses at most the item in progress, and ``--resume``
continues from the file (docs/solver.md, "Evaluating"). The first line is a header naming the
command, the puzzle set and the settings; resuming with other settings is refused, since the
finished items would not be comparable with the rest.

A line cut short by a crash can only be the last one; reading drops it (and rewrites the file
without it, so the next append starts on a fresh line). Any other bad line is an error.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from nar_solver.errors import NarError, from_os_error
from nar_solver.io import atomic_write_text

SUFFIX = ".partial.jsonl"


def partial_path(json_out: str | Path) -> Path:
    """``eval.json`` -> ``eval.json.partial.jsonl`` (beside it)."""
    json_out = Path(json_out)
    return json_out.with_name(json_out.name + SUFFIX)


def _line(record: dict) -> str:
    return json.dumps(record, sort_keys=True, allow_nan=False) + "\n"


@dataclass
class PartialLog:
    """One partial file: start it, or resume it; append finished items; remove it when done."""

    path: Path

    def exists(self) -> bool:
        return self.path.exists()

    def start(self, header: dict) -> None:
        """A new file holding only the header (replacing any old one)."""
        atomic_write_text(self.path, _line({"kind": "header", **header}))

    def resume(self, header: dict) -> list[dict]:
        """The records of an interrupted run with the same ``header`` (a one-line error otherwise)."""
        if not self.path.is_file():
            raise NarError(f"nothing to resume: no {self.path.name} beside it (the run finished, or never "
                           "started with this --json-out)", self.path.with_name(self.path.name[:-len(SUFFIX)]))
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines(keepends=True)
        except (OSError, UnicodeDecodeError) as err:
            raise NarError(f"cannot read partial results ({' '.join(str(err).split())})", self.path) from None
        records = []
        for number, text in enumerate(lines, 1):
            try:
                record = json.loads(text)
                if not isinstance(record, dict) or not text.endswith("\n"):
                    raise ValueError("not a finished record")
            except ValueError:
                if number == len(lines):  # cut short by a crash mid-write: drop it
                    atomic_write_text(self.path, "".join(lines[:-1]))
                    break
                raise NarError(f"line {number} is not a JSON record (not a partial results file?)",
                               self.path) from None
            records.append(record)
        if not records or records[0].get("kind") != "header":
            raise NarError("no header line (not a partial results file?)", self.path)
        found, header = records[0], json.loads(json.dumps(header))  # tuples read back as lists
        differ = sorted(k for k in (set(header) | set(found)) - {"kind"} if found.get(k) != header.get(k))
        if differ:
            raise NarError(f"written by a run with other {', '.join(differ)}; resume with the same options, "
                           "or delete it to start afresh", self.path)
        return records[1:]

    def append(self, record: dict) -> None:
        """Add one finished record and make it durable (flush and fsync) before returning."""
        try:
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(_line(record))
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as err:
            raise from_os_error(err, self.path, "cannot write") from None

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
