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

__all__ = ["DigitTask", "digit_task", "digit_features", "DIGIT_FEATURE_NAMES"]


@dataclass(frozen=True)
class DigitTask:
    """A train / held-out split of digit images for one exercise. `dataset` is "hoda" or
    "digits"; the held-out labels stay on the trusted side (only `x_test` is ever sent).
    `classes` are the digits the task keeps (a preset's `classes`, all ten by default); label i
    is the digit `classes[i]`, so the labels run 0..num_classes-1."""

    dataset: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int = 10
    classes: tuple[int, ...] = tuple(range(10))

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


def _digits_as(preset: dict, seed: int, classes: tuple[int, ...] | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits shaped like a Hoda preset (size, flatten), split 70/30; with
    `classes`, only those digits (labels still the digits: the caller remaps them)."""
    size = int(preset.get("size", 32))
    x, y = _normalized_sklearn_digits(size, bool(preset.get("keep_aspect", True)))
    if classes is not None:
        keep = np.isin(y, classes)
        x, y = x[keep], y[keep]
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


def _hoda_classes(split: str, n: int | None, seed: int, classes: tuple[int, ...], size: int, flatten: bool,
                  root, keep_aspect: bool) -> tuple[np.ndarray, np.ndarray]:
    """`load_hoda` restricted to `classes`: the class-stratified subset of n digits is drawn (by
    `subset_indices`, fixed by `seed`) among the digits of those classes only (labels still the
    digits: the caller remaps them)."""
    from grader.data.cdb import read_cdb
    from grader.data.hoda import HODA_FILES
    from grader.data.seeded import subset_indices
    images, labels = read_cdb(Path(root) / HODA_FILES[split])
    among = np.flatnonzero(np.isin(labels, classes))
    idx = among if n is None else among[subset_indices(labels[among], n, seed)]
    x = normalize_digits([images[i] for i in idx.tolist()], size, keep_aspect=keep_aspect)
    x = x.reshape(idx.size, size * size) if flatten else x[..., None]
    return x, labels[idx].astype(np.int64)


def _preset_classes(preset: dict, name: str) -> tuple[int, ...] | None:
    """A preset's `classes` (distinct digits 0-9, at least two), or None when it keeps all ten."""
    raw = preset.get("classes")
    if raw is None:
        return None
    if (not isinstance(raw, list) or len(raw) < 2 or len(set(raw)) != len(raw)
            or not all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 9 for c in raw)):
        raise DataError(f"data preset {name!r}: classes must be a list of at least two distinct digits 0-9, "
                        f"got {raw!r}; fix datasets/hoda.toml")
    return tuple(raw)


def _remap(y: np.ndarray, classes: tuple[int, ...]) -> np.ndarray:
    """Digits -> their index in `classes` (0..len(classes)-1), int64."""
    lookup = np.full(10, -1, dtype=np.int64)
    lookup[list(classes)] = np.arange(len(classes))
    return lookup[y]


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
    (the public, reproducible split of the tests and benchmarks).

    A preset with `classes = [5, 6, 7, 8, 9]` keeps only those digits (its `train` / `test` sizes
    are drawn among them, class-stratified) and numbers the labels by their place in the list:
    digit `classes[i]` has label i, `num_classes` is the list's length."""
    presets = load_definition("hoda").get("presets", {})
    if preset_name not in presets:
        raise DataError(f"unknown data preset {preset_name!r}; the presets are: {', '.join(sorted(presets))}")
    preset = presets[preset_name]
    classes = _preset_classes(preset, preset_name)
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
        if classes is not None:
            x_tr, y_tr = _hoda_classes("train", preset.get("train"), seed, classes, **kw)
            x_te, y_te = _hoda_classes("test", preset.get("test"), held, classes, **kw)
            return DigitTask("hoda", x_tr, _remap(y_tr, classes), x_te, _remap(y_te, classes), len(classes), classes)
        x_tr, y_tr = _hoda_subset("train", preset.get("train"), seed, **kw)
        x_te, y_te = load_hoda("test", n=preset.get("test"), seed=held, **kw)
        return DigitTask("hoda", x_tr, y_tr, x_te, y_te)
    x_tr, y_tr, x_te, y_te = _digits_as(preset, held % 2**32, classes)
    if classes is not None:
        return DigitTask("digits", x_tr, _remap(y_tr, classes), x_te, _remap(y_te, classes), len(classes), classes)
    return DigitTask("digits", x_tr, y_tr, x_te, y_te)


#: what each of `digit_features`' numbers is, in order
DIGIT_FEATURE_NAMES = ("ink in rows band 1 (top)", "ink in rows band 2", "ink in rows band 3",
                       "ink in rows band 4 (bottom)", "ink in columns band 1 (left)", "ink in columns band 2",
                       "ink in columns band 3", "ink in columns band 4 (right)")


def digit_features(images) -> np.ndarray:
    """Eight numbers per digit image, float32 (n, 8): the mean pixel value (ink) of each of four
    horizontal bands of rows, top to bottom, then of four vertical bands of columns, left to right
    (`numpy.array_split` of the rows / columns into 4). `images`: (n, size, size) or
    (n, size, size, 1), ink = 1. The functional-api exercise feeds them to a model's second input."""
    x = np.asarray(images, dtype=np.float32)
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim != 3 or min(x.shape[1:]) < 4:
        raise DataError(f"digit_features takes images of shape (n, size, size) or (n, size, size, 1) with size >= 4, "
                        f"got shape {x.shape}")
    rows = [band.mean(axis=(1, 2)) for band in np.array_split(x, 4, axis=1)]
    cols = [band.mean(axis=(1, 2)) for band in np.array_split(x, 4, axis=2)]
    return np.stack(rows + cols, axis=1).astype(np.float32)
