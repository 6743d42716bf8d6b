"""Public tests for param-count: the worked numbers of the lecture notes.

Run them with `dlgrade check`. Each test says where its numbers come from.
"""

from grader.testing import Feedback, expect_int, expect_raises, expect_tuple, points

# The LeNet-5 of the notes, as a layer list (the Keras code of lecture 000)
LENET5_LAYERS = [
    {"type": "conv", "filters": 8, "kernel": 5, "activation": "relu"},
    {"type": "pool", "size": 2},
    {"type": "conv", "filters": 16, "kernel": 5, "activation": "relu"},
    {"type": "pool", "size": 2},
    {"type": "flatten"},
    {"type": "dense", "units": 120, "activation": "relu"},
    {"type": "dropout", "rate": 0.5},
    {"type": "dense", "units": 84, "activation": "relu"},
    {"type": "dense", "units": 10, "activation": "softmax"},
]

# model.summary() of lecture 000, with the names of a fresh Keras session
# (the notes show conv2d_12, max_pooling2d_11, ... because the notebook had built models before)
LENET5_ROWS = [
    ("conv2d", (28, 28, 8), 608),
    ("max_pooling2d", (14, 14, 8), 0),
    ("conv2d_1", (10, 10, 16), 3216),
    ("max_pooling2d_1", (5, 5, 16), 0),
    ("flatten", (400,), 0),
    ("dense", (120,), 48120),
    ("dropout", (120,), 0),
    ("dense_1", (84,), 10164),
    ("dense_2", (10,), 850),
]


def _int(submission, fn, *args, **kwargs):
    shown = ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
    call = f"{fn}({shown})"
    return expect_int(getattr(submission, fn)(*args, **kwargs), call), call


def _check(submission, fn, args, want, why, **kwargs):
    got, call = _int(submission, fn, *args, **kwargs)
    assert got == want, f"{call} should be {want:,} ({why}), got {got:,}"


def _rows(value, what):
    """Check a list of (name, output_shape, params) rows and return it with plain types."""
    if not isinstance(value, (list, tuple)):
        raise Feedback(f"{what} should return a list of (name, output_shape, params) tuples, "
                       f"but it returned a value of type {type(value).__name__}")
    rows = []
    for i, row in enumerate(value):
        name, shape, params = expect_tuple(row, f"row {i} of {what}", 3)
        if not isinstance(name, str):
            raise Feedback(f"row {i} of {what}: the name should be a str, got {type(name).__name__}")
        if not isinstance(shape, (list, tuple)):
            raise Feedback(f"row {i} of {what}: the output shape should be a tuple such as (28, 28, 8) or (120,), "
                           f"got a value of type {type(shape).__name__}")
        shape = tuple(expect_int(v, f"each size of the output shape in row {i} of {what}") for v in shape)
        params = expect_int(params, f"the parameter count in row {i} of {what}")
        rows.append((name, shape, params))
    return rows


def _compare(rows, want, what):
    """Output shapes and parameters row by row. The names are test_keras_layer_names' alone, so a
    name mistake costs that test only."""
    assert len(rows) == len(want), f"{what} should have {len(want)} rows (one per layer), got {len(rows)}"
    for i, (got, need) in enumerate(zip(rows, want)):
        assert got[1] == need[1], f"{what}, row {i} ({need[0]}): the output shape should be {need[1]}, got {got[1]}"
        assert got[2] == need[2], f"{what}, row {i} ({need[0]}): the parameters should be {need[2]:,}, got {got[2]:,}"


@points(1)
def test_ten_3x3x3_filters_have_280_parameters(submission):
    # "If you have 10 filters that are 3 x 3 x 3 ... 3×3×3 + 1 = 28, 28 × 10 = 280"
    _check(submission, "conv2d_params", (3, 3, 1), 28, "one 3x3x3 filter: 27 weights + 1 bias")
    _check(submission, "conv2d_params", (3, 3, 10), 280, "28 x 10")


@points(1)
def test_six_5x5x3_filters_have_456_parameters(submission):
    # lecture 002, "why convolution?": "(5 × 5 × 3) + 1 = 76", "76 × 6 = 456"
    _check(submission, "conv2d_params", (5, 3, 1), 76, "5*5*3 + 1")
    _check(submission, "conv2d_params", (5, 3, 6), 456, "76 x 6")


@points(1)
def test_alexnet_conv1_has_about_35k_parameters(submission):
    # "First layer (CONV1): 96 11x11 filters applied at stride 4 ... Parameters: (11*11*3)*96 = 35K"
    _check(submission, "conv2d_params", (11, 3, 96), 34848, "(11*11*3)*96, weights only", bias=False)
    got, call = _int(submission, "conv2d_params", 11, 3, 96)
    assert 34_500 <= got < 35_500, f"{call} should be about 35K (weights and 96 biases), got {got:,}"


@points(1)
def test_dense_layer_3072_to_4704_has_14_5_million_weights(submission):
    # lecture 002, "why convolution?": a 32x32x3 image (3072) fully connected to 28x28x6 (4704):
    # "3072 × 4704 = 14450688 ≈ 14.5 m"
    _check(submission, "dense_params", (3072, 4704), 14_450_688, "3072 x 4704, weights only", bias=False)


@points(2)
def test_lenet5_layer_parameters(submission):
    # the LeNet-5 table: CONV1 608, CONV2 3216, FC3 48,120, FC4 10,164, Softmax 850
    _check(submission, "conv2d_params", (5, 3, 8), 608, "CONV1: 8 filters of 5x5x3, (75 + 1) * 8")
    _check(submission, "conv2d_params", (5, 8, 16), 3216, "CONV2: 16 filters of 5x5x8, (200 + 1) * 16")
    _check(submission, "dense_params", (400, 120), 48120, "FC3: 400 * 120 + 120")
    _check(submission, "dense_params", (120, 84), 10164, "FC4: 120 * 84 + 84")
    _check(submission, "dense_params", (84, 10), 850, "Softmax: 84 * 10 + 10")


@points(1)
def test_bias_false_counts_weights_only(submission):
    _check(submission, "conv2d_params", (5, 3, 8), 600, "8 filters of 5x5x3 without biases", bias=False)
    _check(submission, "dense_params", (400, 120), 48000, "400 * 120 without biases", bias=False)


@points(3)
def test_lenet5_table_matches_the_summary_of_the_notes(submission):
    # model.summary() of lecture 000 (names of a fresh session)
    rows = _rows(submission.lenet5_table(), "lenet5_table()")
    _compare(rows, LENET5_ROWS, "lenet5_table()")


@points(1)
def test_lenet5_total_is_62958(submission):
    # "Total params: 62,958"
    rows = _rows(submission.lenet5_table(), "lenet5_table()")
    total = sum(r[2] for r in rows)
    assert total == 62_958, f"the parameters of lenet5_table() should add up to 62,958, got {total:,}"


@points(2)
def test_count_params_on_the_lenet5_layer_list(submission):
    # the same network through count_params ("activation" keys are ignored)
    rows = _rows(submission.count_params((32, 32, 3), LENET5_LAYERS), "count_params((32, 32, 3), LeNet-5)")
    _compare(rows, LENET5_ROWS, "count_params((32, 32, 3), LeNet-5)")


@points(1)
def test_lenet5_activation_sizes(submission):
    # "Activation Size" column: 6,272  1,568  1,600  400  120  84  10
    rows = _rows(submission.count_params((32, 32, 3), LENET5_LAYERS), "count_params((32, 32, 3), LeNet-5)")
    sizes = []
    for _, shape, _ in rows:
        size = 1
        for v in shape:
            size *= v
        sizes.append(size)
    want = [6272, 1568, 1600, 400, 400, 120, 120, 84, 10]
    assert sizes == want, f"the sizes (product of the output shape) of the LeNet-5 layers should be {want}, got {sizes}"


@points(1)
def test_flatten_of_an_image(submission):
    # "64 × 64 × 3 = 12288", "1000 × 1000 × 3 = 3000000 = 3m" inputs
    rows = _rows(submission.count_params((64, 64, 3), [{"type": "flatten"}]), "count_params((64, 64, 3), [flatten])")
    _compare(rows, [("flatten", (12288,), 0)], "count_params((64, 64, 3), [flatten])")
    rows = _rows(submission.count_params((1000, 1000, 3), [{"type": "flatten"}]),
                 "count_params((1000, 1000, 3), [flatten])")
    _compare(rows, [("flatten", (3_000_000,), 0)], "count_params((1000, 1000, 3), [flatten])")


@points(2)
def test_mnist_cnn_of_lecture_004(submission):
    # "10 kernels ... stride 1 and padding 1 ... the kernel matrix is 5 by 5": 28x28 -> 26x26 ->
    # max pool 13x13 -> 20 maps 11x11 -> max pool 5x5 -> "20x5x5 = 500" inputs -> 50 units -> 10
    # outputs. In PyTorch, Conv2d(1, 10, 5, padding=1): an integer padding of 1 on every side.
    layers = [
        {"type": "conv", "filters": 10, "kernel": 5, "padding": 1},
        {"type": "pool", "size": 2, "stride": 2},
        {"type": "conv", "filters": 20, "kernel": 5, "padding": 1},
        {"type": "pool", "size": 2, "stride": 2},
        {"type": "flatten"},
        {"type": "dense", "units": 50},
        {"type": "dense", "units": 10},
    ]
    want = [
        ("conv2d", (26, 26, 10), 260),          # 28 + 2 - 5 + 1 = 26; 5*5*1*10 + 10
        ("max_pooling2d", (13, 13, 10), 0),
        ("conv2d_1", (11, 11, 20), 5020),       # 13 + 2 - 5 + 1 = 11; 5*5*10*20 + 20
        ("max_pooling2d_1", (5, 5, 20), 0),     # floor((11 - 2) / 2) + 1 = 5
        ("flatten", (500,), 0),
        ("dense", (50,), 25050),                # 500*50 + 50
        ("dense_1", (10,), 510),                # 50*10 + 10
    ]
    rows = _rows(submission.count_params((28, 28, 1), layers), "count_params((28, 28, 1), MNIST CNN)")
    _compare(rows, want, "count_params((28, 28, 1), MNIST CNN)")
    total = sum(r[2] for r in rows)
    assert total == 30_840, f"the MNIST CNN's parameters should add up to 30,840, got {total:,}"


@points(2)
def test_emnist_cnn_of_lecture_004(submission):
    # "(conv1): Conv2d(1, 6, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))", "(bnorm1):
    # BatchNorm2d(6, ...)", conv2 and bnorm2 alike, a max pool after each conv, then
    # "Linear(in_features=294, out_features=50)" -> "Linear(in_features=50, out_features=26)"
    layers = [
        {"type": "conv", "filters": 6, "kernel": 3, "padding": 1},
        {"type": "pool", "size": 2},
        {"type": "batchnorm"},
        {"type": "conv", "filters": 6, "kernel": 3, "padding": 1},
        {"type": "pool", "size": 2},
        {"type": "batchnorm"},
        {"type": "flatten"},
        {"type": "dense", "units": 50},
        {"type": "dense", "units": 26},
    ]
    want = [
        ("conv2d", (28, 28, 6), 60),            # 3*3*1*6 + 6
        ("max_pooling2d", (14, 14, 6), 0),
        ("batch_normalization", (14, 14, 6), 24),    # 4 * 6, as Keras counts (PyTorch: 12 + 12 buffers)
        ("conv2d_1", (14, 14, 6), 330),         # 3*3*6*6 + 6
        ("max_pooling2d_1", (7, 7, 6), 0),
        ("batch_normalization_1", (7, 7, 6), 24),
        ("flatten", (294,), 0),                 # 7 * 7 * 6
        ("dense", (50,), 14750),                # 294*50 + 50
        ("dense_1", (26,), 1326),               # 50*26 + 26
    ]
    rows = _rows(submission.count_params((28, 28, 1), layers), "count_params((28, 28, 1), EMNIST CNN)")
    _compare(rows, want, "count_params((28, 28, 1), EMNIST CNN)")


@points(1)
def test_googlenet_stem_of_lecture_002(submission):
    # GoogLeNet's table: "convolution 7x7/2 112x112x64", "max pool 3x3/2 56x56x64",
    # "convolution 3x3/1 56x56x192": the pool pads as Keras' padding="same" does (ceil(112 / 2) = 56)
    layers = [{"type": "conv", "filters": 64, "kernel": 7, "stride": 2, "padding": "same"},
              {"type": "pool", "size": 3, "stride": 2, "padding": "same"},
              {"type": "conv", "filters": 192, "kernel": 3, "padding": "same"}]
    rows = _rows(submission.count_params((224, 224, 3), layers), "count_params((224, 224, 3), GoogLeNet stem)")
    _compare(rows, [("conv2d", (112, 112, 64), 9472), ("max_pooling2d", (56, 56, 64), 0),
                    ("conv2d_1", (56, 56, 192), 110784)],      # 3*3*64*192 + 192 (the table's "112K" row
                                                                # also counts a 1x1 "reduce" conv to 64 first)
             "count_params((224, 224, 3), GoogLeNet stem)")


@points(1)
def test_alexnet_conv1_and_pool1(submission):
    # "Output volume [55x55x96]", "Parameters: (11*11*3)*96 = 35K"; POOL1 "Output volume: 27x27x96",
    # "Parameters: 0!"
    layers = [{"type": "conv", "filters": 96, "kernel": 11, "stride": 4}, {"type": "pool", "size": 3, "stride": 2}]
    rows = _rows(submission.count_params((227, 227, 3), layers), "count_params((227, 227, 3), AlexNet CONV1 + POOL1)")
    assert len(rows) == 2, f"two layers should give two rows, got {len(rows)}"
    assert rows[0][1] == (55, 55, 96), f"AlexNet CONV1 should output (55, 55, 96), got {rows[0][1]}"
    assert 34_500 <= rows[0][2] < 35_500, f"AlexNet CONV1 should have about 35K parameters, got {rows[0][2]:,}"
    assert rows[1][1] == (27, 27, 96), f"AlexNet POOL1 should output (27, 27, 96), got {rows[1][1]}"
    assert rows[1][2] == 0, f"a pooling layer has no parameters, got {rows[1][2]:,}"


@points(2)
def test_vgg16_has_about_138_million_parameters(submission):
    # "CONV = 3×3 filter, s = 1, same   MAX-POOL = 2×2, s = 2", input 224 × 224 RGB,
    # configuration D (16 weight layers), "TOTAL params: 138M parameters"
    layers = []
    for blocks, filters in ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512)):
        layers += [{"type": "conv", "filters": filters, "kernel": 3, "padding": "same"}] * blocks
        layers.append({"type": "pool", "size": 2, "stride": 2})
    layers += [{"type": "flatten"}, {"type": "dense", "units": 4096}, {"type": "dense", "units": 4096},
               {"type": "dense", "units": 1000}]
    rows = _rows(submission.count_params((224, 224, 3), layers), "count_params((224, 224, 3), VGG16)")
    assert len(rows) == len(layers), f"VGG16 has {len(layers)} layers here, got {len(rows)} rows"
    pools = [row[1] for row, layer in zip(rows, layers) if layer["type"] == "pool"]
    want = [(112, 112, 64), (56, 56, 128), (28, 28, 256), (14, 14, 512), (7, 7, 512)]
    assert pools == want, f"the five max pools of VGG16 should output {want}, got {pools}"
    assert rows[-4][1] == (25088,), f"Flatten after (7, 7, 512) should give (25088,), got {rows[-4][1]}"
    total = sum(r[2] for r in rows)
    assert 137_500_000 <= total < 138_500_000, f"VGG16 should have about 138M parameters, got {total:,}"


@points(1)
def test_dense_networks_of_the_keras_examples(submission):
    # lecture 000: Dense(64, activation='relu', input_dim=25); Dense(10, activation='softmax')
    rows = _rows(submission.count_params((25,), [{"type": "dense", "units": 64}, {"type": "dense", "units": 10}]),
                 "count_params((25,), [Dense(64), Dense(10)])")
    _compare(rows, [("dense", (64,), 25 * 64 + 64), ("dense_1", (10,), 64 * 10 + 10)],
             "count_params((25,), [Dense(64), Dense(10)])")
    # lecture 002: Dense(8, input_shape=(10,)); Dense(4); Dense(1)
    layers = [{"type": "dense", "units": 8}, {"type": "dense", "units": 4}, {"type": "dense", "units": 1}]
    rows = _rows(submission.count_params((10,), layers), "count_params((10,), [Dense(8), Dense(4), Dense(1)])")
    _compare(rows, [("dense", (8,), 88), ("dense_1", (4,), 36), ("dense_2", (1,), 5)],
             "count_params((10,), [Dense(8), Dense(4), Dense(1)])")


@points(1)
def test_conv_stride_and_same_padding(submission):
    # 'valid': floor((n - f) / s) + 1; 'same' (Keras): ceil(n / s) for any kernel size.
    # GoogLeNet's table: "convolution 7x7/2 112x112x64" on a 224x224 input
    cases = [
        ((10, 10, 1), {"type": "conv", "filters": 4, "kernel": 3, "stride": 2}, (4, 4, 4), 40,
         "floor((10 - 3) / 2) + 1 = 4"),
        ((7, 9, 3), {"type": "conv", "filters": 8, "kernel": 3, "stride": 2, "padding": "same"}, (4, 5, 8), 224,
         "ceil(7 / 2) = 4, ceil(9 / 2) = 5"),
        ((10, 10, 3), {"type": "conv", "filters": 2, "kernel": 4, "padding": "same"}, (10, 10, 2), 98,
         "'same' keeps the size with an even kernel too"),
        ((224, 224, 3), {"type": "conv", "filters": 64, "kernel": 7, "stride": 2, "padding": "same"}, (112, 112, 64),
         9472, "ceil(224 / 2) = 112; 7*7*3*64 + 64"),
    ]
    for shape, layer, out, params, why in cases:
        what = f"count_params({shape}, [{layer}])"
        rows = _rows(submission.count_params(shape, [layer]), what)
        _compare(rows, [("conv2d", out, params)], what + f" ({why})")


@points(1)
def test_keras_layer_names(submission):
    layers = [
        {"type": "conv", "filters": 4, "kernel": 3},
        {"type": "conv", "filters": 4, "kernel": 3},
        {"type": "pool", "size": 2},
        {"type": "conv", "filters": 8, "kernel": 3},
        {"type": "pool", "size": 2},
        {"type": "dropout"},
        {"type": "flatten"},
        {"type": "dense", "units": 16},
        {"type": "dropout", "rate": 0.25},
        {"type": "dense", "units": 2},
    ]
    rows = _rows(submission.count_params((32, 32, 1), layers), "count_params((32, 32, 1), ...)")
    names = [r[0] for r in rows]
    want = ["conv2d", "conv2d_1", "max_pooling2d", "conv2d_2", "max_pooling2d_1", "dropout", "flatten",
            "dense", "dropout_1", "dense_1"]
    assert names == want, f"the layer names should be {want}, got {names}"
    # the summary of the notes, with the names of a fresh session
    names = [r[0] for r in _rows(submission.lenet5_table(), "lenet5_table()")]
    want = [row[0] for row in LENET5_ROWS]
    assert names == want, f"the layer names of lenet5_table() should be {want}, got {names}"


@points(1)
def test_unknown_layer_or_missing_key_raises_value_error(submission):
    with expect_raises("ValueError", "count_params((32, 32, 3), [{'type': 'lstm'}])"):
        submission.count_params((32, 32, 3), [{"type": "lstm"}])
    with expect_raises("ValueError", "count_params((400,), [{'type': 'dense'}])"):
        submission.count_params((400,), [{"type": "dense"}])
    with expect_raises("ValueError", "count_params((32, 32, 3), [{'type': 'conv', 'kernel': 3}])"):
        submission.count_params((32, 32, 3), [{"type": "conv", "kernel": 3}])
