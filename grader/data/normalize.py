"""Digit normalisation: a digit image fitted into a square of a given size, as the course's
models take it (bounding box, area averaging, centred)."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from grader.data.errors import DataError, check_size

__all__ = ["normalize_digit", "normalize_digits"]

@functools.lru_cache(maxsize=8192)
def _area_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) weights of area averaging: output pixel i is the mean of the input it covers."""
    edges = np.arange(n_out + 1, dtype=np.float64) * (n_in / n_out)
    j = np.arange(n_in, dtype=np.float64)
    lo = np.maximum(edges[:-1, None], j[None, :])
    hi = np.minimum(edges[1:, None], j[None, :] + 1.0)
    m = np.clip(hi - lo, 0.0, None)
    m /= m.sum(axis=1, keepdims=True)
    m = m.astype(np.float32)
    m.flags.writeable = False
    return m


def _as_unit_float(image: Any) -> np.ndarray:
    a = np.asarray(image)
    if a.ndim != 2 or a.size == 0:
        raise DataError(f"a digit image must be a non-empty 2-D array (height, width), got shape {a.shape}; pass one image")
    if a.dtype == np.bool_:
        return a.astype(np.float32)
    if np.issubdtype(a.dtype, np.integer):
        if a.min() < 0 or a.max() > 255:
            raise DataError("an integer digit image must hold values 0-255 (0 background, 255 ink); rescale it first")
        return a.astype(np.float32) / np.float32(255)
    if np.issubdtype(a.dtype, np.floating):
        if not np.isfinite(a).all() or a.min() < 0 or a.max() > 1:
            raise DataError("a float digit image must hold finite values in [0, 1] (0 background); rescale it first")
        return a.astype(np.float32)
    raise DataError(f"a digit image must be bool, integer or float, got dtype {a.dtype}; convert it first")


def normalize_digit(image: Any, size: int, *, margin: int | None = None, keep_aspect: bool = True) -> np.ndarray:
    """Fit a digit into a ``size`` x ``size`` float32 square with values in [0, 1].

    The image is cropped to the bounding box of its ink (pixels > 0), resized by area averaging
    so that its longer side is ``size - 2 * margin`` (aspect ratio kept; ``keep_aspect=False``
    stretches both sides to that length instead), and placed so that its *bounding box* is
    centred (an odd leftover pixel goes to the bottom/right); the rest is 0. ``margin`` defaults
    to ``size // 16`` pixels a side (2 for 32, 1 for 16, 0 for 5). uint8 input is divided by 255;
    an image with no ink gives all zeros.
    """
    size = check_size(size)
    if margin is None:
        margin = size // 16
    if isinstance(margin, bool) or not isinstance(margin, (int, np.integer)) or margin < 0 or size - 2 * margin < 1:
        raise DataError(f"margin must be an integer from 0 to {(size - 1) // 2} for size {size}, got {margin!r}")
    f = _as_unit_float(image)
    out = np.zeros((size, size), dtype=np.float32)
    rows = np.flatnonzero(f.any(axis=1))
    if rows.size == 0:
        return out
    cols = np.flatnonzero(f.any(axis=0))
    crop = f[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = crop.shape
    target = size - 2 * margin
    if keep_aspect:
        scale = target / max(h, w)
        nh = min(target, max(1, int(h * scale + 0.5)))
        nw = min(target, max(1, int(w * scale + 0.5)))
    else:
        nh = nw = target
    box = _area_matrix(h, nh) @ crop @ _area_matrix(w, nw).T
    top, left = (size - nh) // 2, (size - nw) // 2
    out[top : top + nh, left : left + nw] = np.clip(box, 0.0, 1.0)
    return out


def normalize_digits(images: Any, size: int, *, margin: int | None = None, keep_aspect: bool = True) -> np.ndarray:
    """:func:`normalize_digit` for a sequence of images: float32 array (n, size, size)."""
    size = check_size(size)
    out = np.empty((len(images), size, size), dtype=np.float32)
    for i, img in enumerate(images):
        out[i] = normalize_digit(img, size, margin=margin, keep_aspect=keep_aspect)
    return out
