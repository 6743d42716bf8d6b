"""Keras models built for their architecture alone, on the trusted side: a layer table, a config,
activations or a parameter count need no weights, and a VGG16 built without them takes ~20 ms
and a few MB instead of ~0.5 s and 0.5 GB.

Inside `weights_unallocated()` every Keras variable gets a shape and an initializer but no value
(`keras.StatelessScope(initialize_variables=False)`), optimizers excepted; on leaving, the variables it deferred are
dropped from Keras's list of variables to initialize, so no later scope allocates them. Such a
model can be described, not run. The sandbox has its own copy of this scope
(`sandbox/inside/runner.py`, which imports nothing of the grader's) for `submission.architecture`.

Keras is imported on first use only."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

__all__ = ["weights_unallocated", "built_without_weights"]

_PENDING = "uninitialized_variables"  # Keras's (thread-local) list of variables a scope deferred


_patch_lock = threading.Lock()
_patch_depth = 0  # scopes open in this process's threads; the optimizer patch is in place while > 0
_own_init = None


def _optimizers_outside_the_scope(optimizer_class, global_state) -> None:
    """Make optimizers outside a stateless scope (their few scalar variables come from values,
    which the scope refuses), so `compile` and `keras.optimizers.Adam(...)` work inside one. One
    wrapper for all threads, counted in and out; Keras's scope state itself is per thread."""
    global _patch_depth, _own_init
    with _patch_lock:
        _patch_depth += 1
        if _patch_depth > 1:
            return
        own_init = _own_init = optimizer_class.__dict__["__init__"]

        def init_outside_the_scope(optimizer, *args, **kwargs):
            scope = global_state.get_global_attribute("stateless_scope")
            global_state.set_global_attribute("stateless_scope", None)
            try:
                return own_init(optimizer, *args, **kwargs)
            finally:
                global_state.set_global_attribute("stateless_scope", scope)
        optimizer_class.__init__ = init_outside_the_scope


def _optimizers_as_before(optimizer_class) -> None:
    global _patch_depth
    with _patch_lock:
        _patch_depth -= 1
        if _patch_depth == 0:
            optimizer_class.__init__ = _own_init


@contextlib.contextmanager
def weights_unallocated() -> Iterator[None]:
    """Keras variables created inside have shapes, no values (see the module's docstring);
    optimizers are made outside the scope, so compiling works in it."""
    import keras
    from keras.src.backend.common import global_state
    from keras.src.optimizers.base_optimizer import BaseOptimizer
    pending = global_state.get_global_attribute(_PENDING, [], set_to_default=True)
    before = len(pending)
    _optimizers_outside_the_scope(BaseOptimizer, global_state)
    try:
        with keras.StatelessScope(initialize_variables=False):
            yield
    finally:
        _optimizers_as_before(BaseOptimizer)
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
