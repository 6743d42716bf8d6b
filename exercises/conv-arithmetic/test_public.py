"""Public tests for conv-arithmetic: the worked numbers of the lecture notes.

Run them with `dlgrade check`. Each test says where its numbers come from.
"""

from grader.testing import Feedback, expect_int, expect_number, expect_raises, expect_tuple, points


def _whole(value, call):
    """A size as an int. 37.0 is accepted for 37 here: that sizes are ints is
    test_sizes_are_ints' property alone, so that mistake costs one test."""
    number = expect_number(value, call)
    if number != int(number):
        raise Feedback(f"{call} returned {number:g}, which is not a whole number of pixels; round the division "
                       "down (//)")
    return int(number)


def _size(submission, fn, *args, **kwargs):
    """Call submission.<fn>(...) and check that it returns a whole number."""
    shown = ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
    call = f"{fn}({shown})"
    return _whole(getattr(submission, fn)(*args, **kwargs), call), call


def _check(submission, fn, args, want, why, **kwargs):
    got, call = _size(submission, fn, *args, **kwargs)
    assert got == want, f"{call} should be {want} ({why}), got {got}"


def _shape(submission, input_shape, filters, f, want, why, **kwargs):
    shown = ", ".join([repr(input_shape), repr(filters), repr(f)] + [f"{k}={v!r}" for k, v in kwargs.items()])
    call = f"conv_output_shape({shown})"
    got = expect_tuple(submission.conv_output_shape(input_shape, filters, f, **kwargs), call, 3)
    got = tuple(_whole(v, f"each item of {call}") for v in got)
    assert got == want, f"{call} should be {want} ({why}), got {got}"


@points(1)
def test_valid_convolution_6x6_with_3x3_gives_4x4(submission):
    # "6 × 6 * 3 × 3 → 4 × 4", the edge-detection example (n - f + 1)
    _check(submission, "conv_output_size", (6, 3), 4, "n - f + 1 = 6 - 3 + 1")


@points(1)
def test_simple_convnet_39_gives_37(submission):
    # "(39+0-3)/1 + 1 = 37"
    _check(submission, "conv_output_size", (39, 3), 37, "(39 + 0 - 3) / 1 + 1")
    _check(submission, "conv_output_size", (39, 3), 37, "(39 + 0 - 3) / 1 + 1", padding=0, stride=1)


@points(1)
def test_six_5x5_filters_on_32x32x3_give_28x28x6(submission):
    # "if we had 6 5x5 filters, we'll get 6 separate activation maps ... 28x28x6";
    # the "why convolution?" slide counts 4704 = 28 * 28 * 6 outputs
    _shape(submission, (32, 32, 3), 6, 5, (28, 28, 6), "32 - 5 + 1 = 28, one map per filter")


@points(2)
def test_lenet5_sizes_32_28_14_10_5(submission):
    # the LeNet-5 table: (32,32,3) -> CONV1 f=5 (28,28,8) -> POOL1 (14,14,8)
    # -> CONV2 f=5 (10,10,16) -> POOL2 (5,5,16)
    _check(submission, "conv_output_size", (32, 5), 28, "LeNet-5 CONV1, f=5, s=1")
    _check(submission, "pool_output_size", (28, 2, 2), 14, "LeNet-5 POOL1, f=2, s=2")
    _check(submission, "conv_output_size", (14, 5), 10, "LeNet-5 CONV2, f=5, s=1")
    _check(submission, "pool_output_size", (10, 2, 2), 5, "LeNet-5 POOL2, f=2, s=2")
    _shape(submission, (32, 32, 3), 8, 5, (28, 28, 8), "LeNet-5 CONV1")
    _shape(submission, (14, 14, 8), 16, 5, (10, 10, 16), "LeNet-5 CONV2")


@points(1)
def test_same_padding_is_half_the_filter_minus_one(submission):
    # "n+2p-f+1 = n  =>  p = (f-1)/2", "برای مثال قبل p=1" (f = 3)
    _check(submission, "same_padding", (3,), 1, "p = (3 - 1) / 2")
    _check(submission, "same_padding", (5,), 2, "p = (5 - 1) / 2")
    _check(submission, "same_padding", (1,), 0, "a 1x1 filter needs no padding")
    _check(submission, "same_padding", (11,), 5, "p = (11 - 1) / 2")
    # with p = 1 the 6x6 image of the example keeps its size
    _check(submission, "conv_output_size", (6, 3), 6, "6 + 2*1 - 3 + 1, 'same'", padding=1)


@points(1)
def test_same_padding_rejects_even_or_empty_filters(submission):
    for f in (2, 4, 0, -3):
        with expect_raises("ValueError", f"same_padding({f})"):
            submission.same_padding(f)


@points(1)
def test_stride_2_on_7x7_gives_3x3(submission):
    # the stride slide: a 7x7 image, a 3x3 filter, stride 2 -> 3x3
    _check(submission, "conv_output_size", (7, 3), 3, "floor((7 + 0 - 3) / 2) + 1", stride=2)


@points(1)
def test_padding_keeps_5x5_and_padding_then_stride_gives_3x3(submission):
    # lecture 004, padding: one row of zeros on every side keeps the 5x5 image 5x5 (3x3 kernel);
    # stride: "از یک تصویر پنج در پنج و کرنل سه در سه یک ماتریس سه در سه" (padding 1, stride 2)
    _check(submission, "conv_output_size", (5, 3), 5, "5 + 2*1 - 3 + 1", padding=1)
    _check(submission, "conv_output_size", (5, 3), 3, "floor((5 + 2*1 - 3) / 2) + 1", padding=1, stride=2)


@points(2)
def test_alexnet_conv1_and_pool1(submission):
    # "Input: 227x227x3 ... CONV1: 96 11x11 filters applied at stride 4 => [55x55x96]"
    # "POOL1: 3x3 filters applied at stride 2 ... (55-3)/2+1 = 27"
    _check(submission, "conv_output_size", (227, 11), 55, "(227 - 11) / 4 + 1", stride=4)
    _check(submission, "pool_output_size", (55, 3, 2), 27, "(55 - 3) / 2 + 1")
    _shape(submission, (227, 227, 3), 96, 11, (55, 55, 96), "AlexNet CONV1", padding=0, stride=4)
    _shape(submission, (227, 227, 3), 96, 11, (55, 55, 96), "AlexNet CONV1", padding="valid", stride=4)


@points(2)
def test_alexnet_simplified_architecture(submission):
    # "[27x27x256] CONV2: 256 5x5 filters at stride 1, pad 2", "[13x13x256] MAX POOL2: 3x3 at stride 2",
    # "[13x13x384] CONV3/CONV4: 384 3x3 filters at stride 1, pad 1", "[13x13x256] CONV5",
    # "[6x6x256] MAX POOL3: 3x3 filters at stride 2"
    _shape(submission, (27, 27, 96), 256, 5, (27, 27, 256), "AlexNet CONV2, pad 2", padding=2)
    _check(submission, "pool_output_size", (27, 3, 2), 13, "AlexNet POOL2: (27 - 3) / 2 + 1")
    _shape(submission, (13, 13, 256), 384, 3, (13, 13, 384), "AlexNet CONV3, pad 1", padding=1)
    _shape(submission, (13, 13, 384), 384, 3, (13, 13, 384), "AlexNet CONV4, pad 1", padding=1)
    _shape(submission, (13, 13, 384), 256, 3, (13, 13, 256), "AlexNet CONV5, pad 1", padding=1)
    _check(submission, "pool_output_size", (13, 3, 2), 6, "AlexNet POOL3: (13 - 3) / 2 + 1")


@points(1)
def test_pooling_examples(submission):
    # max pooling 4x4 with f=2, s=2 -> 2x2 (lectures 000 and 004);
    # "5×5×2, f = 3, s = 1 -> 3×3×2"
    _check(submission, "pool_output_size", (4, 2, 2), 2, "(4 - 2) / 2 + 1")
    _check(submission, "pool_output_size", (5, 3, 1), 3, "(5 - 3) / 1 + 1")


@points(2)
def test_mnist_cnn_28_26_13_11_5(submission):
    # lecture 004: 28x28 -> 10 kernels -> 26x26 -> max pool 13x13 -> 20 maps 11x11 -> max pool 5x5,
    # "20x5x5 = 500" inputs to the fully connected layer. The notebook uses 5x5 kernels with
    # stride 1 and padding 1; a 3x3 kernel without padding gives the same sizes.
    _check(submission, "conv_output_size", (28, 5), 26, "28 + 2*1 - 5 + 1", padding=1, stride=1)
    _check(submission, "conv_output_size", (28, 3), 26, "28 - 3 + 1, no padding")
    _check(submission, "pool_output_size", (26, 2, 2), 13, "(26 - 2) / 2 + 1")
    _check(submission, "conv_output_size", (13, 5), 11, "13 + 2*1 - 5 + 1", padding=1)
    _check(submission, "pool_output_size", (11, 2, 2), 5, "floor((11 - 2) / 2) + 1: round down")
    _shape(submission, (13, 13, 10), 20, 5, (11, 11, 20), "the second convolution", padding=1)
    side = _whole(submission.pool_output_size(11, 2, 2), "pool_output_size(11, 2, 2)")
    assert side * side * 20 == 500, f"20 maps of {side}x{side} should give 20x5x5 = 500 inputs, got {side * side * 20}"


@points(1)
def test_emnist_cnn_flattens_to_294(submission):
    # lecture 004: Conv2d(1, 6, 3, padding=1) -> pool -> Conv2d(6, 6, 3, padding=1) -> pool
    # -> "Linear(in_features=294, out_features=50)": 294 = 7 * 7 * 6
    _shape(submission, (28, 28, 1), 6, 3, (28, 28, 6), "3x3, padding 1", padding=1)
    _check(submission, "pool_output_size", (28, 2, 2), 14, "(28 - 2) / 2 + 1")
    _shape(submission, (14, 14, 6), 6, 3, (14, 14, 6), "3x3, padding 1", padding=1)
    side = _whole(submission.pool_output_size(14, 2, 2), "pool_output_size(14, 2, 2)")
    assert side * side * 6 == 294, f"in_features should be 7 * 7 * 6 = 294, got {side}*{side}*6 = {side * side * 6}"


@points(2)
def test_vgg_same_convolutions_and_pools(submission):
    # "CONV = 3×3 filter, s = 1, same   MAX-POOL = 2×2, s = 2", input 224 × 224 RGB,
    # "Only 3x3 CONV stride 1, pad 1 and 2x2 MAX POOL stride 2"
    _shape(submission, (224, 224, 3), 64, 3, (224, 224, 64), "'same' keeps 224", padding="same")
    _shape(submission, (224, 224, 3), 64, 3, (224, 224, 64), "pad 1 keeps 224", padding=1)
    n = 224
    for want in (112, 56, 28, 14, 7):
        _check(submission, "pool_output_size", (n, 2, 2), want, "2x2 max pool, stride 2")
        n = want


@points(2)
def test_googlenet_output_sizes(submission):
    # GoogLeNet table: "convolution 7x7/2 112x112x64", "max pool 3x3/2 56x56x64",
    # "convolution 3x3/1 56x56x192", "max pool 3x3/2 28x28x192", "max pool 3x3/2 14x14x480",
    # "max pool 3x3/2 7x7x528", "avg pool 7x7/1 1x1x1024". Its layers use 'same' padding; for
    # the 3x3/2 max pools that is a padding of 1, and the size formula is the convolution's.
    _shape(submission, (224, 224, 3), 64, 7, (112, 112, 64), "'same', stride 2: ceil(224 / 2)", padding="same", stride=2)
    _shape(submission, (56, 56, 64), 192, 3, (56, 56, 192), "'same', stride 1", padding="same")
    n = 112
    for want in (56, 28, 14, 7):
        _check(submission, "conv_output_size", (n, 3), want, "3x3/2 window with padding 1", padding=1, stride=2)
        n = want
    _check(submission, "pool_output_size", (7, 7, 1), 1, "avg pool 7x7/1")


@points(1)
def test_same_follows_keras_for_even_kernels_and_strides(submission):
    # Keras 'same': ceil(n / s) on each side, whatever f is
    _shape(submission, (10, 10, 3), 4, 2, (10, 10, 4), "'same' with stride 1 keeps the size", padding="same")
    _shape(submission, (7, 9, 3), 8, 3, (4, 5, 8), "ceil(7 / 2) = 4, ceil(9 / 2) = 5", padding="same", stride=2)


@points(1)
def test_floor_brackets_round_down(submission):
    # "⌊(n+2p-f)/s + 1⌋": when s does not divide n + 2p - f, the last partial window is dropped
    _check(submission, "conv_output_size", (8, 3), 3, "floor((8 - 3) / 2) + 1 = floor(2.5) + 1", stride=2)
    _check(submission, "pool_output_size", (9, 2, 2), 4, "floor((9 - 2) / 2) + 1 = floor(3.5) + 1")


@points(1)
def test_height_and_width_are_computed_separately(submission):
    _shape(submission, (28, 20, 3), 4, 5, (24, 16, 4), "28 - 5 + 1 = 24 rows, 20 - 5 + 1 = 16 columns")
    _shape(submission, (9, 16, 1), 2, 3, (5, 8, 2), "ceil(9 / 2) = 5, ceil(16 / 2) = 8", padding="same", stride=2)


@points(2)
def test_transposed_convolution(submission):
    # lecture 004: the autoencoder's decoder uses nn.ConvTranspose2d(4, 6, 3, 2) and
    # nn.ConvTranspose2d(6, 1, 3, 2): f = 3, stride 2, output (n - 1) * s - 2p + f
    _check(submission, "conv_transpose_output_size", (7, 3), 15, "(7 - 1) * 2 + 3", stride=2)
    _check(submission, "conv_transpose_output_size", (15, 3), 31, "(15 - 1) * 2 + 3", padding=0, stride=2)
    # a 91x91 input: 91 -> pool 45 -> pool 22 -> ConvTranspose 45 -> ConvTranspose 91
    _check(submission, "conv_transpose_output_size", (22, 3), 45, "(22 - 1) * 2 + 3", stride=2)
    _check(submission, "conv_transpose_output_size", (45, 3), 91, "(45 - 1) * 2 + 3", stride=2)
    # padding removes 2p: a 'same' 3x3 transposed convolution keeps the size
    _check(submission, "conv_transpose_output_size", (4, 3), 4, "(4 - 1) * 1 - 2*1 + 3", padding=1)


@points(1)
def test_invalid_arguments_raise_value_error(submission):
    with expect_raises("ValueError", "conv_output_size(5, 3, padding=-1)"):
        submission.conv_output_size(5, 3, padding=-1)
    with expect_raises("ValueError", "conv_output_size(5, 3, stride=0)"):
        submission.conv_output_size(5, 3, stride=0)
    with expect_raises("ValueError", "conv_output_size(5.0, 3)"):
        submission.conv_output_size(5.0, 3)
    with expect_raises("ValueError", "conv_output_shape((32, 32, 3), 6, 5, padding='full')"):
        submission.conv_output_shape((32, 32, 3), 6, 5, padding="full")


@points(1)
def test_a_filter_that_does_not_fit_raises_value_error(submission):
    # a 7x7 filter on a 5x5 image, a 3x3 window on a 2x2 map: the output would be empty
    with expect_raises("ValueError", "conv_output_size(5, 7) (the filter does not fit)"):
        submission.conv_output_size(5, 7)
    with expect_raises("ValueError", "pool_output_size(2, 3, 2) (the window does not fit)"):
        submission.pool_output_size(2, 3, 2)


@points(1)
def test_sizes_are_ints(submission):
    # "All sizes are ints": 37, not 37.0 (// divides whole numbers and rounds down)
    expect_int(submission.conv_output_size(39, 3), "conv_output_size(39, 3)")
    expect_int(submission.pool_output_size(55, 3, 2), "pool_output_size(55, 3, 2)")
    expect_int(submission.same_padding(3), "same_padding(3)")
    expect_int(submission.conv_transpose_output_size(7, 3, stride=2), "conv_transpose_output_size(7, 3, stride=2)")
    for v in expect_tuple(submission.conv_output_shape((32, 32, 3), 6, 5), "conv_output_shape((32, 32, 3), 6, 5)", 3):
        expect_int(v, "each item of conv_output_shape((32, 32, 3), 6, 5)")
