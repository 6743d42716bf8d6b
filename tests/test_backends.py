"""The Keras exercises grade the same way on the JAX and torch backends.

Deselected by default (see pyproject's addopts); run with the backends installed:
    pip install -e '.[test,jax,torch]' && python -m pytest -m backends
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from grader.exercise.spec import all_exercises

KERAS_EXERCISES = [e for e in all_exercises() if "keras" in e.preload]


@pytest.mark.backends
@pytest.mark.parametrize("backend", ["jax", "torch"])
@pytest.mark.parametrize("exercise", KERAS_EXERCISES, ids=[e.id for e in KERAS_EXERCISES])
def test_reference_gets_full_marks_on_backend(backend, exercise):
    if importlib.util.find_spec(backend) is None:
        pytest.fail(f"{backend} is not installed: pip install -e '.[{backend}]'")
    env = dict(os.environ, KERAS_BACKEND=backend)
    dlgrade = [sys.executable, "-c", "import sys; from grader.cli import main; sys.exit(main())"]  # the entry point
    proc = subprocess.run(dlgrade + ["grade", exercise.id, str(exercise.solution), "--json", "--device", "cpu"],
                          capture_output=True, text=True, env=env, timeout=900)
    result = json.loads(proc.stdout)
    failed = [(t["name"], t["output"]) for t in result["tests"] if t["status"] != "passed"]
    assert result["score"] == result["max_score"], failed
    assert result["extra_data"]["versions"]["backend"] == backend
