"""Public tests for cnn-blocks: the notes' numbers of lecture 002. GoogLeNet's inception (3a)
turns 28x28x192 into 28x28x256 (64 + 128 + 32 + 32 channels); a residual block that keeps its
input's shape adds the input itself, one that changes it projects the shortcut with a strided
1x1 convolution; the simplified AlexNet goes 227x227x3 -> 55x55x96 -> 27x27x96 -> ... -> 1000.

Run them with `dlgrade check`. The grader calls your block functions on `keras.Input` tensors
and gets back the model from that input to the tensor you return; your models are rebuilt here
from their configuration (built-in layers only) and compared layer by layer.
"""

import pytest

from grader.modelcheck import LayerRow, compare_layers, expect_model, layer_rows, rebuild
from grader.testing import KerasInput, points

_CAPS = []
_IGNORED = ("InputLayer", "Dropout", "Activation", "ReLU", "Softmax")


@pytest.fixture(autouse=True)
def _exercise_caps(exercise):
    """The exercise's [caps] for every rebuild (AlexNet's 62M parameters are over the default)."""
    _CAPS[:] = [exercise.caps]


def _built(value, what):
    return rebuild(expect_model(value, what), what, _CAPS[0])


def _kinds(model):
    return [type(layer).__name__ for layer in model.layers]


def _conv_shapes(model):
    """(kernel size, strides, filters) of each Conv2D, sorted."""
    return sorted((tuple(c["kernel_size"]), tuple(c["strides"]), c["filters"])
                  for c in (layer.get_config() for layer in model.layers if type(layer).__name__ == "Conv2D"))


@points(2)
def test_inception_3a_gives_28x28x256_with_163696_parameters(submission):
    # inception (3a): #1x1 64, #3x3 reduce 96, #3x3 128, #5x5 reduce 16, #5x5 32, pool proj 32
    what = "inception_module(x of shape (28, 28, 192), 64, 96, 128, 16, 32, 32)"
    model = _built(submission.inception_module(KerasInput((28, 28, 192)), 64, 96, 128, 16, 32, 32), what)
    assert tuple(model.output_shape[1:]) == (28, 28, 256), (
        f"{what} outputs shape {tuple(model.output_shape[1:])}; it should be (28, 28, 256): the height and width "
        "stay (padding='same', pooling with strides 1) and the depth is 64 + 128 + 32 + 32")
    # 1x1: 192*64+64 = 12,352; reduce 192*96+96 = 18,528; 3x3: 9*96*128+128 = 110,720;
    # reduce 192*16+16 = 3,088; 5x5: 25*16*32+32 = 12,832; pool proj 192*32+32 = 6,176
    assert model.count_params() == 163_696, (
        f"{what} has {model.count_params():,} parameters; it should have 163,696 (six convolutions with biases)")


@points(2)
def test_residual_block_that_keeps_the_shape_adds_the_input(submission):
    what = "residual_block(x of shape (8, 8, 16), 16)"
    model = _built(submission.residual_block(KerasInput((8, 8, 16)), 16), what)
    assert tuple(model.output_shape[1:]) == (8, 8, 16), (
        f"{what} outputs shape {tuple(model.output_shape[1:])}; it should keep the input's (8, 8, 16)")
    assert _conv_shapes(model) == [((3, 3), (1, 1), 16)] * 2, (
        f"{what} should have exactly two Conv2D(16, (3, 3)) layers with strides 1 (no projection: the shape "
        f"stays); it has {_conv_shapes(model)}")
    kinds = _kinds(model)
    assert kinds.count("BatchNormalization") == 2 and kinds.count("Add") == 1, (
        f"{what} should have a BatchNormalization after each convolution and one Add; its layers are {kinds}")


@points(1)
def test_residual_block_that_halves_the_size_projects_the_shortcut(submission):
    what = "residual_block(x of shape (8, 8, 16), 32, stride=2)"
    model = _built(submission.residual_block(KerasInput((8, 8, 16)), 32, stride=2), what)
    assert tuple(model.output_shape[1:]) == (4, 4, 32), (
        f"{what} outputs shape {tuple(model.output_shape[1:])}; it should be (4, 4, 32)")
    want = sorted([((3, 3), (2, 2), 32), ((3, 3), (1, 1), 32), ((1, 1), (2, 2), 32)])
    assert _conv_shapes(model) == want, (
        f"{what} should have Conv2D(32, (3, 3), strides=2), Conv2D(32, (3, 3)) and the shortcut's projection "
        f"Conv2D(32, (1, 1), strides=2); it has {_conv_shapes(model)}")


@points(2)
def test_alexnet_follows_the_notes_table(submission):
    model = _built(submission.architecture("build_alexnet"), "build_alexnet()")  # without its 62M weights
    want = [LayerRow("Conv2D", (55, 55, 96), 34_944),        # (11*11*3 + 1) * 96: the notes' "35K" + biases
            LayerRow("MaxPooling2D", (27, 27, 96), 0),         # (55 - 3) / 2 + 1 = 27
            LayerRow("Conv2D", (27, 27, 256), 614_656),        # (5*5*96 + 1) * 256
            LayerRow("MaxPooling2D", (13, 13, 256), 0),
            LayerRow("Conv2D", (13, 13, 384), 885_120),        # (3*3*256 + 1) * 384
            LayerRow("Conv2D", (13, 13, 384), 1_327_488),      # (3*3*384 + 1) * 384
            LayerRow("Conv2D", (13, 13, 256), 884_992),        # (3*3*384 + 1) * 256
            LayerRow("MaxPooling2D", (6, 6, 256), 0),
            LayerRow("Flatten", (9216,), 0),                   # 6 * 6 * 256
            LayerRow("Dense", (4096,), 37_752_832),            # 9216 * 4096 + 4096
            LayerRow("Dense", (4096,), 16_781_312),            # 4096 * 4096 + 4096
            LayerRow("Dense", (1000,), 4_097_000)]             # 4096 * 1000 + 1000
    got = [r for r in layer_rows(model) if r.kind not in _IGNORED]
    compare_layers(got, want, "build_alexnet()")
    assert model.count_params() == 62_378_344, "build_alexnet() should have 62,378,344 parameters"
