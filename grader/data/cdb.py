"""The Hoda `.cdb` file format: its header and records, decoded from the description in
``shared/datasets/hoda/README.md`` (vectorised run-length decoding, cached per process)."""

from __future__ import annotations

import functools
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.data.errors import DataError

__all__ = ["CdbHeader", "read_cdb_header", "read_cdb"]

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
        raise DataError(f"{p}: no such file; check the path (the Hoda folder is set by DLGRADE_HODA_DIR or --hoda-dir)") from None
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
