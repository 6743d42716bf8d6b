"""Hidden tests for param-count: other networks, edge cases and comparisons with the reference.

Messages never show an expected value: they name the call or the layer, what was returned and
which property failed.

One property per test: the comparisons with the reference check output shapes and parameter
counts whatever names the learner gave the rows; the Keras names are
`test_names_follow_a_fresh_keras_session` alone. A kernel or window that does not fit is
`test_a_kernel_or_window_that_does_not_fit_raises_value_error` alone.
"""

import numpy as np

from grader.testing import Feedback, SubmissionRaised, expect_int, expect_raises, expect_tuple, points


def _vgg16_layers():
    layers = []
    for blocks, filters in ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512)):
        layers += [{"type": "conv", "filters": filters, "kernel": 3, "padding": "same", "activation": "relu"}
                   for _ in range(blocks)]
        layers.append({"type": "pool", "size": 2, "stride": 2})
    layers += [{"type": "flatten"}, {"type": "dense", "units": 4096}, {"type": "dense", "units": 4096},
               {"type": "dense", "units": 1000}]
    return layers


def _alexnet_layers():
    # the simplified AlexNet of lecture 002 (pad 2 / pad 1 written as 'same'), with dropout 0.5
    return [
        {"type": "conv", "filters": 96, "kernel": 11, "stride": 4},
        {"type": "pool", "size": 3, "stride": 2},
        {"type": "conv", "filters": 256, "kernel": 5, "padding": "same"},
        {"type": "pool", "size": 3, "stride": 2},
        {"type": "conv", "filters": 384, "kernel": 3, "padding": "same"},
        {"type": "conv", "filters": 384, "kernel": 3, "padding": "same"},
        {"type": "conv", "filters": 256, "kernel": 3, "padding": "same"},
        {"type": "pool", "size": 3, "stride": 2},
        {"type": "flatten"},
        {"type": "dense", "units": 4096},
        {"type": "dropout", "rate": 0.5},
        {"type": "dense", "units": 4096},
        {"type": "dropout", "rate": 0.5},
        {"type": "dense", "units": 1000},
    ]


def _rows(value, what):
    if not isinstance(value, (list, tuple)):
        raise Feedback(f"{what} should return a list of (name, output_shape, params) tuples, "
                       f"but it returned a value of type {type(value).__name__}")
    rows = []
    for i, row in enumerate(value):
        name, shape, params = expect_tuple(row, f"row {i} of {what}", 3)
        if not isinstance(name, str):
            raise Feedback(f"row {i} of {what}: the name should be a str, got {type(name).__name__}")
        if not isinstance(shape, (list, tuple)):
            raise Feedback(f"row {i} of {what}: the output shape should be a tuple, "
                           f"got a value of type {type(shape).__name__}")
        shape = tuple(expect_int(v, f"each size of the output shape in row {i} of {what}") for v in shape)
        params = expect_int(params, f"the parameter count in row {i} of {what}")
        rows.append((name, shape, params))
    return rows


def _call(submission, input_shape, layers, what):
    try:
        value = submission.count_params(input_shape, layers)
    except SubmissionRaised as err:
        raise AssertionError(f"{what} is a valid network, but count_params raised {err.type_name}: {err.message}") from None
    return _rows(value, what)


def _compare_with_reference(submission, reference, input_shape, layers, what, names=False):
    """Output shapes and parameter counts row by row; the names only when `names` is set."""
    want = reference.count_params(input_shape, layers)
    rows = _call(submission, input_shape, layers, what)
    assert len(rows) == len(want), f"{what}: {len(layers)} layers should give {len(layers)} rows, got {len(rows)}"
    for i, (got, need) in enumerate(zip(rows, want)):
        layer = layers[i]["type"]
        if names:
            assert got[0] == need[0], (f"{what}, row {i} (a {layer!r} layer): the name {got[0]!r} is not the name "
                                       "Keras gives it in a fresh session (conv2d, conv2d_1, ..., each kind counted "
                                       "separately)")
            continue
        assert got[1] == need[1], (f"{what}, row {i} (a {layer!r} layer, {layers[i]}): the output shape "
                                   f"{got[1]} is wrong")
        assert got[2] == need[2], (f"{what}, row {i} (a {layer!r} layer, {layers[i]}): the parameter count "
                                   f"{got[2]:,} is wrong")
    return rows


def _random_network(rng):
    shape = (int(rng.integers(8, 97)), int(rng.integers(8, 97)), int(rng.integers(1, 5)))
    layers = []
    for _ in range(int(rng.integers(1, 4))):
        for _ in range(int(rng.integers(1, 3))):
            layer = {"type": "conv", "filters": int(rng.choice([1, 4, 8, 16, 32, 64])), "kernel": int(rng.integers(1, 6))}
            if rng.random() < 0.5:
                layer["stride"] = int(rng.integers(1, 3))
            if rng.random() < 0.6:
                layer["padding"] = str(rng.choice(["valid", "same"]))
            layers.append(layer)
        if rng.random() < 0.8:
            pool = {"type": "pool", "size": int(rng.integers(2, 4))}
            if rng.random() < 0.5:
                pool["stride"] = int(rng.integers(1, 4))
            layers.append(pool)
        if rng.random() < 0.3:
            layers.append({"type": "dropout", "rate": 0.25})
    layers.append({"type": "flatten"})
    for _ in range(int(rng.integers(1, 3))):
        layers.append({"type": "dense", "units": int(rng.integers(1, 300))})
        if rng.random() < 0.4:
            layers.append({"type": "dropout"})
    return shape, layers


@points(2)
def test_vgg16_total_is_exact(submission, reference):
    rows = _call(submission, (224, 224, 3), _vgg16_layers(), "count_params((224, 224, 3), VGG16)")
    total = sum(r[2] for r in rows)
    want = sum(r[2] for r in reference.count_params((224, 224, 3), _vgg16_layers()))
    assert total == want, f"the parameters of VGG16 add up to {total:,}, which is not the exact total"


@points(2)
def test_vgg16_rows_match_the_reference(submission, reference):
    _compare_with_reference(submission, reference, (224, 224, 3), _vgg16_layers(), "count_params((224, 224, 3), VGG16)")


@points(1)
def test_alexnet_conv1_with_bias(submission, reference):
    got = expect_int(submission.conv2d_params(11, 3, 96), "conv2d_params(11, 3, 96)")
    assert got == reference.conv2d_params(11, 3, 96), \
        f"conv2d_params(11, 3, 96) returned {got:,}: the 96 filters have 11*11*3 weights and one bias each"
    _compare_with_reference(submission, reference, (227, 227, 3), _alexnet_layers()[:1],
                            "count_params((227, 227, 3), AlexNet CONV1)")


@points(2)
def test_alexnet_simplified_matches_the_reference(submission, reference):
    _compare_with_reference(submission, reference, (227, 227, 3), _alexnet_layers(),
                            "count_params((227, 227, 3), AlexNet)")


@points(1)
def test_ten_3x3_filters_on_an_rgb_image(submission, reference):
    # 10 filters of 3 x 3 x 3, through count_params
    _compare_with_reference(submission, reference, (32, 32, 3), [{"type": "conv", "filters": 10, "kernel": 3}],
                            "count_params((32, 32, 3), [10 filters 3x3])")
    _compare_with_reference(submission, reference, (39, 39, 3), [{"type": "conv", "filters": 10, "kernel": 3}],
                            "count_params((39, 39, 3), [10 filters 3x3])")


@points(3)
def test_unseen_networks_match_the_reference(submission, reference):
    rng = np.random.default_rng(1234)
    done = 0
    while done < 12:
        shape, layers = _random_network(rng)
        try:
            reference.count_params(shape, layers)
        except ValueError:
            continue
        _compare_with_reference(submission, reference, shape, layers, f"network {done} (input {shape})")
        done += 1


@points(1)
def test_one_by_one_convolution_and_googlenet_stem(submission, reference):
    # 1x1 convolutions change the number of channels only; GoogLeNet starts with a 7x7/2 'same' conv
    _compare_with_reference(submission, reference, (28, 28, 192),
                            [{"type": "conv", "filters": 32, "kernel": 1}], "count_params((28, 28, 192), [1x1 conv])")
    # (its max pools pad as 'same': that is test_pool_same_padding_is_keras_ceil's alone)
    _compare_with_reference(submission, reference, (224, 224, 3),
                            [{"type": "conv", "filters": 64, "kernel": 7, "stride": 2, "padding": "same"}],
                            "count_params((224, 224, 3), GoogLeNet's first layer)")
    _compare_with_reference(submission, reference, (56, 56, 64),
                            [{"type": "conv", "filters": 64, "kernel": 1},
                             {"type": "conv", "filters": 192, "kernel": 3, "padding": "same"}],
                            "count_params((56, 56, 64), GoogLeNet's 1x1 reduce and 3x3 layers)")


@points(1)
def test_integer_padding_matches_the_reference(submission, reference):
    # PyTorch's Conv2d(..., padding=p): floor((n + 2p - f) / s) + 1, p zeros on every side
    for shape, f, s, p in (((28, 28, 1), 5, 1, 1), ((13, 13, 10), 5, 1, 2), ((32, 32, 3), 3, 1, 0),
                           ((227, 227, 3), 11, 4, 2), ((10, 7, 2), 4, 3, 1), ((1, 1, 4), 3, 1, 1), ((5, 9, 1), 3, 2, 3)):
        _compare_with_reference(submission, reference, shape,
                                [{"type": "conv", "filters": 6, "kernel": f, "stride": s, "padding": p}],
                                f"count_params({shape}, [conv, kernel {f}, stride {s}, padding {p}])")


@points(1)
def test_pool_same_padding_is_keras_ceil(submission, reference):
    for shape, size, s in (((112, 112, 64), 3, 2), ((7, 9, 3), 2, 2), ((5, 5, 1), 3, 1), ((11, 4, 2), 3, 3)):
        _compare_with_reference(submission, reference, shape,
                                [{"type": "pool", "size": size, "stride": s, "padding": "same"}],
                                f"count_params({shape}, [pool {size}, stride {s}, 'same'])")
    stem = [{"type": "conv", "filters": 64, "kernel": 7, "stride": 2, "padding": "same"},
            {"type": "pool", "size": 3, "stride": 2, "padding": "same"},
            {"type": "conv", "filters": 64, "kernel": 1},
            {"type": "conv", "filters": 192, "kernel": 3, "padding": "same"},
            {"type": "pool", "size": 3, "stride": 2, "padding": "same"}]
    _compare_with_reference(submission, reference, (224, 224, 3), stem, "count_params((224, 224, 3), GoogLeNet stem)")


@points(1)
def test_batchnorm_has_four_parameters_per_channel_and_keeps_the_shape(submission, reference):
    # Keras' BatchNormalization: gamma, beta (trained), moving mean and variance (not trained)
    # and, when the learner's other rows have Keras' names (test_names_follow_a_fresh_keras_session's
    # property), the batch norm rows are "batch_normalization", "batch_normalization_1"
    layers = [{"type": "conv", "filters": 16, "kernel": 3}, {"type": "batchnorm"},
              {"type": "pool", "size": 2}, {"type": "flatten"}, {"type": "dense", "units": 64},
              {"type": "batchnorm"}, {"type": "dense", "units": 10}]
    what = "count_params((32, 32, 3), conv/batchnorm/.../dense/batchnorm)"
    rows = _compare_with_reference(submission, reference, (32, 32, 3), layers, what)
    _compare_with_reference(submission, reference, (7,), [{"type": "batchnorm"}], "count_params((7,), [batchnorm])")
    want = reference.count_params((32, 32, 3), layers)
    others = [i for i, layer in enumerate(layers) if layer["type"] != "batchnorm"]
    if all(rows[i][0] == want[i][0] for i in others):
        got = [rows[i][0] for i, layer in enumerate(layers) if layer["type"] == "batchnorm"]
        assert got == ["batch_normalization", "batch_normalization_1"], (
            f"{what}: the batch norm rows are named {got}; Keras names them batch_normalization, "
            "batch_normalization_1, ...")


@points(1)
def test_same_padding_keras_ceil_for_any_kernel_and_stride(submission, reference):
    for shape, f, s in (((15, 20, 3), 4, 3), ((7, 7, 1), 3, 2), ((33, 9, 2), 5, 4), ((16, 16, 3), 4, 1), ((9, 12, 2), 2, 1)):
        _compare_with_reference(submission, reference, shape,
                                [{"type": "conv", "filters": 8, "kernel": f, "stride": s, "padding": "same"}],
                                f"count_params({shape}, ['same' conv, kernel {f}, stride {s}])")


@points(1)
def test_valid_conv_with_a_stride_rounds_down(submission, reference):
    for shape, f, s in (((15, 20, 3), 4, 3), ((224, 224, 3), 7, 2), ((10, 11, 2), 3, 2)):
        _compare_with_reference(submission, reference, shape,
                                [{"type": "conv", "filters": 8, "kernel": f, "stride": s}],
                                f"count_params({shape}, ['valid' conv, kernel {f}, stride {s}])")


@points(1)
def test_pool_stride_defaults_to_the_window_size(submission, reference):
    _compare_with_reference(submission, reference, (27, 27, 5), [{"type": "pool", "size": 3}],
                            "count_params((27, 27, 5), [pool size 3])")
    _compare_with_reference(submission, reference, (27, 27, 5), [{"type": "pool", "size": 3, "stride": 1}],
                            "count_params((27, 27, 5), [pool size 3, stride 1])")
    _compare_with_reference(submission, reference, (9, 13, 5), [{"type": "pool", "size": 2}],
                            "count_params((9, 13, 5), [pool size 2])")


@points(1)
def test_dense_only_networks(submission, reference):
    mlp = [{"type": "dense", "units": 512}, {"type": "dropout", "rate": 0.2}, {"type": "dense", "units": 512},
           {"type": "dropout", "rate": 0.2}, {"type": "dense", "units": 10}]
    _compare_with_reference(submission, reference, (784,), mlp, "count_params((784,), MLP)")
    _compare_with_reference(submission, reference, [25], [{"type": "dense", "units": 1}],
                            "count_params([25], [dense 1])")


@points(1)
def test_names_follow_a_fresh_keras_session(submission, reference):
    # the only test of the names: each kind counted separately, from a fresh Keras session
    layers = [{"type": "dropout"}, {"type": "flatten"}, {"type": "flatten"}, {"type": "dropout"},
              {"type": "dense", "units": 3}, {"type": "dropout"}, {"type": "dense", "units": 3},
              {"type": "dense", "units": 3}]
    _compare_with_reference(submission, reference, (4, 4, 2), layers, "count_params((4, 4, 2), dropout/flatten/dense)",
                            names=True)
    layers = [{"type": "conv", "filters": 2, "kernel": 1}] * 12
    _compare_with_reference(submission, reference, (3, 3, 1), layers, "count_params((3, 3, 1), 12 convs)", names=True)
    _compare_with_reference(submission, reference, (227, 227, 3), _alexnet_layers(),
                            "count_params((227, 227, 3), AlexNet)", names=True)


@points(1)
def test_no_layers_gives_no_rows(submission):
    rows = _call(submission, (32, 32, 3), [], "count_params((32, 32, 3), [])")
    assert rows == [], f"count_params with no layers should return an empty list, got {len(rows)} rows"


@points(1)
def test_invalid_layers_raise_value_error(submission):
    bad = [
        ((32, 32, 3), [{"type": "lstm", "units": 4}], "an unknown type"),
        ((32, 32, 3), [{"type": "Conv2D", "filters": 4, "kernel": 3}], "an unknown type"),
        ((32, 32, 3), [{"filters": 4, "kernel": 3}], "a layer without 'type'"),
        ((32, 32, 3), ["conv"], "a layer that is not a dict"),
        ((32, 32, 3), [{"type": "conv", "filters": 4}], "a conv without 'kernel'"),
        ((32, 32, 3), [{"type": "conv", "kernel": 3}], "a conv without 'filters'"),
        ((32, 32, 3), [{"type": "pool"}], "a pool without 'size'"),
        ((400,), [{"type": "dense"}], "a dense without 'units'"),
        ((32, 32, 3), [{"type": "conv", "filters": 0, "kernel": 3}], "0 filters"),
        ((32, 32, 3), [{"type": "conv", "filters": 4, "kernel": 0}], "a 0x0 kernel"),
        ((32, 32, 3), [{"type": "conv", "filters": 4, "kernel": 3, "stride": 0}], "stride 0"),
        ((32, 32, 3), [{"type": "conv", "filters": 4, "kernel": 3, "padding": "full"}], "an unknown padding"),
        ((32, 32, 3), [{"type": "conv", "filters": 4.0, "kernel": 3}], "a float number of filters"),
        ((32, 32, 3), [{"type": "conv", "filters": True, "kernel": 3}], "a bool number of filters"),
        ((32, 32, 3), [{"type": "pool", "size": 0}], "a pool of size 0"),
        ((400,), [{"type": "dense", "units": 0}], "0 units"),
        ((400,), [{"type": "dense", "units": 2.5}], "2.5 units"),
        ((400,), [{"type": "conv", "filters": 4, "kernel": 3}], "a conv on a flat input"),
        ((400,), [{"type": "pool", "size": 2}], "a pool on a flat input"),
        ((8, 8, 3), [{"type": "flatten"}, {"type": "conv", "filters": 4, "kernel": 3}], "a conv after flatten"),
        ((32, 32, 3), [{"type": "conv", "filters": 4, "kernel": 3, "padding": -1}], "a padding of -1"),
        ((32, 32, 3), [{"type": "conv", "filters": 4, "kernel": 3, "padding": True}], "a bool padding"),
        ((32, 32, 3), [{"type": "conv", "filters": 4, "kernel": 3, "padding": 1.0}], "a float padding"),
        ((32, 32, 3), [{"type": "pool", "size": 2, "padding": "full"}], "a pool's unknown padding"),
    ]
    for shape, layers, why in bad:
        with expect_raises("ValueError", f"count_params({shape}, ...) with {why}"):
            submission.count_params(shape, layers)


@points(1)
def test_a_kernel_or_window_that_does_not_fit_raises_value_error(submission):
    # the only test that counts this ValueError
    bad = [
        ((4, 4, 3), [{"type": "conv", "filters": 4, "kernel": 5}], "a kernel larger than the input"),
        ((4, 9, 3), [{"type": "conv", "filters": 4, "kernel": 5}], "a kernel taller than the input"),
        ((4, 4, 3), [{"type": "pool", "size": 5}], "a window larger than the input"),
        ((2, 2, 3), [{"type": "conv", "filters": 4, "kernel": 5, "padding": 1}], "a kernel larger than the padded input"),
        ((28, 28, 1), [{"type": "conv", "filters": 4, "kernel": 5}, {"type": "pool", "size": 2},
                       {"type": "conv", "filters": 4, "kernel": 5}, {"type": "pool", "size": 2},
                       {"type": "conv", "filters": 4, "kernel": 5}], "a third 5x5 conv on a 4x4 map"),
    ]
    for shape, layers, why in bad:
        with expect_raises("ValueError", f"count_params({shape}, ...) with {why}"):
            submission.count_params(shape, layers)


@points(1)
def test_conv2d_params_matches_the_reference(submission, reference):
    rng = np.random.default_rng(7)
    for _ in range(40):
        f, c_in, c_out = int(rng.integers(1, 12)), int(rng.integers(1, 600)), int(rng.integers(1, 600))
        bias = bool(rng.random() < 0.5)
        call = f"conv2d_params({f}, {c_in}, {c_out}, bias={bias})"
        got = expect_int(submission.conv2d_params(f, c_in, c_out, bias=bias), call)
        assert got == reference.conv2d_params(f, c_in, c_out, bias=bias), f"{call} returned {got:,}, which is wrong"


@points(1)
def test_dense_params_matches_the_reference(submission, reference):
    rng = np.random.default_rng(8)
    for _ in range(40):
        n_in, n_out = int(rng.integers(1, 30000)), int(rng.integers(1, 5000))
        bias = bool(rng.random() < 0.5)
        call = f"dense_params({n_in}, {n_out}, bias={bias})"
        got = expect_int(submission.dense_params(n_in, n_out, bias=bias), call)
        assert got == reference.dense_params(n_in, n_out, bias=bias), f"{call} returned {got:,}, which is wrong"


@points(1)
def test_bias_is_a_keyword_with_default_true(submission, reference):
    for args in ((3, 64, 128), (1, 1, 1)):
        got = expect_int(submission.conv2d_params(*args, True), f"conv2d_params{args[:3] + (True,)}")
        assert got == reference.conv2d_params(*args), f"conv2d_params{args + (True,)} returned {got:,}, which is wrong"
        got_f = expect_int(submission.conv2d_params(*args, False), f"conv2d_params{args + (False,)}")
        assert got - got_f == args[2], (f"conv2d_params{args} with and without bias differ by {got - got_f:,}: "
                                        "there is one bias per filter")
    got = expect_int(submission.dense_params(10, 7, False), "dense_params(10, 7, False)")
    assert got == reference.dense_params(10, 7, False), f"dense_params(10, 7, False) returned {got:,}, which is wrong"


@points(1)
def test_params_functions_refuse_invalid_sizes(submission):
    bad = [("conv2d_params", (0, 3, 8)), ("conv2d_params", (3, 0, 8)), ("conv2d_params", (3, 3, 0)),
           ("conv2d_params", (-3, 3, 8)), ("conv2d_params", (3.0, 3, 8)), ("conv2d_params", (3, True, 8)),
           ("dense_params", (0, 10)), ("dense_params", (10, 0)), ("dense_params", (-1, 10)),
           ("dense_params", (10.5, 10)), ("dense_params", (10, None))]
    for fn, args in bad:
        with expect_raises("ValueError", f"{fn}{args}"):
            getattr(submission, fn)(*args)
