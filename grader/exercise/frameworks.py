"""The deep-learning frameworks' own log lines (TensorFlow's C++ start-up notes, XLA, oneDNN),
kept off the user's terminal: the settings for a child process's environment, and for the trusted
process of a grading before it imports Keras. Standard library only."""

from __future__ import annotations

import os
import sys

__all__ = ["QUIET_LOG_ENV", "quiet_env", "quiet_this_process"]

#: environment settings that silence the frameworks' C++ logging (read once, when they load)
QUIET_LOG_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",   # TensorFlow: errors only go through Python exceptions
    "GRPC_VERBOSITY": "ERROR",
    "GLOG_minloglevel": "3",       # XLA / JAX (glog)
}


def quiet_env(env: dict[str, str]) -> dict[str, str]:
    """`env` (a child's environment) with the frameworks' logging quieted."""
    return {**env, **QUIET_LOG_ENV}


def quiet_this_process() -> bool:
    """Quiet the frameworks in this process before it loads one (the trusted side of a grading
    imports Keras to rebuild a learner's model). Only for this process and only where the user has
    not chosen a level: a setting of their own wins. Too late once TensorFlow is loaded (it reads
    the level when it loads): returns whether the settings came in time."""
    for key, value in QUIET_LOG_ENV.items():
        os.environ.setdefault(key, value)
    return "tensorflow" not in sys.modules
