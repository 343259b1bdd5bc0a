"""What each latent dimension of a trained model carries, as a name ("x", "y", "shape", ...), when a
measurement in its run folder says so.

Two sources, first found wins:

- ``probe.json`` (written by ``nar-solver probe RUN``): its ``dimension_factors`` maps a latent
  dimension to ``"x"``, ``"y"`` or ``"shape"``.
- ``metrics-<world>*.json`` (``nar-solver metrics RUN --json-out RUN/metrics-<world>.json``): the
  Sobol intervention score's dimension per factor, kept where that dimension holds at least
  :data:`CONCENTRATION` of the factor's total effect (docs/metrics.md).

Without either the names are empty: figures and rules then show dimension numbers only.
"""
from __future__ import annotations

import json
from pathlib import Path

PROBE_FILE = "probe.json"
#: A metrics report names a factor's dimension only when it concentrates this share of the effect.
CONCENTRATION = 0.5


def _read(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _from_probe(data: dict) -> dict[int, str]:
    names = data.get("dimension_factors")
    if not isinstance(names, dict):
        return {}
    out = {}
    for dim, name in names.items():
        if str(dim).lstrip("-").isdigit() and isinstance(name, str) and name:
            out[int(dim)] = name
    return out


def _from_metrics(data: dict) -> dict[int, str]:
    factors = data.get("factor_names")
    sis = data.get("intervention")
    if not isinstance(factors, list) or not isinstance(sis, dict):
        return {}
    out: dict[int, str] = {}
    for name, dim, share in zip(factors, sis.get("dimension") or [], sis.get("concentration") or []):
        if isinstance(dim, int) and dim >= 0 and isinstance(share, (int, float)) and share >= CONCENTRATION:
            out.setdefault(dim, str(name))
    return out


def dimension_factors(run: str | Path | None) -> dict[int, str]:
    """{latent dimension: factor name} from the run folder's probe.json, else its metrics reports;
    {} when neither exists or says anything."""
    if run is None:
        return {}
    run = Path(run)
    probe = _read(run / PROBE_FILE)
    if probe is not None:
        names = _from_probe(probe)
        if names:
            return names
    for path in sorted(run.glob("metrics-*.json")):
        data = _read(path)
        names = _from_metrics(data) if data is not None else {}
        if names:
            return names
    return {}
