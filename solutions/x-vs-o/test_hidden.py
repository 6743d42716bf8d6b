"""Hidden tests for x-vs-o: the layer on images and features the learner has not seen, compared
with the reference run on the trusted side (to 0.01, as the README allows values rounded to two
decimals). Messages never show an expected value.

One property per test, one mistake per test: the features of the comparisons are the same when
turned by 180 degrees (a flipped feature is `test_feature_map_does_not_flip_the_feature` alone);
they are 3x3 except in `test_feature_map_divides_by_the_number_of_pixels`; images are square except
in `test_feature_map_of_a_rectangular_image`; pooled maps are tiled exactly by their windows except
in `test_max_pool_cover_runs_past_the_edge`; negative maps are `test_max_pool_cover_of_negative_values`
alone (the other pooled maps are positive); `conv_relu_pool` is compared with the learner's own three
functions, so a mistake in one of them is not counted again there.
"""

import numpy as np

from grader.data import X_DEFORMED_GRID, X_GRID, O_GRID, x_vs_o
from grader.testing import Feedback, error_summary, expect_array, points

DIAGONAL = np.array([[1, -1, -1], [-1, 1, -1], [-1, -1, 1]])
CROSS = np.array([[1, -1, 1], [-1, 1, -1], [1, -1, 1]])
ANTI_DIAGONAL = np.array([[-1, -1, 1], [-1, 1, -1], [1, -1, -1]])
TOL = 0.01


def _close(value, want, call, hint):
    want = np.asarray(want, dtype=float)
    got = expect_array(value, call, dtype_kind="n")
    if got.shape != want.shape:
        raise Feedback(f"{call} should have shape {want.shape}, but it has shape {got.shape}; {hint}")
    if not np.all(np.abs(got - want) < TOL):
        raise Feedback(f"{call}: {error_summary(got, want)}; {hint}")
    return got


def _symmetric(f):
    return (f + f[::-1, ::-1]) / 2


def _images():
    noisy, _ = x_vs_o(noise=6, n=4, seed=3)
    rng = np.random.default_rng(31)
    return [("O", O_GRID), ("deformed X", X_DEFORMED_GRID)] + [
        (f"noisy image {i}", img) for i, img in enumerate(noisy)] + [
        ("a random grey 9x9 image", rng.uniform(-1, 1, size=(9, 9)))]


@points(2)
def test_feature_map_on_other_images(submission, reference):
    for name, image in _images():
        for fname, feature in (("diagonal", DIAGONAL), ("cross", CROSS), ("anti_diagonal", ANTI_DIAGONAL)):
            _close(submission.feature_map(image, feature), reference.feature_map(image, feature),
                   f"feature_map({name}, {fname})",
                   "multiply the patch by the feature pixel by pixel, add up, divide by the number of pixels")


@points(1)
def test_feature_map_does_not_flip_the_feature(submission, reference):
    rng = np.random.default_rng(32)
    image = rng.choice([-1.0, 1.0], size=(9, 9))
    feature = np.array([[1.0, 1.0, -1.0], [-1.0, 1.0, -1.0], [-1.0, -1.0, -1.0]])
    got = expect_array(submission.feature_map(image, feature), "feature_map(image, an asymmetric feature)",
                       shape=(7, 7), dtype_kind="n")
    if np.all(np.abs(got - reference.feature_map(image, feature[::-1, ::-1])) < TOL):
        raise Feedback("feature_map(image, an asymmetric feature): you turned the feature by 180 degrees; "
                       "the feature's pixel (u, v) multiplies the patch's pixel (u, v), as it lies")
    _close(got, reference.feature_map(image, feature), "feature_map(image, an asymmetric feature)",
           "the feature's pixel (u, v) multiplies image[i + u, j + v]")


@points(1)
def test_feature_map_divides_by_the_number_of_pixels(submission, reference):
    rng = np.random.default_rng(33)
    image = rng.choice([-1.0, 1.0], size=(9, 9))
    for f in (2, 5, 1):
        feature = _symmetric(rng.choice([-1.0, 1.0], size=(f, f)))
        _close(submission.feature_map(image, feature), reference.feature_map(image, feature),
               f"feature_map(image of (9, 9), a {f}x{f} feature)",
               f"divide by the feature's number of pixels ({f} x {f}), not by 9; the output is (10 - f) x (10 - f)")


@points(1)
def test_feature_map_of_a_rectangular_image(submission, reference):
    rng = np.random.default_rng(34)
    image = rng.choice([-1.0, 1.0], size=(9, 12))
    _close(submission.feature_map(image, DIAGONAL), reference.feature_map(image, DIAGONAL),
           "feature_map(image of (9, 12), diagonal)", "an (H, W) image gives (H - f + 1, W - f + 1)")


@points(1)
def test_relu_keeps_positives_and_zeroes_negatives(submission, reference):
    rng = np.random.default_rng(35)
    for a in (rng.normal(size=(3, 7, 7)), np.array([-2.5, -1e-9, 0.0, 1e-9, 3.0]), rng.normal(size=(5, 4))):
        got = expect_array(submission.relu(a), f"relu(a of shape {a.shape})", shape=a.shape, dtype_kind="n")
        want = reference.relu(a)
        if not np.all(np.abs(got - want) < TOL):
            raise Feedback(f"relu(a of shape {a.shape}): {error_summary(got, want)}; max(a, 0) element by element, "
                           "any shape, positives unchanged")


@points(1)
def test_max_pool_cover_on_maps_the_windows_tile(submission, reference):
    rng = np.random.default_rng(36)
    for shape, size, stride in (((8, 8), 2, 2), ((6, 10), 2, 2), ((9, 9), 3, 3), ((7, 7), 3, 2), ((4, 4), 1, 1)):
        a = rng.uniform(0.05, 1.0, size=shape)
        _close(submission.max_pool_cover(a, size, stride), reference.max_pool_cover(a, size, stride),
               f"max_pool_cover(a of {shape}, {size}, {stride})",
               "the largest value of each size x size window; windows start every `stride` pixels")


@points(1)
def test_max_pool_cover_runs_past_the_edge(submission, reference):
    rng = np.random.default_rng(37)
    for shape, size, stride in (((5, 5), 2, 2), ((9, 9), 2, 2), ((7, 4), 2, 2), ((8, 8), 3, 3), ((3, 3), 2, 1)):
        a = rng.uniform(0.05, 1.0, size=shape)
        _close(submission.max_pool_cover(a, size, stride), reference.max_pool_cover(a, size, stride),
               f"max_pool_cover(a of {shape}, {size}, {stride})",
               "when the windows do not tile the map, the last one runs past the edge and pools what is left: "
               "ceil((n - size) / stride) + 1 windows")


@points(1)
def test_max_pool_cover_of_negative_values(submission, reference):
    rng = np.random.default_rng(38)
    a = -rng.uniform(0.1, 1, size=(8, 8))
    _close(submission.max_pool_cover(a, 2, 2), reference.max_pool_cover(a, 2, 2),
           "max_pool_cover(a map of negative values, 2, 2)",
           "the largest value of a window of negative numbers is negative (do not start from 0)")


def _own_layer(submission, name, image, features):
    """The learner's own feature_map -> relu -> max_pool_cover(2, 2), one map per feature."""
    maps = []
    for k, feature in enumerate(features):
        fm = expect_array(submission.feature_map(image, feature), f"feature_map({name}, feature {k})", ndim=2,
                          dtype_kind="n")
        r = expect_array(submission.relu(fm), f"relu(feature_map({name}, feature {k}))", shape=fm.shape,
                         dtype_kind="n")
        maps.append(expect_array(submission.max_pool_cover(r, 2, 2), "max_pool_cover(relu(...), 2, 2)", ndim=2,
                                 dtype_kind="n"))
    return maps


def _same_as_own_layer(submission, name, image, features, what, hint):
    want = _own_layer(submission, name, image, features)
    call = f"conv_relu_pool({name}, {what})"
    got = expect_array(submission.conv_relu_pool(image, features), call, ndim=3, dtype_kind="n")
    if got.shape[0] != len(want):
        raise Feedback(f"{call} has shape {got.shape}: it should hold one pooled map per feature ({len(want)})")
    for k, m in enumerate(want):
        _close(got[k], m, f"{call}[{k}]", hint)


@points(2)
def test_conv_relu_pool_chains_the_three_steps_per_feature(submission):
    # compared with the learner's own feature_map, relu and max_pool_cover
    features = np.stack([DIAGONAL, CROSS, ANTI_DIAGONAL])
    for name, image in _images()[:3]:
        _same_as_own_layer(submission, name, image, features, "the three features",
                           "map k is max_pool_cover(relu(feature_map(image, features[k])), 2, 2), "
                           "in the features' order")


@points(2)
def test_conv_relu_pool_takes_any_number_of_features(submission):
    # compared with the learner's own feature_map, relu and max_pool_cover
    rng = np.random.default_rng(39)
    for k in (1, 5):
        features = np.stack([rng.choice([-1.0, 1.0], size=(3, 3)) for _ in range(k)])
        _same_as_own_layer(submission, "deformed X", X_DEFORMED_GRID, features, f"{k} features",
                           f"one pooled map per feature, stacked: shape ({k}, 4, 4)")
    _same_as_own_layer(submission, "X", X_GRID, [DIAGONAL, CROSS], "a list of two features",
                       "features may be a list of (f, f) arrays")
