"""Keras models built for their architecture alone, on the trusted side: a layer table, a config,
activations or a parameter count need no weights, and a VGG16 built without them takes ~20 ms
and a few MB instead of ~0.5 s and 0.5 GB.

Inside `weights_unallocated()` every Keras variable gets a shape and an initializer but no value
(`keras.StatelessScope(initialize_variables=False)`); on leaving, the variables it deferred are
dropped from Keras's list of variables to initialize, so no later scope allocates them. Such a
model can be described, not run. The sandbox has its own copy of this scope
(`sandbox/inside/runner.py`, which imports nothing of the grader's) for `submission.architecture`.

Keras is imported on first use only."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

__all__ = ["weights_unallocated", "built_without_weights"]

_PENDING = "uninitialized_variables"  # Keras's (thread-local) list of variables a scope deferred


@contextlib.contextmanager
def weights_unallocated() -> Iterator[None]:
    """Keras variables created inside have shapes, no values (see the module's docstring).
    `Model.compile` runs outside the scope: it makes the optimizer's and the metrics' few scalar
    variables from values, which a stateless scope refuses; the model's own stay unallocated."""
    import keras
    from keras.src.backend.common import global_state
    pending = global_state.get_global_attribute(_PENDING, [], set_to_default=True)
    before = len(pending)
    own_compile = keras.Model.__dict__.get("compile")
    inherited = keras.Model.compile

    def compile_outside_the_scope(model, *args, **kwargs):
        scope = global_state.get_global_attribute("stateless_scope")
        global_state.set_global_attribute("stateless_scope", None)  # Keras's scope state is per thread
        try:
            return inherited(model, *args, **kwargs)
        finally:
            global_state.set_global_attribute("stateless_scope", scope)
    keras.Model.compile = compile_outside_the_scope
    try:
        with keras.StatelessScope(initialize_variables=False):
            yield
    finally:
        if own_compile is None:
            del keras.Model.compile
        else:
            keras.Model.compile = own_compile
        now = global_state.get_global_attribute(_PENDING)
        if now is pending:
            del now[before:]
        elif isinstance(now, list):  # Keras initialised the earlier ones and began a new list: all ours
            now.clear()


def built_without_weights(build: Callable, *args, **kwargs):
    """`build(*args, **kwargs)` inside `weights_unallocated()`, for trusted code (the reference, a
    safe-mode rebuild) whose result is read as architecture only; built the ordinary way when that
    raised (a build that needs a variable's value), so the answer never depends on the shortcut."""
    try:
        with weights_unallocated():
            return build(*args, **kwargs)
    except Exception:  # noqa: BLE001  (the ordinary build below raises what is really wrong)
        return build(*args, **kwargs)
