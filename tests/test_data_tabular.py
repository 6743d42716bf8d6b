"""grader.data.tabular: the bundled tabular sets split with a held-out seed (deterministic, disjoint,
stratified, standardised from the training split only), the imbalanced subset, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from grader.data import DataError
from grader.data.tabular import _load, imbalanced_task, minority_class, tabular_task


@pytest.mark.parametrize("name, n, n_test, classes", [("diabetes", 442, 110, 0), ("iris", 150, 38, 3),
                                                      ("breast_cancer", 569, 142, 2)])
def test_split_sizes_dtypes_and_classes(name, n, n_test, classes):
    task = tabular_task(name)
    assert len(task.y_train) + len(task.y_test) == n and len(task.y_test) == n_test
    assert task.x_train.dtype == np.float32 and task.x_test.dtype == np.float32
    assert task.num_classes == classes
    assert task.y_train.dtype == (np.float32 if classes == 0 else np.int64)
    assert len(task.feature_names) == task.n_features == task.x_train.shape[1]


def test_the_held_out_rows_are_the_ones_left_out_and_the_seed_changes_them():
    x, y, _ = _load("diabetes")
    a, b = tabular_task("diabetes", 7), tabular_task("diabetes", 8)
    raw_test = a.x_test * a.scale + a.mean
    raw_train = a.x_train * a.scale + a.mean
    rows_test = {int(np.argmin(np.abs(x - r).sum(axis=1))) for r in raw_test}
    rows_train = {int(np.argmin(np.abs(x - r).sum(axis=1))) for r in raw_train}
    assert not rows_test & rows_train and len(rows_test | rows_train) == len(y)
    assert not np.array_equal(a.y_test, b.y_test)
    again = tabular_task("diabetes", 7)
    assert np.array_equal(a.x_test, again.x_test) and np.array_equal(a.y_train, again.y_train)
    assert np.array_equal(tabular_task("diabetes").y_test, tabular_task("diabetes", 0).y_test)  # None: public seed 0


def test_standardised_with_the_training_split_only():
    task = tabular_task("breast_cancer", 3)
    assert np.allclose(task.x_train.mean(axis=0), 0, atol=1e-5)
    assert np.allclose(task.x_train.std(axis=0), 1, atol=1e-4)
    assert not np.allclose(task.x_test.mean(axis=0), 0, atol=1e-3)  # the held-out rows do not shape the statistics
    x, _, _ = _load("breast_cancer")
    assert not np.allclose(task.mean, x.mean(axis=0))


def test_classification_splits_are_stratified():
    task = tabular_task("iris", 11)
    assert np.bincount(task.y_test).tolist() in ([13, 13, 12], [13, 12, 13], [12, 13, 13])
    bc = tabular_task("breast_cancer", 11)
    assert abs(np.mean(bc.y_test == 0) - 212 / 569) < 0.01


def test_targets_stay_in_their_units():
    _, y, _ = _load("diabetes")
    task = tabular_task("diabetes", 5)
    assert set(np.round(task.y_test, 3)) <= set(np.round(y, 3)) and task.y_train.max() > 100


def test_imbalanced_subset_thins_the_minority_of_the_training_split_only():
    plain = tabular_task("breast_cancer", 4)
    task = imbalanced_task("breast_cancer", 4, 0.10, ("mean texture", "mean smoothness"))
    counts = np.bincount(task.y_train)
    assert minority_class(task.y_train) == 0 and abs(counts[0] / counts.sum() - 0.10) < 0.01
    assert counts[1] == np.sum(plain.y_train == 1)
    assert np.array_equal(task.y_test, plain.y_test)  # every held-out row stays
    assert task.feature_names == ("mean texture", "mean smoothness") and task.x_test.shape == (len(plain.y_test), 2)
    assert np.allclose(task.x_train.mean(axis=0), 0, atol=1e-5)
    assert task.dataset == "breast_cancer-imbalanced"
    other = imbalanced_task("breast_cancer", 5, 0.10, ("mean texture", "mean smoothness"))
    assert not np.array_equal(task.x_test, other.x_test)


@pytest.mark.parametrize("call, words", [
    (lambda: tabular_task("boston"), "unknown tabular set"),
    (lambda: tabular_task("iris", -1), "seed"),
    (lambda: tabular_task("iris", test_fraction=1.5), "test_fraction"),
    (lambda: imbalanced_task("diabetes"), "regression set"),
    (lambda: imbalanced_task("breast_cancer", minority_share=0.6), "minority_share"),
    (lambda: imbalanced_task("breast_cancer", minority_share=0.49), "smaller share"),
    (lambda: imbalanced_task("breast_cancer", features=("mean colour",)), "no column"),
    (lambda: imbalanced_task("breast_cancer", features="mean texture"), "list of column names"),
])
def test_bad_arguments_are_one_line_data_errors(call, words):
    with pytest.raises(DataError, match=words) as err:
        call()
    assert "\n" not in str(err.value)
