"""The course's data: the Hoda Persian digits, scikit-learn's bundled sets and synthetic sets.

Everything here is offline and deterministic: nothing is downloaded, every split and subset is
fixed by a seed, and the same seed gives the same indices on every run and every machine (the
subset and noise choices use a hash of (seed, index), not a random-number stream whose
algorithm a numpy release could change).

The Hoda files are read from a folder the course is given (``DLGRADE_HODA_DIR`` or
``--hoda-dir``); their format is described in ``shared/datasets/hoda/README.md`` and
implemented from that description by :func:`read_cdb`. The data definitions (which data, which
split, which preprocessing) live as TOML files in ``datasets/`` and are read with
:func:`load_definition`.

Every bad input raises :class:`DataError` with a one-line message that names the problem and
what to do about it.
"""

from __future__ import annotations

import functools
import os
import re
import struct
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "DataError",
    "CdbHeader",
    "HODA_FILES",
    "HODA_ENV",
    "LOGIC_GATES",
    "X_GRID",
    "X_DEFORMED_GRID",
    "O_GRID",
    "read_cdb_header",
    "read_cdb",
    "normalize_digit",
    "normalize_digits",
    "subset_indices",
    "hoda_dir",
    "load_hoda",
    "load_digits_split",
    "load_sample_images",
    "logic_gate_data",
    "blobs",
    "x_vs_o",
    "definitions",
    "load_definition",
]


class DataError(Exception):
    """A data file, folder, definition or argument is missing or wrong (one-line message)."""


# --------------------------------------------------------------------------------------------
# Hoda .cdb files
# --------------------------------------------------------------------------------------------

HODA_ENV = "DLGRADE_HODA_DIR"
#: split name -> file name inside the Hoda folder
HODA_FILES = {"train": "RemainingSamples.cdb", "test": "Test 20000.cdb"}

_HEADER_SIZE = 1024
_HEADER = struct.Struct("<HBBBBI")  # year, month, day, H, W, record count
_LABEL_COUNTS = struct.Struct("<128I")  # at offset 10
_MAX_LABEL = 9


@dataclass(frozen=True)
class CdbHeader:
    """The 1024-byte header of a .cdb file."""

    year: int
    month: int
    day: int
    height: int  # 0: every record gives its own size
    width: int  # 0: every record gives its own size
    count: int  # number of records
    label_counts: tuple[int, ...]  # records per label, labels 0..127
    image_type: int  # 0: binary, run-length coded; 1: 8-bit gray, column-major
    comment: str

    @property
    def per_record_size(self) -> bool:
        """True where each record carries its own width and height."""
        return self.height == 0 or self.width == 0


def _parse_header(data: bytes, where: str) -> CdbHeader:
    if len(data) < _HEADER_SIZE:
        raise DataError(
            f"{where}: truncated: {len(data)} bytes, shorter than the {_HEADER_SIZE}-byte .cdb header;"
            " copy the file again from the course's data"
        )
    year, month, day, height, width, count = _HEADER.unpack_from(data, 0)
    label_counts = _LABEL_COUNTS.unpack_from(data, 10)
    image_type = data[522]
    comment = data[523:779].split(b"\0", 1)[0].decode("latin-1").strip()
    if image_type not in (0, 1):
        raise DataError(
            f"{where}: header gives image type {image_type} (expected 0 binary or 1 gray);"
            " it is not a Hoda .cdb file or is damaged: copy it again"
        )
    return CdbHeader(year, month, day, height, width, count, tuple(label_counts), image_type, comment)


def _stat_file(path: str | os.PathLike) -> tuple[Path, os.stat_result]:
    p = Path(path).expanduser()
    try:
        resolved = p.resolve(strict=True)
        st = resolved.stat()
    except FileNotFoundError:
        raise DataError(f"{p}: no such file; check the path (the Hoda folder is set by {HODA_ENV} or --hoda-dir)") from None
    except OSError as exc:
        raise DataError(f"{p}: cannot be read ({exc.strerror}); check the path and its permissions") from None
    if not resolved.is_file():
        raise DataError(f"{p}: is not a file; give the path of a .cdb file")
    return resolved, st


def read_cdb_header(path: str | os.PathLike) -> CdbHeader:
    """Read and check only the 1024-byte header of a .cdb file."""
    resolved, _ = _stat_file(path)
    with open(resolved, "rb") as fh:
        data = fh.read(_HEADER_SIZE)
    return _parse_header(data, str(path))


def _describe_bad_runs(runs: bytes, width: int, height: int) -> str:
    """Slow, exact account of why a record's runs do not make a width x height image."""
    i = 0
    for row in range(height):
        total = 0
        while total < width:
            if i >= len(runs):
                return f"image data ends in row {row} of {height} (runs so far add up to {total} of width {width})"
            total += runs[i]
            i += 1
        if total != width:
            return f"runs of row {row} add up to {total}, not to the width {width}"
    if i != len(runs):
        return f"{len(runs) - i} run byte(s) left over after the {height} rows"
    return "runs do not add up to the width"  # not reached for a record the fast check rejected


def _parse_cdb(data: bytes, where: str) -> tuple[tuple[np.ndarray, ...], np.ndarray, CdbHeader]:
    header = _parse_header(data, where)
    count = header.count
    per_record = header.per_record_size
    head = 6 if per_record else 4
    size = len(data)

    labels: list[int] = []
    widths: list[int] = []
    heights: list[int] = []
    starts: list[int] = []
    lengths: list[int] = []
    pos = _HEADER_SIZE
    fixed_w, fixed_h = header.width, header.height
    for i in range(count):
        if pos + head > size:
            raise DataError(
                f"{where}: truncated in record {i} of {count} (its header at byte {pos} runs past the end, "
                f"{size} bytes); copy the file again"
            )
        if data[pos] != 0xFF:
            raise DataError(
                f"{where}: record {i} at byte {pos} has start byte 0x{data[pos]:02X}, not 0xFF;"
                " the file is not a Hoda .cdb file or is damaged: copy it again"
            )
        label = data[pos + 1]
        if label > _MAX_LABEL:
            raise DataError(
                f"{where}: record {i} at byte {pos} has label {label}, not a digit 0-9;"
                " the file is damaged: copy it again"
            )
        if per_record:
            w, h = data[pos + 2], data[pos + 3]
            n = data[pos + 4] | (data[pos + 5] << 8)
        else:
            w, h = fixed_w, fixed_h
            n = data[pos + 2] | (data[pos + 3] << 8)
        pos += head
        if pos + n > size:
            raise DataError(
                f"{where}: truncated in record {i} of {count} (its {n} image bytes at byte {pos} run past the end,"
                f" {size} bytes); copy the file again"
            )
        if w == 0 or h == 0:
            raise DataError(
                f"{where}: record {i} at byte {pos - head} has an empty {w}x{h} image;"
                " the file is damaged: copy it again"
            )
        labels.append(label)
        widths.append(w)
        heights.append(h)
        starts.append(pos)
        lengths.append(n)
        pos += n
    if pos != size:
        raise DataError(
            f"{where}: {size - pos} bytes after the {count} records the header announces;"
            " the header's record count is wrong or the file is damaged: copy it again"
        )

    label_arr = np.array(labels, dtype=np.int64)
    if sum(header.label_counts):
        found = np.bincount(label_arr, minlength=len(header.label_counts))
        announced = np.array(header.label_counts)
        if not np.array_equal(found, announced):
            bad = int(np.flatnonzero(found != announced)[0])
            raise DataError(
                f"{where}: the header announces {announced[bad]} records of label {bad}, the file holds {found[bad]};"
                " the file is damaged: copy it again"
            )

    w_arr = np.array(widths, dtype=np.int64)
    h_arr = np.array(heights, dtype=np.int64)
    s_arr = np.array(starts, dtype=np.int64)
    n_arr = np.array(lengths, dtype=np.int64)
    buf = np.frombuffer(data, dtype=np.uint8)
    if header.image_type == 1:
        images = _decode_gray(buf, s_arr, n_arr, w_arr, h_arr, where)
    else:
        images = _decode_binary(data, buf, s_arr, n_arr, w_arr, h_arr, where)
    label_arr.flags.writeable = False
    return images, label_arr, header


def _decode_gray(buf, starts, lengths, widths, heights, where) -> tuple[np.ndarray, ...]:
    bad = np.flatnonzero(lengths != widths * heights)
    if bad.size:
        i = int(bad[0])
        raise DataError(
            f"{where}: record {i} holds {lengths[i]} gray bytes, not width*height = {widths[i] * heights[i]};"
            " the file is damaged: copy it again"
        )
    out = []
    for s, w, h in zip(starts.tolist(), widths.tolist(), heights.tolist()):
        img = np.ascontiguousarray(buf[s : s + w * h].reshape(w, h).T)
        img.flags.writeable = False
        out.append(img)
    return tuple(out)


def _decode_binary(data, buf, starts, lengths, widths, heights, where) -> tuple[np.ndarray, ...]:
    """Decode every record's row-by-row run lengths at once (vectorised over the whole file)."""
    count = len(starts)
    if count == 0:
        return ()
    empty = np.flatnonzero(lengths == 0)
    if empty.size:
        i = int(empty[0])
        raise DataError(
            f"{where}: record {i}: runs do not add up to the width (no run bytes for a {widths[i]}x{heights[i]} image);"
            " the file is damaged: copy it again"
        )
    total = int(lengths.sum())
    first = np.cumsum(lengths) - lengths  # index of each record's first run in `runs`
    # runs[j] = buf[starts[r] + (j - first[r])] for the record r that run j belongs to
    runs = buf[np.arange(total, dtype=np.int64) + np.repeat(starts - first, lengths)].astype(np.int64)
    cs = np.cumsum(runs)
    base = np.zeros(count, dtype=np.int64)
    base[1:] = cs[first[1:] - 1]
    local = cs - np.repeat(base, lengths)  # pixels covered within the record, up to and with run j
    w_rep = np.repeat(widths, lengths)
    # a row ends at the first run where the record's running total reaches a multiple of the width
    row_end = (runs > 0) & (local % w_rep == 0)
    last = first + lengths - 1
    rows_found = np.add.reduceat(row_end.astype(np.int64), first)
    ok = (rows_found == heights) & (local[last] == widths * heights) & row_end[last]
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        s, n = int(starts[i]), int(lengths[i])
        why = _describe_bad_runs(data[s : s + n], int(widths[i]), int(heights[i]))
        raise DataError(
            f"{where}: record {i} (byte {s}, {widths[i]}x{heights[i]}): {why};"
            " the file is damaged: copy it again"
        )
    # runs alternate background, ink, background, ... from the start of every row
    is_start = np.zeros(total, dtype=bool)
    is_start[first] = True
    is_start[1:] |= row_end[:-1]
    idx = np.arange(total, dtype=np.int64)
    row_first = np.maximum.accumulate(np.where(is_start, idx, 0))
    values = (((idx - row_first) & 1) * 255).astype(np.uint8)
    pixels = np.repeat(values, runs)  # rows follow rows and records follow records
    pixels.flags.writeable = False
    sizes = widths * heights
    offsets = (np.cumsum(sizes) - sizes).tolist()
    return tuple(
        pixels[o : o + w * h].reshape(h, w) for o, w, h in zip(offsets, widths.tolist(), heights.tolist())
    )


@functools.lru_cache(maxsize=4)
def _read_cdb_cached(resolved: str, mtime_ns: int, size: int) -> tuple[tuple[np.ndarray, ...], np.ndarray, CdbHeader]:
    del mtime_ns, size  # part of the cache key only: a changed file is read again
    try:
        with open(resolved, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise DataError(f"{resolved}: cannot be read ({exc.strerror}); check its permissions") from None
    return _parse_cdb(data, resolved)


def read_cdb(path: str | os.PathLike) -> tuple[list[np.ndarray], np.ndarray]:
    """Read a Hoda .cdb file: (images, labels).

    ``images`` is a list of uint8 arrays of shape (height, width), 0 background and 255 ink
    (gray files are returned as stored); they are read-only views shared by every caller, so copy
    one before changing it. ``labels`` is int64 of shape (n,). A file is parsed once per process
    and cached by its resolved path, modification time and size.
    """
    resolved, st = _stat_file(path)
    images, labels, _ = _read_cdb_cached(str(resolved), st.st_mtime_ns, st.st_size)
    return list(images), labels.copy()


# --------------------------------------------------------------------------------------------
# Digit normalisation
# --------------------------------------------------------------------------------------------


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


def _check_size(size: Any, name: str = "size", low: int = 1, high: int = 1024) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not low <= int(size) <= high:
        raise DataError(f"{name} must be an integer from {low} to {high}, got {size!r}; pass e.g. {name}=32")
    return int(size)


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
    size = _check_size(size)
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
    size = _check_size(size)
    out = np.empty((len(images), size, size), dtype=np.float32)
    for i, img in enumerate(images):
        out[i] = normalize_digit(img, size, margin=margin, keep_aspect=keep_aspect)
    return out


# --------------------------------------------------------------------------------------------
# Seeded choices that do not depend on a numpy random stream
# --------------------------------------------------------------------------------------------

_U64 = np.uint64


def _mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser, element-wise on uint64 (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        x = x + _U64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> _U64(27))) * _U64(0x94D049BB133111EB)
        return x ^ (x >> _U64(31))


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2**63:
        raise DataError(f"seed must be a non-negative integer, got {seed!r}; pass e.g. seed=0")
    return int(seed)


def _keys(seed: int, n: int, stream: int = 0) -> np.ndarray:
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
    seed = _check_seed(seed)
    keys = _keys(seed, y.size)
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


# --------------------------------------------------------------------------------------------
# Hoda loader
# --------------------------------------------------------------------------------------------

_HODA_WHAT_TO_DO = (
    f"set {HODA_ENV} to the folder holding {HODA_FILES['train']} and '{HODA_FILES['test']}'"
    " (the Hoda digits) or give --hoda-dir"
)


def hoda_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The folder holding the Hoda files: ``explicit`` if given, else ``$DLGRADE_HODA_DIR``."""
    if explicit is not None and str(explicit) != "":
        raw, source = str(explicit), "the given folder"
    else:
        raw, source = os.environ.get(HODA_ENV, ""), HODA_ENV
        if not raw.strip():
            raise DataError(f"no Hoda folder given: {_HODA_WHAT_TO_DO}")
    folder = Path(raw).expanduser()
    if not folder.is_dir():
        raise DataError(f"Hoda folder {folder} ({source}) does not exist or is not a folder: {_HODA_WHAT_TO_DO}")
    missing = [name for name in HODA_FILES.values() if not (folder / name).is_file()]
    if missing:
        listed = ", ".join(f"'{m}'" for m in missing)
        raise DataError(f"Hoda folder {folder} ({source}) lacks {listed}: {_HODA_WHAT_TO_DO}")
    return folder


def load_hoda(
    split: str,
    size: int = 32,
    n: int | None = None,
    seed: int = 0,
    flatten: bool = False,
    root: str | os.PathLike | None = None,
    *,
    margin: int | None = None,
    keep_aspect: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Hoda digits ready for Keras: (x float32, y int64).

    ``split`` is "train" (RemainingSamples.cdb, 22,352 digits) or "test" (Test 20000.cdb).
    Every digit goes through :func:`normalize_digit` at ``size``; x has shape
    (n, size, size, 1), or (n, size * size) with ``flatten`` (size=5, flatten=True is the
    25-input MLP of the course). ``n=None`` takes the whole file in file order; an ``n`` takes
    :func:`subset_indices` (class-stratified, fixed by ``seed``). ``root`` is the Hoda folder
    (default: ``$DLGRADE_HODA_DIR``, see :func:`hoda_dir`).
    """
    if split not in HODA_FILES:
        raise DataError(f"unknown Hoda split {split!r}: use 'train' or 'test'")
    size = _check_size(size)
    folder = hoda_dir(root)
    images, labels = read_cdb(folder / HODA_FILES[split])
    idx = np.arange(labels.size, dtype=np.int64) if n is None else subset_indices(labels, n, seed)
    x = normalize_digits([images[i] for i in idx.tolist()], size, margin=margin, keep_aspect=keep_aspect)
    x = x.reshape(idx.size, size * size) if flatten else x[..., None]
    return x, labels[idx].astype(np.int64)


# --------------------------------------------------------------------------------------------
# scikit-learn's bundled data
# --------------------------------------------------------------------------------------------


def load_digits_split(
    test_size: float = 0.3, seed: int = 0, scale: bool = True, *, as_images: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits, split stratified with a fixed seed: (x_train, x_test, y_train, y_test).

    x is float32 of shape (n, 64), or (n, 8, 8, 1) with ``as_images``; ``scale`` divides by 16
    so x lies in [0, 1]. y is int64.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if isinstance(test_size, bool) or not isinstance(test_size, (int, float)) or not 0 < test_size < 1:
        raise DataError(f"test_size must be a fraction between 0 and 1, got {test_size!r}; pass e.g. test_size=0.3")
    seed = _check_seed(seed)
    digits = load_digits()
    x = digits.data.astype(np.float32)
    if scale:
        x /= np.float32(16)
    if as_images:
        x = x.reshape(-1, 8, 8, 1)
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=test_size, random_state=seed, stratify=y)
    return x_train, x_test, y_train, y_test


def load_sample_images(factor: int = 1) -> np.ndarray:
    """scikit-learn's two bundled photos (china, flower) as float32 (2, H, W, 3) in [0, 1].

    ``factor`` > 1 downsamples by averaging factor x factor blocks (rows/columns that do not
    fill a block are dropped): 427x640 at factor 1, 213x320 at factor 2.
    """
    factor = _check_size(factor, "factor", 1, 64)
    from sklearn.datasets import load_sample_images as _sk_sample_images

    try:
        photos = _sk_sample_images().images
    except ImportError:
        raise DataError(
            "scikit-learn needs Pillow to decode its bundled sample photos: install it (pip install pillow)"
        ) from None
    x = np.stack(photos).astype(np.float32) / np.float32(255)
    if factor > 1:
        n, h, w, c = x.shape
        h2, w2 = h // factor, w // factor
        x = x[:, : h2 * factor, : w2 * factor].reshape(n, h2, factor, w2, factor, c).mean(axis=(2, 4), dtype=np.float32)
    return x


# --------------------------------------------------------------------------------------------
# Synthetic sets
# --------------------------------------------------------------------------------------------

#: truth tables over inputs (0,0), (0,1), (1,0), (1,1) (A is the first column, B the second)
LOGIC_GATES = {
    "AND": (0, 0, 0, 1),
    "OR": (0, 1, 1, 1),
    "NAND": (1, 1, 1, 0),
    "NOR": (1, 0, 0, 0),
    "XOR": (0, 1, 1, 0),
    "A_AND_NOT_B": (0, 0, 1, 0),
}


def logic_gate_data(name: str) -> tuple[np.ndarray, np.ndarray]:
    """A two-input logic gate's truth table: X float32 (4, 2) over {0,1}^2, y int64 (4,).

    Names: AND, OR, NAND, NOR, XOR, A_AND_NOT_B (case and '-'/' ' for '_' do not matter).
    """
    key = re.sub(r"[\s-]+", "_", str(name).strip()).upper()
    if key not in LOGIC_GATES:
        raise DataError(f"unknown logic gate {name!r}: use one of {', '.join(LOGIC_GATES)}")
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    return x, np.array(LOGIC_GATES[key], dtype=np.int64)


def blobs(n: int = 100, centers: Any = 2, seed: int = 0, *, cluster_std: float = 1.0, n_features: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs from scikit-learn's ``make_blobs``: X float32 (n, n_features), y int64 (n,)."""
    from sklearn.datasets import make_blobs

    n = _check_size(n, "n", 1, 10_000_000)
    seed = _check_seed(seed)
    try:
        x, y = make_blobs(n_samples=n, centers=centers, n_features=n_features, cluster_std=cluster_std, random_state=seed)
    except (TypeError, ValueError) as exc:
        raise DataError(f"blobs: bad arguments ({exc}); pass centers as a count or a list of points") from None
    return x.astype(np.float32), y.astype(np.int64)


def _grid(text: str) -> np.ndarray:
    g = np.array([[int(v) for v in row.split()] for row in text.strip().splitlines()], dtype=np.int8)
    g.flags.writeable = False
    return g


#: The 9x9 X of the lecture notes (seed 003, "در واقع کامپیوتر چه میبیند!؟"): 1 ink, -1 background.
X_GRID = _grid(
    """
    -1 -1 -1 -1 -1 -1 -1 -1 -1
    -1  1 -1 -1 -1 -1 -1  1 -1
    -1 -1  1 -1 -1 -1  1 -1 -1
    -1 -1 -1  1 -1  1 -1 -1 -1
    -1 -1 -1 -1  1 -1 -1 -1 -1
    -1 -1 -1  1 -1  1 -1 -1 -1
    -1 -1  1 -1 -1 -1  1 -1 -1
    -1  1 -1 -1 -1 -1 -1  1 -1
    -1 -1 -1 -1 -1 -1 -1 -1 -1
    """
)

#: The deformed X the same slides compare with it ("computers are literal"): seed 003, second grid.
X_DEFORMED_GRID = _grid(
    """
    -1 -1 -1 -1 -1 -1 -1 -1 -1
    -1 -1 -1 -1 -1 -1  1 -1 -1
    -1  1 -1 -1 -1  1 -1 -1 -1
    -1 -1  1  1 -1  1 -1 -1 -1
    -1 -1 -1 -1  1 -1 -1 -1 -1
    -1 -1 -1  1 -1  1  1 -1 -1
    -1 -1 -1  1 -1 -1 -1  1 -1
    -1 -1  1 -1 -1 -1 -1 -1 -1
    -1 -1 -1 -1 -1 -1 -1 -1 -1
    """
)

#: A 9x9 O in the same style. The seeds show only X grids (the O appears in pictures only), so
#: this ring is the project's own drawing, not a quotation.
O_GRID = _grid(
    """
    -1 -1 -1 -1 -1 -1 -1 -1 -1
    -1 -1 -1  1  1  1 -1 -1 -1
    -1 -1  1 -1 -1 -1  1 -1 -1
    -1  1 -1 -1 -1 -1 -1  1 -1
    -1  1 -1 -1 -1 -1 -1  1 -1
    -1  1 -1 -1 -1 -1 -1  1 -1
    -1 -1  1 -1 -1 -1  1 -1 -1
    -1 -1 -1  1  1  1 -1 -1 -1
    -1 -1 -1 -1 -1 -1 -1 -1 -1
    """
)


def x_vs_o(noise: int = 0, n: int = 2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The 9x9 X-vs-O images of the lecture notes: images float32 (n, 9, 9) of -1/1, labels int64.

    Labels alternate 0 = X (:data:`X_GRID`), 1 = O (:data:`O_GRID`), starting with X. ``noise``
    is the number of pixels flipped (-1 <-> 1) in each image, at positions fixed by ``seed``
    and the image's index; ``noise=0`` gives the clean grids.
    """
    n = _check_size(n, "n", 1, 1_000_000)
    if isinstance(noise, bool) or not isinstance(noise, (int, np.integer)) or not 0 <= noise <= 81:
        raise DataError(f"noise is the number of pixels to flip per image, an integer from 0 to 81, got {noise!r}")
    seed = _check_seed(seed)
    labels = (np.arange(n) % 2).astype(np.int64)
    images = np.where(labels[:, None, None] == 0, X_GRID, O_GRID).astype(np.float32)
    if noise:
        keys = _keys(seed, n * 81, stream=1).reshape(n, 81)
        flip = np.argsort(keys, axis=1, kind="stable")[:, :noise]
        flat = images.reshape(n, 81)
        rows = np.repeat(np.arange(n), noise)
        flat[rows, flip.ravel()] *= -1
    return images, labels


# --------------------------------------------------------------------------------------------
# Data definitions (datasets/*.toml)
# --------------------------------------------------------------------------------------------


def _definitions_dir() -> Path:
    package = Path(__file__).resolve().parent.parent  # the grader package
    checkout = package.parent / "datasets"
    if (checkout / "hoda.toml").is_file():
        return checkout
    installed = package / "course_data"
    if installed.is_dir():
        return installed
    raise DataError(
        f"the course's data definitions are missing (looked in {checkout} and {installed}):"
        " run from a checkout of dlgrade or reinstall it"
    )


def definitions() -> list[str]:
    """Names of the data definitions available (the TOML files in datasets/)."""
    return sorted(p.stem for p in _definitions_dir().glob("*.toml"))


def load_definition(name: str) -> dict:
    """One data definition (``datasets/<name>.toml``) as a dict, e.g. ``load_definition("hoda")``."""
    folder = _definitions_dir()
    available = sorted(p.stem for p in folder.glob("*.toml"))
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", name) or name not in available:
        raise DataError(f"unknown data definition {name!r}: use one of {', '.join(available)}")
    path = folder / f"{name}.toml"
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{path}: not valid TOML ({exc}); fix the file") from None


# --------------------------------------------------------------------------------------------
# The digit task an exercise grades on: Hoda when the course has it, else scikit-learn's digits
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigitTask:
    """A train / held-out split of digit images for one exercise. `dataset` is "hoda" or
    "digits"; the held-out labels stay on the trusted side (only `x_test` is ever sent)."""

    dataset: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int = 10

    @property
    def y_train_onehot(self) -> np.ndarray:
        return np.eye(self.num_classes, dtype=np.float32)[self.y_train]


def hoda_available(root: str | os.PathLike | None = None) -> bool:
    """Whether a Hoda folder is configured (argument or $DLGRADE_HODA_DIR) and complete."""
    try:
        hoda_dir(root)
        return True
    except DataError:
        return False


def _digits_as(preset: dict, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits shaped like a Hoda preset (size, flatten), split 70/30."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)
    size = int(preset.get("size", 32))
    x = normalize_digits(list(images), size, keep_aspect=bool(preset.get("keep_aspect", True)))
    x = x.reshape(len(x), size * size) if preset.get("flatten") else x[..., None]
    from sklearn.model_selection import train_test_split
    x_tr, x_te, y_tr, y_te = train_test_split(x, digits.target.astype(np.int64), test_size=0.3,
                                              random_state=seed, stratify=digits.target)
    return x_tr, y_tr, x_te, y_te


def digit_task(preset_name: str, root: str | os.PathLike | None = None,
               heldout_seed: int | None = None) -> DigitTask:
    """The digits an exercise trains and is graded on, by a preset of `datasets/hoda.toml`
    (e.g. "mlp-5x5", "lenet-32"): the Hoda subsets when a Hoda folder is configured, else
    scikit-learn's bundled digits (1,797 images) brought to the same shape.

    `heldout_seed` draws the held-out subset: the grading passes a course's secret seed (or one
    drawn per grading), so the held-out digits cannot be recomputed from public seeds. On Hoda the
    training subset keeps the preset's public seed (the training set the thresholds were
    calibrated on) and the held-out subset of the test file is drawn with `heldout_seed`; on
    scikit-learn's digits the whole 70/30 split is drawn with it. None: the preset's seed for both
    (the public, reproducible split of the tests and benchmarks)."""
    presets = load_definition("hoda").get("presets", {})
    if preset_name not in presets:
        raise DataError(f"unknown data preset {preset_name!r}; the presets are: {', '.join(sorted(presets))}")
    preset = presets[preset_name]
    seed = int(preset.get("seed", 0))
    held = seed if heldout_seed is None else _check_seed(heldout_seed)
    if hoda_available(root):
        kw = dict(size=int(preset.get("size", 32)), flatten=bool(preset.get("flatten", False)),
                  root=root, keep_aspect=bool(preset.get("keep_aspect", True)))
        x_tr, y_tr = load_hoda("train", n=preset.get("train"), seed=seed, **kw)
        x_te, y_te = load_hoda("test", n=preset.get("test"), seed=held, **kw)
        return DigitTask("hoda", x_tr, y_tr, x_te, y_te)
    x_tr, y_tr, x_te, y_te = _digits_as(preset, held % 2**32)
    return DigitTask("digits", x_tr, y_tr, x_te, y_te)
