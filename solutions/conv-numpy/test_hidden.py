"""Hidden tests for conv-numpy: conv2d and the pools on inputs the learner has not seen, compared
with the reference run on the trusted side. Messages never show an expected value.

One property per test, one mistake per test: every comparison outside
`test_conv2d_does_not_flip_the_kernel` uses kernels that are the same when turned by 180 degrees
(so a flipped kernel costs that one test); "same" padding with an odd number of zeros to add (an
even filter) is `test_conv2d_same_puts_the_extra_zero_at_the_end` alone, at stride 1 (the other
"same" cases add an even number, (f - 1) / 2 on each side, and "same" at a stride is
`test_conv2d_stride`'s); partial pooling windows are `test_pools_drop_a_partial_window` alone (the
other pool tests use maps the windows tile exactly); a negative map is `test_max_pool_of_negative_values` alone (the other
pool tests use positive maps, so a maximum started from 0 costs that one test).
Any numeric dtype is accepted (float32 too: the tolerance is relative, 1e-5 of the largest value).
"""

import numpy as np

from grader.testing import Feedback, error_summary, expect_array, expect_raises, points


def _symmetric(w):
    """w made the same when turned by 180 degrees (so flipping it changes nothing)."""
    return (w + w[::-1, ::-1]) / 2


def _close(value, want, call, hint):
    want = np.asarray(want, dtype=float)
    got = expect_array(value, call, dtype_kind="n")
    if got.shape != want.shape:
        raise Feedback(f"{call} should have shape {want.shape}, but it has shape {got.shape}; {hint}")
    scale = max(1.0, float(np.abs(want).max()))
    if not np.allclose(got, want, rtol=1e-5, atol=1e-5 * scale):
        raise Feedback(f"{call}: {error_summary(got, want)}; {hint}")
    return got


@points(2)
def test_conv2d_one_channel_matches_reference(submission, reference):
    rng = np.random.default_rng(11)
    for h, w, f in ((8, 8, 3), (10, 7, 3), (9, 12, 5), (5, 5, 1), (6, 6, 6)):
        x = rng.integers(-9, 10, size=(h, w)).astype(float)
        k = _symmetric(rng.normal(size=(f, f)))
        _close(submission.conv2d(x, k), reference.conv2d(x, k), f"conv2d(x of {x.shape}, w of {k.shape})",
               "out[i, j] is the sum of the f x f patch at (i, j) times w ('valid': (H - f + 1, W - f + 1))")


@points(2)
def test_conv2d_sums_over_the_input_channels(submission, reference):
    rng = np.random.default_rng(12)
    for h, w, c, k, f in ((7, 7, 3, 4, 3), (9, 6, 2, 1, 3), (6, 8, 5, 3, 1), (8, 8, 3, 2, 5)):
        x = rng.normal(size=(h, w, c))
        kern = _symmetric(rng.normal(size=(f, f, c, k)))
        _close(submission.conv2d(x, kern), reference.conv2d(x, kern),
               f"conv2d(x of {x.shape}, w of {kern.shape})",
               "map k sums, over every input channel c, the patch times w[:, :, c, k]; the output is (H', W', K)")


@points(1)
def test_conv2d_adds_one_bias_per_filter(submission, reference):
    rng = np.random.default_rng(13)
    x = rng.normal(size=(6, 7, 2))
    kern = _symmetric(rng.normal(size=(3, 3, 2, 4)))
    b = rng.normal(size=4) * 5
    _close(submission.conv2d(x, kern, b), reference.conv2d(x, kern, b), "conv2d(x, w, b) with b of shape (4,)",
           "b[k] is added to every value of map k")
    x2 = rng.normal(size=(5, 5))
    k2 = _symmetric(rng.normal(size=(3, 3)))
    _close(submission.conv2d(x2, k2, 2.5), reference.conv2d(x2, k2, 2.5), "conv2d(x of (5, 5), w of (3, 3), 2.5)",
           "a single number b is added to every value")


@points(2)
def test_conv2d_does_not_flip_the_kernel(submission, reference):
    rng = np.random.default_rng(14)
    x = rng.normal(size=(7, 8))
    k = rng.normal(size=(3, 3))
    got = expect_array(submission.conv2d(x, k), "conv2d(x, w) with an asymmetric w", shape=(5, 6), dtype_kind="n")
    if np.allclose(got, reference.conv2d(x, k[::-1, ::-1]), rtol=1e-5, atol=1e-5):
        raise Feedback("conv2d(x, w) with an asymmetric w: you flipped the kernel (the convolution of "
                       "mathematics); a Conv2D layer computes the cross-correlation: out[i, j] = "
                       "sum of x[i + u, j + v] * w[u, v], w not turned")
    _close(got, reference.conv2d(x, k), "conv2d(x, w) with an asymmetric w",
           "w[u, v] multiplies x[i + u, j + v] (cross-correlation, no flip)")
    x3 = rng.normal(size=(6, 6, 2))
    k3 = rng.normal(size=(2, 3, 2, 3))[:, :2]   # 2x2 kernels, not symmetric
    _close(submission.conv2d(x3, k3), reference.conv2d(x3, k3), "conv2d(x of (6, 6, 2), w of (2, 2, 2, 3))",
           "w[u, v, c, k] multiplies x[i + u, j + v, c] (cross-correlation, no flip)")


@points(1)
def test_conv2d_stride(submission, reference):
    # stride s: the window moves s pixels; when s does not divide n - f, the last partial window
    # is dropped: floor((n - f) / s) + 1 (7x7 and 9x11 fit exactly, 8x8 and 10x9 do not)
    rng = np.random.default_rng(15)
    for h, w, f, s in ((7, 7, 3, 2), (9, 11, 3, 3), (8, 8, 3, 2), (10, 9, 2, 4)):
        x = rng.normal(size=(h, w, 2))
        kern = _symmetric(rng.normal(size=(f, f, 2, 2)))
        _close(submission.conv2d(x, kern, stride=s), reference.conv2d(x, kern, stride=s),
               f"conv2d(x of {x.shape}, w of {kern.shape}, stride={s})",
               "out[i, j] uses the patch starting at (i*s, j*s); a last partial window is dropped")
    # "same" at a stride: ceil(n / s) outputs (here the zeros to add are even in number: as many
    # before as after)
    for h, f, s in ((7, 3, 2), (9, 5, 2), (10, 3, 3)):
        x = rng.normal(size=(h, h))
        k = _symmetric(rng.normal(size=(f, f)))
        _close(submission.conv2d(x, k, stride=s, padding="same"), reference.conv2d(x, k, stride=s, padding="same"),
               f"conv2d(x of {x.shape}, w of {k.shape}, stride={s}, padding='same')",
               "with padding='same' a stride s gives ceil(n / s) rows and columns, windows every s pixels")


@points(1)
def test_conv2d_integer_padding_adds_zeros(submission, reference):
    rng = np.random.default_rng(16)
    for h, f, p, s in ((5, 3, 1, 1), (6, 5, 2, 1), (7, 3, 2, 1), (4, 3, 3, 1)):
        x = rng.normal(size=(h, h + 1))
        k = _symmetric(rng.normal(size=(f, f)))
        _close(submission.conv2d(x, k, stride=s, padding=p), reference.conv2d(x, k, stride=s, padding=p),
               f"conv2d(x of {x.shape}, w of {k.shape}, stride={s}, padding={p})",
               "padding=p adds p rows/columns of zeros on every side before the windows move")


@points(1)
def test_conv2d_same_keeps_the_size_at_stride_1(submission, reference):
    rng = np.random.default_rng(17)
    for h, w, f in ((6, 6, 3), (9, 5, 5), (4, 7, 1), (7, 7, 7)):
        x = rng.normal(size=(h, w, 2))
        kern = _symmetric(rng.normal(size=(f, f, 2, 3)))
        _close(submission.conv2d(x, kern, padding="same"), reference.conv2d(x, kern, padding="same"),
               f"conv2d(x of {x.shape}, w of {kern.shape}, padding='same')",
               "'same' with an odd f and stride 1 adds (f - 1) / 2 zeros on every side: the size is kept")


@points(1)
def test_conv2d_same_puts_the_extra_zero_at_the_end(submission, reference):
    # Keras: the zeros to add, (ceil(n / s) - 1) * s + f - n, are split with the extra one at the
    # end (bottom, right) when they are odd in number: an even filter at stride 1 (f - 1 zeros)
    rng = np.random.default_rng(18)
    for h, w, f, s in ((6, 6, 2, 1), (7, 9, 4, 1), (5, 8, 6, 1), (4, 4, 2, 1)):
        x = rng.normal(size=(h, w))
        k = _symmetric(rng.normal(size=(f, f)))
        _close(submission.conv2d(x, k, stride=s, padding="same"), reference.conv2d(x, k, stride=s, padding="same"),
               f"conv2d(x of {x.shape}, w of {k.shape}, stride={s}, padding='same')",
               "'same' gives ceil(n / s) rows and columns; Keras pads total // 2 zeros before and the rest after")


@points(1)
def test_conv2d_refuses_invalid_arguments(submission):
    x = np.ones((6, 6, 2))
    w = np.ones((3, 3, 2, 4))
    for call, args, kwargs in (
        ("conv2d(x, w, padding='full')", (x, w), {"padding": "full"}),
        ("conv2d(x, w, padding=-1)", (x, w), {"padding": -1}),
        ("conv2d(x, w, stride=0)", (x, w), {"stride": 0}),
        ("conv2d(x with 2 channels, w for 3 channels)", (x, np.ones((3, 3, 3, 4))), {}),
        ("conv2d(x of (6, 6, 2), w of (7, 7, 2, 4)) (the filter does not fit)", (x, np.ones((7, 7, 2, 4))), {}),
    ):
        with expect_raises("ValueError", call):
            submission.conv2d(*args, **kwargs)


@points(1)
def test_max_pool_matches_reference_on_every_channel(submission, reference):
    rng = np.random.default_rng(21)
    for shape, size in (((8, 8, 3), 2), ((6, 9, 2), 3), ((4, 4, 5), 4)):
        a = rng.uniform(0.05, 3.0, size=shape)
        _close(submission.max_pool(a, size), reference.max_pool(a, size), f"max_pool(a of {shape}, {size})",
               "each channel is pooled on its own; the output is (H', W', C)")


@points(1)
def test_avg_pool_matches_reference_on_every_channel(submission, reference):
    rng = np.random.default_rng(22)
    for shape, size in (((8, 8, 3), 2), ((6, 9, 2), 3), ((4, 4, 5), 4)):
        a = rng.uniform(0.05, 3.0, size=shape)
        _close(submission.avg_pool(a, size), reference.avg_pool(a, size), f"avg_pool(a of {shape}, {size})",
               "the mean of each window, each channel on its own")


@points(1)
def test_pools_keep_a_2d_map_2d(submission, reference):
    rng = np.random.default_rng(23)
    a = rng.uniform(0.05, 3.0, size=(6, 8))
    _close(submission.max_pool(a, 2), reference.max_pool(a, 2), "max_pool(a of (6, 8), 2)",
           "a (H, W) map gives an (H', W') result")
    _close(submission.avg_pool(a, 2), reference.avg_pool(a, 2), "avg_pool(a of (6, 8), 2)",
           "a (H, W) map gives an (H', W') result")


@points(1)
def test_pools_with_overlapping_windows(submission, reference):
    # AlexNet's overlapping pooling: a 3x3 window at stride 2; and a window at stride 1
    rng = np.random.default_rng(24)
    for shape, size, stride in (((7, 7, 2), 3, 2), ((5, 6), 3, 1), ((9, 9), 3, 2)):
        a = rng.uniform(0.05, 3.0, size=shape)
        _close(submission.max_pool(a, size, stride), reference.max_pool(a, size, stride),
               f"max_pool(a of {shape}, {size}, {stride})", "windows start every `stride` pixels and may overlap")
        _close(submission.avg_pool(a, size=size, stride=stride), reference.avg_pool(a, size=size, stride=stride),
               f"avg_pool(a of {shape}, size={size}, stride={stride})",
               "windows start every `stride` pixels and may overlap")


@points(1)
def test_pools_drop_a_partial_window(submission, reference):
    # valid windows only: floor((n - size) / stride) + 1
    rng = np.random.default_rng(25)
    for shape, size, stride in (((7, 7), 2, None), ((5, 8, 2), 2, None), ((8, 8), 3, 2), ((9, 4), 2, 2)):
        a = rng.uniform(0.05, 3.0, size=shape)
        _close(submission.max_pool(a, size, stride), reference.max_pool(a, size, stride),
               f"max_pool(a of {shape}, {size}, {stride})",
               "a window that would run past the edge is not made: floor((n - size) / stride) + 1 windows")
        _close(submission.avg_pool(a, size, stride), reference.avg_pool(a, size, stride),
               f"avg_pool(a of {shape}, {size}, {stride})",
               "a window that would run past the edge is not made: floor((n - size) / stride) + 1 windows")


@points(1)
def test_max_pool_of_negative_values(submission, reference):
    rng = np.random.default_rng(26)
    a = -rng.uniform(1, 5, size=(4, 6, 2))
    _close(submission.max_pool(a, 2), reference.max_pool(a, 2), "max_pool(a of negative values, 2)",
           "the largest value of a window of negative numbers is negative (do not start from 0)")


@points(1)
def test_pools_refuse_invalid_arguments(submission):
    a = np.ones((4, 4))
    for fn, args, kwargs, call in (
        ("max_pool", (a, 0), {}, "max_pool(a, 0)"),
        ("max_pool", (a, 2, 0), {}, "max_pool(a, 2, 0)"),
        ("avg_pool", (a, 5), {}, "avg_pool(a of (4, 4), 5) (the window does not fit)"),
        ("max_pool", (np.ones((3, 8)), 4), {}, "max_pool(a of (3, 8), 4) (the window does not fit)"),
    ):
        with expect_raises("ValueError", call):
            getattr(submission, fn)(*args, **kwargs)
