"""What the server shows of gradings: which exercises the instructor has released (`releases`,
revision 0004: hidden scores and feedback are shown to learners only then), and receipts with their
grading (state, public results, score once released: grader/server/grading.py decides them)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.clock import iso, now_utc
from grader.gradebook.models import ReleaseRecord
from grader.gradebook.rows import SubmissionRow
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


def receipts(app, rows: list[SubmissionRow], staff: bool = False) -> list[dict]:
    """Receipts with their "grading" (grader/server/grading.py `grading_views`: state, what runs on
    submit, public results, and the score only where the exercise is released, or for staff)."""
    from grader.server.grading import grading_views
    opened = set(released(app.state.gradebook))
    views = grading_views(app, [r.id for r in rows], released=lambda ex: staff or ex in opened)
    out = []
    for row in rows:
        data = Receipt.of(row).as_dict()
        data["grading"] = views.get(row.id, {"state": "queued", "public": None})
        out.append(data)
    return out


__all__ = ["released", "release", "receipts"]
