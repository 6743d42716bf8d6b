"""Public tests for conv-numpy: the worked numbers of the lecture notes (000, 002, 004).

Run them with `dlgrade check`. Each test says where its numbers come from.
"""

import numpy as np

from grader.testing import expect_array, points

EDGE = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]])   # the vertical edge filter of 000 and 002


def _check(value, call, want, why):
    want = np.asarray(want, dtype=float)
    got = expect_array(value, call, shape=want.shape, dtype_kind="n")
    assert np.allclose(got, want, rtol=1e-5, atol=1e-5), (
        f"{call} should be\n{want.tolist()}\n({why}), got\n{np.asarray(got).tolist()}")


@points(2)
def test_edge_detection_6x6_of_lecture_000(submission):
    # 000, "مقدمات convolution – لبه‌یابی": the 6x6 image * the 3x3 vertical edge filter = 4x4
    image = np.array([[3, 0, 1, 2, 7, 4], [1, 5, 8, 9, 3, 1], [2, 7, 2, 5, 1, 3],
                      [0, 1, 3, 1, 7, 8], [4, 2, 1, 6, 2, 8], [2, 4, 5, 2, 3, 9]])
    want = [[-5, -4, 0, 8], [-10, -2, 2, 3], [0, -2, -4, -7], [-3, -2, -3, -16]]
    _check(submission.conv2d(image, EDGE), "conv2d(image, edge_filter)", want,
           "top left: 3*1 + 1*1 + 2*1 + 1*(-1) + 8*(-1) + 2*(-1) = -5; the kernel is not flipped")


@points(1)
def test_vertical_edge_of_lecture_002(submission):
    # 002: a 6x6 image, bright (10) on the left half, dark (0) on the right, gives 0 30 30 0 on
    # every row: the edge is found in the middle
    image = np.array([[10, 10, 10, 0, 0, 0]] * 6)
    _check(submission.conv2d(image, EDGE), "conv2d(bright_left_dark_right, edge_filter)", [[0, 30, 30, 0]] * 4,
           "30 where the window straddles the edge, 0 where it is flat")


@points(2)
def test_padded_h_of_lecture_004(submission):
    # 004, "مفهوم پدینگ": the 5x5 "H" with one row of zeros on every side, the kernel
    # [[1, 1, 1], [-1, -1, -1], [0, 0, 0]]: the result keeps the size 5x5
    h = np.array([[0, 1, 0, 0, 1], [0, 1, 0, 0, 1], [0, 1, 1, 1, 1], [0, 1, 0, 0, 1], [0, 1, 0, 0, 1]])
    kernel = np.array([[1, 1, 1], [-1, -1, -1], [0, 0, 0]])
    want = [[-1, -1, -1, -1, -1], [0, 0, 0, 0, 0], [0, -1, -2, -2, -1], [0, 1, 2, 2, 1], [0, 0, 0, 0, 0]]
    _check(submission.conv2d(h, kernel, padding=1), "conv2d(H, kernel, padding=1)", want,
           "one zero on every side keeps 5x5; each value is the row above minus the row of the window's middle")
    _check(submission.conv2d(h, kernel, padding="same"), "conv2d(H, kernel, padding='same')", want,
           "'same' with a 3x3 kernel and stride 1 is a padding of 1")


@points(1)
def test_max_pool_of_lecture_000(submission):
    # 000, "لایه‌ی pooling": a 4x4 map, f = 2, s = 2 -> [[9, 2], [6, 3]]
    a = np.array([[1, 3, 2, 1], [2, 9, 1, 1], [1, 3, 2, 3], [5, 6, 1, 2]])
    _check(submission.max_pool(a, 2, 2), "max_pool(a, 2, 2)", [[9, 2], [6, 3]], "the largest value of each 2x2 block")
    _check(submission.max_pool(a), "max_pool(a)", [[9, 2], [6, 3]], "size 2, the stride defaults to the size")


@points(1)
def test_max_pool_of_lecture_004(submission):
    # 004, "Max Pooling": [[100, 0, 0, 0], [500, 10, 100, 0], [0, 100, 250, 0], [0, 0, 0, 250]]
    a = np.array([[100, 0, 0, 0], [500, 10, 100, 0], [0, 100, 250, 0], [0, 0, 0, 250]])
    _check(submission.max_pool(a, size=2), "max_pool(a, size=2)", [[500, 100], [100, 250]],
           "the largest value of each 2x2 block")


@points(2)
def test_average_pooling_is_a_kernel_of_a_quarter(submission):
    # 004, "Average Pooling": a 2x2 kernel whose entries are all 0.25, moved without overlap
    # (stride 2), gives the mean of each 2x2 block
    a = np.array([[100, 0, 0, 0], [500, 10, 100, 0], [0, 100, 250, 0], [0, 0, 0, 250]])
    want = [[152.5, 25.0], [25.0, 125.0]]
    _check(submission.avg_pool(a, 2), "avg_pool(a, 2)", want, "(100 + 0 + 500 + 10) / 4 = 152.5 ...")
    _check(submission.conv2d(a, np.full((2, 2), 0.25), stride=2), "conv2d(a, np.full((2, 2), 0.25), stride=2)",
           want, "a kernel of 0.25 at stride 2 is average pooling")


@points(1)
def test_six_5x5_filters_on_32x32x3_give_28x28x6(submission):
    # 000: "if we had 6 5x5 filters, we'll get 6 separate activation maps ... 28x28x6"
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 32, 3))
    w = rng.normal(size=(5, 5, 3, 6))
    out = expect_array(submission.conv2d(x, w, np.zeros(6)), "conv2d(x of (32, 32, 3), w of (5, 5, 3, 6), b)",
                       shape=(28, 28, 6), dtype_kind="n")
    # one activation map per filter: map k is the sum over the 3 channels of each channel's map
    k0 = sum(np.array([[np.sum(x[i:i + 5, j:j + 5, c] * w[:, :, c, 0]) for j in range(28)] for i in range(28)])
             for c in range(3))
    assert np.allclose(out[:, :, 0], k0, rtol=1e-5, atol=1e-4), (
        "the first activation map is wrong: map k sums, over the 3 input channels, the patch times w[:, :, c, k]")
