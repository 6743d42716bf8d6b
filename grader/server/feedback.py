"""A learner's feedback page over HTTP: the same page `dlgrade report` writes (grader/report),
rendered from the gradebook on request for one learner and one exercise."""

from __future__ import annotations


def render_feedback(app, student: str, exercise: str, lang: str = "en") -> tuple[str, str] | None:
    """(HTML, Markdown) of a learner's feedback on an exercise, or None when there is nothing to show
    (no submission, or not graded and not overridden)."""
    from grader.gradebook.rows import GradingState
    from grader.report.views import learner_rows, render_learner
    gradebook = app.state.gradebook
    rows = [r for r in gradebook.grade_rows() if r.student == student and r.exercise == exercise
            and (r.status is not GradingState.PENDING or r.overridden)]
    if not rows:
        return None
    gradings = gradebook.grading_rows(student, exercise)
    names = {s["id"]: s.get("name") for s in gradebook.students()}
    return render_learner(app.state.course, learner_rows(rows, gradings)[student], lang, names.get(student))


__all__ = ["render_feedback"]
