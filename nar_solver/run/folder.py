"""The run folder: its file names, and reading and writing its config and loss log.

Layout of a run folder::

    config.json         the fully resolved TrainConfig
    model.safetensors   VAE weights + latent_low/latent_high (what the solver loads)
    train_state.pt      weights, optimisers, step, RNG states, log window (weights_only loadable)
    losses.jsonl        one row per log window: step, loss, recon, kl, tc, d_loss, d_acc, tc_gaussian, seconds
    ddp.json            under torchrun: the ranks' weight fingerprints at the last save
    figures/            losses.png, reconstructions.png, traversal.png

losses.jsonl grows while the run goes: each window's row is appended and flushed as soon as it is
closed (every ``--log-every`` steps), so ``tail -f`` and ``nar-solver plot`` see a live run. Every
other file is written to a temporary file and renamed. At a checkpoint the log is synced to disk
first, then model.safetensors and train_state.pt: the state is the commit point. A resume rewrites
the log (atomically) with the rows up to the saved step, dropping rows logged after it, which the
resumed run logs again identically; a row torn by a crash mid-append is ignored when reading.
"""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from nar_solver.errors import NarError, from_os_error
from nar_solver.io import atomic_write_json, atomic_write_text, check_writable

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
STATE_FILE = "train_state.pt"
LOSSES_FILE = "losses.jsonl"
DDP_FILE = "ddp.json"
FIGURES_DIR = "figures"


def check_config_file(path: Path) -> None:
    """A run folder's config.json must be a regular file: a FIFO would block the reader forever and
    a link to a device reads without end, so each is named, not reported as missing."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise NarError("no config.json: not a training run folder", path.parent) from None
    except OSError as err:
        raise from_os_error(err, path, "cannot read") from None
    if not stat.S_ISREG(mode):
        kind = "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or \
            stat.S_ISBLK(mode) else "a folder" if stat.S_ISDIR(mode) else "not a regular file"
        raise NarError(f"is {kind}, not a regular file", path)


class RunFolder:
    def __init__(self, path: str | Path):
        self.path = Path(path)

    config = property(lambda self: self.path / CONFIG_FILE)
    weights = property(lambda self: self.path / WEIGHTS_FILE)
    state = property(lambda self: self.path / STATE_FILE)
    losses = property(lambda self: self.path / LOSSES_FILE)
    ddp = property(lambda self: self.path / DDP_FILE)
    figures = property(lambda self: self.path / FIGURES_DIR)

    def check_new(self) -> None:
        """Refuse to start a fresh run over an existing one (that is what --resume is for)."""
        if self.path.exists() and not self.path.is_dir():
            raise NarError("run folder path exists and is not a folder", self.path)
        if self.config.exists() or self.state.exists():
            raise NarError("folder already holds a training run; resume it with --resume or pick another --out",
                           self.path)
        check_writable(self.config)  # a file in the way or a read-only folder fails before any training

    def check_resumable(self) -> None:
        """A resume continues a run exactly, so it needs the saved training state, not only weights."""
        if not self.path.is_dir():
            raise NarError("run folder to resume does not exist", self.path)
        check_config_file(self.config)
        if not self.state.is_file():
            raise NarError(f"no {STATE_FILE}: this folder holds weights only, so it cannot be resumed exactly; "
                           f"fine-tune from them as a new run with --init-from {self.path} --out NEW_RUN", self.path)

    def write_config(self, config) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.config, config.to_json())

    def clean_temporaries(self) -> None:
        """Remove half-written temporaries a killed process may have left."""
        for tmp in self.path.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)

    def read_losses(self, up_to_step: int | None = None) -> list[dict[str, Any]]:
        """The log's rows (up to ``up_to_step``), one per step. A last line without its newline that
        is not JSON is a row torn by a crash mid-append and is skipped; any other bad line (not
        JSON, not a row) is an error naming this file and the line, never blamed on another file.
        A step logged twice keeps its last row: a resume then rewrites the log without duplicates."""
        if not self.losses.is_file():
            return []
        try:
            text = self.losses.read_text(encoding="utf-8")
        except UnicodeDecodeError as err:
            raise NarError(f"not a text loss log (byte {err.start} is not UTF-8)", self.losses) from None
        except OSError as err:
            raise from_os_error(err, self.losses, "cannot read the loss log") from None
        lines = text.split("\n")
        rows: dict[int, dict[str, Any]] = {}
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except (ValueError, RecursionError):  # JSONDecodeError, a huge integer, deep nesting
                if number == len(lines) and not text.endswith("\n"):
                    break  # torn final row
                raise NarError(f"line {number} is not JSON", self.losses) from None
            problem = _row_problem(row)
            if problem:
                raise NarError(f"line {number} is not a loss row ({problem})", self.losses)
            if up_to_step is None or row["step"] <= up_to_step:
                rows.pop(row["step"], None)  # a repeated step moves to where it was last logged
                rows[row["step"]] = row
        return list(rows.values())

    def write_losses(self, rows: list[dict[str, Any]]) -> None:
        """Replace the log with ``rows`` (atomically): a new run's empty log, a resume's kept rows."""
        atomic_write_text(self.losses, "".join(json.dumps(row) + "\n" for row in rows))

    def append_loss(self, row: dict[str, Any]) -> None:
        """Append one row and flush it to the OS, so a reader sees it now (synced at checkpoints)."""
        try:
            with open(self.losses, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(row) + "\n")
                handle.flush()
        except OSError as err:
            raise from_os_error(err, self.losses, "cannot append to the loss log") from None

    def sync_losses(self) -> None:
        """fsync the log: every row appended so far survives a crash (called before a checkpoint)."""
        if not self.losses.is_file():
            return
        try:
            with open(self.losses, "rb+") as handle:
                os.fsync(handle.fileno())
        except OSError as err:
            raise from_os_error(err, self.losses, "cannot sync the loss log") from None


def _row_problem(row: Any) -> str | None:
    """What makes ``row`` unusable as a loss-log row, or None: it must be a JSON object with a
    whole-number ``step`` >= 0, and every other value a number or null (plots and the training
    summary read them as numbers)."""
    if not isinstance(row, dict):
        return f"expected a JSON object, got {type(row).__name__}"
    step = row.get("step")
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        return f"'step' must be a whole number >= 0, got {str(step)[:40]!r}"
    for key, value in row.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            return f"{str(key)[:40]!r} must be a number or null, got {str(value)[:40]!r}"
    return None
