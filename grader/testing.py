"""The test author's API under its stable name (the code lives in `grader.exercise.testing`)."""

from grader.exercise.testing import *  # noqa: F401,F403
from grader.exercise.testing import __all__  # noqa: F401
