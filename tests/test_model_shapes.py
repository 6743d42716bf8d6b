"""The config walker and the held-out predictor know the shapes of the course's later models: a
decoder's transposed convolutions, a base model used as a layer (transfer learning), a model with
two inputs declared in either order, an output that is an image. Each is compared with what Keras
itself builds and predicts."""

from __future__ import annotations

import dataclasses
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


def _reference(exercise_id: str):
    import importlib.util

    from grader.exercise.spec import find_exercise
    spec = importlib.util.spec_from_file_location(f"{exercise_id.replace('-', '_')}_reference",
                                                  find_exercise(exercise_id).solution)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _course_models():
    """The reference solutions' models at the shapes their hidden tests build, and models that use
    every layer kind the walker knows, in Sequential and functional form, nested and shared."""
    lenet, vgg, mlp = _reference("lenet"), _reference("vgg"), _reference("keras-mlp")
    classifiers, regression = _reference("keras-classifiers"), _reference("keras-regression")
    models = [lenet.build_lenet(shape, k) for shape, k in (((32, 32, 3), 10), ((32, 32, 1), 10), ((28, 28, 1), 10),
                                                           ((64, 64, 3), 5), ((40, 48, 1), 4), ((36, 36, 2), 2))]
    models += [vgg.build_vgg_small((32, 32, 1), 10, widths=(16, 32)), mlp.build_mlp(25, 10), mlp.build_mlp(64, 3),
               classifiers.build_iris_classifier(16), classifiers.build_binary_classifier(30),
               regression.build_regressor(10), regression.build_wide_and_deep(10),
               _reference("autoencoder").build_autoencoder((28, 28, 1)),
               _reference("functional-api").build_two_input_model((16, 16, 1), 4, 10),
               _reference("transfer-learning").build_base((32, 32, 1), 5),
               _reference("cnn-blocks").build_alexnet((67, 67, 3), 7)]
    images = keras.Input((20, 18, 3))
    x = layers.ZeroPadding2D(((1, 2), (0, 3)))(images)
    x = layers.Conv2D(6, (3, 5), strides=(2, 1), dilation_rate=1, padding="valid", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    y = layers.AveragePooling2D(3, strides=2, padding="same")(images)
    y = layers.Conv2D(6, 1, padding="same")(layers.Cropping2D(((0, 0), (1, 1)))(y))
    y = layers.Resizing(x.shape[1], x.shape[2])(y)
    merged = layers.Concatenate()([x, y])
    shared = layers.Conv2D(12, 3, padding="same", groups=3)
    z = layers.Add()([shared(merged), shared(layers.LeakyReLU()(merged))])  # one layer, called twice
    z = layers.UpSampling2D((2, 1))(layers.SpatialDropout2D(0.1)(z))
    z = layers.Conv2DTranspose(4, 3, strides=2, padding="valid")(z)
    z = layers.LayerNormalization(axis=[-1])(layers.MaxPooling2D(2)(z))
    pooled = layers.GlobalAveragePooling2D()(z)
    flat = layers.Reshape((-1, 4))(layers.GlobalMaxPooling2D(keepdims=True)(z))
    out = layers.Dense(3, activation="softmax")(layers.Dropout(0.2)(layers.Concatenate()(
        [pooled, layers.Flatten()(flat)])))
    functional = keras.Model(images, out)
    base = _base()
    stacked = keras.Sequential([keras.Input((12, 12, 1)), layers.Rescaling(1 / 255), base,
                                layers.Dense(5, activation="softmax")])
    inp = keras.Input((12, 12, 1))
    twice = keras.Model(inp, layers.Dense(2)(layers.Add()([base(inp), base(layers.GaussianNoise(0.1)(inp))])))
    return models + [functional, stacked, twice]


def test_the_walkers_layer_table_is_keras_own_for_every_course_model():
    """The Keras exercises compare a learner's layer table read off the config by the walker
    (`check_layer_table`): it must be the table Keras's rebuilt model gives, row for row."""
    from grader.exercise.keras_tasks import layer_table
    models = _course_models()
    kinds = set()
    for model in models:
        rows = list(model_size(model.to_json()).rows)
        assert rows == layer_table(model), model.name
        kinds |= {r.kind for r in rows}
    assert {"Conv2D", "Conv2DTranspose", "Dense", "BatchNormalization", "LayerNormalization", "Concatenate", "Add",
            "Sequential", "Reshape", "Resizing", "Cropping2D", "ZeroPadding2D", "UpSampling2D"} <= kinds


def test_a_layer_table_is_checked_from_the_config_and_keras_decides_where_the_walker_differs(monkeypatch):
    from grader.exercise import keras_tasks
    from grader.exercise.keras_tasks import check_layer_table, layer_table
    lenet = _reference("lenet")
    want = layer_table(lenet.build_lenet((32, 32, 1), 10))
    learner = ModelRef(1, "m", lenet.build_lenet((32, 32, 1), 10).to_json(), None, [])  # structure only
    rebuilt = []
    original = keras_tasks.rebuild_structure

    def spy(*args, **kwargs):
        assert kwargs.get("allocate") is False  # a table needs no weights
        rebuilt.append(1)
        return original(*args, **kwargs)
    monkeypatch.setattr(keras_tasks, "rebuild_structure", spy)
    assert check_layer_table(learner, want, "build_lenet()") == want and rebuilt == []  # no Keras rebuild
    other = keras.Sequential([keras.Input((32, 32, 1)), layers.Conv2D(8, 3, activation="relu"), layers.Flatten(),
                              layers.Dense(10, activation="softmax")])
    with pytest.raises(Feedback, match=r"build_lenet\(\) has 3 layers, but the architecture asked for has 9"):
        check_layer_table(_ref(other), want, "build_lenet()")
    assert rebuilt == [1]  # a table that differs is Keras's to decide
    # a walker that got a row wrong cannot cost a learner a point: Keras's own table decides
    from grader.exercise import modelsize
    walk = modelsize.check_caps

    def wrong_row(config, caps, what="your model"):
        size = walk(config, caps, what)
        rows = list(size.rows)
        rows[0] = modelsize.LayerRow(rows[0].kind, rows[0].output_shape, rows[0].params + 1)
        return dataclasses.replace(size, rows=tuple(rows))
    monkeypatch.setattr(keras_tasks, "check_caps", wrong_row)
    assert check_layer_table(learner, want, "build_lenet()") == want and rebuilt == [1, 1]
    with pytest.raises(Feedback, match="over this exercise's limit"):
        check_layer_table(learner, want, "build_lenet()", Caps(max_params=1000))


def test_layers_are_told_apart_by_their_config_entries_not_by_a_shortened_name():
    """Layer names longer than a message shows are still distinct layers (each counted, each a row),
    and a configuration that names two layers alike (Keras never writes one) is refused: one
    layer's weights would stand for two in the count."""
    model = keras.Sequential([keras.Input((20,))] + [layers.Dense(30, name="x" * 80 + str(i)) for i in range(4)])
    size = model_size(model.to_json())
    assert size.params == model.count_params() == 20 * 30 + 30 + 3 * (30 * 30 + 30)
    assert len(size.rows) == 4
    config = json.loads(model.to_json())
    for layer in config["config"]["layers"][1:]:
        layer["config"]["name"] = "same"
    with pytest.raises(ModelRefused, match="two layers of the model are both named 'same'"):
        model_size(json.dumps(config))


def test_a_model_rebuilt_without_weights_has_keras_own_table_and_allocates_nothing_later():
    """Architecture-only builds (`weightless`: a layer-table check's rebuild, a reference table, the
    sandbox's `submission.architecture`) give the very table, parameter count and compile settings
    of an ordinary build, leave the model's variables without values, make optimizers as usual, and
    leave nothing for a later Keras scope to allocate."""
    from keras.src.backend.common import global_state

    from grader.exercise.keras_tasks import layer_table
    from grader.exercise.rebuild import rebuild_structure
    from grader.exercise.weightless import built_without_weights, weights_unallocated
    for model in _course_models():
        weightless = rebuild_structure(model.to_json(), model.name, Caps(max_params=10**9), allocate=False)
        assert layer_table(weightless) == layer_table(model), model.name
        assert weightless.count_params() == model.count_params(), model.name
        assert all(v._value is None for v in weightless.variables), model.name  # shapes, no values
    vgg = _reference("vgg")
    small = built_without_weights(vgg.build_vgg_small, (32, 32, 1), 10)  # compiles inside the scope
    ordinary = vgg.build_vgg_small((32, 32, 1), 10)
    assert small.compiled and all(v._value is None for v in small.variables)
    unnamed = [{k: v for k, v in m.get_compile_config()["optimizer"]["config"].items() if k != "name"}
               for m in (small, ordinary)]
    assert unnamed[0] == unnamed[1] and small.get_compile_config()["loss"] == "categorical_crossentropy"
    from keras.src.optimizers.base_optimizer import BaseOptimizer
    own_init = BaseOptimizer.__init__
    with weights_unallocated():  # an optimizer made by the learner's own code, inside the scope
        adam = keras.optimizers.Adam(1e-3)
    assert adam.iterations is not None and BaseOptimizer.__init__ is own_init  # given back with the scope
    assert not global_state.get_global_attribute("uninitialized_variables", [])
    with keras.StatelessScope():  # a later scope of Keras's own initialises what it made, nothing of ours
        layers.Dense(3).build((None, 2))
    assert all(v._value is None for v in small.variables)

    def needs_a_value():  # a variable made from a value: refused in the scope, built the ordinary way
        return keras.Variable(np.zeros(3))
    assert np.asarray(built_without_weights(needs_a_value)).tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError):
        with weights_unallocated():
            needs_a_value()
    assert BaseOptimizer.__init__ is own_init and not global_state.get_global_attribute("uninitialized_variables")
