"""Standard JSON out: no ``NaN`` or ``Infinity`` (which :func:`json.dumps` writes by default).

Every JSON file or line the library writes (``summary.json``, ``result.json``, ``--json``)
goes through :func:`dumps`: a number that is not finite becomes ``null``, so any JSON reader
(a browser, ``jq``, Excel's Power Query) reads the file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np


def finite(value: Any) -> Any:
    """Return ``value`` with every non-finite float (NaN, ±inf) replaced by ``None``.

    Mappings, lists and tuples are walked; NumPy scalars become Python numbers.

    Examples
    --------
    >>> finite({"a": float("nan"), "b": [1.5, float("inf")], "c": "x"})
    {'a': None, 'b': [1.5, None], 'c': 'x'}
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def dumps(data: Any, *, indent: int | None = None) -> str:
    """Return ``data`` as standard JSON text (UTF-8 characters kept, non-finite as ``null``).

    Values JSON has no type for (a date, a path) are written as their text.
    """
    return json.dumps(finite(data), ensure_ascii=False, indent=indent, allow_nan=False, default=str)
