"""scikit-learn's bundled tabular sets (diabetes, iris, breast cancer) split for an exercise:
`tabular_task` draws the held-out part with a seed (the grading's secret `heldout_seed`, or the
public seed 0) and standardises the features with the mean and standard deviation of the
TRAINING split only; `imbalanced_task` thins one class of the training split to a small share
(the imbalanced subset that class weights are graded on). Offline (the sets ship with
scikit-learn) and deterministic: the choices use `seeded.seeded_keys`, not a numpy random stream."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from grader.data.errors import DataError, check_seed
from grader.data.seeded import seeded_keys, subset_indices

__all__ = ["TABULAR_SETS", "TabularTask", "tabular_task", "imbalanced_task", "minority_class"]

#: name -> (scikit-learn loader, "regression" | "classification")
TABULAR_SETS = {"diabetes": ("load_diabetes", "regression"), "iris": ("load_iris", "classification"),
                "breast_cancer": ("load_breast_cancer", "classification")}

_STREAM_SPLIT, _STREAM_THIN = 0, 1


@dataclass(frozen=True)
class TabularTask:
    """A train / held-out split of one bundled tabular set. `x_*` are standardised float32 (the
    training split's statistics), `y_*` float32 targets in their own units (regression) or int64
    class labels; `num_classes` is 0 for a regression. Only the training split is ever sent to a
    learner's code; `x_test` goes to the trusted held-out predictor, `y_test` stays here."""

    dataset: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    feature_names: tuple[str, ...]
    num_classes: int = 0
    mean: np.ndarray | None = None  # the training split's feature means (what was subtracted)
    scale: np.ndarray | None = None  # the training split's feature standard deviations (what divided)

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])


@functools.lru_cache(maxsize=4)
def _load(name: str) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """The raw set, once per process (read-only arrays: callers index them)."""
    import sklearn.datasets
    loader, kind = TABULAR_SETS[name]
    bunch = getattr(sklearn.datasets, loader)()  # bundled with scikit-learn: nothing is downloaded
    x = np.asarray(bunch.data, dtype=np.float64)
    y = np.asarray(bunch.target, dtype=np.float32 if kind == "regression" else np.int64)
    x.flags.writeable = y.flags.writeable = False
    return x, y, tuple(str(f) for f in bunch.feature_names)


def _check_name(name) -> str:
    if not isinstance(name, str) or name not in TABULAR_SETS:
        raise DataError(f"unknown tabular set {name!r}; the sets are: {', '.join(sorted(TABULAR_SETS))}")
    return name


def _check_fraction(value, what: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low < float(value) < high:
        raise DataError(f"{what} must be a fraction between {low:g} and {high:g}, got {value!r}; pass e.g. "
                        f"{what}={(low + high) / 2:g}")
    return float(value)


def _split(name: str, seed: int, test_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """(training rows in a seeded order, held-out rows) of the set `name`."""
    _, y, _ = _load(name)
    n_test = max(1, int(round(len(y) * test_fraction)))
    keys = seeded_keys(seed, len(y), _STREAM_SPLIT)
    if TABULAR_SETS[name][1] == "classification":
        test = subset_indices(y, n_test, seed)
    else:
        test = np.argsort(keys, kind="stable")[:n_test]
    is_test = np.zeros(len(y), dtype=bool)
    is_test[test] = True
    train = np.flatnonzero(~is_test)
    return train[np.argsort(keys[train], kind="stable")], test


def _task(dataset: str, name: str, train: np.ndarray, test: np.ndarray, columns=None) -> TabularTask:
    """The rows `train` and `test` of the set `name` (its `columns`, or all), standardised with the
    statistics of `train`."""
    x, y, features = _load(name)
    if columns is not None:
        x, features = x[:, columns], tuple(features[j] for j in columns)
    mean = x[train].mean(axis=0)
    scale = x[train].std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    num_classes = int(y.max()) + 1 if TABULAR_SETS[name][1] == "classification" else 0
    return TabularTask(dataset, ((x[train] - mean) / scale).astype(np.float32), y[train].copy(),
                       ((x[test] - mean) / scale).astype(np.float32), y[test].copy(), features, num_classes,
                       mean.astype(np.float32), scale.astype(np.float32))


def tabular_task(name: str, heldout_seed: int | None = None, test_fraction: float = 0.25) -> TabularTask:
    """The bundled set `name` ("diabetes", "iris" or "breast_cancer") split into training and
    held-out parts: `test_fraction` of the rows are held out, chosen with `heldout_seed` (a
    grading passes its secret seed; None: the public seed 0), class-stratified for a
    classification set. The features are standardised with the training split's mean and
    standard deviation (a constant feature is only centred); the targets are left as they are."""
    name = _check_name(name)
    seed = 0 if heldout_seed is None else check_seed(heldout_seed)
    train, test = _split(name, seed, _check_fraction(test_fraction, "test_fraction", 0.0, 0.9))
    return _task(name, name, train, test)


def imbalanced_task(name: str = "breast_cancer", heldout_seed: int | None = None, minority_share: float = 0.10,
                    features: tuple[str, ...] | None = None, test_fraction: float = 0.25) -> TabularTask:
    """`tabular_task(name, heldout_seed, test_fraction)` with the smallest class of the TRAINING
    split thinned (rows chosen with `heldout_seed`) so that it is `minority_share` of the training
    rows; the held-out split keeps all its rows, so a recall on the minority class is measured on
    as many of them as the plain task has. `features`: the names of the columns to keep (None:
    all); with a few weakly separating ones the classes overlap, and where they overlap a model
    trained without class weights calls the minority class rarely. The features are standardised
    from the thinned training split. Its `dataset` is "<name>-imbalanced"."""
    name = _check_name(name)
    if TABULAR_SETS[name][1] != "classification":
        raise DataError(f"{name!r} is a regression set; an imbalanced subset needs class labels (iris, breast_cancer)")
    share = _check_fraction(minority_share, "minority_share", 0.0, 0.5)
    columns = None if features is None else _columns(name, features)
    seed = 0 if heldout_seed is None else check_seed(heldout_seed)
    train, test = _split(name, seed, _check_fraction(test_fraction, "test_fraction", 0.0, 0.9))
    _, y, _ = _load(name)
    classes, counts = np.unique(y[train], return_counts=True)
    minority = int(classes[np.argmin(counts)])
    members = train[y[train] == minority]
    others = train[y[train] != minority]
    keep = max(1, int(round(share / (1.0 - share) * len(others))))
    if keep >= len(members):
        raise DataError(f"minority_share={share:g} keeps all {len(members)} training rows of class {minority}; "
                        "pass a smaller share")
    keys = seeded_keys(seed, len(y), _STREAM_THIN)
    kept = members[np.argsort(keys[members], kind="stable")[:keep]]
    is_kept = np.isin(train, np.concatenate([others, kept]))
    return _task(f"{name}-imbalanced", name, train[is_kept], test, columns)


def _columns(name: str, features) -> list[int]:
    names = _load(name)[2]
    if isinstance(features, str) or not isinstance(features, (list, tuple)) or not features:
        raise DataError(f"features must be a non-empty list of column names of {name!r}, got {features!r}")
    unknown = [f for f in features if f not in names]
    if unknown:
        raise DataError(f"{name!r} has no column {unknown[0]!r}; its columns are: {', '.join(names)}")
    return [names.index(f) for f in features]


def minority_class(y) -> int:
    """The least frequent label of `y` (ties: the smaller label)."""
    classes, counts = np.unique(np.asarray(y), return_counts=True)
    return int(classes[np.argmin(counts)])
