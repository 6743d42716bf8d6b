"""Hidden tests for conv-arithmetic: other inputs, edge cases and comparisons with the reference.

Messages never show an expected value: they name the call, what was returned and which property
failed.

One property per test, one mistake per test: the comparisons with the reference use only layers
that fit (a filter that does not fit is `test_a_filter_that_does_not_fit_raises_value_error`,
and nowhere else); a whole-number float such as 5.0 is accepted as a size everywhere except in
`test_results_are_plain_ints_everywhere`; wrong types and ranges are
`test_invalid_arguments_are_refused`, and the paddings and shapes only conv_output_shape takes
are `test_conv_output_shape_refuses_invalid_paddings_and_shapes`.
"""

import numpy as np

from grader.testing import Feedback, SubmissionRaised, expect_int, expect_number, expect_raises, expect_tuple, points


def _call_text(fn, args, kwargs):
    shown = ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
    return f"{fn}({shown})"


def _whole(value, call):
    """The size `value` as an int. Any number type is accepted when it holds a whole number
    (whether it is an int is `test_results_are_plain_ints_everywhere`'s property alone)."""
    number = expect_number(value, call)
    if number != int(number):
        raise Feedback(f"{call} returned {number:g}, which is not a whole number of pixels; round the division "
                       "down (//)")
    return int(number)


def _reference_answer(reference, fn, args, kwargs):
    """The reference's int, or None when the reference raises ValueError."""
    try:
        return getattr(reference, fn)(*args, **kwargs)
    except ValueError:
        return None


def _agree(submission, reference, fn, args, kwargs=None, what=""):
    """Compare one call of a layer that fits with the reference: the same whole number."""
    kwargs = kwargs or {}
    call = _call_text(fn, args, kwargs)
    want = _reference_answer(reference, fn, args, kwargs)
    assert want is not None, f"grader bug: {call} is not a valid layer"
    try:
        value = getattr(submission, fn)(*args, **kwargs)
    except SubmissionRaised as err:
        raise AssertionError(f"{call} is valid{what}, but it raised {err.type_name}: {err.message}") from None
    got = _whole(value, call)
    assert got == want, f"{call} returned {got}, which is not the output size{what}"


def _agree_shape(submission, reference, args, kwargs=None, what=""):
    kwargs = kwargs or {}
    call = _call_text("conv_output_shape", args, kwargs)
    want = _reference_answer(reference, "conv_output_shape", args, kwargs)
    assert want is not None, f"grader bug: {call} is not a valid layer"
    try:
        value = submission.conv_output_shape(*args, **kwargs)
    except SubmissionRaised as err:
        raise AssertionError(f"{call} is valid{what}, but it raised {err.type_name}: {err.message}") from None
    got = tuple(_whole(v, f"each item of {call}") for v in expect_tuple(value, call, 3))
    assert got[2] == want[2], f"{call}: the last item is {got[2]}, but it must be the number of filters"
    assert got == want, f"{call} returned {got}, which is not the output shape{what}"


def _fits(reference, fn, args, kwargs=None):
    return _reference_answer(reference, fn, args, kwargs or {}) is not None


@points(2)
def test_conv_output_size_matches_reference_on_random_layers(submission, reference):
    rng = np.random.default_rng(1234)
    done = 0
    while done < 150:
        n = int(rng.integers(1, 300))
        f = int(rng.integers(1, 12))
        p = int(rng.integers(0, 5))
        s = int(rng.integers(1, 6))
        if _fits(reference, "conv_output_size", (n, f), {"padding": p, "stride": s}):
            _agree(submission, reference, "conv_output_size", (n, f), {"padding": p, "stride": s})
            done += 1


@points(1)
def test_conv_output_size_rounds_down_when_the_stride_does_not_divide(submission, reference):
    # (n + 2p - f) not a multiple of s: the last partial window is dropped
    for n, f, p, s in ((10, 3, 0, 2), (224, 7, 0, 2), (227, 7, 0, 2), (100, 5, 1, 3), (9, 2, 0, 4), (12, 3, 1, 5)):
        _agree(submission, reference, "conv_output_size", (n, f), {"padding": p, "stride": s},
               what=" (round the division down, then add 1)")


@points(1)
def test_conv_output_size_positional_arguments(submission, reference):
    # the signature is conv_output_size(n, f, padding=0, stride=1)
    for args in ((31, 5, 2, 3), (64, 4, 1, 2), (17, 17, 0, 1), (1, 1, 0, 1), (1, 3, 1, 1)):
        _agree(submission, reference, "conv_output_size", args)


@points(1)
def test_filter_as_large_as_the_input_gives_1(submission, reference):
    # the smallest output is 1: the filter fills the padded input
    _agree(submission, reference, "conv_output_size", (5, 5))
    _agree(submission, reference, "conv_output_size", (5, 9), {"padding": 2})
    _agree(submission, reference, "conv_output_size", (5, 5), {"stride": 3})
    _agree(submission, reference, "pool_output_size", (6, 6, 2))


@points(1)
def test_a_filter_that_does_not_fit_raises_value_error(submission):
    # one pixel more than the padded input (or a transposed convolution that crops everything):
    # the output would have size 0 or less. This is the only test that counts this ValueError.
    bad = [
        ("conv_output_size", (5, 6), {}),
        ("conv_output_size", (5, 10), {"padding": 2}),
        ("conv_output_size", (5, 6), {"stride": 3}),
        ("conv_output_size", (1, 3), {}),
        ("pool_output_size", (8, 9, 1), {}),
        ("pool_output_size", (2, 3, 2), {}),
        ("conv_transpose_output_size", (1, 1), {"padding": 1}),
        ("conv_transpose_output_size", (2, 2), {"padding": 2, "stride": 1}),
    ]
    for fn, args, kwargs in bad:
        with expect_raises("ValueError", _call_text(fn, args, kwargs) + " (the filter does not fit)"):
            getattr(submission, fn)(*args, **kwargs)
    for args, kwargs in ((((32, 32, 3), 6, 33), {}), (((32, 4, 3), 6, 5), {}), (((3, 40, 2), 3, 6), {"padding": 1})):
        with expect_raises("ValueError", _call_text("conv_output_shape", args, kwargs) + " (the filter does not fit)"):
            submission.conv_output_shape(*args, **kwargs)


@points(1)
def test_invalid_arguments_are_refused(submission):
    # not a whole number (bool, float, str, None) or out of range, in every function
    bad = [
        ("conv_output_size", (0, 1), {}),
        ("conv_output_size", (-4, 3), {}),
        ("conv_output_size", (8, 0), {}),
        ("conv_output_size", (8, -3), {}),
        ("conv_output_size", (8, 3), {"padding": -2}),
        ("conv_output_size", (8, 3), {"stride": 0}),
        ("conv_output_size", (8, 3), {"stride": -1}),
        ("conv_output_size", (8.5, 3), {}),
        ("conv_output_size", (8, 3.0), {}),
        ("conv_output_size", (8, 3), {"padding": 1.0}),
        ("conv_output_size", (8, 3), {"stride": 2.0}),
        ("conv_output_size", (True, 1), {}),
        ("conv_output_size", (8, True), {}),
        ("conv_output_size", (8, 3), {"stride": True}),
        ("conv_output_size", ("8", 3), {}),
        ("conv_output_size", (None, 3), {}),
        ("same_padding", (3.0,), {}),
        ("same_padding", (True,), {}),
        ("same_padding", ("3",), {}),
        ("same_padding", (None,), {}),
        ("same_padding", (-1,), {}),
        ("pool_output_size", (0, 2, 2), {}),
        ("pool_output_size", (8, 0, 2), {}),
        ("pool_output_size", (8, 2, 0), {}),
        ("pool_output_size", (8.0, 2, 2), {}),
        ("pool_output_size", (8, 2, True), {}),
        ("conv_transpose_output_size", (0, 3), {}),
        ("conv_transpose_output_size", (4, 0), {}),
        ("conv_transpose_output_size", (4, 3), {"padding": -1}),
        ("conv_transpose_output_size", (4, 3), {"stride": 0}),
        ("conv_transpose_output_size", (4.0, 3), {}),
        ("conv_output_shape", ((0, 32, 3), 6, 5), {}),
        ("conv_output_shape", ((32, 32, 0), 6, 5), {}),
        ("conv_output_shape", ((32.0, 32, 3), 6, 5), {}),
        ("conv_output_shape", ((32, 32, 3), 0, 5), {}),
        ("conv_output_shape", ((32, 32, 3), 6.0, 5), {}),
        ("conv_output_shape", ((32, 32, 3), 6, 0), {}),
        ("conv_output_shape", ((32, 32, 3), 6, 5), {"stride": 0}),
        ("conv_output_shape", ((32, 32, 3), 6, 5), {"padding": "same", "stride": 0}),
    ]
    for fn, args, kwargs in bad:
        with expect_raises("ValueError", _call_text(fn, args, kwargs)):
            getattr(submission, fn)(*args, **kwargs)


@points(1)
def test_same_padding_for_many_filter_sizes(submission, reference):
    for f in (1, 3, 5, 7, 9, 13, 21, 31, 101):
        _agree(submission, reference, "same_padding", (f,))


@points(1)
def test_same_padding_refuses_even_filters(submission):
    # (f - 1) / 2 is not a whole number of pixels when f is even
    for f in (2, 6, 8, 10, 64):
        with expect_raises("ValueError", f"same_padding({f}) (an even filter has no symmetric padding)"):
            submission.same_padding(f)


@points(1)
def test_same_padding_keeps_the_size(submission):
    # property: with p = same_padding(f) and stride 1 the output equals the input
    for n, f in ((1, 1), (7, 3), (28, 5), (50, 7), (224, 3), (13, 11)):
        p = _whole(submission.same_padding(f), f"same_padding({f})")
        out = _whole(submission.conv_output_size(n, f, padding=p), f"conv_output_size({n}, {f}, padding={p})")
        assert out == n, (f"conv_output_size({n}, {f}, padding=same_padding({f})) returned {out}: "
                          "a 'same' convolution with stride 1 should keep the input size")


@points(1)
def test_pool_output_size_matches_reference(submission, reference):
    rng = np.random.default_rng(4321)
    done = 0
    while done < 80:
        n = int(rng.integers(1, 130))
        f = int(rng.integers(1, 6))
        s = int(rng.integers(1, 5))
        if _fits(reference, "pool_output_size", (n, f, s)):
            _agree(submission, reference, "pool_output_size", (n, f, s))
            done += 1


@points(1)
def test_pool_output_size_rounds_down(submission, reference):
    for args in ((7, 2, 2), (15, 2, 2), (99, 3, 2), (10, 3, 3), (57, 2, 2)):
        _agree(submission, reference, "pool_output_size", args, what=" (round the division down, then add 1)")


@points(2)
def test_conv_transpose_output_size_matches_reference(submission, reference):
    rng = np.random.default_rng(2024)
    done = 0
    while done < 80:
        n = int(rng.integers(1, 60))
        f = int(rng.integers(1, 8))
        p = int(rng.integers(0, 4))
        s = int(rng.integers(1, 5))
        if _fits(reference, "conv_transpose_output_size", (n, f), {"padding": p, "stride": s}):
            _agree(submission, reference, "conv_transpose_output_size", (n, f), {"padding": p, "stride": s})
            done += 1


@points(1)
def test_conv_transpose_undoes_the_size_change_of_a_convolution(submission):
    # property: when (n + 2p - f) is a multiple of s, transposing gives back n
    for n, f, p, s in ((28, 3, 1, 1), (32, 4, 1, 2), (64, 5, 2, 1), (9, 3, 0, 3), (17, 5, 0, 4)):
        m = _whole(submission.conv_output_size(n, f, padding=p, stride=s),
                   f"conv_output_size({n}, {f}, padding={p}, stride={s})")
        back = _whole(submission.conv_transpose_output_size(m, f, padding=p, stride=s),
                      f"conv_transpose_output_size({m}, {f}, padding={p}, stride={s})")
        assert back == n, (f"conv_transpose_output_size(conv_output_size({n}, {f}, {p}, {s}), {f}, {p}, {s}) "
                           f"returned {back}: it should give back the input size of the convolution")


@points(2)
def test_conv_output_shape_matches_reference_on_random_layers(submission, reference):
    rng = np.random.default_rng(99)
    paddings = ["valid", "same", 0, 1, 2, 3]
    done = 0
    while done < 80:
        shape = (int(rng.integers(1, 80)), int(rng.integers(1, 80)), int(rng.integers(1, 8)))
        filters = int(rng.integers(1, 130))
        f = int(rng.integers(1, 8))
        padding = paddings[int(rng.integers(0, len(paddings)))]
        stride = int(rng.integers(1, 4))
        kwargs = {"padding": padding, "stride": stride}
        if _fits(reference, "conv_output_shape", (shape, filters, f), kwargs):
            _agree_shape(submission, reference, (shape, filters, f), kwargs)
            done += 1


@points(1)
def test_conv_output_shape_non_square_input(submission, reference):
    # height and width are computed separately
    for args, kwargs in (
        (((37, 23, 5), 7, 3), {}),
        (((37, 23, 5), 7, 3), {"stride": 2}),
        (((120, 80, 3), 16, 5), {"padding": 2, "stride": 3}),
        (((15, 100, 1), 4, 4), {"padding": "same", "stride": 3}),
        (((5, 40, 2), 3, 5), {"padding": "valid", "stride": 5}),
    ):
        _agree_shape(submission, reference, args, kwargs, what=" (height and width are computed separately)")


@points(1)
def test_conv_output_shape_same_is_ceil_n_over_s_for_every_kernel(submission, reference):
    for n, f, s in ((224, 2, 1), (224, 4, 2), (31, 6, 3), (5, 7, 1), (5, 9, 2), (1, 3, 1), (100, 1, 7)):
        _agree_shape(submission, reference, ((n, n + 1, 3), 8, f), {"padding": "same", "stride": s},
                     what=" ('same' in Keras: ceil(n / s) for any filter size)")


@points(1)
def test_conv_output_shape_default_padding_is_valid(submission, reference):
    _agree_shape(submission, reference, ((64, 48, 3), 32, 5), {}, what=" (the default padding is 'valid')")
    _agree_shape(submission, reference, ((64, 48, 3), 32, 5, "valid", 2), {})


@points(1)
def test_conv_output_shape_accepts_a_list_shape(submission, reference):
    _agree_shape(submission, reference, ([30, 20, 3], 10, 3), {"padding": 1})


@points(1)
def test_conv_output_shape_refuses_invalid_paddings_and_shapes(submission):
    bad = [
        (((32, 32, 3), 6, 5), {"padding": "full"}),
        (((32, 32, 3), 6, 5), {"padding": "causal"}),
        (((32, 32, 3), 6, 5), {"padding": ""}),
        (((32, 32, 3), 6, 5), {"padding": -1}),
        (((32, 32, 3), 6, 5), {"padding": 1.5}),
        (((32, 32, 3), 6, 5), {"padding": None}),
        (((32, 32, 3), 6, 5), {"padding": True}),
        (((32, 32), 6, 5), {}),
        (((32, 32, 3, 1), 6, 5), {}),
        ((32, 6, 5), {}),
    ]
    for args, kwargs in bad:
        with expect_raises("ValueError", _call_text("conv_output_shape", args, kwargs)):
            submission.conv_output_shape(*args, **kwargs)


@points(1)
def test_zfnet_conv1_7x7_stride_2(submission, reference):
    # ZFNet changes AlexNet's CONV1 from 11x11 stride 4 to 7x7 stride 2
    _agree_shape(submission, reference, ((227, 227, 3), 96, 7), {"stride": 2})
    _agree_shape(submission, reference, ((224, 224, 3), 96, 7), {"padding": 1, "stride": 2})


@points(1)
def test_results_are_plain_ints_everywhere(submission):
    # the only test that asks for the int type (the others accept 37.0 for 37)
    for call, value in (
        ("conv_output_size(100, 4, padding=1, stride=3)", submission.conv_output_size(100, 4, padding=1, stride=3)),
        ("pool_output_size(100, 3, 2)", submission.pool_output_size(100, 3, 2)),
        ("conv_transpose_output_size(10, 4, padding=1, stride=2)",
         submission.conv_transpose_output_size(10, 4, padding=1, stride=2)),
        ("same_padding(9)", submission.same_padding(9)),
    ):
        expect_int(value, call)
    shape = expect_tuple(submission.conv_output_shape((64, 48, 3), 32, 5, padding=2, stride=2),
                         "conv_output_shape((64, 48, 3), 32, 5, padding=2, stride=2)", 3)
    for v in shape:
        expect_int(v, "each item of conv_output_shape((64, 48, 3), 32, 5, padding=2, stride=2)")
