"""The digit task an exercise trains and is graded on (`digit_task`): a preset of
``datasets/hoda.toml`` on the Hoda digits when the course has them, else scikit-learn's bundled
digits brought to the same shape."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.data.definitions import load_definition
from grader.data.errors import DataError, check_seed
from grader.data.hoda import FROM_ENV, EnvFolder, hoda_available, hoda_dir, load_hoda
from grader.data.normalize import normalize_digits

__all__ = ["DigitTask", "digit_task"]


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


@functools.lru_cache(maxsize=8)
def _normalized_sklearn_digits(size: int, keep_aspect: bool) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits normalized at `size`, once per process (read-only: callers index them)."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)
    x = normalize_digits(list(images), size, keep_aspect=keep_aspect)
    y = digits.target.astype(np.int64)
    x.flags.writeable = y.flags.writeable = False
    return x, y


def _digits_as(preset: dict, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits shaped like a Hoda preset (size, flatten), split 70/30."""
    size = int(preset.get("size", 32))
    x, y = _normalized_sklearn_digits(size, bool(preset.get("keep_aspect", True)))
    x = x.reshape(len(x), size * size) if preset.get("flatten") else x[..., None]
    from sklearn.model_selection import train_test_split
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.3, random_state=seed, stratify=y)
    return x_tr, y_tr, x_te, y_te  # fresh arrays (the split indexes), writable


@functools.lru_cache(maxsize=8)
def _hoda_cached(split: str, n: int | None, seed: int, size: int, flatten: bool, folder: str, keep_aspect: bool,
                 stamp: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    del stamp  # the file's mtime and size: part of the key only, a changed file is read again
    x, y = load_hoda(split, n=n, seed=seed, size=size, flatten=flatten, root=folder, keep_aspect=keep_aspect)
    x.flags.writeable = y.flags.writeable = False
    return x, y


def _hoda_subset(split: str, n: int | None, seed: int, size: int, flatten: bool, root, keep_aspect: bool):
    """`load_hoda(...)` normalized once per process for the same subset (the training subsets of the
    presets are fixed by their public seed); copies, so a caller may change them."""
    from grader.data.hoda import HODA_FILES
    st = (Path(root) / HODA_FILES[split]).stat()
    x, y = _hoda_cached(split, n, seed, size, flatten, str(root), keep_aspect, (st.st_mtime_ns, st.st_size))
    return x.copy(), y.copy()


def digit_task(preset_name: str, root: str | os.PathLike | None | EnvFolder = FROM_ENV,
               heldout_seed: int | None = None) -> DigitTask:
    """The digits an exercise trains and is graded on, by a preset of `datasets/hoda.toml`
    (e.g. "mlp-5x5", "lenet-32"): the Hoda subsets when a Hoda folder is given, else
    scikit-learn's bundled digits (1,797 images) brought to the same shape.

    `root` is the Hoda folder. In an exercise's tests pass the grading's `hoda` fixture:
    `digit_task(preset, hoda, heldout_seed=heldout_seed)` (a folder, or None for scikit-learn's
    digits), so a grading never depends on the environment of the process it runs in. A folder
    given but incomplete is a DataError (a grader fault in a grading), never a silent switch of
    data. Left out (`FROM_ENV`), the folder named by ``$DLGRADE_HODA_DIR`` is used when it is
    complete (a person at a terminal, the benchmarks).

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
    held = seed if heldout_seed is None else check_seed(heldout_seed)
    if root is FROM_ENV:
        root = hoda_dir() if hoda_available() else None
    elif root is not None and str(root) != "":
        root = hoda_dir(root)  # given: it must hold the files (the message says which are missing)
    else:
        root = None
    if root is not None:
        kw = dict(size=int(preset.get("size", 32)), flatten=bool(preset.get("flatten", False)),
                  root=root, keep_aspect=bool(preset.get("keep_aspect", True)))
        x_tr, y_tr = _hoda_subset("train", preset.get("train"), seed, **kw)
        x_te, y_te = load_hoda("test", n=preset.get("test"), seed=held, **kw)
        return DigitTask("hoda", x_tr, y_tr, x_te, y_te)
    x_tr, y_tr, x_te, y_te = _digits_as(preset, held % 2**32)
    return DigitTask("digits", x_tr, y_tr, x_te, y_te)
