"""Public tests for the preprocessing exercise. The numbers come from the lecture notes: the
smile data set's class totals [9476, 3690] and the class weights [1, 2.56] (seed 002), its 80/20
stratified split with random_state=42 (seed 002), standardization with the training set's mean
and sigma reused on the test set (seed 002), ToTensor's HWC bytes -> CHW floats in [0, 1]
(seed 004), mini-batches (seed 004) and the confusion matrix normalized by rows (seed 004)."""

import math

import numpy as np

from grader.testing import Feedback, expect_array, expect_dict, expect_number, expect_tuple, points

SMILE = np.repeat([0, 1], [9476, 3690])  # seed 002: "not smiling", "smiling"


def _weights(value, what, keys):
    weights = expect_dict(value, what)
    got = {}
    for key, weight in weights.items():
        if isinstance(key, bool) or not isinstance(key, (int, np.integer)):
            raise Feedback(f"{what} should have the classes as int keys (as Keras' class_weight), but it has the key "
                           f"{key!r}")
        got[int(key)] = expect_number(weight, f"the weight of class {key} in {what}")
    if sorted(got) != sorted(keys):
        raise Feedback(f"{what} should have the keys {sorted(keys)}, but it has {sorted(got)}")
    return got


@points(2)
def test_class_weights_of_the_notes(submission):
    # 9476 / 3690 = 2.568..., which the notes print as 2.56
    want = {0: 1.0, 1: 9476 / 3690}
    for y, form in ((SMILE, "labels"), (np.eye(2)[SMILE], "one-hot rows")):
        got = _weights(submission.class_weights(y), f"class_weights(y) for the notes' {form} [9476, 3690]", [0, 1])
        assert all(abs(got[c] - want[c]) < 1e-9 for c in want), (
            f"class_weights for the class totals [9476, 3690] ({form}) returned {got}, expected "
            "{0: 1.0, 1: 2.568...} (max_count / count; the notes print 2.56)")


@points(1)
def test_standardize_a_small_example(submission):
    X = np.array([[1.0, 2.0], [3.0, 6.0]])
    mean, std = expect_tuple(submission.standardize_fit(X), "standardize_fit(X)", 2)
    mean = expect_array(mean, "the mean from standardize_fit([[1, 2], [3, 6]])", shape=(2,), dtype_kind="f")
    std = expect_array(std, "the std from standardize_fit([[1, 2], [3, 6]])", shape=(2,), dtype_kind="f")
    assert np.allclose(mean, [2.0, 4.0]) and np.allclose(std, [1.0, 2.0]), (
        f"standardize_fit([[1, 2], [3, 6]]) returned mean {mean.tolist()} and std {std.tolist()}, expected "
        "[2, 4] and [1, 2]: the mean of each column, and sigma = sqrt(mean((x - mu)^2)) with 1/m as in the notes")
    out = expect_array(submission.standardize_apply(X, np.array([2.0, 4.0]), np.array([1.0, 2.0])),
                       "standardize_apply(X, [2, 4], [1, 2])", shape=(2, 2), dtype_kind="f")
    assert np.allclose(out, [[-1.0, -1.0], [1.0, 1.0]]), (
        f"standardize_apply([[1, 2], [3, 6]], [2, 4], [1, 2]) returned {out.tolist()}, expected [[-1, -1], [1, 1]]: "
        "(x - mu) / sigma (the slide's x / sigma^2 is a typo)")


@points(1)
def test_the_test_set_uses_the_training_statistics(submission):
    # seed 002: use the same mu and sigma for the test set
    X_test = np.array([[2.0, 8.0], [5.0, 4.0], [1.0, 0.0]])
    out = expect_array(submission.standardize_apply(X_test, np.array([2.0, 4.0]), np.array([1.0, 2.0])),
                       "standardize_apply(X_test, train_mean, train_std)", shape=(3, 2), dtype_kind="f")
    want = [[0.0, 2.0], [3.0, 0.0], [-1.0, -2.0]]
    assert np.allclose(out, want), (
        f"standardize_apply(X_test, [2, 4], [1, 2]) returned {out.tolist()}, expected {want}: the test set is "
        "standardized with the training set's mean and std, not its own")


@points(1)
def test_stratified_split_of_the_notes(submission):
    # seed 002: train_test_split(data, labels, test_size=0.20, stratify=labels, random_state=42)
    n = len(SMILE)
    n_test = math.ceil(0.2 * n)
    train, test = expect_tuple(submission.stratified_split(SMILE, test_size=0.2, seed=42),
                               "stratified_split(y, test_size=0.2, seed=42)", 2)
    train = expect_array(train, "train_idx", ndim=1, dtype_kind="i")
    test = expect_array(test, "test_idx", ndim=1, dtype_kind="i")
    assert len(test) == n_test and len(train) == n - n_test, (
        f"for 13,166 samples and test_size=0.2 the split should hold {n - n_test} training and {n_test} test "
        f"indices (n_test = ceil(0.2 * n)), got {len(train)} and {len(test)}")
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(n)), (
        "train_idx and test_idx together should hold every index 0..n-1 exactly once")
    counts = np.bincount(SMILE[test], minlength=2).tolist()
    allowed = ([1895, 1896], [738, 739])
    assert counts[0] in allowed[0] and counts[1] in allowed[1], (
        f"the test part holds {counts} samples of the two classes; stratified means in proportion: "
        "9476 * 2634 / 13166 = 1895.8 and 3690 * 2634 / 13166 = 738.2, so 1895 or 1896 and 738 or 739")


@points(1)
def test_to_chw_of_a_small_image(submission):
    # seed 004: ToTensor turns an (H, W, C) array of 0..255 into a (C, H, W) tensor of 0..1
    image = np.array([[[0, 51, 255], [102, 153, 204]]], dtype=np.uint8)  # H=1, W=2, C=3
    out = expect_array(submission.to_chw(image), "to_chw(image) for an image of shape (1, 2, 3)", shape=(3, 1, 2),
                       dtype_kind="f")
    want = np.array([[[0, 102]], [[51, 153]], [[255, 204]]]) / 255
    assert out.dtype == np.float32, f"to_chw should return float32 values, got {out.dtype}"
    assert np.allclose(out, want, atol=1e-7), (
        f"to_chw(image) returned {out.tolist()}, expected {want.tolist()}: channel c of pixel (h, w) goes to "
        "[c, h, w], divided by 255")


@points(1)
def test_minibatches_of_ten(submission):
    batches = submission.minibatches(10, 4, 0)
    if not isinstance(batches, (list, tuple)):
        raise Feedback(f"minibatches(10, 4, 0) should return a list of index arrays, got {type(batches).__name__}")
    sizes = [len(expect_array(b, "a batch of minibatches(10, 4, 0)", ndim=1, dtype_kind="i")) for b in batches]
    assert sizes == [4, 4, 2], f"minibatches(10, 4, 0) gave batches of sizes {sizes}, expected [4, 4, 2]"
    everything = np.sort(np.concatenate([np.asarray(b) for b in batches]))
    assert np.array_equal(everything, np.arange(10)), "the batches should hold every index 0..9 exactly once"


@points(1)
def test_confusion_matrix_normalized_by_rows(submission):
    # seed 004: skm.confusion_matrix(y, argmax(yHat), normalize='true')
    y_true = np.array([0, 0, 0, 0, 1, 1, 2, 2, 2, 2])
    y_pred = np.array([0, 0, 1, 2, 1, 1, 2, 2, 2, 0])
    counts = expect_array(submission.confusion_matrix(y_true, y_pred, 3), "confusion_matrix(y_true, y_pred, 3)",
                          shape=(3, 3), dtype_kind="n")
    want = [[2, 1, 1], [0, 2, 0], [1, 0, 3]]
    assert np.array_equal(counts, want), (
        f"confusion_matrix(y_true, y_pred, 3) returned {counts.tolist()}, expected {want}: C[i, j] counts the "
        "samples of true class i predicted as j")
    rates = expect_array(submission.confusion_matrix(y_true, y_pred, 3, normalize="true"),
                         "confusion_matrix(y_true, y_pred, 3, normalize='true')", shape=(3, 3), dtype_kind="f")
    want = [[0.5, 0.25, 0.25], [0.0, 1.0, 0.0], [0.25, 0.0, 0.75]]
    assert np.allclose(rates, want), (
        f"confusion_matrix(..., normalize='true') returned {rates.tolist()}, expected {want}: each row divided by "
        "its sum")
