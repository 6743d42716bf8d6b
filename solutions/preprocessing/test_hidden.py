"""Hidden tests for the preprocessing exercise: each function against scikit-learn (StandardScaler,
train_test_split's stratified counts, compute_class_weight, confusion_matrix) on data the
learner has not seen, and the properties the README fixes (a constant feature, the split's seed,
the layout and scale of to_chw, shuffled mini-batches, the refusals).

One property per test: the standardization comparisons use features that vary (a constant
feature is its own test); to_chw's layout is judged up to a scale factor and its scale
independently of the layout; the split's sizes, partition and seed are three tests. Messages
never show an expected value."""

import math

import numpy as np

from grader.testing import Feedback, error_summary, expect_array, expect_dict, expect_number, expect_raises, \
    expect_tuple, points


def _fit(submission, X, what):
    mean, std = expect_tuple(submission.standardize_fit(X), what, 2)
    shape = X.shape[1:]
    mean = expect_array(mean, f"the mean from {what}", shape=shape, dtype_kind="f")
    std = expect_array(std, f"the std from {what}", shape=shape, dtype_kind="f")
    return mean, std


def _split(submission, y, test_size, seed, what):
    train, test = expect_tuple(submission.stratified_split(y, test_size=test_size, seed=seed), what, 2)
    train = expect_array(train, f"train_idx of {what}", ndim=1, dtype_kind="i")
    test = expect_array(test, f"test_idx of {what}", ndim=1, dtype_kind="i")
    return train, test


def _weights(value, what):
    weights = expect_dict(value, what)
    got = {}
    for key, weight in weights.items():
        if isinstance(key, bool) or not isinstance(key, (int, np.integer)):
            raise Feedback(f"{what} should have the classes as int keys, but it has the key {key!r}")
        got[int(key)] = expect_number(weight, f"the weight of class {key} in {what}")
    return got


def _batches(value, what):
    if not isinstance(value, (list, tuple)):
        raise Feedback(f"{what} should return a list of index arrays, got {type(value).__name__}")
    return [expect_array(b, f"a batch of {what}", ndim=1, dtype_kind="i") for b in value]


@points(2)
def test_standardize_fit_matches_scikit_learn(submission):
    from sklearn.preprocessing import StandardScaler
    rng = np.random.default_rng(41)
    for n, d in ((50, 4), (7, 12), (300, 1)):
        X = rng.normal(loc=rng.normal(size=d) * 5, scale=rng.random(d) * 3 + 0.1, size=(n, d))
        what = f"standardize_fit(X) for X of shape {X.shape}"
        mean, std = _fit(submission, X, what)
        scaler = StandardScaler().fit(X)
        assert np.allclose(mean, scaler.mean_, rtol=1e-9, atol=1e-9), (
            f"{what}: the mean differs from scikit-learn's StandardScaler ({error_summary(mean, scaler.mean_)}); "
            "it is the mean of each feature over the samples (axis 0)")
        hint = ""
        if np.allclose(std, X.std(axis=0, ddof=1)):
            hint = ": you divided by n - 1; the notes' sigma divides by m (the number of samples)"
        assert np.allclose(std, scaler.scale_, rtol=1e-9, atol=1e-9), (
            f"{what}: the std differs from scikit-learn's StandardScaler ({error_summary(std, scaler.scale_)}){hint}")


@points(1)
def test_a_constant_feature_is_left_at_0(submission):
    X = np.array([[1.0, 5.0, -2.0], [3.0, 5.0, 4.0], [2.0, 5.0, 1.0]])
    mean, std = _fit(submission, X, "standardize_fit(X) with a constant second feature")
    out = expect_array(submission.standardize_apply(X, mean, std), "standardize_apply(X, mean, std) with a constant "
                       "feature", shape=(3, 3), dtype_kind="f", finite=True)
    assert np.allclose(out[:, 1], 0.0), (
        "standardize_apply(X, *standardize_fit(X)) should give 0 for a constant feature (its std is 0: return 1 "
        "for it from standardize_fit, or leave the feature at 0 in standardize_apply)")


@points(2)
def test_standardize_apply_matches_scikit_learn_on_a_test_set(submission):
    from sklearn.preprocessing import StandardScaler
    rng = np.random.default_rng(42)
    X_train = rng.normal(loc=3.0, scale=2.0, size=(80, 5))
    X_test = rng.normal(loc=1.0, scale=4.0, size=(30, 5))
    scaler = StandardScaler().fit(X_train)
    want = scaler.transform(X_test)
    out = expect_array(submission.standardize_apply(X_test, scaler.mean_, scaler.scale_),
                       "standardize_apply(X_test, train_mean, train_std)", shape=(30, 5), dtype_kind="f")
    hint = "; standardize with the statistics given (the training set's), not those of X_test"
    if np.allclose(out, (X_test - scaler.mean_) / scaler.scale_ ** 2):
        hint = "; divide by sigma, not by the variance sigma^2 (the slide's x / sigma^2 is a typo)"
    assert np.allclose(out, want, rtol=1e-9, atol=1e-9), (
        f"standardize_apply differs from scikit-learn's StandardScaler.transform ({error_summary(out, want)}){hint}")


@points(1)
def test_stratified_split_is_a_partition_of_the_right_sizes(submission):
    rng = np.random.default_rng(43)
    for n, test_size in ((100, 0.2), (37, 0.3), (61, 0.25), (10, 0.5)):
        y = rng.integers(0, 3, size=n)
        y[:6] = [0, 0, 1, 1, 2, 2]
        what = f"stratified_split(y, test_size={test_size}, seed=1) for {n} labels"
        train, test = _split(submission, y, test_size, 1, what)
        assert len(test) == math.ceil(test_size * n), (
            f"{what} put {len(test)} indices in the test part; it should hold ceil(test_size * n)")
        assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(n)), (
            f"{what}: train_idx and test_idx together should hold every index 0..n-1 exactly once")


@points(2)
def test_stratified_split_class_counts_agree_with_scikit_learn(submission):
    from sklearn.model_selection import train_test_split
    rng = np.random.default_rng(44)
    cases = [(rng.choice(4, size=200, p=[0.55, 0.25, 0.15, 0.05]), 0.2), (rng.integers(0, 7, size=90), 0.33),
             (np.repeat([5, 9, 2], [40, 13, 7]), 0.25)]
    words = rng.permutation(np.repeat(np.array(["cat", "dog", "bird"]), [28, 15, 7]))
    cases.append((words, 0.2))
    for y, test_size in cases:
        what = f"stratified_split(y, test_size={test_size}, seed=7) for {len(y)} labels of {len(set(y.tolist()))} classes"
        y_sent = y.tolist() if y.dtype.kind == "U" else y
        train, test = _split(submission, y_sent, test_size, 7, what)
        if len(test) + len(train) != len(y) or len(test) == 0:
            raise Feedback(f"{what} does not split the {len(y)} indices in two parts")
        _, sk_test = train_test_split(np.arange(len(y)), test_size=test_size, stratify=y, random_state=0)
        for c in np.unique(y):
            n_c = int(np.sum(y == c))
            sk_low = math.floor(n_c * len(sk_test) / len(y))
            assert 0 <= int(np.sum(y[sk_test] == c)) - sk_low <= 1, "grader bug: scikit-learn's counts break the rule"
        n_test = len(test)  # the size of the test part is test_stratified_split_is_a_partition...'s property
        for c in np.unique(y):
            n_c = int(np.sum(y == c))
            got = int(np.sum(y[np.clip(test, 0, len(y) - 1)] == c))
            low = math.floor(n_c * n_test / len(y))
            assert low <= got <= low + 1, (
                f"{what}: class {c!r} has {got} of its {n_c} samples in the test part; stratified, it should have "
                f"floor(n_c * n_test / n) or one more (scikit-learn's counts are of this kind)")


@points(1)
def test_stratified_split_follows_the_seed(submission):
    y = np.repeat([0, 1, 2], [30, 20, 10])
    splits = {}
    for seed in (0, 1, 2, 3, 0):
        what = f"stratified_split(y, test_size=0.2, seed={seed})"
        train, test = _split(submission, y, 0.2, seed, what)
        key = tuple(np.sort(test).tolist())
        if seed in splits:
            assert splits[seed] == key, "stratified_split with the same seed should give the same split every time"
        splits[seed] = key
    assert len(set(splits.values())) == len(splits), (
        "stratified_split gives the same test part for different seeds; draw it with numpy.random.default_rng(seed)")


@points(1)
def test_stratified_split_refuses_a_bad_test_size(submission):
    y = np.array([0, 1] * 10)
    for test_size in (0, 1, 1.5, -0.2):
        with expect_raises("ValueError", f"stratified_split(y, test_size={test_size})"):
            submission.stratified_split(y, test_size=test_size, seed=0)


@points(2)
def test_class_weights_agree_with_scikit_learn_balanced_up_to_scale(submission):
    # scikit-learn's "balanced" weight n / (K * count) is max_count / count times a constant
    from sklearn.utils.class_weight import compute_class_weight
    rng = np.random.default_rng(45)
    for y in (rng.choice([3, 7, 10], size=120, p=[0.7, 0.2, 0.1]), rng.integers(0, 5, size=33),
              np.repeat([0, 1], [9, 1])):
        classes = np.unique(y)
        what = f"class_weights(y) for {len(y)} labels of the classes {classes.tolist()}"
        got = _weights(submission.class_weights(y), what)
        assert sorted(got) == classes.tolist(), (
            f"{what} has the keys {sorted(got)}; the keys are the labels that occur in y")
        balanced = compute_class_weight("balanced", classes=classes, y=y)
        want = balanced / balanced.min()
        values = np.array([got[int(c)] for c in classes])
        assert np.allclose(values, want, rtol=1e-9), (
            f"{what}: the weights are not max_count / count ({error_summary(values, want)}); the largest class "
            "gets 1.0")


@points(1)
def test_class_weights_of_one_hot_rows(submission):
    rng = np.random.default_rng(46)
    labels = rng.choice(4, size=60, p=[0.1, 0.2, 0.3, 0.4])
    Y = np.eye(4)[labels]
    got = _weights(submission.class_weights(Y), "class_weights(Y) for one-hot rows (60, 4)")
    counts = np.bincount(labels, minlength=4)
    assert sorted(got) == [0, 1, 2, 3], "class_weights of one-hot rows (n, 4) should have the keys 0, 1, 2, 3"
    values = np.array([got[c] for c in range(4)])
    # only the reading of one-hot rows is judged here: weights inversely proportional to the column
    # sums (the scale, max_count / count, is test_class_weights_agree_with_scikit_learn_balanced_up_to_scale's)
    product = values * counts
    assert np.allclose(product, product[0], rtol=1e-9), (
        "class_weights of one-hot rows is wrong: the count of class j is the sum of column j (labels.sum(axis=0))")


@points(2)
def test_to_chw_puts_the_channels_first(submission):
    rng = np.random.default_rng(47)
    for shape, axes in (((5, 7, 3), (2, 0, 1)), ((4, 6, 5, 3), (0, 3, 1, 2)), ((5, 4), None)):
        x = rng.integers(1, 256, size=shape, dtype=np.uint8)
        want = x[None].astype(float) if axes is None else np.transpose(x, axes).astype(float)
        what = f"to_chw(images) for uint8 images of shape {shape}"
        out = expect_array(submission.to_chw(x), what, shape=want.shape, dtype_kind="f")
        scale = float(out.max()) / float(want.max()) if out.max() else 1.0
        assert np.allclose(out, want * scale, rtol=1e-5, atol=1e-6), (
            f"{what} has the right shape but the values are not in their places: pixel (h, w) of channel c goes "
            "to [c, h, w] (np.transpose, not reshape)")


@points(1)
def test_to_chw_scales_bytes_to_0_1(submission):
    x = np.arange(256, dtype=np.uint8).reshape(16, 16, 1)
    out = expect_array(submission.to_chw(x), "to_chw(images) for every byte value", shape=(1, 16, 16), dtype_kind="f")
    got = np.sort(out.ravel().astype(float))
    want = np.arange(256) / 255
    assert np.allclose(got, want, rtol=1e-6, atol=1e-7), (
        f"to_chw does not map the bytes 0..255 to 0..1 ({error_summary(got, want)}): divide by 255")


@points(1)
def test_to_chw_returns_float32(submission):
    out = expect_array(submission.to_chw(np.zeros((2, 2, 3), dtype=np.uint8)), "to_chw(images)", dtype_kind="f")
    assert out.dtype == np.float32, f"to_chw should return float32 (as ToTensor), not {out.dtype}"


@points(1)
def test_minibatches_cover_every_index_once(submission):
    for n, size in ((100, 32), (7, 7), (5, 10), (64, 16), (1, 3)):
        what = f"minibatches({n}, {size}, 3)"
        batches = _batches(submission.minibatches(n, size, 3), what)
        sizes = [len(b) for b in batches]
        want = [size] * (n // size) + ([n % size] if n % size else [])
        assert sizes == want, f"{what} gave batches of sizes {sizes}: full batches of batch_size, the rest last"
        assert np.array_equal(np.sort(np.concatenate(batches)), np.arange(n)), (
            f"{what}: the batches should hold every index 0..n-1 exactly once")


@points(1)
def test_minibatches_are_a_fresh_shuffle_per_seed(submission):
    first = {}
    for seed in range(200):
        batches = _batches(submission.minibatches(10, 3, seed), f"minibatches(10, 3, {seed})")
        order = tuple(np.concatenate(batches).tolist())
        if seed < 2:
            again = tuple(np.concatenate(_batches(submission.minibatches(10, 3, seed), "minibatches")).tolist())
            assert again == order, "minibatches with the same seed should give the same batches"
        first[order[0]] = first.get(order[0], 0) + 1
    assert len(first) == 10, (
        f"over 200 seeds only the indices {sorted(first)} ever came first: draw a fresh permutation of all n "
        "indices with numpy.random.default_rng(seed)")


@points(2)
def test_confusion_matrix_counts_match_scikit_learn(submission):
    from sklearn.metrics import confusion_matrix
    rng = np.random.default_rng(48)
    for n, k in ((200, 5), (30, 10), (12, 2)):
        y_true = rng.integers(0, k, size=n)
        y_pred = np.where(rng.random(n) < 0.5, y_true, rng.integers(0, k, size=n))
        what = f"confusion_matrix(y_true, y_pred, {k}) for {n} samples"
        got = expect_array(submission.confusion_matrix(y_true, y_pred, k), what, shape=(k, k), dtype_kind="n")
        want = confusion_matrix(y_true, y_pred, labels=np.arange(k))
        hint = "; the rows are the true classes, the columns the predictions" if np.array_equal(got, want.T) else ""
        assert np.array_equal(got, want), f"{what} differs from scikit-learn's in {int(np.sum(got != want))} cells{hint}"


@points(2)
def test_confusion_matrix_normalizations_match_scikit_learn(submission):
    from sklearn.metrics import confusion_matrix
    rng = np.random.default_rng(49)
    y_true = rng.integers(0, 4, size=80)
    y_pred = np.where(rng.random(80) < 0.6, y_true, rng.integers(0, 4, size=80))
    y_true[y_true == 3] = 0   # class 3 never occurs: its row is 0
    y_pred[y_pred == 2] = 1   # class 2 is never predicted: its column is 0
    for normalize in ("true", "pred", "all"):
        what = f"confusion_matrix(y_true, y_pred, 5, normalize={normalize!r})"
        got = expect_array(submission.confusion_matrix(y_true, y_pred, 5, normalize=normalize), what, shape=(5, 5),
                           dtype_kind="f")
        want = confusion_matrix(y_true, y_pred, labels=np.arange(5), normalize=normalize)
        # rows and columns swapped is test_confusion_matrix_counts_match_scikit_learn's mistake alone
        swapped = confusion_matrix(y_pred, y_true, labels=np.arange(5), normalize=normalize)
        if np.allclose(got, swapped, rtol=1e-9, atol=1e-12):
            continue
        assert np.allclose(got, want, rtol=1e-9, atol=1e-12), (
            f"{what} differs from scikit-learn's ({error_summary(got, want)}); 'true' divides each row by its sum, "
            "'pred' each column, 'all' the whole matrix, and a row or column without samples stays 0")


@points(1)
def test_confusion_matrix_refuses_an_unknown_normalize(submission):
    for normalize in ("rows", "True", "mean"):
        with expect_raises("ValueError", f"confusion_matrix(y, y, 2, normalize={normalize!r})"):
            submission.confusion_matrix(np.array([0, 1]), np.array([0, 1]), 2, normalize=normalize)
