"""What the grader-level tests of single exercises (tests/test_ex_*.py) share: the near-miss
learners' folder, a learner made by editing the reference, and the tests a result lost."""

from __future__ import annotations

from pathlib import Path

NEAR_MISS = Path(__file__).resolve().parent / "near_miss"


def edited_reference(tmp_path: Path, ex, old: str, new: str, count: int = 1, source: Path | None = None) -> Path:
    """A learner file: the reference (or `source`) with `old` replaced by `new`; `old` must occur
    `count` times, so a changed reference fails the test instead of silently testing nothing."""
    text = (source or ex.solution).read_text()
    assert text.count(old) == count, f"the reference no longer contains {old!r} {count} time(s)"
    path = tmp_path / ex.entry
    path.write_text(text.replace(old, new))
    return path


def lost(result) -> dict[str, str]:
    """{test name: its output} for every test of `result` that did not pass."""
    return {t.name: t.output for t in result.tests if t.status != "passed"}


def check_reference_full_and_template_zero(ex) -> None:
    """On both suites: the reference gets every point of the suite, the untouched template 0 with
    no grader fault."""
    from grader.grading.engine import grade
    for suite in ("public", "hidden"):
        ref = grade(ex, ex.solution, suite)
        assert ref.full_marks and ref.max_score == ex.points[suite], (suite, lost(ref))
        tpl = grade(ex, ex.template, suite)
        assert tpl.score == 0 and not tpl.grader_fault, (suite, tpl.score)
