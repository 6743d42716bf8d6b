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
