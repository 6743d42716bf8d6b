"""What exercise tests import: the points marker, checks for values that come back from the
sandbox, and the exceptions a test sees. The pytest plugin that wires a grading together lives in
`grader.grading.plugin`; this module has no state and imports nothing heavy."""

from __future__ import annotations

import contextlib
import numbers
from dataclasses import dataclass

import numpy as np
import pytest

from grader.exercise.outcome import Kind, Status
from grader.sandbox.inside.wire import KerasInput, Surface

__all__ = ["points", "Feedback", "GraderFault", "SubmissionRaised", "SubmissionUnavailable", "Rng",
           "Surface", "KerasInput",
           "expect_raises", "expect_array", "expect_number", "expect_int", "expect_bool", "expect_tuple",
           "expect_dict", "error_summary"]

points = pytest.mark.points
"""`@points(n)`: the test is worth n points (1 when a test has no marker)."""


class Feedback(AssertionError):
    """A test failure whose message is written for the learner (kind: wrong answer, unless given)."""

    def __init__(self, *args, kind: Kind = Kind.WRONG_ANSWER):
        super().__init__(*args)
        self.kind = kind


class GraderFault(Exception):
    """The trusted side could not grade (a test's or modelcheck's own problem, missing data, a
    machine fault): never the learner's fault and never a grade. The grading is retried, then
    stored as failed and graded again later. The message is for the instructor only; the learner
    reads a fixed sentence."""

    kind = Kind.GRADER_FAULT


class SubmissionRaised(Exception):
    """The learner's function raised. Carries the exception's type names and the learner's
    own traceback lines (grader frames removed), never a live object from the sandbox."""

    def __init__(self, function: str, type_name: str, mro: list[str], message: str, traceback: str):
        self.function = function
        self.type_name = type_name
        self.mro = mro
        self.message = message
        self.traceback = traceback
        super().__init__(f"{function} raised {type_name}: {message}")

    @property
    def kind(self) -> Kind:
        if self.is_a("NotImplementedError"):
            return Kind.NOT_IMPLEMENTED
        if self.is_a("MemoryError"):
            return Kind.MEMORY
        return Kind.RAISED

    def is_a(self, type_name: str) -> bool:
        """True when the learner's exception is `type_name` or a subclass of it."""
        return type_name in self.mro


class SubmissionUnavailable(Exception):
    """The sandbox cannot answer: the submission failed to import, exited, crashed, ran out of
    time or memory, or lacks the function. The message is learner-facing; `status` is
    `Status.TIMEOUT` when time ran out, else `Status.ERROR`; `kind` says which of these it is
    (default: timeout when time ran out, else crashed)."""

    def __init__(self, message: str, status: Status = Status.ERROR, kind: Kind | None = None):
        super().__init__(message)
        self.status = Status(status)
        self.kind = kind or (Kind.TIMEOUT if self.status == Status.TIMEOUT else Kind.CRASHED)


@dataclass(frozen=True)
class Rng:
    """An argument that the sandbox turns into `numpy.random.default_rng(seed)`."""

    seed: int


@contextlib.contextmanager
def expect_raises(type_name: str, call: str):
    """Pass when the learner's call inside the block raises `type_name` (or a subclass)."""
    try:
        yield
    except SubmissionRaised as err:
        if not err.is_a(type_name):
            raise Feedback(f"{call} should raise {type_name}, but it raised {err.type_name}: {err.message}")
        return
    raise Feedback(f"{call} should raise {type_name}, but it returned without an error")


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"a value of type {type(value).__name__}"


def expect_array(value, what: str, shape=None, dtype_kind: str | None = None, finite: bool = True,
                 ndim: int | None = None) -> np.ndarray:
    """Check that `value` is a numpy array (lists of numbers are accepted and converted) of the
    given shape (None entries match any size) and dtype kind ('f' float, 'i' integer, 'b' bool,
    'n' any number; 'U' strings, the only way an array of strings passes), with no NaN/inf when
    `finite`. Returns the array."""
    if isinstance(value, (list, tuple)):
        try:
            value = np.asarray(value)
        except (ValueError, TypeError):
            raise Feedback(f"{what} should be a numpy array, but it returned a ragged list") from None
        if value.dtype == object:
            raise Feedback(f"{what} should be a numpy array of numbers, but it returned a list of other things")
    elif isinstance(value, (numbers.Number, np.generic)) and shape == ():
        value = np.asarray(value)
    if not isinstance(value, np.ndarray):
        raise Feedback(f"{what} should be a numpy array, but it returned {_describe(value)}")
    if ndim is not None and value.ndim != ndim:
        raise Feedback(f"{what} should have {ndim} dimension(s), but it has shape {value.shape}")
    if shape is not None:
        shape = tuple(shape)
        ok = len(shape) == value.ndim and all(s is None or s == v for s, v in zip(shape, value.shape))
        if not ok:
            need = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
            raise Feedback(f"{what} should have shape {need}, but it has shape {value.shape}")
    kinds = {"f": "fc", "i": "iu", "b": "b", "n": "biufc"}
    if dtype_kind is not None:
        allowed = kinds.get(dtype_kind, dtype_kind)
        if value.dtype.kind not in allowed:
            names = {"f": "floating-point", "i": "integer", "b": "boolean", "n": "numeric", "U": "string"}
            raise Feedback(f"{what} should hold {names.get(dtype_kind, dtype_kind)} values, "
                           f"but its dtype is {value.dtype}")
    if value.dtype.kind not in ("U" if dtype_kind == "U" else "biufc"):
        want = "strings" if dtype_kind == "U" else "numbers"
        raise Feedback(f"{what} should hold {want}, but its dtype is {value.dtype}")
    if finite and value.dtype.kind in "fc" and not np.all(np.isfinite(value)):
        bad = int(np.size(value) - np.count_nonzero(np.isfinite(value)))
        raise Feedback(f"{what} contains {bad} NaN or infinite value(s); check for overflow "
                       "(e.g. exp of a large number) or a division by zero")
    return value


def expect_number(value, what: str, finite: bool = True) -> float:
    """Check that `value` is a real number (Python or numpy scalar, or a 0-d/1-element array)."""
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "biuf":
        value = value.reshape(()).item()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Feedback(f"{what} should be a number, but it returned {_describe(value)}")
    if finite and not np.isfinite(value):
        raise Feedback(f"{what} should be a finite number, but it is {value}")
    return float(value)


def expect_int(value, what: str) -> int:
    """Check that `value` is a whole number (int, numpy integer or 0-d integer array; not bool,
    not float)."""
    if isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind in "iu":
        value = value.item()
    if isinstance(value, np.integer):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        hint = " (use // for whole-number division, or int(...))" if isinstance(value, (float, np.floating)) else ""
        raise Feedback(f"{what} should be an int, but it returned {_describe(value)}{hint}")
    return value


def expect_bool(value, what: str) -> bool:
    """Check that `value` is a bool (Python or numpy, or a 0-d boolean array)."""
    if isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind == "b":
        value = value.item()
    if isinstance(value, np.bool_):
        value = bool(value)
    if not isinstance(value, bool):
        raise Feedback(f"{what} should be True or False, but it returned {_describe(value)}")
    return value


def expect_tuple(value, what: str, length: int) -> tuple:
    """Check that `value` is a tuple (or list) of `length` items."""
    if not isinstance(value, (tuple, list)):
        raise Feedback(f"{what} should return a tuple of {length} items, but it returned {_describe(value)}")
    if len(value) != length:
        raise Feedback(f"{what} should return {length} items, but it returned {len(value)}")
    return tuple(value)


def expect_dict(value, what: str, keys=None) -> dict:
    """Check that `value` is a dict with string keys, holding exactly `keys` when given."""
    if not isinstance(value, dict):
        raise Feedback(f"{what} should return a dict, but it returned {_describe(value)}")
    if keys is not None:
        missing = sorted(set(keys) - set(value))
        extra = sorted(set(value) - set(keys))
        if missing or extra:
            parts = []
            if missing:
                parts.append("missing keys " + ", ".join(map(repr, missing)))
            if extra:
                parts.append("unexpected keys " + ", ".join(map(repr, extra)))
            raise Feedback(f"{what}: " + "; ".join(parts))
    return value


def error_summary(got: np.ndarray, want: np.ndarray) -> str:
    """Describe how far `got` is from `want` without revealing `want`: the largest absolute
    error and the index where it is."""
    diff = np.abs(np.asarray(got, dtype=float) - np.asarray(want, dtype=float))
    if diff.size == 0:
        return "no elements to compare"
    idx = np.unravel_index(int(np.argmax(diff)), diff.shape)
    where = f" at index {tuple(int(i) for i in idx)}" if diff.ndim else ""
    return f"largest absolute error {float(diff.max()):.3g}{where}"
