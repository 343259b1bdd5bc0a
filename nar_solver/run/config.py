"""Training settings: one dataclass, serialised in full to the run folder's config.json.

Presets fill a config with the documented settings of the two shipped models; explicit options
override them. ``None`` fields mean "decide from the data" and are filled by :meth:`resolve`. The
network's own choices (architecture, init) are named by :mod:`nar_solver.model.vae`.
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from nar_solver.errors import NarError
from nar_solver.model.vae import ARCHITECTURE, ARCHITECTURES, INITS
from nar_solver.seeding import MAX_SEED
from nar_solver.world.glyphs import SHAPES

BUILTIN_DATA = ("boards", "objects", "dsprites")
TC_CHOICES = ("discriminator", "gaussian", "gaussian-prior", "none")
PRECISIONS = ("auto", "fp32", "bf16")
#: The keys every config.json written by train holds that say what its model is.
REQUIRED_KEYS = ("data", "z_dim", "tc", "steps")

#: The documented settings of the shipped models (see docs/training.md).
PRESETS: dict[str, dict[str, Any]] = {
    "objects": dict(data="objects", z_dim=10, tc="discriminator", gamma=20.0, beta=1.0, batch_size=64,
                    init="default", lr=4e-4, lr_d=1e-4, steps=8000, jitter=10.0, jitter_fraction=0.75,
                    variation=False),
    # the spatial broadcast object model (docs/manifold.md): position on two axes, for pure latent search
    "objects-broadcast": dict(data="objects", architecture="broadcast32", z_dim=10, tc="discriminator", gamma=5.0,
                              tc_warmup=1000, beta=1.0, batch_size=64, init="default", lr=4e-4, lr_d=1e-4,
                              steps=7700, jitter=2.0, jitter_fraction=0.5, variation=True),
    # the what/where object model (docs/training.md, "Decoded glyphs"): glyph tile + translation
    "objects-whatwhere": dict(data="objects", architecture="whatwhere32", z_dim=10, tc="discriminator", gamma=5.0,
                              tc_warmup=1000, beta=1.0, batch_size=64, init="default", lr=4e-4, lr_d=1e-4,
                              steps=6000, jitter=2.0, jitter_fraction=0.5, variation=True, ink_weight=5.0,
                              kl_warmup=1500),
    "boards": dict(data="boards", z_dim=10, tc="discriminator", gamma=10.0, beta=1.0, batch_size=64,
                   init="default", lr=4e-4, lr_d=1e-4, steps=4500, jitter=0.0, variation=False),
    # the whole-board manifold with the spatial broadcast decoder (docs/manifold.md)
    "boards-broadcast": dict(data="boards", architecture="broadcast32", z_dim=10, tc="discriminator", gamma=10.0,
                             beta=1.0, batch_size=64, init="default", lr=4e-4, lr_d=1e-4, steps=3000, jitter=0.0,
                             variation=False),
    # Kim & Mnih's dSprites Factor-VAE at the paper's optimiser settings (docs/training.md, "Reproducing Kim & Mnih")
    "dsprites-factorvae": dict(data="dsprites", z_dim=10, tc="discriminator", gamma=10.0, beta=1.0, batch_size=64,
                               init="default", lr=1e-4, lr_d=1e-4, steps=3000),
}

#: The largest value of each size a config may set, checked before anything is allocated (a
#: config.json with z_dim 10**9 is refused in one line, not by an allocation traceback). Each is
#: far beyond what the shipped models use (z_dim 10, batch 64, d_width 1000, 5 layers, 2048 samples).
LIMITS: dict[str, int] = {"z_dim": 256, "batch_size": 4096, "d_width": 4096, "d_hidden_layers": 16,
                          "latent_sample": 16384, "threads": 1024, "seed": MAX_SEED}

#: Fields that may change when a run is resumed (they do not change what is computed, or only
#: extend it). Changing ``device`` or ``precision`` keeps training valid but not bit-identical.
RESUMABLE_FIELDS = frozenset({"steps", "device", "precision", "compile", "threads", "save_every"})


@dataclass
class TrainConfig:
    """Everything that defines a training run. Defaults are the paper's where it has one."""

    data: str = "boards"            # boards | objects | dsprites | path of a puzzle folder tree
    preset: str | None = None       # the preset this config started from, for the record
    z_dim: int = 10
    tc: str = "discriminator"       # discriminator | gaussian | gaussian-prior | none
    gamma: float = 10.0             # weight of the TC term (0 = plain VAE, D still trained to monitor TC)
    beta: float = 1.0               # weight of the KL term (beta-VAE when != 1)
    kl_warmup: int = 0              # steps over which the KL weight rises linearly from 0 to beta (0 = off)
    tc_warmup: int = 0              # steps over which the TC weight rises linearly from 0 to gamma (0 = off)
    ink_weight: float = 1.0         # weight of ink pixels in the reconstruction term (1 = plain Bernoulli)
    recon_scales: int = 1           # 1 = plain; k: also the Bernoulli term of 2x, 4x... average-pooled images
    steps: int = 20000              # total optimisation steps (each: a VAE update and a D update)
    batch_size: int = 64            # per step and per process; D also sees a second batch this size
    lr: float = 1e-4                # VAE Adam learning rate
    lr_d: float = 1e-4              # discriminator Adam learning rate
    adam_betas: tuple[float, float] = (0.9, 0.999)
    adam_betas_d: tuple[float, float] = (0.5, 0.9)
    init: str = "default"           # default (PyTorch init, log-variance bias -6) | reference (N(0, 0.02))
    d_width: int = 1000
    d_hidden_layers: int = 5
    seed: int = 0
    device: str = "auto"            # auto | cpu | cuda | cuda:N
    precision: str = "auto"         # auto | fp32 | bf16 (auto: bf16 autocast on CUDA and bf16-capable CPUs)
    channels_last: bool = True
    compile: bool = False           # torch.compile the networks (opt-in: compile time is minutes on CPU)
    threads: int = 1                # CPU threads; 0 = every core not busy at start (cores - load average, >= 1)
    save_every: int = 1000          # checkpoint + losses.jsonl every this many steps
    log_every: int = 10             # one losses.jsonl row (means over the window) every this many steps
    jitter: float | None = None     # max position jitter in px (None: 2 for objects, 0 for boards)
    jitter_fraction: float = 0.5    # fraction of objects jittered; the rest sit exactly on their cell
    variation: bool = False         # glyph variation (stroke, rotation, shear); puzzles have none
    hold_out: str = ""              # shapes never drawn in training, comma-separated (objects, boards)
    min_objects: int = 1            # boards: objects per board, uniform in [min, max]
    max_objects: int = 3
    latent_sample: int = 2048       # images encoded at save time for the latent range (latent_low/high)
    architecture: str = ARCHITECTURE
    init_from: str = ""             # fine-tuning: the run folder whose VAE weights this run started from

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def from_preset(cls, name: str | None, **overrides: Any) -> "TrainConfig":
        """A preset's settings with ``overrides`` (None values ignored) on top, resolved."""
        values: dict[str, Any] = {}
        if name is not None:
            if name not in PRESETS:
                raise NarError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
            values.update(PRESETS[name], preset=name)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.from_json(values, source="options").resolve()

    @classmethod
    def from_json(cls, data: dict[str, Any], source: str | Path = "config") -> "TrainConfig":
        """Build from JSON-like data; unknown keys and wrongly typed values are one-line errors."""
        if not isinstance(data, dict):
            raise NarError("training config must be a JSON object", source)
        names = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise NarError(f"unknown config key(s): {', '.join(unknown)}", source)
        values = {}
        for key, value in data.items():
            values[key] = _coerce(key, value, cls._types()[key], source)
        return cls(**values).validate(source)

    @classmethod
    def from_file(cls, path: str | Path, **overrides: Any) -> "TrainConfig":
        """The settings of a config file with ``overrides`` (None values ignored) on top, resolved.

        The file is a previous run's config.json or written by hand: a JSON object of any of the
        fields (the rest keep their defaults). ``train --config FILE`` builds its config so."""
        path = Path(path)
        data = _read_json_file(path, "config file")
        cls.from_json(data, path)  # the file alone must be valid, so its errors name the file
        values = {**data, **{k: v for k, v in overrides.items() if v is not None}}
        return cls.from_json(values, source="options").resolve()

    @classmethod
    def load(cls, path: str | Path) -> "TrainConfig":
        """A run folder's config.json. It must name what the model is (:data:`REQUIRED_KEYS`; a ``{}``
        would otherwise read as the defaults, a board model) and data that exists (a built-in world or
        an absolute folder path, as :meth:`resolve` records it)."""
        path = Path(path)
        data = _read_json_file(path, "config.json")
        if isinstance(data, dict):
            missing = [key for key in REQUIRED_KEYS if key not in data]
            if missing:
                raise NarError(f"config.json lacks {', '.join(missing)}: not the config of a training run", path)
        config = cls.from_json(data, path)
        if not config.is_builtin_data and not Path(config.data).is_absolute():
            raise NarError(f"data must be one of {', '.join(BUILTIN_DATA)} or the absolute path of a puzzle folder, "
                           f"got {config.data[:60]!r}", path)
        return config

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}

    def replace(self, **changes: Any) -> "TrainConfig":
        return dataclasses.replace(self, **changes).validate()

    def resumed_with(self, given: "TrainConfig | Mapping[str, Any] | None") -> "TrainConfig":
        """The config a resumed run continues with: this stored one, changed by ``given`` (a whole
        config, or options where None means "keep") only in :data:`RESUMABLE_FIELDS`."""
        if isinstance(given, Mapping):
            changes = {k: v for k, v in given.items() if v is not None}
            given = self.replace(**changes) if changes else None
        if given is None:
            return self
        given = given.resolve()
        new, stored = given.to_json(), self.to_json()
        changed = sorted(k for k in stored if new[k] != stored[k] and k not in RESUMABLE_FIELDS)
        if changed:
            raise NarError(f"cannot change {', '.join(changed)} when resuming "
                           f"(only {', '.join(sorted(RESUMABLE_FIELDS))})")
        return given

    # -- checks ---------------------------------------------------------------------------------

    def resolve(self) -> "TrainConfig":
        """Fill the data-dependent defaults, so config.json records what was really used."""
        changes: dict[str, Any] = {}
        if self.jitter is None:
            changes["jitter"] = 2.0 if self.data == "objects" else 0.0
        if not self.is_builtin_data:
            changes["data"] = str(Path(self.data).expanduser().resolve())
        return self.replace(**changes) if changes else self

    @property
    def held_out_shapes(self) -> tuple[str, ...]:
        return tuple(s.strip() for s in self.hold_out.split(",") if s.strip())

    @property
    def training_shapes(self) -> tuple[str, ...]:
        return tuple(s for s in SHAPES if s not in self.held_out_shapes)

    @property
    def is_builtin_data(self) -> bool:
        return self.data in BUILTIN_DATA

    def validate(self, source: str | Path = "config") -> "TrainConfig":
        def bad(message: str) -> NarError:
            return NarError(message, source) if source != "options" else NarError(message)

        if self.architecture not in ARCHITECTURES:
            raise bad(f"architecture must be one of {', '.join(ARCHITECTURES)}, got {self.architecture!r}")
        if self.tc not in TC_CHOICES:
            raise bad(f"tc must be one of {', '.join(TC_CHOICES)}, got {self.tc!r}")
        if self.init not in INITS:
            raise bad(f"init must be one of {', '.join(INITS)}, got {self.init!r}")
        if self.precision not in PRECISIONS:
            raise bad(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        for name in ("z_dim", "batch_size", "d_width", "d_hidden_layers", "save_every", "log_every",
                     "latent_sample"):
            if getattr(self, name) < 1:
                raise bad(f"{name} must be >= 1, got {getattr(self, name)}")
        if not (math.isfinite(self.ink_weight) and 1.0 <= self.ink_weight <= 100.0):
            raise bad(f"ink_weight must be between 1 and 100, got {self.ink_weight}")
        if not 1 <= self.recon_scales <= 4:
            raise bad(f"recon_scales must be between 1 and 4, got {self.recon_scales}")
        for name in ("kl_warmup", "tc_warmup"):
            if getattr(self, name) < 0:
                raise bad(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.steps < 0:
            raise bad(f"steps must be >= 0, got {self.steps}")
        if self.threads < 0:
            raise bad(f"threads must be >= 0, got {self.threads}")
        if self.seed < 0:
            raise bad(f"seed must be >= 0, got {self.seed}")
        for name, most in LIMITS.items():
            if getattr(self, name) > most:
                raise bad(f"{name} must be at most {most}, got {getattr(self, name)}")
        for name in ("gamma", "beta", "lr", "lr_d"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0 or (name.startswith("lr") and value == 0):
                raise bad(f"{name} must be a finite {'positive' if name.startswith('lr') else 'non-negative'} "
                          f"number, got {value}")
        if self.jitter is not None and not (math.isfinite(self.jitter) and 0 <= self.jitter <= 10):
            raise bad(f"jitter must be between 0 and 10 px, got {self.jitter}")
        if not 0.0 <= self.jitter_fraction <= 1.0:
            raise bad(f"jitter_fraction must be in [0, 1], got {self.jitter_fraction}")
        unknown = [s for s in self.held_out_shapes if s not in SHAPES]
        if unknown or len(self.held_out_shapes) >= len(SHAPES):
            raise bad(f"hold_out must name some but not all of the shapes {', '.join(SHAPES)}, got {self.hold_out!r}")
        if not 1 <= self.min_objects <= self.max_objects <= 9:
            raise bad(f"need 1 <= min_objects <= max_objects <= 9, got {self.min_objects}..{self.max_objects}")
        if self.tc.startswith("gaussian") and self.batch_size <= self.z_dim + 1:
            raise bad(f"tc {self.tc} fits a {self.z_dim}-d covariance per batch: batch_size must exceed "
                      f"z_dim + 1, got {self.batch_size}")
        if self.tc == "discriminator" and self.batch_size < 2:
            raise bad("tc discriminator needs batch_size >= 2 to permute codes")
        return self

    @classmethod
    def _types(cls) -> dict[str, Any]:
        return {f.name: f.type for f in dataclasses.fields(cls)}


def _read_json_file(path: Path, what: str) -> Any:
    """The parsed JSON of ``path``; a missing or malformed file is a one-line NarError."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NarError(f"{what} is missing", path) from None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as err:  # ValueError: JSON, huge ints
        raise NarError(f"{what} is not valid JSON ({err.__class__.__name__})", path) from None


def _coerce(key: str, value: Any, annotation: str, source: str | Path) -> Any:
    """Check a JSON value against the field's annotation (kept as a string by __future__ annotations)."""
    def fail() -> NarError:
        message = f"config key {key!r}: expected {annotation}, got {value!r}"
        return NarError(message, source) if source != "options" else NarError(message)

    optional = "None" in annotation
    if value is None:
        if optional:
            return None
        raise fail()
    base = annotation.replace(" | None", "")
    if base == "bool":
        if not isinstance(value, bool):
            raise fail()
        return value
    if base == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail()
        return value
    if base == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise fail()
        return float(value)
    if base == "str":
        if not isinstance(value, str):
            raise fail()
        return value
    if base.startswith("tuple"):
        if not isinstance(value, (list, tuple)) or len(value) != 2 or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            raise fail()
        return (float(value[0]), float(value[1]))
    raise AssertionError(f"unhandled annotation {annotation}")  # pragma: no cover
