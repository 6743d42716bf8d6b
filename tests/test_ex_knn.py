"""The knn exercise graded through the real engine and sandbox: a correct learner in other allowed
idioms gets full marks, and each near miss (a vote tie given to the smallest label, equal
distances in reverse training order, uint8 pixels subtracted without a conversion, the classes
sorted in one_hot) loses exactly the one hidden test of its property, with a hint naming it."""

from __future__ import annotations


import pytest

from exercise_kit import NEAR_MISS, lost as _lost
from exercise_kit import edited_reference as _variant
from grader.exercise.spec import find_exercise
from grader.grading.engine import grade

def test_other_idioms_get_full_marks():
    ex = find_exercise("knn")
    for suite in ("public", "hidden"):
        result = grade(ex, NEAR_MISS / "knn_other_idioms.py", suite)
        assert result.full_marks, _lost(result)


NEAR_MISSES = {
    "vote tie to the smallest label": (
        "predictions.append(next(label for label in y_train[row].tolist() if votes[label] == most))",
        "predictions.append(min(label for label in votes if votes[label] == most))", 1,
        "test_a_vote_tie_goes_to_the_nearest", "nearest", None),
    "equal distances in reverse training order": (
        'nearest = np.argsort(D, axis=1, kind="stable")[:, :k]',
        'nearest = (D.shape[1] - 1 - np.argsort(D[:, ::-1], axis=1, kind="stable"))[:, :k]', 1,
        "test_equal_distances_keep_the_training_order", "stable sort", None),
    "uint8 subtracted as uint8": (
        "A = np.asarray(A, dtype=float)\n    B = np.asarray(B, dtype=float)",
        "A = np.asarray(A)\n    B = np.asarray(B)", 2,
        "test_distances_of_uint8_pixels_do_not_wrap_around", "convert to float", None),
    "classes sorted": (
        "classes = list(np.asarray(classes).tolist())", "classes = sorted(np.asarray(classes).tolist())", 1,
        "test_one_hot_follows_the_order_of_classes", "order given", "test_one_hot_of_the_notes"),
}


@pytest.mark.parametrize("name", sorted(NEAR_MISSES))
def test_a_near_miss_loses_exactly_its_property(tmp_path, name):
    old, new, count, test, hint, public_test = NEAR_MISSES[name]
    ex = find_exercise("knn")
    path = _variant(tmp_path, ex, old, new, count)
    hidden = grade(ex, path, "hidden")
    lost = _lost(hidden)
    assert set(lost) == {test}, lost
    assert hint in lost[test]
    assert not hidden.extra_data.get("internal_errors")
    public = grade(ex, path, "public")
    assert set(_lost(public)) == ({public_test} if public_test else set()), _lost(public)


def test_l2_by_the_expansion_without_a_clip_loses_only_the_self_distance_test(tmp_path):
    ex = find_exercise("knn")
    path = _variant(tmp_path, ex, "np.sqrt(np.maximum(sq, 0))", "np.sqrt(sq)", 1, NEAR_MISS / "knn_other_idioms.py")
    result = grade(ex, path, "hidden")
    lost = _lost(result)
    assert set(lost) == {"test_distance_of_a_point_to_itself_is_0"}, lost
    assert "clip it at 0" in lost["test_distance_of_a_point_to_itself_is_0"]


def test_integer_one_hot_loses_only_the_float_test(tmp_path):
    ex = find_exercise("knn")
    path = _variant(tmp_path, ex, "hits.astype(np.float32)", "hits.astype(np.int64)", 1,
                    NEAR_MISS / "knn_other_idioms.py")
    assert set(_lost(grade(ex, path, "hidden"))) == {"test_one_hot_returns_floats"}


def test_held_out_accuracy_is_scored_here_and_a_guess_fails(tmp_path):
    # a learner that predicts the first training label everywhere: the held-out test fails with the
    # accuracy reached and the threshold, never the held-out labels
    ex = find_exercise("knn")
    path = _variant(tmp_path, ex, "    distances = l1_distances if metric",
                    "    if len(X_test) == 400:\n        return np.full(len(X_test), y_train[0])\n"
                    "    distances = l1_distances if metric", 1)
    result = grade(ex, path, "hidden", heldout_seed=3)
    lost = _lost(result)
    assert set(lost) == {"test_held_out_digits_accuracy"}, lost
    assert "93% needed" in lost["test_held_out_digits_accuracy"]
