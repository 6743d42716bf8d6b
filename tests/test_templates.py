"""Templates are generated from the references, and the committed ones are current."""

import ast

import pytest

from grader.exercise.cohort import KINDS, submission_source
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


@pytest.mark.parametrize("kind", KINDS)
def test_simulated_learners_hand_in_distinct_files_that_behave_as_their_kind(kind):
    # a benchmark's cohort must not repeat a file (a cache would be measured instead of grading),
    # and the learner's name must change nothing but the text: same code, same line numbers
    ex = next(e for e in EXERCISES if e.id == "perceptron")
    plain = submission_source(ex, kind)
    named = [submission_source(ex, kind, learner=f"learner{i:03d}") for i in range(3)]
    assert len(set(named)) == 3
    for text in named:
        assert text.splitlines()[:-1] == plain.rstrip("\n").splitlines()
        assert text.splitlines()[-1].startswith("#")
        if kind != "broken":
            assert ast.dump(ast.parse(text)) == ast.dump(ast.parse(plain))
    with pytest.raises(ValueError, match="unknown kind"):
        submission_source(ex, "lazy")
