"""numpy values to JSON values: the one converter every report's ``to_json`` uses.

numpy scalars become Python numbers, arrays and tuples lists, dict keys strings, and a float that
is not finite (NaN for a factor a metric cannot score, an infinite distance) ``null``, since JSON
has no NaN and ``json.dumps`` would write an invalid file.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np


def json_ready(value: Any) -> Any:
    """``value`` with every numpy scalar and array, tuple and non-finite float made JSON-ready."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_ready(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value
