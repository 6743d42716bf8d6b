"""Public tests for vgg: the VGG block of the lecture notes, VGG16's 138 million parameters, the
small VGG of this exercise and one short training run.

Run them with `dlgrade check`. Your models are built in the sandbox (for the architecture tests,
without allocating their weights); here they are rebuilt from their configuration (built-in layers
only) and compared layer by layer: class, output shape and
number of parameters, like the rows of model.summary(). An InputLayer row, which a functional
model has and a keras.Sequential model does not show, is left out of the comparison.
"""

import numpy as np
import pytest

from grader.data import digit_task
from grader.modelcheck import (LayerRow, class_predictions, compare_layers, compile_settings, expect_history,
                               expect_model, layer_rows, loss_name, rebuild)
from grader.testing import points


def _rows(model):
    return [r for r in layer_rows(model) if r.kind != "InputLayer"]


_CAPS = []


@pytest.fixture(autouse=True)
def _exercise_caps(exercise):
    """The exercise's [caps] for every rebuild (VGG16's 138M parameters are over the default)."""
    _CAPS[:] = [exercise.caps]


def _built(submission, call, what, *args, **kwargs):
    """The learner's model, built in the sandbox without weights (only its architecture is read
    here: a VGG16 takes ~20 ms this way, ~0.5 s and 0.5 GB with them) and rebuilt from its config."""
    ref = expect_model(submission.architecture(call, *args, **kwargs), what)
    return ref, rebuild(ref, what, _CAPS[0])


@points(2)
def test_vgg_block_keeps_the_size_then_halves_it(submission):
    # "CONV = 3x3 filter, s = 1, same; MAX-POOL = 2x2, s = 2": block 1 of VGG16 on a 32x32 RGB image
    _, model = _built(submission, "vgg_block_model", "vgg_block_model((32, 32, 3), 64, 2)", (32, 32, 3), 64, 2)
    want = [LayerRow("Conv2D", (32, 32, 64), 1_792),       # (3*3*3 + 1) * 64
            LayerRow("Conv2D", (32, 32, 64), 36_928),      # (3*3*64 + 1) * 64
            LayerRow("MaxPooling2D", (16, 16, 64), 0)]
    compare_layers(_rows(model), want, "vgg_block_model((32, 32, 3), 64, 2)")


def _vgg16_table():
    """VGG16 at 224x224x3 with 1000 classes, as keras.applications.VGG16(weights=None).summary()
    shows it (without the InputLayer row)."""
    rows, size, channels = [], 224, 3
    for filters, convs in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
        for _ in range(convs):
            rows.append(LayerRow("Conv2D", (size, size, filters), (3 * 3 * channels + 1) * filters))
            channels = filters
        size //= 2
        rows.append(LayerRow("MaxPooling2D", (size, size, filters), 0))
    rows.append(LayerRow("Flatten", (7 * 7 * 512,), 0))
    rows.append(LayerRow("Dense", (4096,), 102_764_544))   # 25088 * 4096 + 4096
    rows.append(LayerRow("Dense", (4096,), 16_781_312))    # 4096 * 4096 + 4096
    rows.append(LayerRow("Dense", (1000,), 4_097_000))     # 4096 * 1000 + 1000
    return rows


@points(3)
def test_vgg16_has_the_138_million_parameters_of_the_notes(submission):
    # "TOTAL params: 138M parameters"; the rows are those of keras.applications.VGG16(weights=None)
    _, model = _built(submission, "build_vgg16", "build_vgg16()")
    names = [layer.name for layer in model.layers if type(layer).__name__ != "InputLayer"]
    assert names[-3:] != ["fc1", "fc2", "predictions"] or not names[0].startswith("block1_"), (
        "build_vgg16() has the layer names of keras.applications.VGG16: build VGG16 yourself from your vgg_block")
    got_total = int(model.count_params())
    got = _rows(model)
    del model
    want = _vgg16_table()
    assert sum(r.params for r in want) == 138_357_544
    compare_layers(got, want, "build_vgg16()")
    assert got_total == 138_357_544, f"build_vgg16() has {got_total:,} parameters; VGG16 has 138,357,544"


@points(1)
def test_vgg16_uses_relu_and_a_softmax_output(submission):
    # a small input keeps this quick; the architecture is the same
    _, model = _built(submission, "build_vgg16", "build_vgg16((32, 32, 3), 10)", (32, 32, 3), 10)
    dense = [layer for layer in model.layers if type(layer).__name__ == "Dense"]
    for layer in model.layers:
        if type(layer).__name__ == "Conv2D":
            assert layer.get_config()["activation"] == "relu", "every Conv2D of VGG16 uses activation='relu'"
    assert dense and all(d.get_config()["activation"] == "relu" for d in dense[:-1]), (
        "the two Dense(4096) layers of VGG16 use activation='relu'")
    assert dense[-1].get_config()["activation"] == "softmax", "the last Dense layer of VGG16 uses activation='softmax'"


@points(2)
def test_small_vgg_default_layers_and_compile(submission):
    ref, model = _built(submission, "build_vgg_small", "build_vgg_small((32, 32, 1), 10)", (32, 32, 1), 10)
    want = [LayerRow("Conv2D", (32, 32, 32), 320),
            LayerRow("Conv2D", (32, 32, 32), 9_248),
            LayerRow("MaxPooling2D", (16, 16, 32), 0),
            LayerRow("Conv2D", (16, 16, 64), 18_496),
            LayerRow("Conv2D", (16, 16, 64), 36_928),
            LayerRow("MaxPooling2D", (8, 8, 64), 0),
            LayerRow("Flatten", (4096,), 0),
            LayerRow("Dense", (128,), 524_416),
            LayerRow("Dense", (10,), 1_290)]
    compare_layers(_rows(model), want, "build_vgg_small((32, 32, 1), 10)")
    settings = compile_settings(ref, "build_vgg_small((32, 32, 1), 10)")
    assert loss_name(settings) == "categorical_crossentropy", (
        f"build_vgg_small compiles with loss {loss_name(settings)!r}; use loss='categorical_crossentropy' "
        "(the labels are one-hot)")
    assert "accuracy" in str(settings.get("metrics")), "compile build_vgg_small with metrics=['accuracy']"


@points(2)
def test_train_vgg_small_returns_history_and_learns(submission, hoda):
    # 1,000 training digits and a narrow VGG: a quick look at training, not the graded accuracy
    task = digit_task("vgg-32", hoda)
    x, y = task.x_train[:1000], task.y_train_onehot[:1000]
    model = expect_model(submission.build_vgg_small(x.shape[1:], 10, widths=(8, 16)),
                         "build_vgg_small((32, 32, 1), 10, widths=(8, 16))")
    history = expect_history(submission.train_vgg_small(model, x, y), "train_vgg_small(model, x, y)",
                             keys=("loss", "accuracy"))
    assert len(history["loss"]) >= 1 and len(history["accuracy"]) == len(history["loss"]), (
        "the history should hold one loss and one accuracy per epoch")
    predicted = class_predictions(model.predict(task.x_test[:300]), 300, 10)
    acc = float(np.mean(predicted == task.y_test[:300]))
    assert acc >= 0.6, (f"after train_vgg_small on 1,000 {task.dataset} digits the model classifies {acc:.1%} of "
                        "300 held-out digits correctly; at least 60% is expected (the reference: over 90%)")
