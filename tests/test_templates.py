"""Templates are generated from the references, and the committed ones are current."""

import ast

import pytest

from grader.exercise.templates import PLACEHOLDER, TemplateError, expected_template, make_template
from grader.exercise.spec import all_exercises

SOLUTION = '''import numpy as np


def f(x):
    """Double x."""
    ### BEGIN SOLUTION
    y = x * 2
    return y
    ### END SOLUTION


class A:
    def g(self):
        ### BEGIN SOLUTION
        return 1
        ### END SOLUTION
'''


def test_marked_regions_become_not_implemented_at_their_indentation():
    out = make_template(SOLUTION)
    assert "y = x * 2" not in out and "return 1" not in out and "BEGIN SOLUTION" not in out
    assert f"    {PLACEHOLDER}\n" in out and f"        {PLACEHOLDER}\n" in out
    assert '"""Double x."""' in out and "import numpy as np" in out
    ast.parse(out)


@pytest.mark.parametrize("bad, message", [
    ("### BEGIN SOLUTION\nx = 1\n", "never closed"),
    ("x = 1\n### END SOLUTION\n", "without a"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "inside another"),
])
def test_unpaired_markers_are_reported_with_the_line(bad, message):
    with pytest.raises(TemplateError, match=message):
        make_template(bad, "solution.py")


EXERCISES = all_exercises()


@pytest.mark.parametrize("exercise", EXERCISES, ids=[e.id for e in EXERCISES])
def test_committed_template_is_current(exercise):
    assert exercise.template.read_text(encoding="utf-8") == expected_template(exercise), (
        f"exercises/{exercise.id}/template.py is stale: run `dlgrade templates`")


@pytest.mark.parametrize("exercise", EXERCISES, ids=[e.id for e in EXERCISES])
def test_template_defines_every_function_of_the_exercise(exercise):
    tree = ast.parse(exercise.template.read_text(encoding="utf-8"))
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert set(exercise.functions) <= defined


@pytest.mark.parametrize("exercise", EXERCISES, ids=[e.id for e in EXERCISES])
def test_exercise_has_bilingual_readme_and_both_test_suites(exercise):
    readme = (exercise.directory / "README.md").read_text(encoding="utf-8")
    assert any("\u0600" <= ch <= "\u06ff" for ch in readme), "README needs its Persian part"
    assert exercise.public_tests.is_file() and exercise.hidden_tests is not None
    assert exercise.title.get("en") and exercise.title.get("fa")
