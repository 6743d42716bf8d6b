"""Seeded choices that do not depend on a numpy random stream: keys from a hash of (seed,
index), the same on every run, machine and numpy release, and the class-stratified subsets drawn
with them."""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.data.errors import DataError, check_seed

__all__ = ["seeded_keys", "subset_indices"]

_U64 = np.uint64


def _mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser, element-wise on uint64 (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        x = x + _U64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> _U64(27))) * _U64(0x94D049BB133111EB)
        return x ^ (x >> _U64(31))


def seeded_keys(seed: int, n: int, stream: int = 0) -> np.ndarray:
    """n pseudo-random uint64 keys fixed by (seed, stream): the same on every machine and numpy."""
    with np.errstate(over="ignore"):
        base = _mix64(np.array([seed], dtype=_U64) * _U64(0x100000001B3) + _U64(stream))
        return _mix64(base + np.arange(n, dtype=_U64))


def subset_indices(labels: Any, n: int, seed: int = 0) -> np.ndarray:
    """Indices of a class-stratified subset of ``n`` items, fixed by ``seed``.

    Each class gets its share of ``n`` in proportion to its size (largest remainder, ties to
    the smaller label); within a class the items are ranked by a hash of (seed, index). The
    indices come back in that hashed (shuffled) order, int64. Same labels, n and seed: same
    indices, on every run and every machine.
    """
    y = np.asarray(labels)
    if y.ndim != 1 or y.size == 0:
        raise DataError(f"labels must be a non-empty 1-D array, got shape {y.shape}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= int(n) <= y.size:
        raise DataError(f"n must be an integer from 1 to {y.size} (the number of samples), got {n!r}")
    n = int(n)
    seed = check_seed(seed)
    keys = seeded_keys(seed, y.size)
    classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    share = n * counts
    quota = share // y.size
    remainder = share % y.size
    leftover = n - int(quota.sum())
    order = np.lexsort((classes if classes.dtype.kind in "iub" else np.arange(classes.size), -remainder))
    quota[order[:leftover]] += 1
    chosen = []
    for c in range(classes.size):
        members = np.flatnonzero(inverse == c)
        ranked = members[np.argsort(keys[members], kind="stable")]
        chosen.append(ranked[: quota[c]])
    picked = np.concatenate(chosen)
    return picked[np.argsort(keys[picked], kind="stable")].astype(np.int64)
