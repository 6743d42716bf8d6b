"""The trusted pytest session kept between gradings (grader/grading/suite.py): each grading gets its
own results, fixtures and submission; a changed test file is never served stale; a test file that
breaks is a grader fault and is collected afresh once fixed. Real gradings of perceptron."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.exercise.spec import find_exercise, load_exercise
from grader.grading import suite as trusted_suites
from grader.grading.engine import grade


@pytest.fixture
def copy(tmp_path):
    """A private copy of perceptron (exercise folder and solution folder) whose tests can change."""
    ex = find_exercise("perceptron")
    shutil.copytree(ex.directory, tmp_path / "exercises" / "perceptron")
    shutil.copytree(ex.solution_dir, tmp_path / "solutions" / "perceptron", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def _load(root: Path):
    return load_exercise(root / "exercises" / "perceptron", root / "solutions")


def test_one_session_serves_gradings_one_after_another_each_with_its_own_results():
    ex = find_exercise("perceptron")
    template = ex.directory / "template.py"
    first = grade(ex, ex.solution, "public", device="cpu")
    kept = set(map(id, trusted_suites._suites.values()))
    second = grade(ex, template, "public", device="cpu")
    third = grade(ex, ex.solution, "public", device="cpu")
    assert set(map(id, trusted_suites._suites.values())) == kept  # the same session, not a new one
    assert first.score == first.max_score == third.score and second.score == 0
    assert [t.name for t in first.tests] == [t.name for t in second.tests] == [t.name for t in third.tests]
    assert len({t.name for t in second.tests}) == len(second.tests)  # no result carried over
    assert all(t.output for t in second.tests) and not any(t.output for t in third.tests)


def test_a_changed_test_file_is_never_served_stale(copy):
    ex = _load(copy)
    before = grade(ex, ex.solution, "public", device="cpu")
    tests = ex.public_tests
    tests.write_text(tests.read_text() + "\n\n@points(5)\ndef test_added_later(submission):\n"
                     "    assert submission.step(0.5) == 123, 'the changed test'\n")
    after = grade(_load(copy), ex.solution, "public", device="cpu")
    assert "test_added_later" not in {t.name for t in before.tests}
    added = next(t for t in after.tests if t.name == "test_added_later")
    assert added.score == 0 and "the changed test" in added.output
    assert after.max_score == before.max_score + 5


def test_a_test_file_that_breaks_is_a_grader_fault_and_is_collected_again_once_fixed(copy):
    ex = _load(copy)
    good = ex.public_tests.read_text()
    ex.public_tests.write_text(good + "\nthis is not python\n")
    broken = grade(_load(copy), ex.solution, "public", device="cpu", retries=0)
    assert broken.grader_fault and broken.score == 0
    ex.public_tests.write_text(good)
    fixed = grade(_load(copy), ex.solution, "public", device="cpu")
    assert not fixed.grader_fault and fixed.score == fixed.max_score > 0
