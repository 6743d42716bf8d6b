"""Hidden tests for cnn-blocks.

The block functions are called in the sandbox on symbolic inputs (`KerasInput`) and come back as
models (config + initial weights). Structure: the learner's block is rebuilt in safe mode and its
layers compared with the reference's (listed here by arithmetic) as a multiset (the order of a
functional graph's layers and separate ReLU layers are the learner's choice): each Conv2D by kernel, strides, filters and output
shape, the pooling and merge layers by output shape, the batch norms by count (a projection with
or without its own batch norm). Numbers: the inception module's initial weights are loaded into
the reference module here and both predict the same random images (the learner's in the sandbox);
the residual block's weights are set here (zero convolutions, shifted batch norms, a known
projection) and the block is predicted by the trusted held-out predictor (`heldout.predict`), so
its identity, the place of its last ReLU and its projected shortcut are checked whatever
conventions the README allows (biases or not, batch norm before or after the first ReLU). Each
block is asked of the sandbox once per grading (`builds`) and shared by the tests that look at it.
AlexNet is compared row by row with the reference's table (computed here by arithmetic: the
reference's `build_alexnet` would allocate 20M weights) for other input shapes and classes.
Messages name the property and never an expected value beyond the architecture the README states."""

import functools
from collections import Counter

import numpy as np
import pytest

from grader.exercise.heldout import predict
from grader.modelcheck import LayerRow, ModelRef, builds_fixture, compare_layers, expect_model, layer_rows, rebuild
from grader.testing import Feedback, KerasInput, error_summary, expect_array, points

_CAPS = []
_IGNORED = ("InputLayer", "Dropout", "Activation", "ReLU", "Softmax")


@pytest.fixture(autouse=True)
def _exercise_caps(exercise):
    """The exercise's [caps], for every rebuild and prediction of this file."""
    _CAPS[:] = [exercise.caps]


@functools.lru_cache(maxsize=1)
def _keras():
    from grader.exercise.frameworks import import_keras_quietly
    import_keras_quietly()
    import keras
    return keras


builds = builds_fixture()  # the learner's blocks and AlexNets, asked of the sandbox once per grading


def _call(submission, builds, name, shape, *args, **kwargs):
    """The learner's block on a symbolic input of `shape`: (ModelRef, a fresh rebuilt model, what).
    The sandbox builds each block once per grading (a JAX sandbox compiles each new weight shape)."""
    extra = "".join(f", {a}" for a in args) + "".join(f", {k}={v}" for k, v in kwargs.items())
    what = f"{name}(x of shape {shape}{extra})"
    key = (name, shape, args, tuple(sorted(kwargs.items())))
    ref = builds(key, lambda: expect_model(getattr(submission, name)(KerasInput(shape), *args, **kwargs), what))
    return ref, rebuild(ref, what, _CAPS[0]), what


def _reference_block(fn, shape, *args, **kwargs):
    keras = _keras()
    x = keras.Input(shape=shape)
    return keras.Model(x, fn(x, *args, **kwargs))


def _pair(v):
    return tuple(v) if isinstance(v, (list, tuple)) else (v, v)


def _signatures(model):
    """Each layer that the structure is judged by, as (kind, details, output shape)."""
    out = []
    for layer in model.layers:
        kind, cfg = type(layer).__name__, layer.get_config()
        shape = tuple(layer.output.shape[1:])
        if kind == "Conv2D":
            out.append((kind, (cfg["filters"], _pair(cfg["kernel_size"]), _pair(cfg["strides"])), shape))
        elif kind in ("MaxPooling2D", "AveragePooling2D"):
            out.append((kind, (_pair(cfg["pool_size"]), _pair(cfg["strides"] or cfg["pool_size"])), shape))
        elif kind in ("Add", "Concatenate", "Dense", "Flatten", "Conv2DTranspose"):
            out.append((kind, (), shape))
    return out


def _describe(sig):
    kind, details, shape = sig
    if kind == "Conv2D":
        f, k, s = details
        return f"Conv2D({f}, {k[0]}x{k[1]}, strides {s[0]}) with output {shape}"
    if kind.endswith("Pooling2D"):
        p, s = details
        return f"{kind}({p[0]}x{p[1]}, strides {s[0]}) with output {shape}"
    return f"{kind} with output {shape}"


def _same_structure(got_model, want, what, hint=""):
    got, want = Counter(_signatures(got_model)), Counter(want)
    missing, extra = sorted(want - got), sorted(got - want)
    if missing:
        instead = f"; instead it has {_describe(extra[0])}" if extra else ""
        raise Feedback(f"{what} has no {_describe(missing[0])}{instead}{hint}")
    if extra:
        raise Feedback(f"{what} has a layer the block does not have: {_describe(extra[0])}{hint}")


def _count(model, kind):
    return sum(type(layer).__name__ == kind for layer in model.layers)


# --------------------------------------------------------------------------------------------
# The inception module
# --------------------------------------------------------------------------------------------

INCEPTION_NUMBERS = ((9, 7, 12), (5, 6, 7, 3, 4, 2))  # every convolution's kernel has its own shape
INCEPTION_CASES = (((14, 14, 480), (192, 96, 208, 16, 48, 64)),  # inception (4a) on 14x14x480
                   INCEPTION_NUMBERS)


def _inception_signatures(shape, f1, f3_reduce, f3, f5_reduce, f5, pool_proj):
    """The reference module's layers (reference.inception_module), by arithmetic."""
    h, w, c = shape
    convs = ((f1, 1), (f3_reduce, 1), (f3, 3), (f5_reduce, 1), (f5, 5), (pool_proj, 1))
    return ([("Conv2D", (f, (k, k), (1, 1)), (h, w, f)) for f, k in convs]
            + [("MaxPooling2D", ((3, 3), (1, 1)), (h, w, c)), ("Concatenate", (), (h, w, f1 + f3 + f5 + pool_proj))])


@points(2)
def test_inception_module_other_sizes(submission, builds):
    for shape, filters in INCEPTION_CASES:
        _, model, what = _call(submission, builds, "inception_module", shape, *filters)
        _same_structure(model, _inception_signatures(shape, *filters), what)


def _branch_names(filters):
    f1, _, f3, _, f5, pp = filters
    names, start = [], 0
    for name, width in (("1x1", f1), ("3x3", f3), ("5x5", f5), ("pool", pp)):
        names.append((name, start, start + width))
        start += width
    return names


@points(3)
def test_inception_module_computes_four_relu_branches_in_order(submission, reference, builds):
    shape, filters = INCEPTION_NUMBERS
    ref, model, what = _call(submission, builds, "inception_module", shape, *filters)
    want_model = _reference_block(reference.inception_module, shape, *filters)
    theirs = {tuple(layer.get_weights()[0].shape): layer.get_weights() for layer in model.layers
              if type(layer).__name__ == "Conv2D"}
    mine = [layer for layer in want_model.layers if type(layer).__name__ == "Conv2D"]
    if sorted(theirs) != sorted(tuple(layer.get_weights()[0].shape) for layer in mine):
        raise Feedback(f"the convolutions of {what} do not have the kernels of the module's six convolutions "
                       "(1x1; 1x1 then 3x3; 1x1 then 5x5; 1x1 after the pooling), so its numbers cannot be compared")
    for layer in mine:
        weights = theirs[tuple(layer.get_weights()[0].shape)]
        bias = weights[1] if len(weights) > 1 else np.zeros(layer.get_weights()[1].shape, np.float32)
        layer.set_weights([np.asarray(weights[0], np.float32), np.asarray(bias, np.float32)])
    x = np.random.default_rng(2025).normal(size=(3,) + shape).astype(np.float32)
    want = want_model.predict_on_batch(x)  # one batch of 3 (predict() sets up for ~60-250 ms more)
    got = expect_array(ref.predict(x), f"{what}.predict(x)", dtype_kind="f")
    if got.shape != want.shape:
        raise Feedback(f"{what} outputs shape {got.shape[1:]}; the module keeps the height and width and has "
                       f"{want.shape[-1]} channels, so its numbers cannot be compared")
    if np.allclose(got, want, rtol=1e-4, atol=1e-5):
        return
    branches = _branch_names(filters)
    bad = [name for name, a, b in branches if not np.allclose(got[..., a:b], want[..., a:b], rtol=1e-4, atol=1e-5)]
    channels_got = got.reshape(-1, got.shape[-1]).T
    channels_want = want.reshape(-1, want.shape[-1]).T
    if all(any(np.allclose(g, w, rtol=1e-4, atol=1e-5) for w in channels_want) for g in channels_got):
        raise Feedback(f"{what} computes the four branches but concatenates them in another order; the channels "
                       "are the 1x1 branch's, then the 3x3's, the 5x5's and the pooling branch's")
    if np.allclose(np.maximum(got, 0), want, rtol=1e-4, atol=1e-5) or (got < 0).any():
        raise Feedback(f"{what} gives negative outputs: every convolution of the module uses activation='relu'")
    raise Feedback(f"the {', '.join(bad)} branch(es) of {what} compute something other than the module's "
                   f"convolutions (1x1 reduce then 3x3 or 5x5, max pooling 3x3 with strides 1 then 1x1, each "
                   f"convolution with ReLU) ({error_summary(got, want)})")


# --------------------------------------------------------------------------------------------
# The residual block
# --------------------------------------------------------------------------------------------

# the blocks the numeric tests below predict, and a projection with stride 1 on an odd size
IDENTITY, SHIFTED, PROJECTED = ((6, 6, 8), 8, 1), ((5, 5, 4), 4, 1), ((6, 6, 4), 8, 2)
RESIDUAL_CASES = (IDENTITY, SHIFTED, PROJECTED, ((7, 7, 6), 10, 1), ((7, 7, 8), 8, 2))


def _residual_signatures(shape, filters, stride):
    """The reference block's convolutions and merge (reference.residual_block), by arithmetic."""
    h, w, c = shape
    h, w = -(-h // stride), -(-w // stride)  # 'same' padding: ceil(size / stride)
    out = [("Conv2D", (filters, (3, 3), (stride, stride)), (h, w, filters)),
           ("Conv2D", (filters, (3, 3), (1, 1)), (h, w, filters)), ("Add", (), (h, w, filters))]
    if stride != 1 or c != filters:
        out.append(("Conv2D", (filters, (1, 1), (stride, stride)), (h, w, filters)))
    return out


def _residual(submission, builds, case):
    shape, filters, stride = case
    if stride == 1:
        return _call(submission, builds, "residual_block", shape, filters)
    return _call(submission, builds, "residual_block", shape, filters, stride=stride)


@points(2)
def test_residual_block_other_sizes(submission, builds):
    for shape, filters, stride in RESIDUAL_CASES:
        _, model, what = _residual(submission, builds, (shape, filters, stride))
        _same_structure(model, _residual_signatures(shape, filters, stride), what,
                        " (the stride goes on the first 3x3 convolution and on the shortcut's 1x1 projection, "
                        "which is there only when the shape changes; padding='same')")
        projected = stride != 1 or shape[-1] != filters
        norms = _count(model, "BatchNormalization")
        allowed = (2, 3) if projected else (2,)
        assert norms in allowed, (
            f"{what} has {norms} BatchNormalization layer(s); it should have one after each of its two 3x3 "
            "convolutions" + (" (and may have one after the shortcut's projection)" if projected else ""))


def _with_weights(ref, model, conv=None, beta=0.0, projection=None):
    """A ModelRef of the learner's block with weights set here: every Conv2D kernel and bias zero
    (but the 1x1 projection's kernel, when `projection` is given), every batch norm fresh
    (gamma 1, moving mean 0, moving variance 1) with beta = `beta`."""
    for layer in model.layers:
        kind, weights = type(layer).__name__, layer.get_weights()
        if kind == "Conv2D":
            new = [np.zeros_like(w) for w in weights]
            if projection is not None and tuple(weights[0].shape[:2]) == (1, 1):
                new[0] = projection.reshape(weights[0].shape).astype(weights[0].dtype)
            layer.set_weights(new)
        elif kind == "BatchNormalization":
            cfg = layer.get_config()
            fresh = []
            names = (["gamma"] if cfg.get("scale", True) else []) + (["beta"] if cfg.get("center", True) else [])
            values = {"gamma": 1.0, "beta": beta}
            for i, w in enumerate(weights):
                if i < len(names):
                    fresh.append(np.full_like(w, values[names[i]]))
                else:  # moving mean, then moving variance
                    fresh.append(np.zeros_like(w) if i == len(names) else np.ones_like(w))
            layer.set_weights(fresh)
    return ModelRef(ref.handle, ref.name, ref.config, None, model.get_weights())


def _predict(ref, x, what):
    return predict(ref, x, _CAPS[0], what=what, output_shape=None)


@points(2)
def test_zero_weights_pass_the_input_through(submission, builds):
    # lecture 002: with W[l+2] = 0 and b[l+2] = 0, a[l+2] = g(a[l]) = a[l] (a[l] >= 0 after a ReLU)
    ref, model, what = _residual(submission, builds, IDENTITY)
    x = np.random.default_rng(7).uniform(0.0, 2.0, size=(5, 6, 6, 8)).astype(np.float32)
    got = _predict(_with_weights(ref, model), x, f"{what} with zero convolution weights")
    if got.shape != x.shape:
        raise Feedback(f"{what} outputs shape {got.shape[1:]}; it should keep the input's shape {x.shape[1:]}")
    if np.allclose(got, 0.0, atol=1e-6):
        raise Feedback(f"with zero convolution weights {what} outputs zeros; the block must add its input a[l] "
                       "itself (the shortcut, no projection when the shape stays) to z[l+2]")
    assert np.allclose(got, x, rtol=1e-5, atol=1e-6), (
        f"with zero convolution weights {what} should pass its (non-negative) input through, "
        f"a[l+2] = g(0 + a[l]) = a[l] ({error_summary(got, x)})")


@points(2)
def test_the_input_is_added_before_the_last_relu(submission, builds):
    # a[l+2] = g(z[l+2] + a[l]): with zero convolutions and batch norms shifted by beta = -0.5,
    # z[l+2] = -0.5 everywhere and a[l+2] = relu(a[l] - 0.5); g(z) + a[l] would give a[l]
    ref, model, what = _residual(submission, builds, SHIFTED)
    x = np.random.default_rng(8).uniform(0.0, 1.0, size=(6, 5, 5, 4)).astype(np.float32)
    got = _predict(_with_weights(ref, model, beta=-0.5), x, f"{what} with zero convolutions")
    want = np.maximum(x - 0.5, 0.0)
    if got.shape != x.shape:
        raise Feedback(f"{what} outputs shape {got.shape[1:]}; it should keep the input's shape {x.shape[1:]}")
    if np.allclose(got, want, atol=1e-5):
        return
    if np.allclose(got, 0.0, atol=1e-6):
        raise Feedback(f"with zero convolution weights {what} outputs zeros, so where its ReLU is cannot be seen; "
                       "the block must add its input a[l] itself (no projection when the shape stays) to z[l+2]")
    if np.allclose(got, x, atol=1e-5):
        raise Feedback(f"{what} applies the ReLU to z[l+2] before adding the shortcut; the block is "
                       "a[l+2] = g(z[l+2] + a[l]): Add first, then the ReLU")
    if np.allclose(got, x - 0.5, atol=1e-5):
        raise Feedback(f"{what} has no ReLU after adding the shortcut: a[l+2] = g(z[l+2] + a[l])")
    raise Feedback(f"{what} does not compute a[l+2] = g(z[l+2] + a[l]) with z[l+2] the second batch norm's output "
                   f"({error_summary(got, want)})")


@points(2)
def test_a_projected_shortcut_is_a_strided_1x1_convolution(submission, builds):
    # main path zero, batch norms fresh: a[l+2] = relu(P(x)) with P the 1x1 convolution, strides 2;
    # x and P are positive, so the sum is and where the ReLU sits is another test's property
    ref, model, what = _residual(submission, builds, PROJECTED)
    ones = [layer for layer in model.layers if type(layer).__name__ == "Conv2D"
            and tuple(layer.get_weights()[0].shape[:2]) == (1, 1)]
    if len(ones) != 1:
        raise Feedback(f"{what} should project its shortcut with one Conv2D(8, (1, 1), strides=2)")
    p = np.random.default_rng(9).uniform(0.1, 1.0, size=(4, 8)).astype(np.float32)
    x = np.random.default_rng(10).uniform(0.0, 1.0, size=(4, 6, 6, 4)).astype(np.float32)
    got = _predict(_with_weights(ref, model, projection=p), x, f"{what} with a known projection")
    want = x[:, ::2, ::2, :] @ p  # the top-left pixel of each 2x2 window, as a 1x1 convolution with strides 2 takes
    if got.shape != want.shape:
        raise Feedback(f"{what} outputs shape {got.shape[1:]}; it should be {want.shape[1:]}")
    # a fresh batch norm divides by sqrt(1 + epsilon): at most 0.1% for Keras's epsilon 1e-3
    assert np.allclose(got, want, rtol=2e-3, atol=1e-4), (
        f"{what} does not add the projected input Conv2D(8, (1, 1), strides=2)(a[l]) to z[l+2] "
        f"({error_summary(got, want)})")


# --------------------------------------------------------------------------------------------
# AlexNet
# --------------------------------------------------------------------------------------------


def _rows(model):
    return [r for r in layer_rows(model) if r.kind not in _IGNORED]


ALEXNET_CASES = (((67, 67, 1), 3), ((75, 83, 3), 7))  # 67x67: the smallest input all three poolings take


def _alexnet(submission, builds, shape, classes):
    what = f"build_alexnet({shape}, {classes})"
    return builds(("alexnet", shape, classes), lambda: rebuild(
        expect_model(submission.architecture("build_alexnet", shape, classes), what), what, _CAPS[0])), what


def _alexnet_table(shape, classes):
    """The reference's layer table (reference.build_alexnet) computed by arithmetic, without
    allocating 20M weights on the trusted side: valid 11x11/4 convolution, 3x3/2 poolings,
    'same' convolutions after it."""
    h, w, c = shape
    rows = []

    def conv(filters, k, stride, same):
        nonlocal h, w, c
        if not same:
            h, w = (h - k) // stride + 1, (w - k) // stride + 1
        rows.append(LayerRow("Conv2D", (h, w, filters), (k * k * c + 1) * filters))
        c = filters

    def pool():
        nonlocal h, w
        h, w = (h - 3) // 2 + 1, (w - 3) // 2 + 1
        rows.append(LayerRow("MaxPooling2D", (h, w, c), 0))
    conv(96, 11, 4, False)
    pool()
    conv(256, 5, 1, True)
    pool()
    conv(384, 3, 1, True)
    conv(384, 3, 1, True)
    conv(256, 3, 1, True)
    pool()
    rows.append(LayerRow("Flatten", (h * w * c,), 0))
    rows += [LayerRow("Dense", (4096,), (h * w * c + 1) * 4096), LayerRow("Dense", (4096,), 4097 * 4096),
             LayerRow("Dense", (classes,), 4097 * classes)]
    return rows


@points(2)
def test_alexnet_other_input_shapes_and_classes(submission, builds):
    for shape, classes in ALEXNET_CASES:
        model, what = _alexnet(submission, builds, shape, classes)
        compare_layers(_rows(model), _alexnet_table(shape, classes), what)


def _activation_after(model, index):
    """The activation a Conv2D/Dense layer's output goes through: its own, else a following
    Activation/ReLU/Softmax layer's."""
    layers = model.layers
    own = layers[index].get_config().get("activation")
    if own not in (None, "linear"):
        return own
    for layer in layers[index + 1:]:
        kind = type(layer).__name__
        if kind == "ReLU":
            return "relu"
        if kind in ("Activation", "Softmax"):
            return layer.get_config().get("activation", "softmax")
        if kind != "Dropout":
            return "linear"
    return "linear"


@points(1)
def test_alexnet_uses_relu_and_a_softmax_output(submission, builds):
    model, what = _alexnet(submission, builds, *ALEXNET_CASES[0])
    acts = [(type(layer).__name__, _activation_after(model, i)) for i, layer in enumerate(model.layers)
            if type(layer).__name__ in ("Conv2D", "Dense")]
    if not acts:
        raise Feedback(f"{what} has no Conv2D or Dense layer")
    if any(a != "relu" for _, a in acts[:-1]):
        raise Feedback(f"a convolution or hidden Dense layer of {what} does not use ReLU (AlexNet's first use of ReLU)")
    assert acts[-1] == ("Dense", "softmax"), f"the last layer of {what} should be a Dense layer with softmax"
