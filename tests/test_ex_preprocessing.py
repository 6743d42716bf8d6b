"""The preprocessing exercise graded through the real engine and sandbox: a correct learner in
other allowed idioms gets full marks, and each near miss (std with n - 1, division by the
variance, reshape instead of transpose, the slide's total / count weights, the confusion matrix
transposed, mini-batches never shuffled, the test size rounded
rather than rounded up) loses exactly the one hidden test of its property, with
a hint naming it."""

from __future__ import annotations


import pytest

from exercise_kit import NEAR_MISS, lost as _lost
from exercise_kit import edited_reference as _variant
from grader.exercise.spec import find_exercise
from grader.grading.engine import grade

def test_other_idioms_get_full_marks():
    ex = find_exercise("preprocessing")
    for suite in ("public", "hidden"):
        result = grade(ex, NEAR_MISS / "preprocessing_other_idioms.py", suite)
        assert result.full_marks, _lost(result)


NEAR_MISSES = {
    "std with n - 1": ("std = X.std(axis=0)", "std = X.std(axis=0, ddof=1)",
                       "test_standardize_fit_matches_scikit_learn", "n - 1"),
    "divided by the variance": ("return (X - mean) / np.where(std == 0, 1.0, std)",
                                "return (X - mean) / np.where(std == 0, 1.0, std) ** 2",
                                "test_standardize_apply_matches_scikit_learn_on_a_test_set", "sigma^2"),
    "reshape instead of transpose": (
        "return np.transpose(x, axes).astype(np.float32) / np.float32(255)",
        "return x.reshape(tuple(x.shape[i] for i in axes)).astype(np.float32) / np.float32(255)",
        "test_to_chw_puts_the_channels_first", "np.transpose"),
    "total / count weights": ("top = counts.max()", "top = counts.sum()",
                              "test_class_weights_agree_with_scikit_learn_balanced_up_to_scale", "max_count / count"),
    "confusion matrix transposed": ("np.add.at(C, (np.asarray(y_true), np.asarray(y_pred)), 1)",
                                    "np.add.at(C, (np.asarray(y_pred), np.asarray(y_true)), 1)",
                                    "test_confusion_matrix_counts_match_scikit_learn", "rows are the true classes"),
    "round instead of ceil": ("n_test = math.ceil(test_size * n)", "n_test = round(test_size * n)",
                              "test_stratified_split_is_a_partition_of_the_right_sizes", "ceil(test_size * n)"),
    "never shuffled": ("order = np.random.default_rng(seed).permutation(n)", "order = np.arange(n)",
                       "test_minibatches_are_a_fresh_shuffle_per_seed", "fresh permutation"),
}


@pytest.mark.parametrize("name", sorted(NEAR_MISSES))
def test_a_near_miss_loses_exactly_its_property(tmp_path, name):
    old, new, test, hint = NEAR_MISSES[name]
    ex = find_exercise("preprocessing")
    result = grade(ex, _variant(tmp_path, ex, old, new, 1), "hidden")
    lost = _lost(result)
    assert set(lost) == {test}, lost
    assert hint in lost[test]
    assert not result.extra_data.get("internal_errors")
