"""The model checks under their stable name for exercise authors: `grader.exercise.modelcheck`
(rebuilding and checking a learner's Keras model, held-out scoring) and
`grader.exercise.keras_tasks` (the `task` and `trained` fixtures and the held-out accuracy check
that the Keras exercises share)."""

from grader.exercise.keras_tasks import *  # noqa: F401,F403
from grader.exercise.keras_tasks import __all__ as _keras_tasks_all
from grader.exercise.modelcheck import *  # noqa: F401,F403
from grader.exercise.modelcheck import __all__ as _modelcheck_all

__all__ = list(_modelcheck_all) + list(_keras_tasks_all)
