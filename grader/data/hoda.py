"""The Hoda Persian digits: the folder that holds them (given, or resolved from the environment for
a person at a terminal) and the loader that reads, subsets and normalises them for Keras."""

from __future__ import annotations

import enum
import os
from pathlib import Path

import numpy as np

from grader.data.cdb import read_cdb
from grader.data.errors import DataError, check_size
from grader.data.normalize import normalize_digits
from grader.data.seeded import subset_indices

__all__ = ["HODA_ENV", "HODA_FILES", "FROM_ENV", "EnvFolder", "hoda_dir", "hoda_available", "load_hoda"]

#: the environment variable a person at a terminal may set instead of giving --hoda-dir
HODA_ENV = "DLGRADE_HODA_DIR"
#: split name -> file name inside the Hoda folder
HODA_FILES = {"train": "RemainingSamples.cdb", "test": "Test 20000.cdb"}


class EnvFolder(enum.Enum):
    """The type of `FROM_ENV` (a one-member enum, so a type checker tells it from a folder and None)."""

    FROM_ENV = "the folder named by $DLGRADE_HODA_DIR"


#: `digit_task`'s default folder: the one ``$DLGRADE_HODA_DIR`` names, if any (a person at a terminal,
#: the benchmarks). A grading never uses it: it passes the folder it was given, or None.
FROM_ENV = EnvFolder.FROM_ENV


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
    size = check_size(size)
    folder = hoda_dir(root)
    images, labels = read_cdb(folder / HODA_FILES[split])
    idx = np.arange(labels.size, dtype=np.int64) if n is None else subset_indices(labels, n, seed)
    x = normalize_digits([images[i] for i in idx.tolist()], size, margin=margin, keep_aspect=keep_aspect)
    x = x.reshape(idx.size, size * size) if flatten else x[..., None]
    return x, labels[idx].astype(np.int64)


def hoda_available(root: str | os.PathLike | None = None) -> bool:
    """Whether a Hoda folder is configured (argument, else $DLGRADE_HODA_DIR) and complete."""
    try:
        hoda_dir(root)
        return True
    except DataError:
        return False
