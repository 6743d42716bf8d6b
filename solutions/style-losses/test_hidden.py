"""Hidden tests for style-losses: the Gram matrix's properties (symmetric, positive
semi-definite, the same when the pixels are permuted) each on its own, its values against the
reference (computed here, in numpy), the content and style losses in either convention the
README allows (the learner's convention must hold on every case), the total loss, and the two
ValueErrors the README asks for. Messages never show an expected value."""

import numpy as np

from grader.testing import error_summary, expect_array, expect_number, expect_raises, points

SHAPES = ((5, 7, 3), (4, 4, 1), (1, 9, 6), (8, 3, 16))


def _features(shape, seed, relu=True):
    x = np.random.default_rng(seed).normal(size=shape)
    return np.maximum(x, 0.0) if relu else x  # a ReLU layer's features, or any real numbers


def _gram(submission, features):
    c = features.shape[-1]
    what = f"gram_matrix(features of shape {features.shape})"
    return expect_array(submission.gram_matrix(features), what, shape=(c, c), dtype_kind="f"), what


def _reference_gram(features):
    h, w, c = features.shape
    flat = features.reshape(h * w, c)
    return flat.T @ flat / (h * w)


@points(2)
def test_gram_matrix_is_symmetric(submission):
    for i, shape in enumerate(SHAPES):
        g, what = _gram(submission, _features(shape, 10 + i, relu=i % 2 == 0))
        assert np.allclose(g, g.T, rtol=1e-9, atol=1e-12), (
            f"{what} is not symmetric: entry [i, j] must be the same sum as entry [j, i] "
            "(multiply the (h * w, c) matrix's transpose by the matrix itself)")


@points(2)
def test_gram_matrix_is_positive_semidefinite(submission):
    for i, shape in enumerate(SHAPES):
        g, what = _gram(submission, _features(shape, 20 + i, relu=False))
        sym = (g + g.T) / 2
        lowest = float(np.linalg.eigvalsh(sym).min())
        assert lowest >= -1e-9 * max(1.0, float(np.abs(sym).max())), (
            f"{what} has a negative eigenvalue ({lowest:.3g}); a Gram matrix F.T @ F / (h * w) never has one "
            "(v.T G v is the mean of the squares of F v)")


@points(2)
def test_gram_matrix_is_the_same_when_the_pixels_are_permuted(submission):
    for i, shape in enumerate(SHAPES):
        features = _features(shape, 30 + i)
        h, w, c = shape
        order = np.random.default_rng(40 + i).permutation(h * w)
        shuffled = features.reshape(h * w, c)[order].reshape(h, w, c)
        g, what = _gram(submission, features)
        g2, _ = _gram(submission, shuffled)
        assert np.allclose(g, g2, rtol=1e-9, atol=1e-12), (
            f"{what} changes when the image's pixels are moved around ({error_summary(g2, g)}); it must only "
            "sum over positions, channel by channel: flatten to (h * w, c) with reshape(h * w, c), not (c, h * w)")


@points(2)
def test_gram_matrix_matches_the_reference(submission):
    for i, shape in enumerate(SHAPES):
        features = _features(shape, 50 + i)
        g, what = _gram(submission, features)
        want = _reference_gram(features)
        assert np.allclose(g, want, rtol=1e-9, atol=1e-12), (
            f"{what} differs from F.T @ F / (h * w) ({error_summary(g, want)}); divide the sums by the number of "
            "positions h * w (not by c * h * w, not by nothing)")


@points(1)
def test_gram_matrix_refuses_an_array_that_is_not_3d(submission):
    with expect_raises("ValueError", "gram_matrix(an array of shape (4, 5))"):
        submission.gram_matrix(np.ones((4, 5)))


def _convention(got, options, what, rule):
    """The index of the allowed convention `got` matches, or a Feedback-style assertion."""
    for k, want in enumerate(options):
        if np.isclose(got, want, rtol=1e-9, atol=1e-12):
            return k
    raise AssertionError(f"{what} is not {rule}")


@points(2)
def test_content_loss_matches_the_reference(submission):
    cases = [((6, 5, 4), 60), ((3, 3, 32), 61), ((10, 1, 2), 62), ((2, 2, 2), 63)]
    first = None
    for shape, seed in cases:
        a, b = _features(shape, seed), _features(shape, seed + 100)
        what = f"content_loss(a, b) for features of shape {shape}"
        got = expect_number(submission.content_loss(a, b), what)
        d2 = (a - b) ** 2
        k = _convention(got, [d2.mean(), 0.5 * d2.sum()], what,
                        "the mean of the squared differences (or half their sum, as Gatys et al.)")
        first = k if first is None else first
        assert k == first, ("content_loss switches between the mean and half the sum of the squared differences "
                            "from one shape to another; use one of them")
    same = expect_number(submission.content_loss(a, a.copy()), "content_loss(a, a)")
    assert same == 0.0, "content_loss(a, a) should be 0"


@points(3)
def test_style_loss_matches_the_reference(submission):
    first = None
    for case in range(3):
        rng = np.random.default_rng(70 + case)
        channels = [int(c) for c in rng.integers(1, 9, size=case + 2)]
        grams_a = [_reference_gram(_features((4, 5, c), 80 + 10 * case + j)) for j, c in enumerate(channels)]
        grams_b = [_reference_gram(_features((3, 6, c), 90 + 10 * case + j)) for j, c in enumerate(channels)]
        weights = [float(w) for w in rng.uniform(0.1, 2.0, size=len(channels))]
        what = f"style_loss(grams_a, grams_b, weights) for {len(channels)} layers of {channels} channels"
        got = expect_number(submission.style_loss(grams_a, grams_b, weights), what)
        means = [float(np.mean((a - b) ** 2)) for a, b in zip(grams_a, grams_b)]
        k = _convention(got, [sum(w * m for w, m in zip(weights, means)),
                              sum(w * m / 4 for w, m in zip(weights, means))], what,
                        "the sum over layers of weights[l] times the mean squared difference of the layer's Gram "
                        "matrices (or a quarter of it, as Gatys et al.): each layer's own weight, each layer's own "
                        "mean")
        first = k if first is None else first
        assert k == first, ("style_loss switches between the mean and a quarter of the mean from one case to another; "
                            "use one of them")


@points(1)
def test_style_loss_refuses_lists_of_different_lengths(submission):
    g = [np.eye(2), np.eye(3)]
    with expect_raises("ValueError", "style_loss(2 Gram matrices, 2 Gram matrices, 3 weights)"):
        submission.style_loss(g, g, [1.0, 1.0, 1.0])


@points(1)
def test_total_loss_is_alpha_content_plus_beta_style(submission):
    for content, style, alpha, beta in ((2.5, 0.004, 1.0, 1e6), (0.0, 3.0, 7.0, 0.5), (1.25, 8.0, 0.01, 0.0)):
        what = f"total_loss({content}, {style}, {alpha}, {beta})"
        got = expect_number(submission.total_loss(content, style, alpha, beta), what)
        assert np.isclose(got, alpha * content + beta * style, rtol=1e-12), (
            f"{what} is not alpha * content + beta * style (alpha weighs the content loss, beta the style loss)")
