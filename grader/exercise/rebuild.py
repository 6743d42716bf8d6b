"""A learner's Keras model rebuilt on the trusted side from the description the sandbox returned
(`wire.ModelRef`: JSON config and weights), in Keras's safe mode, after its size was computed from
the config. Shared by the model checks (`modelcheck`) and the held-out predictor child (`heldout`),
which both sit above this module. The held-out predictor rebuilds a model's structure while the
sandbox trains (`rebuild_structure`) and loads the trained weights when they come (`load_weights`).

Keras is imported on first use only, so numpy exercises never pay for it."""

from __future__ import annotations

import json

from grader.exercise.modelsize import Caps, ModelRefused, check_caps
from grader.exercise.testing import Feedback
from grader.exercise.weightless import built_without_weights
from grader.sandbox.inside.wire import ModelRef

__all__ = ["rebuild", "rebuild_structure", "load_weights"]


def rebuild(ref: ModelRef, what: str = "your model", caps: Caps | None = None):
    """A Keras model rebuilt from the sandbox's description, in safe mode, with its weights.
    Its size is computed from the config first (`modelsize.check_caps`, nothing allocated): a model
    over `caps` (the exercise's `[caps]`, default `Caps()`) is refused with the learner's message.
    A model the test asked for as architecture only (`submission.architecture`) is rebuilt without
    allocating weights (`weightless`): it can be described, not run."""
    if ref.architecture_only:
        return rebuild_structure(ref.config, what, caps, allocate=False)
    model = rebuild_structure(ref.config, what, caps)
    if ref.weights:  # large models come without weights; their structure is all that is checked
        load_weights(model, ref.weights, what)
    return model


def rebuild_structure(config: str, what: str = "your model", caps: Caps | None = None, allocate: bool = True):
    """The Keras model a JSON config describes, built in safe mode with freshly initialised
    weights (`allocate=False`: shapes only, for reading its architecture), after `check_caps`;
    Feedback with the learner's message when it cannot be."""
    try:
        check_caps(config, caps or Caps(), what)
    except ModelRefused as err:
        raise Feedback(str(err)) from None
    import keras
    try:
        parsed = json.loads(config)
        parsed.pop("compile_config", None)  # compiling would build optimizer state; the settings are read as data
        if allocate:
            model = keras.saving.deserialize_keras_object(parsed, safe_mode=True)
        else:
            model = built_without_weights(keras.saving.deserialize_keras_object, parsed, safe_mode=True)
    except Exception as err:
        raise Feedback(f"{what} could not be rebuilt from its configuration ({type(err).__name__}: "
                       f"{str(err)[:200]}); build it from built-in Keras layers with keras.Sequential or the "
                       "functional API (no Lambda layers, no custom layer classes)") from None
    if not isinstance(model, keras.Model):
        raise Feedback(f"{what} is not a Keras model")
    if not model.built:
        raise Feedback(f"{what} has no input shape; start it with keras.Input(shape=...)")
    return model


def load_weights(model, weights: list, what: str = "your model") -> None:
    """Set a rebuilt model's weights (the arrays the sandbox sent); Feedback when they do not fit."""
    try:
        model.set_weights(weights)
    except Exception:
        raise Feedback(f"{what}: its weights do not match its layers") from None
