"""The data package's one error (`DataError`, a one-line message naming the problem and what to
do) and the argument checks every loader shares."""

from __future__ import annotations

from typing import Any

import numpy as np


class DataError(Exception):
    """A data file, folder, definition or argument is missing or wrong (one-line message)."""


def check_size(size: Any, name: str = "size", low: int = 1, high: int = 1024) -> int:
    """`size` as an int from `low` to `high`, else DataError naming `name`."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not low <= int(size) <= high:
        raise DataError(f"{name} must be an integer from {low} to {high}, got {size!r}; pass e.g. {name}=32")
    return int(size)


def check_seed(seed: Any) -> int:
    """`seed` as a non-negative int below 2**63, else DataError."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2**63:
        raise DataError(f"seed must be a non-negative integer, got {seed!r}; pass e.g. seed=0")
    return int(seed)
