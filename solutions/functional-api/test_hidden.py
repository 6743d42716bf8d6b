"""Hidden tests for functional-api.

Structure: the learner's model is read from its JSON config on the trusted side (never run here):
its inputs (`modelsize.input_shapes`, in the model's own order), the graph of its layers (which
layer's output each layer takes), so that a Concatenate is checked to join a branch that starts
at the image input with one that starts at the number input, the image branch to hold a Conv2D
and a pooling layer and the number branch a Dense layer; the rebuilt model (safe mode) gives the
head's shape and activation.

Accuracy: the learner's model is built and trained in the sandbox on the training digits of
digit_task("functional-16") with their eight band-ink numbers (`grader.data.digits.digit_features`,
the README's recipe); the trained model comes back as data and the held-out digits, drawn with the
grading's secret `heldout_seed`, are predicted on the trusted side (`heldout.predict`, the two
arrays in the order of the model's inputs, whichever order the learner declared) and scored here
against [threshold] of exercise.toml.

Each test costs one property's points; messages never show an expected value beyond what the
README states."""

import json

import pytest

from grader.data.digits import digit_features
from grader.exercise import heldout
from grader.exercise.modelsize import ModelRefused, input_shapes
from grader.modelcheck import (builds_fixture, check_training_history, class_predictions, compile_settings,
                               digit_task_fixture, expect_history, loss_name, metric_names, model_from, rebuild,
                               score_metric, accuracy, confusion, trained_fixture)
from grader.testing import Feedback, points

TRAIN_SECONDS = 60  # the README promises the training this much time (on CPU)
N_NUMERIC = 8
POOLING = {"MaxPooling2D", "AveragePooling2D", "GlobalMaxPooling2D", "GlobalAveragePooling2D"}
MERGES = {"Concatenate", "Add", "Average", "Multiply", "Maximum", "Minimum", "Subtract", "Dot"}

task = digit_task_fixture("functional-16")
trained = trained_fixture()
builds = builds_fixture()


def _call(image_shape, n_numeric, num_classes):
    return f"build_two_input_model(image_shape={tuple(image_shape)}, n_numeric={n_numeric}, num_classes={num_classes})"


def _built(submission, exercise, builds, image_shape=(16, 16, 1), n_numeric=N_NUMERIC, num_classes=10):
    what = _call(image_shape, n_numeric, num_classes)

    def build():
        ref = model_from(submission.build_two_input_model, what, image_shape=tuple(image_shape),
                         n_numeric=n_numeric, num_classes=num_classes)
        return ref, rebuild(ref, what, exercise.caps), what
    return builds((tuple(image_shape), n_numeric, num_classes), build)


def _inputs(ref, what, image_shape, n_numeric):
    """(image input's index, number input's index) in the model's input order; Feedback unless the
    model has exactly these two inputs."""
    try:
        shapes = [tuple(s) for s in input_shapes(ref.config)]
    except ModelRefused as err:
        raise Feedback(str(err)) from None
    want = {tuple(image_shape), (n_numeric,)}
    if len(shapes) != 2 or set(shapes) != want:
        raise Feedback(f"{what} has {len(shapes)} input(s) of shape(s) {shapes}; it should have two keras.Input: "
                       f"one of shape image_shape, one of shape (n_numeric,)")
    return shapes.index(tuple(image_shape)), shapes.index((n_numeric,))


def _graph(ref):
    """(layers by name: (class name, config), parents by name, input layer names in order, output
    layer names) from the model's JSON config."""
    config = json.loads(ref.config)
    body = config.get("config", {}) if isinstance(config, dict) else {}
    layers, parents = {}, {}
    for layer in body.get("layers", []) or []:
        name = layer.get("name") or layer.get("config", {}).get("name")
        layers[name] = (layer.get("class_name"), layer.get("config", {}))
        parents[name] = _history_names(layer.get("inbound_nodes", []))
    return layers, parents, _layer_names(body.get("input_layers")), _layer_names(body.get("output_layers"))


def _layer_names(refs) -> list:
    """["name", 0, 0] or [["name", 0, 0], ...] -> the layer names."""
    if not refs:
        return []
    return [r[0] for r in (refs if isinstance(refs[0], list) else [refs])]


def _history_names(node) -> list:
    """The layer names of every keras_history inside a node's args (in order)."""
    found = []
    if isinstance(node, dict):
        if "keras_history" in node:
            found.append(node["keras_history"][0])
        for value in node.values():
            found += _history_names(value)
    elif isinstance(node, list):
        for value in node:
            found += _history_names(value)
    return found


def _ancestors(name, parents) -> set:
    seen, stack = set(), [name]
    while stack:
        for p in parents.get(stack.pop(), []):
            if p not in seen:
                seen.add(p)
                stack.append(p)
    return seen


def _kinds(names, layers) -> set:
    """The class names of these layers, those inside nested models included."""
    kinds = set()

    def walk(kind, cfg):
        kinds.add(kind)
        for inner in (cfg.get("layers") or []) if isinstance(cfg, dict) else []:
            if isinstance(inner, dict):
                walk(inner.get("class_name"), inner.get("config", {}))
    for n in names:
        walk(*layers[n])
    return kinds


def _merge(ref, what, image_shape, n_numeric, kinds=("Concatenate",)):
    """The branches a merge layer of `kinds` joins: (image branch layer names, number branch layer
    names, the layers). The branch tests accept any merge layer (the Concatenate has its own test)."""
    image_at, number_at = _inputs(ref, what, image_shape, n_numeric)
    layers, parents, inputs, outputs = _graph(ref)
    if len(inputs) != 2:
        raise Feedback(f"{what} is not a functional model with two inputs; build it with keras.Model(inputs=[...], ...)")
    image_in, number_in = inputs[image_at], inputs[number_at]
    for name, (kind, _) in layers.items():
        if kind not in kinds or not any(name in _ancestors(o, parents) | {o} for o in outputs):
            continue
        joined = [(p, _ancestors(p, parents) | {p}) for p in parents[name]]
        image_side = [p for p, anc in joined if image_in in anc and number_in not in anc]
        number_side = [p for p, anc in joined if number_in in anc and image_in not in anc]
        if image_side and number_side:
            image_branch = set().union(*(_ancestors(p, parents) | {p} for p in image_side)) - {image_in}
            number_branch = set().union(*(_ancestors(p, parents) | {p} for p in number_side)) - {number_in}
            return image_branch, number_branch, layers
    if set(kinds) != {"Concatenate"}:
        raise Feedback(f"{what} has no merge layer that joins the image branch with the number branch on the way to "
                       "the output; merge them with keras.layers.Concatenate()([image_branch, number_branch])")
    raise Feedback(f"{what} has no Concatenate layer that joins the image branch with the number branch on the way "
                   "to the output; merge them with keras.layers.Concatenate()([image_branch, number_branch])")


@points(2)
def test_the_model_has_an_image_input_and_a_number_input(submission, exercise, builds):
    ref, _, what = _built(submission, exercise, builds)
    _inputs(ref, what, (16, 16, 1), N_NUMERIC)


@points(3)
def test_a_concatenate_joins_the_two_branches(submission, exercise, builds):
    ref, _, what = _built(submission, exercise, builds)
    _merge(ref, what, (16, 16, 1), N_NUMERIC)


@points(1)
def test_the_image_branch_has_a_convolution_and_a_pooling_layer(submission, exercise, builds):
    ref, _, what = _built(submission, exercise, builds)
    image_branch, _, layers = _merge(ref, what, (16, 16, 1), N_NUMERIC, MERGES)
    kinds = _kinds(image_branch, layers)
    assert "Conv2D" in kinds and kinds & POOLING, (
        f"the image branch of {what} (from the image input to the Concatenate) should have a Conv2D and a pooling "
        f"layer; it has: {', '.join(sorted(k for k in kinds if k)) or 'nothing'}")


@points(1)
def test_the_number_branch_has_a_dense_layer(submission, exercise, builds):
    ref, _, what = _built(submission, exercise, builds)
    _, number_branch, layers = _merge(ref, what, (16, 16, 1), N_NUMERIC, MERGES)
    kinds = _kinds(number_branch, layers)
    assert "Dense" in kinds, (
        f"the number branch of {what} (from the number input to the Concatenate) should have a Dense layer; it has: "
        f"{', '.join(sorted(k for k in kinds if k)) or 'nothing'}")


@points(1)
def test_a_softmax_head_with_one_output_per_class(submission, exercise, builds):
    for shape, n, k in (((16, 16, 1), N_NUMERIC, 10), ((20, 24, 3), 5, 4)):
        _, model, what = _built(submission, exercise, builds, shape, n, k)
        got = tuple(int(d) for d in model.outputs[0].shape[1:]) if len(model.outputs) == 1 else None
        assert got == (k,), f"{what} outputs {got}; it should output one probability per class: shape ({k},)"
        last = model.layers[-1]
        assert type(last).__name__ == "Dense" and last.get_config().get("activation") == "softmax", (
            f"the last layer of {what} should be Dense(num_classes, activation='softmax')")


@points(1)
def test_other_image_shapes_and_number_counts(submission, exercise, builds):
    for shape, n, k in (((20, 24, 3), 5, 4), ((28, 28, 1), 3, 10)):
        ref, _, what = _built(submission, exercise, builds, shape, n, k)
        _merge(ref, what, shape, n, MERGES)


@points(1)
def test_compiled_with_categorical_crossentropy_and_accuracy(submission, exercise, builds):
    ref, _, what = _built(submission, exercise, builds)
    settings = compile_settings(ref, what)
    name = loss_name(settings)
    assert name == "categorical_crossentropy", (
        f"{what} is compiled with the loss {name or 'None'!r}; one-hot labels and a softmax output go with "
        "loss='categorical_crossentropy'")
    assert any("acc" in m for m in metric_names(settings)), (
        f"{what} is compiled without an accuracy metric; pass metrics=['accuracy']")


def _train(submission, task, trained):
    shape = tuple(int(d) for d in task.x_train.shape[1:])
    return trained(lambda: model_from(submission.build_two_input_model, _call(shape, N_NUMERIC, task.num_classes),
                                      image_shape=shape, n_numeric=N_NUMERIC, num_classes=task.num_classes),
                   lambda model: submission.train_two_input_model(model, task.x_train, digit_features(task.x_train),
                                                                  task.y_train_onehot))


@points(2)
@pytest.mark.seconds(TRAIN_SECONDS)
def test_train_returns_the_history(submission, task, trained):
    check_training_history(_train(submission, task, trained).history, "train_two_input_model(model, images, numbers, y)")


@points(5)
@pytest.mark.seconds(TRAIN_SECONDS)
def test_held_out_accuracy(submission, task, trained, exercise, record):
    what = "train_two_input_model(model, images, numbers, y)"
    result = _train(submission, task, trained)
    try:
        record("history", expect_history(result.history, what))
    except Feedback:
        pass  # the history test says what is wrong with it
    model = result.model.trained()
    shape = tuple(int(d) for d in task.x_test.shape[1:])
    image_at, _ = _inputs(model, "your trained model", shape, N_NUMERIC)
    x = [task.x_test, digit_features(task.x_test)]
    if image_at == 1:
        x.reverse()
    outputs = heldout.predict(model, x, exercise.caps, "your trained model", outputs=task.num_classes)
    predicted = class_predictions(outputs, len(task.x_test), task.num_classes,
                                  "your model's predictions for the held-out digits")
    record("confusion", confusion(predicted, task.y_test, task.num_classes))
    score_metric(record, name="accuracy", value=accuracy(predicted, task.y_test),
                 threshold=float(exercise.extra["threshold"][task.dataset]), lower_is_better=False,
                 dataset=task.dataset, seconds=result.seconds, device=submission.device)
