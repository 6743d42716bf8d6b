"""What the grader-level tests of single exercises (tests/test_ex_*.py) share: the near-miss
learners' folder, a learner made by editing the reference, and the tests a result lost."""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np

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


HELD_OUT_SEED = 20261  # the reference's hidden grading below, so its held-out data can be recomputed


def check_reference_full_and_template_zero(ex, held_out=None) -> None:
    """On both suites: the reference gets every point of the suite, the untouched template 0 with
    no grader fault. `held_out(heldout_seed, hoda)` -> the held-out input arrays of a threshold
    exercise: the reference's hidden grading runs with that seed, and none of their rows may be
    among the arrays sent into the sandbox (the answers never enter it)."""
    from grader.grading.engine import grade
    for suite in ("public", "hidden"):
        sent: list = []
        with _spy_on_the_wire(sent if held_out and suite == "hidden" else None):
            ref = grade(ex, ex.solution, suite, heldout_seed=HELD_OUT_SEED, hoda_dir=HODA)
        assert ref.full_marks and ref.max_score == ex.points[suite], (suite, lost(ref))
        if held_out and suite == "hidden":
            _assert_never_sent(held_out(HELD_OUT_SEED, HODA), sent)
        tpl = grade(ex, ex.template, suite)
        assert tpl.score == 0 and not tpl.grader_fault, (suite, tpl.score)


def _hoda():
    from grader.data import hoda_available, hoda_dir
    return hoda_dir() if hoda_available() else None  # conftest points $DLGRADE_HODA_DIR at the course's


HODA = _hoda()


@contextlib.contextmanager
def _spy_on_the_wire(sent: list | None):
    """Collect every numpy array the trusted side sends into the sandbox (None: no spy)."""
    if sent is None:
        yield
        return
    from grader.grading.plugin import SandboxSession
    original = SandboxSession._request

    def spy(self, header, payload, *args, **kwargs):
        _arrays(payload, sent)
        return original(self, header, payload, *args, **kwargs)
    SandboxSession._request = spy
    try:
        yield
    finally:
        SandboxSession._request = original


def _arrays(value, out: list) -> list:
    if isinstance(value, np.ndarray):
        out.append(value)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _arrays(v, out)
    elif isinstance(value, dict):
        for v in value.values():
            _arrays(v, out)
    return out


def _assert_never_sent(held_out: list, sent: list) -> None:
    assert sent, "the spy saw nothing sent to the sandbox"
    for inputs in held_out:
        inputs = np.asarray(inputs, dtype=np.float32)
        rows = {r.tobytes() for r in inputs}
        seen = set()
        for a in sent:
            if a.ndim == inputs.ndim and a.shape[1:] == inputs.shape[1:] and a.dtype.kind in "fiu":
                seen |= {r.tobytes() for r in a.astype(np.float32)} & rows
        assert len(seen) <= 0.01 * len(rows), f"{len(seen)} of {len(rows)} held-out inputs were sent to the sandbox"
