"""The config walker and the held-out predictor know the shapes of the course's later models: a
decoder's transposed convolutions, a base model used as a layer (transfer learning), a model with
two inputs declared in either order, an output that is an image. Each is compared with what Keras
itself builds and predicts."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from grader.exercise.heldout import predict
from grader.exercise.modelsize import Caps, ModelRefused, input_shapes, model_size, output_shapes
from grader.exercise.testing import Feedback
from grader.sandbox.inside.wire import ModelRef

keras = pytest.importorskip("keras")
layers = keras.layers


def _ref(model) -> ModelRef:
    return ModelRef(1, "m", model.to_json(), None, model.get_weights())


def test_transposed_convolutions_have_the_shape_and_parameters_keras_gives():
    cases = 0
    for padding, stride, kernel, out_pad in itertools.product(("valid", "same"), (1, 2, 3), (2, 3, 5), (None, 0, 1)):
        if out_pad is not None and out_pad >= stride:
            continue  # Keras refuses an output padding not below the stride
        inp = keras.Input((7, 6, 4))
        out = layers.Conv2DTranspose(5, kernel, strides=stride, padding=padding, output_padding=out_pad)(inp)
        size = model_size(keras.Model(inp, out).to_json())
        assert size.output_shape == tuple(out.shape[1:]), (padding, stride, kernel, out_pad)
        assert size.params == kernel * kernel * 4 * 5 + 5
        cases += 1
    assert cases == 48  # 2 paddings x 3 kernels x (stride 1: None, 0; 2: None, 0, 1; 3: None, 0, 1)


def _base():
    return keras.Sequential([keras.Input((12, 12, 1)), layers.Conv2D(4, 3, activation="relu"), layers.Flatten(),
                             layers.Dense(16, activation="relu")], name="base")


def test_a_base_model_used_as_a_layer_is_counted_with_its_own_layers():
    base = _base()
    stacked = keras.Sequential([base, layers.Dense(5, activation="softmax")])
    stacked.build((None, 12, 12, 1))
    inp = keras.Input((12, 12, 1))
    functional = keras.Model(inp, layers.Dense(5)(base(inp)))
    twice = keras.Model(inp, layers.Add()([base(inp), base(inp)]))  # shared: its weights count once
    for model in (stacked, functional, twice):
        size = model_size(model.to_json())
        assert size.params == model.count_params()
        assert size.input_shapes == ((12, 12, 1),)
        assert size.output_shapes == (tuple(model.outputs[0].shape[1:]),)


def test_a_base_model_called_on_other_inputs_than_it_was_built_for_is_refused():
    base = _base()
    model = keras.Sequential([base, layers.Dense(5)])
    model.build((None, 12, 12, 1))
    config = json.loads(model.to_json())
    outer_input, inner = config["config"]["layers"][:2]
    assert (outer_input["class_name"], inner["class_name"]) == ("InputLayer", "Sequential")  # the base, a layer
    outer_input["config"]["batch_shape"] = [None, 14, 14, 1]  # the outer model's input only
    config["config"]["build_input_shape"] = [None, 14, 14, 1]
    with pytest.raises(ModelRefused, match="built for inputs"):
        model_size(json.dumps(config))


def _two_input_model(numeric_first: bool):
    image, numbers = keras.Input((8, 8, 1), name="image"), keras.Input((3,), name="numbers")
    a = layers.Flatten()(layers.MaxPooling2D()(layers.Conv2D(4, 3, activation="relu")(image)))
    b = layers.Dense(4, activation="relu")(numbers)
    out = layers.Dense(10, activation="softmax")(layers.Concatenate()([a, b]))
    return keras.Model([numbers, image] if numeric_first else [image, numbers], out)


@pytest.mark.parametrize("numeric_first", [False, True])
def test_a_two_input_model_is_predicted_with_its_inputs_in_its_own_order(numeric_first):
    model = _two_input_model(numeric_first)
    rng = np.random.default_rng(0)
    data = {(8, 8, 1): rng.random((30, 8, 8, 1), dtype=np.float32), (3,): rng.random((30, 3), dtype=np.float32)}
    order = input_shapes(model.to_json())
    assert order == ([(3,), (8, 8, 1)] if numeric_first else [(8, 8, 1), (3,)])
    xs = [data[s] for s in order]
    got = predict(_ref(model), xs, Caps(), outputs=10)
    np.testing.assert_allclose(got, model.predict(xs, verbose=0), rtol=1e-5, atol=1e-6)
    with pytest.raises(Feedback, match="takes inputs of shape"):
        predict(_ref(model), xs[::-1], Caps(), outputs=10)


def test_an_image_output_is_predicted_whole_and_checked_against_the_shape_the_task_needs():
    inp = keras.Input((8, 8, 1))
    code = layers.Conv2D(4, 3, strides=2, padding="same", activation="relu")(inp)
    out = layers.Conv2DTranspose(1, 3, strides=2, padding="same", activation="sigmoid")(code)
    model = keras.Model(inp, out)
    assert output_shapes(model.to_json()) == [(8, 8, 1)]
    x = np.random.default_rng(1).random((20, 8, 8, 1), dtype=np.float32)
    got = predict(_ref(model), x, Caps(), output_shape=(8, 8, 1))
    assert got.shape == (20, 8, 8, 1)
    np.testing.assert_allclose(got, model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    with pytest.raises(Feedback, match=r"outputs shape \(8, 8, 1\).*should output shape \(7, 7, 1\)"):
        predict(_ref(model), x, Caps(), output_shape=(7, 7, 1))


def test_a_reference_layer_table_is_built_once_per_function_and_arguments():
    """A batch worker compares every learner with the same reference tables: the reference's build
    runs once per (function, arguments), and each function and each set of arguments has its own."""
    from grader.exercise.keras_tasks import layer_table, reference_layer_table
    built = []

    def build_dense(units, activation="relu"):
        built.append((units, activation))
        return keras.Sequential([keras.Input(shape=(4,)), layers.Dense(units, activation=activation)])

    def build_other(units):
        built.append(("other", units))
        return keras.Sequential([keras.Input(shape=(4,)), layers.Dense(units), layers.Dense(1)])

    first = reference_layer_table(build_dense, 8)
    assert first == layer_table(build_dense(8)) and [r.params for r in first] == [40]
    built.clear()
    assert reference_layer_table(build_dense, 8) == first and built == []
    first.append("changed by a caller")  # a caller's copy: the cached table stays as built
    assert reference_layer_table(build_dense, 8) == first[:-1]
    assert [r.params for r in reference_layer_table(build_dense, 3)] == [15]
    assert [r.params for r in reference_layer_table(build_dense, 8, activation="tanh")] == [40]
    assert [r.params for r in reference_layer_table(build_other, 8)] == [40, 9]
    assert built == [(3, "relu"), (8, "tanh"), ("other", 8)]
