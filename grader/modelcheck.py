"""The model checks under their stable name for exercise authors (the code lives in
`grader.exercise.modelcheck`)."""

from grader.exercise.modelcheck import *  # noqa: F401,F403
from grader.exercise.modelcheck import __all__  # noqa: F401
