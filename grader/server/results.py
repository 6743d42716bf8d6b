"""What the server shows of gradings: each submission's grading state (queued, running, graded,
failed), its public results (grading on submit, grader/server/grading.py), and its score only once
the instructor has released the exercise (`releases`, revision 0004). A grader fault is shown as
`failed`, never as a score."""

from __future__ import annotations

import importlib.util
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.clock import iso, now_utc
from grader.gradebook.models import ReleaseRecord
from grader.gradebook.rows import GradingRow, GradingState, SubmissionRow, late_score
from grader.server.uploads import Receipt


def released(gradebook) -> dict[str, dict]:
    """{exercise: {"released_at", "released_by"}} of the exercises released to learners."""
    with Session(gradebook.engine) as s:
        return {r.exercise_id: {"released_at": iso(r.released_at), "released_by": r.released_by}
                for r in s.scalars(select(ReleaseRecord))}


def release(gradebook, exercise_id: str, who: str) -> dict:
    """Release an exercise's hidden results and feedback to its learners (again: unchanged)."""
    with Session(gradebook.engine) as s, s.begin():
        row = s.get(ReleaseRecord, exercise_id)
        if row is None:
            row = ReleaseRecord(exercise_id=exercise_id, released_at=now_utc(), released_by=who[:200])
            s.add(row)
            s.flush()
        return {"exercise": exercise_id, "released_at": iso(row.released_at), "released_by": row.released_by}


def _hooks():
    """grader.server.grading's (state_of, public_view) when that module provides them."""
    if importlib.util.find_spec("grader.server.grading") is None:
        return None, None
    from grader.server import grading
    return getattr(grading, "state_of", None), getattr(grading, "public_view", None)


def latest_gradings(gradebook, student: str | None = None, exercise: str | None = None) -> dict[int, GradingRow]:
    """{submission id: the newest grading that applies to it}."""
    out: dict[int, GradingRow] = {}
    for g in gradebook.grading_rows(student, exercise):  # oldest first: the last one wins
        out[g.submission_id] = g
    return out


def grading_view(app, sub: SubmissionRow, grading: GradingRow | None, show_score: bool) -> dict:
    """The "grading" object of a receipt: state, public results (or None), and score/max_score when
    `show_score` (released, or staff)."""
    state_of, public_view = _hooks()
    if grading is not None and grading.status is GradingState.GRADED:
        state = "graded"
    elif grading is not None:
        state = "failed"
    else:
        state = "queued"
    if state == "queued" and state_of is not None:
        state = state_of(app, sub.id) or state
    elif state == "queued" and sub.id in getattr(app.state, "running", ()):
        state = "running"
    view = {"state": state, "public": public_view(app, sub.id) if public_view is not None else None}
    if show_score and state == "graded":
        view["score"] = late_score(grading.score, sub.late_factor if sub.late else 1.0)
        view["max_score"] = grading.max_score
    return view


def receipts(app, rows: list[SubmissionRow], staff: bool = False) -> list[dict]:
    """Receipts with their "grading" for submission rows (scores only where released, or for staff)."""
    gradebook = app.state.gradebook
    opened = released(gradebook)
    gradings: dict[int, GradingRow] = {}
    for student in sorted({r.student_id for r in rows}):
        gradings.update(latest_gradings(gradebook, student))
    out = []
    for row in rows:
        data = Receipt.of(row).as_dict()
        data["grading"] = grading_view(app, row, gradings.get(row.id), staff or row.exercise_id in opened)
        out.append(data)
    return out


__all__ = ["released", "release", "latest_gradings", "grading_view", "receipts"]
