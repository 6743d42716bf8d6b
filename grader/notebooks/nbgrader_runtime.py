"""What the tests translated from an nbgrader assignment use on the trusted side: the learner's
notebook as `submission` (its functions called in the sandbox, raising Python's own exception types;
its top-level values read as data), the `cell` guard that scores a test cell as nbgrader does (an
error earns nothing, its result may not give partial credit), and nose's assertion functions
(`from nose.tools import assert_equal` in a test cell becomes an import from here).

Nothing here runs learner code or trusts a learner's value: every value comes through the
sandbox's wire as data, and a learner's exception arrives as its type's name and message only."""

from __future__ import annotations

import builtins
import re
import unittest
from contextlib import contextmanager

from grader.exercise.testing import Feedback, GraderFault, SubmissionRaised, SubmissionUnavailable
from grader.grading.result import Kind, Status


class LearnerError(Exception):
    """Mixed into Python's own exception type when a learner's function raised it, so that a test
    cell's `except ValueError` or `assert_raises(ValueError, ...)` sees it; carries the learner's
    traceback (`raised`) for the feedback when nothing catches it."""

    raised: SubmissionRaised


_LEARNER_TYPES: dict[type, type] = {}


def _as_python_exception(raised: SubmissionRaised) -> BaseException:
    """The first of Python's own Exception types in the learner's exception's MRO, raised as a
    LearnerError of that type (a learner's `class Oops(ValueError)` is caught as ValueError)."""
    for name in raised.mro:
        base = getattr(builtins, name, None)
        if isinstance(base, type) and issubclass(base, Exception) and base is not Exception:
            break
    else:
        base = Exception
    kind = _LEARNER_TYPES.get(base)
    if kind is None:
        kind = _LEARNER_TYPES[base] = type(base.__name__, (LearnerError, base), {"__module__": "builtins"})
    try:
        err = kind(raised.message)
    except Exception:  # an exception type whose constructor wants more (UnicodeDecodeError)
        err = LearnerError(raised.message)
    err.raised = raised
    return err


class NotebookSubmission:
    """The learner's notebook as a translated test cell sees it: `submission.squares(3)` calls the
    learner's `squares` in the sandbox, `submission["total"]` reads the learner's top-level value
    `total` (data only)."""

    def __init__(self, proxy):
        self._proxy = proxy
        self._session = proxy._session

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        if not name.startswith("_") and not self._proxy.defines(name):  # as the notebook's NameError
            raise SubmissionUnavailable(f"your notebook does not define a function `{name}`; keep the names of "
                                        "the assignment", Status.ERROR, Kind.MISSING_FUNCTION)
        session = self._session

        def call(*args, **kwargs):
            try:
                return session.call(name, args, kwargs)
            except SubmissionRaised as raised:
                raise _as_python_exception(raised) from None
        call.__name__ = call.__qualname__ = name
        return call

    def __getitem__(self, name: str):
        try:
            return self._session._request({"op": "value", "name": name}, None, name)
        except SubmissionUnavailable as err:
            if err.kind == Kind.MISSING_FUNCTION:
                raise SubmissionUnavailable(f"your notebook does not define `{name}` (a value the test cells "
                                            "read); keep the names of the assignment", Status.ERROR,
                                            Kind.MISSING_FUNCTION) from None
            raise
        except SubmissionRaised as raised:
            raise _as_python_exception(raised) from None


def _cell_line(exc: BaseException, first_line: int, lines: tuple[int, ...]) -> int | None:
    """The line of the test cell where `exc` left the generated test, if known: from the deepest
    frame of the test's own file (the first file in the traceback that is not this one), through
    `lines` (the cell's line of each generated line from `first_line` on)."""
    tb, test_file, line = exc.__traceback__, None, None
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if test_file is None and name != __file__:
            test_file = name
        if name == test_file:
            line = tb.tb_lineno
        tb = tb.tb_next
    if line is None or not 0 <= line - first_line < len(lines):
        return None
    return lines[line - first_line] or None


@contextmanager
def cell(grade_id: str, first_line: int, lines: tuple[int, ...] = (), hidden: bool = False):
    """Run one translated test cell: an exception the learner's code raised and nothing caught is
    reported as the learner's (their traceback); any other error fails the test, as an error in an
    nbgrader test cell earns nothing. A hidden cell's failure names the cell and its line only
    (never the values it compared)."""
    try:
        yield
    except LearnerError as err:
        raise err.raised from None
    except (SubmissionRaised, SubmissionUnavailable, GraderFault, Feedback):
        raise  # the grader's own messages (a learner's exception, a value that is not data...)
    except Exception as err:  # noqa: BLE001  (the cell failed: nbgrader gives it 0)
        line = _cell_line(err, first_line, lines)
        where = f"test cell `{grade_id}`" + (f", line {line}," if line else "")
        if hidden:
            message = f"{where} failed ({type(err).__name__})"
        else:
            text = str(err).strip()
            message = f"{where} failed: {type(err).__name__}" + (f": {text}" if text else "")
        raise Feedback(message) from None


class Cells:
    """The names test cells share (one cell binds `out`, a later one reads it), fresh for each
    grading; a name no earlier cell bound is a NameError, as in the notebook."""

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        raise NameError(f"name {name!r} is not defined (the test cell that binds it failed before it did)")


def result(value, points: float) -> None:
    """A test cell's last expression, scored as nbgrader scores a cell's result: nothing or text
    that is not a number earns the cell's points; a number from 0 up to the points is partial credit,
    which a dlgrade test cannot give: it passes only at the full points."""
    if value is None:
        return
    text = repr(value)
    try:
        grade = float(text)
    except ValueError:
        return
    if grade < 0 or grade >= points:
        return
    raise Feedback(f"the test cell's result gives {grade:g} of its {points:g} points; a test passes only "
                   "with all of them")


# --- nose.tools ------------------------------------------------------------------------------------
# nose (unmaintained, not importable on current Python) made unittest's assertions into functions;
# nbgrader notebooks still import them. The same functions, made the same way:

class _Asserts(unittest.TestCase):
    maxDiff = 2000

    def runTest(self):  # pragma: no cover  (never run: an instance only lends its assertions)
        pass


_ASSERTS = _Asserts()
NOSE_NAMES: list[str] = []
for _name in dir(_ASSERTS):
    if _name.startswith("assert") and "_" not in _name and not _name.endswith("_"):
        _snake = re.sub(r"(?<!^)([A-Z])", r"_\1", _name).lower()
        globals()[_snake] = getattr(_ASSERTS, _name)
        NOSE_NAMES.append(_snake)


def ok_(expr, msg=None):
    """nose's ok_: fail unless `expr` is true."""
    if not expr:
        raise AssertionError(msg)


def eq_(a, b, msg=None):
    """nose's eq_: fail unless a == b."""
    if not a == b:
        raise AssertionError(msg or f"{a!r} != {b!r}")


NOSE_NAMES += ["ok_", "eq_"]

__all__ = ["LearnerError", "NotebookSubmission", "Cells", "cell", "result", "ok_", "eq_", "NOSE_NAMES"]
