"""Trusted-side checks of Keras models that a sandbox described (`wire.ModelRef`), and of the
predictions it returned. Models are rebuilt from their JSON config in Keras's safe mode (no
Lambda layers, no custom code; `grader.exercise.rebuild`) before anything about them is counted;
metrics are computed here, from held-out labels that never entered the sandbox, by the held-out
predictor (`grader.exercise.heldout`, which imports neither this module nor anything above it).

Keras is imported on first use only, so numpy exercises never pay for it."""

from __future__ import annotations

import json
import re
import numpy as np

from grader.exercise import heldout
from grader.exercise.modelsize import Caps, LayerRow
from grader.exercise.rebuild import rebuild
from grader.exercise.testing import Feedback, SubmissionRaised, expect_array
from grader.sandbox.inside.wire import ModelRef

__all__ = ["ModelRef", "LayerRow", "expect_model", "model_from", "rebuild", "layer_rows", "compare_layers",
           "compile_settings", "layer_configs", "loss_name", "metric_names", "class_predictions", "accuracy", "confusion",
           "expect_history", "check_training_history", "score_held_out", "accuracy_feedback", "score_metric",
           "metric_feedback", "warm_up"]


def expect_model(value, what: str) -> ModelRef:
    """Check that a learner's function returned a Keras model."""
    if not isinstance(value, ModelRef):
        kind = type(value).__name__
        raise Feedback(f"{what} should return a Keras model (keras.Model / keras.Sequential), but it returned {kind}")
    return value


def model_from(build, what: str, *args, **kwargs) -> ModelRef:
    """Call the learner's model-building function `build(*args, **kwargs)` (a `submission.NAME`)
    and check it returned a Keras model, explaining the two usual reasons the sandbox cannot
    describe one (a subclassed model; a model with no input shape)."""
    try:
        value = build(*args, **kwargs)
    except SubmissionRaised as err:
        if "get_config" in err.message:
            raise Feedback(f"{what} returned a model that Keras cannot describe by its configuration (a subclassed "
                           "keras.Model or a custom layer?); build it from Keras's own layers with keras.Sequential "
                           "or the functional API") from None
        if "isn't built" in err.message:
            raise Feedback(f"{what} returned a model that is not built: it has no input shape; start it with "
                           "keras.Input(shape=...)") from None
        raise
    return expect_model(value, what)


def layer_rows(model) -> list[LayerRow]:
    """Each layer's class name, output shape (without the batch axis) and parameter count."""
    rows = []
    for layer in model.layers:
        shape = tuple(layer.output.shape[1:]) if hasattr(layer, "output") else ()
        rows.append(LayerRow(type(layer).__name__, tuple(int(d) if d is not None else None for d in shape),
                             int(layer.count_params())))
    return rows


def compare_layers(got: list[LayerRow], want: list[LayerRow], what: str = "your model") -> None:
    """Fail with the first difference between two layer tables (the architecture is the task's
    own statement, so the expected layer may be named)."""
    if len(got) != len(want):
        raise Feedback(f"{what} has {len(got)} layers, but the architecture asked for has {len(want)}: "
                       + ", ".join(r.kind for r in want))
    for i, (g, w) in enumerate(zip(got, want), start=1):
        if g.kind != w.kind:
            raise Feedback(f"layer {i} of {what} is a {g.kind}; it should be a {w.kind}")
        if g.output_shape != w.output_shape:
            raise Feedback(f"layer {i} ({g.kind}) of {what} outputs shape {g.output_shape}; it should be "
                           f"{w.output_shape}")
        if g.params != w.params:
            raise Feedback(f"layer {i} ({g.kind}) of {what} has {g.params:,} parameters; it should have "
                           f"{w.params:,}")


def compile_settings(ref: ModelRef, what: str = "your model") -> dict:
    """The model's compile config as plain data (loss, optimizer, metrics); Feedback if not compiled."""
    if ref.compile_config is None:
        raise Feedback(f"{what} is not compiled; call model.compile(optimizer=..., loss=..., metrics=[...])")
    try:
        settings = json.loads(ref.compile_config)
    except ValueError:
        raise Feedback(f"{what}'s compile settings could not be read") from None
    metrics = settings.get("metrics") if isinstance(settings, dict) else None
    if (not isinstance(settings, dict) or not isinstance(settings.get("loss"), (str, dict, type(None)))
            or not isinstance(metrics, (list, type(None)))
            or not all(isinstance(m, (str, dict)) for m in metrics or [])):
        raise Feedback(f"{what}'s compile settings are not what model.compile(...) records; compile the model "
                       "with Keras's own compile(optimizer=..., loss=..., metrics=[...])")
    return settings


def layer_configs(ref: ModelRef, what: str = "your model") -> list[tuple[str, dict]]:
    """The class name and config of each layer of the outermost model, in order, without its
    InputLayers, read from the JSON config the sandbox sent (what `layer.get_config()` gives for
    each of `model.layers` after a rebuild, without rebuilding); Feedback when it cannot be read."""
    try:
        config = json.loads(ref.config)
        layers = config["config"]["layers"]
        if not isinstance(layers, list):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise Feedback(f"{what}'s configuration cannot be read; build it with keras.Sequential or the "
                       "functional API") from None
    out = []
    for layer in layers:
        if not (isinstance(layer, dict) and isinstance(layer.get("class_name"), str)
                and isinstance(layer.get("config"), dict)):
            raise Feedback(f"a layer of {what} has no class name or config; build it from Keras's own layers")
        if layer["class_name"] != "InputLayer":
            out.append((layer["class_name"], layer["config"]))
    return out


def loss_name(settings: dict) -> str:
    """The loss of a compile config as a snake_case name ('categorical_crossentropy', ...)."""
    loss = settings.get("loss")
    if isinstance(loss, dict):  # a loss object, or a function (whose config is its name)
        config = loss.get("config")
        loss = (config.get("name") if isinstance(config, dict) else config) or loss.get("class_name")
    name = str(loss or "")
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower() if any(c.isupper() for c in name) else name


def metric_names(settings: dict) -> list[str]:
    """The metrics of a compile config, lower-cased names ('accuracy', ...)."""
    names = []
    for m in settings.get("metrics") or []:
        if isinstance(m, dict):
            cfg = m.get("config")
            names.append(str(cfg.get("name") if isinstance(cfg, dict) else cfg or m.get("class_name")))
        else:
            names.append(str(m))
    return [n.lower() for n in names]


def class_predictions(outputs, n: int, num_classes: int, what: str = "your model's predictions") -> np.ndarray:
    """Validate a (n, num_classes) output array and return the predicted class of each row."""
    outputs = expect_array(outputs, what, shape=(n, num_classes), dtype_kind="f")
    return np.argmax(outputs, axis=1)


def accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(np.asarray(predicted) == np.asarray(labels)))


def confusion(predicted: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Rows: true class; columns: predicted class."""
    from sklearn.metrics import confusion_matrix
    return confusion_matrix(labels, predicted, labels=list(range(num_classes)))


def expect_history(value, what: str, keys=("loss",)) -> dict:
    """A training history (dict of per-epoch lists of numbers, as keras History.history)."""
    if not isinstance(value, dict) or not value:
        raise Feedback(f"{what} should return the training history (the dict model.fit(...).history), "
                       f"but it returned {type(value).__name__}")
    for key in keys:
        if key not in value:
            raise Feedback(f"{what}: the history has no {key!r}; compile with the metrics asked for")
    out = {}
    for key, series in value.items():
        arr = expect_array(series, f"history[{key!r}]", ndim=1, dtype_kind="n")
        out[str(key)] = [float(v) for v in arr]
    return out


def check_training_history(history, what: str) -> dict:
    """A validated training history with a loss and an accuracy per epoch, a finite loss that
    went down; Feedback naming what is wrong otherwise."""
    history = expect_history(history, what, keys=("loss",))
    if not any("acc" in k for k in history):
        raise Feedback(f"{what}: the history has no accuracy; compile with metrics=['accuracy']")
    losses = history["loss"]
    if len(losses) < 1:
        raise Feedback(f"{what}: the history is empty; did model.fit run?")
    if not all(np.isfinite(losses)):
        raise Feedback("the training loss became NaN or infinite; check the inputs and the learning rate")
    if len(losses) > 1 and not losses[-1] < losses[0]:
        raise Feedback("the training loss did not go down during training; check the loss, the optimizer and the labels")
    return history


def score_held_out(ref: ModelRef, task, threshold: float, seconds: float, device: str, record,
                   caps: Caps | None = None) -> None:
    """Score the learner's trained model on the task's held-out digits here, on the trusted side:
    the sandbox hands back the trained model (config + current weights), and `grader.exercise.heldout`
    rebuilds it in a limited child process that predicts the held-out inputs, which never enter
    the sandbox (nor do their labels). Record the metric and the confusion matrix for the report,
    and fail with the learner-facing sentence when the accuracy is under `threshold`."""
    trained = ref.trained() if ref.session is not None else ref
    outputs = heldout.predict(trained, task.x_test, caps, "your trained model", outputs=task.num_classes)
    predicted = class_predictions(outputs, len(task.x_test), task.num_classes,
                                  "your model's predictions for the held-out digits")
    acc = accuracy(predicted, task.y_test)
    record("metric", {"accuracy": acc, "threshold": threshold, "dataset": task.dataset, "seconds": seconds,
                      "device": device})
    record("confusion", confusion(predicted, task.y_test, task.num_classes))
    if acc < threshold:
        raise Feedback(accuracy_feedback(acc, threshold, task.dataset, seconds, device))


def accuracy_feedback(metric: float, threshold: float, dataset: str, seconds: float, device: str) -> str:
    """The sentence a learner reads about an accuracy threshold."""
    verdict = "enough" if metric >= threshold else f"{threshold:.2f} needed"
    return (f"your model reached {metric:.3f} held-out accuracy on {dataset} in {seconds:.0f} s on "
            f"{device.upper()}; {verdict}")


def score_metric(record, *, name: str, value: float, threshold: float, lower_is_better: bool, dataset: str,
                 seconds: float | None, device: str, what: str = "your model") -> None:
    """A threshold test's verdict on a metric computed here, on the trusted side (a held-out MAE,
    accuracy, recall or reconstruction error): record it for the report as {"name", "value",
    "threshold", "lower_is_better", "dataset", "seconds", "device"} and fail with the learner's
    sentence (`metric_feedback`) when `value` misses `threshold`."""
    value, threshold = float(value), float(threshold)
    record("metric", {"name": name, "value": value, "threshold": threshold, "lower_is_better": bool(lower_is_better),
                      "dataset": dataset, "seconds": seconds, "device": device})
    if not np.isfinite(value) or (value > threshold if lower_is_better else value < threshold):
        raise Feedback(metric_feedback(name, value, threshold, lower_is_better, dataset, seconds, device, what))


def metric_feedback(name: str, value: float, threshold: float, lower_is_better: bool, dataset: str,
                    seconds: float | None, device: str, what: str = "your model") -> str:
    """The sentence a learner reads about a metric's threshold, e.g. "your model reached 48.1
    held-out MAE on diabetes in 3 s on CPU; at most 55.0 needed"."""
    def fmt(v: float) -> str:
        return f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}"
    missed = not np.isfinite(value) or (value > threshold if lower_is_better else value < threshold)
    bound = "at most" if lower_is_better else "at least"
    verdict = f"{bound} {fmt(threshold)} needed" if missed else "enough"
    took = f" in {seconds:.0f} s on {device.upper()}" if seconds is not None else ""
    return f"{what} reached {fmt(value)} held-out {name} on {dataset}{took}; {verdict}"


def warm_up(model: ModelRef | None = None, caps: Caps | None = None) -> None:
    """Start the held-out predictor before the learner's training runs; given the learner's model
    about to be trained (and the exercise's caps), the predictor rebuilds its structure meanwhile
    (see `grader.exercise.heldout.warm_up`)."""
    heldout.warm_up(model.config if isinstance(model, ModelRef) else None, caps)
