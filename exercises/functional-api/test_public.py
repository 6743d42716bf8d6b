"""Public tests for functional-api. The model for 16x16x1 digit images and their 8 band-ink
numbers (`band_ink` below, the README's recipe), 10 classes: two inputs, a Concatenate that joins
the image branch with the number branch, a softmax head; then a training run on 2,000 training
digits scored on 500 others of them (fewer with scikit-learn's digits). The hidden tests train on
all the training digits and measure held-out digits that you never see."""

import json
import time

import numpy as np
import pytest

from grader.data import digit_task
from grader.modelcheck import accuracy, class_predictions, expect_history, model_from, rebuild
from grader.testing import Feedback, points

VALIDATION_BAR = 0.85  # on 500 of the training digits; the hidden threshold is in exercise.toml
WHAT = "build_two_input_model(image_shape=(16, 16, 1), n_numeric=8, num_classes=10)"


def band_ink(images):
    """The 8 numbers of each digit: the mean ink of 4 bands of rows (top to bottom), then of 4 bands
    of columns (left to right); images (n, size, size, 1) -> (n, 8) float32."""
    x = np.asarray(images, dtype=np.float32)[..., 0]
    rows = [band.mean(axis=(1, 2)) for band in np.array_split(x, 4, axis=1)]
    cols = [band.mean(axis=(1, 2)) for band in np.array_split(x, 4, axis=2)]
    return np.stack(rows + cols, axis=1).astype(np.float32)


def _build(submission):
    ref = model_from(submission.build_two_input_model, WHAT, image_shape=(16, 16, 1), n_numeric=8, num_classes=10)
    return ref, rebuild(ref, WHAT)


def _image_first(model) -> bool:
    """Whether the model's first input is the image (the inputs' order is the learner's)."""
    shapes = [tuple(int(d) for d in t.shape[1:]) for t in model.inputs]
    if sorted(shapes, key=len) != [(8,), (16, 16, 1)]:
        raise Feedback(f"{WHAT} has inputs of shapes {shapes}; it should have two keras.Input: one of shape "
                       "(16, 16, 1) for the images and one of shape (8,) for the numbers")
    return shapes[0] == (16, 16, 1)


def _history(node) -> list:
    """The names of the layers whose outputs a layer takes (the keras_history of its inbound tensors)."""
    if isinstance(node, dict):
        own = [node["keras_history"][0]] if "keras_history" in node else []
        return own + [n for v in node.values() for n in _history(v)]
    if isinstance(node, list):
        return [n for v in node for n in _history(v)]
    return []


@points(2)
def test_two_inputs(submission):
    _, model = _build(submission)
    _image_first(model)


@points(2)
def test_a_concatenate_joins_the_image_and_the_numbers(submission):
    ref, model = _build(submission)
    _image_first(model)
    layers = json.loads(ref.config)["config"]["layers"]
    merges = [layer for layer in layers if layer["class_name"] == "Concatenate"]
    assert merges, f"{WHAT} has no Concatenate layer; join the two branches with keras.layers.Concatenate()"
    parents = {layer["name"]: _history(layer["inbound_nodes"]) for layer in layers}

    def reaches(name, seen=()):
        return {name}.union(*(reaches(p, seen + (name,)) for p in parents.get(name, []) if p not in seen))
    inputs = {name for name, p in parents.items() if not p}
    assert any(inputs <= reaches(m["name"]) for m in merges), (
        f"no Concatenate layer of {WHAT} takes both branches: one from the image input, one from the number input")


@points(1)
def test_softmax_head(submission):
    _, model = _build(submission)
    out = tuple(int(d) for d in model.outputs[0].shape[1:])
    assert out == (10,), f"{WHAT} outputs shape {out}; it should output (10,), one probability per class"
    last = model.layers[-1]
    assert type(last).__name__ == "Dense" and last.get_config().get("activation") == "softmax", (
        f"the last layer of {WHAT} should be Dense(10, activation='softmax'), not {type(last).__name__}")


@points(2)
@pytest.mark.seconds(60)
def test_train_learns_the_digits(submission, record, hoda):
    task = digit_task("functional-16", hoda)
    order = np.random.default_rng(0).permutation(len(task.x_train))
    n_val = min(500, len(order) // 4)
    val, fit = order[:n_val], order[n_val:n_val + 2000]
    ref, model = _build(submission)
    t0 = time.monotonic()
    history = submission.train_two_input_model(ref, task.x_train[fit], band_ink(task.x_train[fit]),
                                               task.y_train_onehot[fit])
    seconds = time.monotonic() - t0
    history = expect_history(history, "train_two_input_model(model, images, numbers, y)", keys=("loss",))
    record("history", history)
    x_val = [task.x_train[val], band_ink(task.x_train[val])]
    if not _image_first(model):
        x_val.reverse()
    predicted = class_predictions(ref.predict(x_val), len(val), 10)
    acc = accuracy(predicted, task.y_train[val])
    record("metric", {"name": "accuracy", "value": acc, "threshold": VALIDATION_BAR, "lower_is_better": False,
                      "dataset": f"{task.dataset} (validation)", "seconds": seconds, "device": submission.device})
    assert acc >= VALIDATION_BAR, (
        f"after {len(history['loss'])} epochs ({seconds:.0f} s for {len(fit):,} digits) your model classifies "
        f"{acc:.1%} of {len(val)} validation digits of {task.dataset} correctly; at least {VALIDATION_BAR:.0%} is "
        "expected here (train longer: more epochs)")
