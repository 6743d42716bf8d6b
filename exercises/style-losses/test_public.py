"""Public tests for the style-losses exercise (lecture 004: the content image's features are
matched by the mean squared error, the style image's by their Gram matrices). Worked numbers:
a 2x2 image with 2 channels, a content pair, two layers' Gram matrices and the total loss."""

import numpy as np

from grader.testing import expect_array, expect_number, points

# features[row, column, channel]: the four positions hold (1, 0), (2, 1), (0, 1), (1, 3)
FEATURES = np.array([[[1.0, 0.0], [2.0, 1.0]],
                     [[0.0, 1.0], [1.0, 3.0]]])


@points(2)
def test_gram_matrix_of_a_2x2_image_with_2_channels(submission):
    got = expect_array(submission.gram_matrix(FEATURES), "gram_matrix(features)", shape=(2, 2), dtype_kind="f")
    # F (4 positions x 2 channels) = [[1, 0], [2, 1], [0, 1], [1, 3]]; F.T @ F = [[6, 5], [5, 11]]; / (2 * 2)
    want = np.array([[1.5, 1.25], [1.25, 2.75]])
    assert np.allclose(got, want, atol=1e-12), (
        f"gram_matrix(features) should be F.T @ F / (h * w) = {want.tolist()}, with F the (h * w, c) "
        f"array of positions by channels; got {np.round(got, 6).tolist()}")


@points(1)
def test_content_loss_is_the_mean_squared_error(submission):
    a, b = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, 0.0], [3.0, 1.0]])
    got = expect_number(submission.content_loss(a, b), "content_loss(a, b)")
    # squared differences 0, 4, 0, 9: mean 3.25 (Gatys et al.'s 1/2 * sum: 6.5)
    assert np.isclose(got, 3.25) or np.isclose(got, 6.5), (
        f"content_loss(a, b) should be mean((a - b) ** 2) = 3.25 (or 1/2 * sum((a - b) ** 2) = 6.5); got {got}")


@points(2)
def test_style_loss_of_two_layers(submission):
    grams_a = [np.array([[1.5, 1.25], [1.25, 2.75]]), np.array([[4.0]])]
    grams_b = [np.array([[1.0, 1.0], [1.0, 2.0]]), np.array([[2.0]])]
    got = expect_number(submission.style_loss(grams_a, grams_b, [1.0, 0.5]), "style_loss(grams_a, grams_b, [1.0, 0.5])")
    # layer 1: squared differences 0.25, 0.0625, 0.0625, 0.5625, mean 0.234375; layer 2: (4 - 2)**2 = 4
    # 1.0 * 0.234375 + 0.5 * 4 = 2.234375 (Gatys et al.'s quarter of the mean: 0.55859375)
    assert np.isclose(got, 2.234375) or np.isclose(got, 0.55859375), (
        "style_loss should be the sum over layers of weights[l] * mean((grams_a[l] - grams_b[l]) ** 2) = 2.234375 "
        f"(or a quarter of each mean, as Gatys et al.: 0.55859375); got {got}")


@points(1)
def test_total_loss_weighs_content_and_style(submission):
    got = expect_number(submission.total_loss(3.25, 2.234375, 1.0, 1000.0), "total_loss(3.25, 2.234375, 1.0, 1000.0)")
    assert np.isclose(got, 2237.625), f"total_loss should be alpha * content + beta * style = 2237.625; got {got}"
