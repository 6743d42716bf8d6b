"""What the server's pages show, read from the course and its gradebook: a learner's page (their own
receipts, deadlines, released feedback), the staff page (roster, who submitted what, failed
gradings, releases), and the report pages of grader/report (a learner's feedback, the class
dashboard), plus the staff actions the pages' buttons run (regrade, release, autograde).

A learner's view is built from their own rows only (`student=` on every gradebook read); scores
and feedback of an exercise reach a learner only once it is released (`results.released`), as
over the JSON API. Texts from learners or the sandbox are passed on as data; the templates escape
them."""

from __future__ import annotations

import logging

from grader.clock import now_utc
from grader.server.i18n import N_, gettext_for

log = logging.getLogger("dlgrade.server")
STATE_TEXT = {"queued": N_("queued"), "running": N_("running"), "graded": N_("graded"), "failed": N_("failed"),
              "done": N_("done")}
JOB_TEXT = {"autograde": N_("autograde"), "regrade": N_("grade again")}
GRADE_TEXT = {"graded": N_("graded"), "pending": N_("not graded yet"), "failed": N_("failed"), "crashed": N_("failed")}
ROLE_TEXT = {"learner": N_("learner"), "ta": N_("TA"), "instructor": N_("instructor")}
STATE_KIND = {"queued": "", "running": "warn", "graded": "ok", "failed": "bad"}


class PageError(Exception):
    """A request the pages refuse: an HTTP status and a one-line message (already translated)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _page_error(status: int, message: str) -> PageError:
    return PageError(status, message)


def late_policy_text(policy, lang: str) -> str:
    """The course's late policy in one sentence of `lang`."""
    from grader.report.i18n import format_number, format_percent
    gettext = gettext_for(lang)
    if policy.policy == "reject":
        text = gettext("Late work is not accepted.")
    elif policy.policy == "penalty":
        text = gettext("Late work loses %(percent)s per started day.") % {
            "percent": format_percent(policy.penalty_per_day, lang)}
    else:
        text = gettext("Late work is accepted and marked late.")
    if policy.grace_minutes:
        text += " " + gettext("Grace: %(minutes)s minutes.") % {"minutes": format_number(policy.grace_minutes, lang)}
    if policy.max_days is not None and policy.policy != "reject":
        text += " " + gettext("Nothing is accepted more than %(days)s days late.") % {
            "days": format_number(policy.max_days, lang)}
    return text


def _titles(course, lang: str) -> dict[str, str]:
    from grader.report.views import exercise_meta
    out = {}
    for ex_id in course.exercise_ids:
        titles, _ = exercise_meta(course, ex_id)
        out[ex_id] = titles.get(lang) or titles.get("en") or ex_id
    return out


def _state(grading: dict, lang: str) -> dict:
    gettext = gettext_for(lang)
    state = grading.get("state", "queued")
    return {"state": state, "state_text": gettext(STATE_TEXT.get(state, STATE_TEXT["queued"])),
            "state_kind": STATE_KIND.get(state, "")}


def _number(value) -> float | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _public(public) -> dict | None:
    """The public tests' results of a receipt (grading on submit) as the page lists them: passed of
    total, points, and each test's name, status, points and its own output (the learner's)."""
    if not isinstance(public, dict):
        return None
    tests = []
    for t in public.get("tests") if isinstance(public.get("tests"), list) else []:
        if isinstance(t, dict):
            tests.append({"name": str(t.get("name", ""))[:200], "passed": t.get("status") == "passed",
                          "score": _number(t.get("score")), "max_score": _number(t.get("max_score")),
                          "output": str(t.get("output") or "")[:4000]})
    return {"passed": sum(t["passed"] for t in tests), "total": len(tests), "tests": tests,
            "score": _number(public.get("score")), "max_score": _number(public.get("max_score"))}


def learner_page(app, person, lang: str) -> dict:
    """The variables of /me: the learner's exercises (deadline, latest submission, feedback
    released?), their receipts newest first, and the late policy."""
    from grader.server.results import receipts, released
    course, gradebook = app.state.course, app.state.gradebook
    rows = gradebook.submission_rows(student=person.id)
    mine = receipts(app, rows, staff=False)
    opened = released(gradebook)
    titles = _titles(course, lang)
    now = now_utc()
    latest: dict[str, dict] = {}
    submissions = []
    for receipt in reversed(mine):  # newest first
        view = {**receipt, **_state(receipt["grading"], lang), "title": titles.get(receipt["exercise"], receipt["exercise"]),
                "public": _public(receipt["grading"].get("public")),
                "problem": str(receipt["grading"].get("problem") or "")[:2000],
                "score": receipt["grading"].get("score"), "max_score": receipt["grading"].get("max_score")}
        submissions.append(view)
        latest.setdefault(receipt["exercise"], view)
    exercises = []
    for ex_id in course.exercise_ids:
        deadline = course.deadline(ex_id)
        exercises.append({"id": ex_id, "title": titles[ex_id], "deadline": deadline,
                          "passed": deadline is not None and deadline < now, "latest": latest.get(ex_id),
                          "feedback": ex_id in opened and ex_id in latest
                          and latest[ex_id]["state"] in ("graded", "failed")})
    return {"exercises": exercises, "submissions": submissions,
            "late_policy": late_policy_text(course.late, lang)}


def staff_page(app, person, lang: str) -> dict:
    """The variables of /staff: counts, exercises (deadline, who submitted, graded, failed,
    released), failed gradings, who submitted what, the roster, background jobs."""
    from grader.gradebook.rows import GradingState
    from grader.server.identity import has_active_token, people
    from grader.server.results import released
    course, gradebook = app.state.course, app.state.gradebook
    gettext = gettext_for(lang)
    titles = _titles(course, lang)
    everyone = people(gradebook)
    tokens = has_active_token(gradebook)
    grade_rows = gradebook.grade_rows()
    counting = {(r.student, r.exercise): r for r in grade_rows}
    all_subs = gradebook.submission_rows()
    subs_by_id = {sub.id: sub for sub in all_subs}
    opened = released(gradebook)
    per_pair: dict[tuple[str, str], int] = {}
    for sub in all_subs:
        per_pair[(sub.student_id, sub.exercise_id)] = per_pair.get((sub.student_id, sub.exercise_id), 0) + 1
    learners = [p for p in everyone if p.role == "learner"]
    known = {p.id for p in learners}
    learners += [_Stand(sid) for sid in sorted({r.student for r in grade_rows} - known)]
    exercises = []
    for ex_id in course.exercise_ids:
        rows = [r for r in grade_rows if r.exercise == ex_id]
        exercises.append({"id": ex_id, "title": titles[ex_id], "deadline": course.deadline(ex_id),
                          "submitted": len(rows), "graded": sum(r.status is GradingState.GRADED for r in rows),
                          "failed": sum(r.status in (GradingState.FAILED, GradingState.CRASHED) for r in rows),
                          "pending": sum(r.status is GradingState.PENDING for r in rows),
                          "released": opened.get(ex_id)})
    failed = [{"grading_id": r.grading_id, "student": r.student, "exercise": r.exercise, "status": r.status.value,
               "fault": r.fault.value if r.fault is not None else "",
               "error": (r.error or "").strip().splitlines()[0][:300] if (r.error or "").strip() else ""}
              for r in grade_rows if r.status in (GradingState.FAILED, GradingState.CRASHED) and r.grading_id]
    matrix = []
    for p in learners:
        cells = []
        for ex_id in course.exercise_ids:
            row = counting.get((p.id, ex_id))
            if row is None:
                cells.append(None)
                continue
            sub = subs_by_id.get(row.submission_id)
            cells.append({"exercise": ex_id, "status": row.status.value, "score": row.score, "max_score": row.max_score,
                          "late": row.late, "received_at": sub.submitted_at if sub else None,
                          "count": per_pair.get((p.id, ex_id), 0),
                          "status_text": gettext(GRADE_TEXT.get(row.status.value, GRADE_TEXT["pending"])),
                          "kind": STATE_KIND.get("graded" if row.status is GradingState.GRADED else
                                                 ("queued" if row.status is GradingState.PENDING else "failed"), "")})
        matrix.append({"id": p.id, "name": p.name, "section": p.section, "cells": cells})
    jobs = []
    for job in (app.state.jobs.all()[:10] if getattr(app.state, "jobs", None) is not None else []):
        data = job.as_dict()
        summary = data.get("summary") if isinstance(data.get("summary"), dict) else None
        jobs.append({"id": job.id, "kind": gettext(JOB_TEXT.get(job.kind, job.kind)),
                     "student": data.get("student"), "exercise": data.get("exercise"),
                     "state": gettext(STATE_TEXT.get(job.state, job.state)),
                     "state_kind": {"done": "ok", "failed": "bad", "running": "warn"}.get(job.state, ""),
                     "graded": summary.get("graded") if summary else None,
                     "failed": summary.get("failed") if summary else None, "error": data.get("error") or ""})
    return {"exercises": exercises, "failed": failed, "matrix": matrix, "exercise_ids": course.exercise_ids,
            "roster": [{**p.row(), "token": p.id in tokens, "role_text": gettext(ROLE_TEXT.get(p.role, p.role))}
                       for p in everyone],
            "counts": {"learners": len(learners), "submissions": len(all_subs),
                       "graded": sum(r.status is GradingState.GRADED for r in grade_rows), "failed": len(failed)},
            "jobs": jobs, "is_instructor": person.is_instructor,
            "late_policy": late_policy_text(course.late, lang)}


class _Stand:
    """A learner in the gradebook who is not on the server's roster (e.g. collected from a folder)."""

    role = "learner"

    def __init__(self, student_id: str):
        self.id, self.name, self.section = student_id, "", ""


def learner_report(app, student: str, exercise: str, lang: str, staff: bool) -> str:
    """The HTML feedback page of one learner's exercise (grader/report's page). A learner's own
    page needs the exercise released; staff see it at any time. PageError 404 otherwise."""
    from grader.server.results import released
    course, gradebook = app.state.course, app.state.gradebook
    gettext = gettext_for(lang)
    if exercise not in course.exercise_ids:
        raise _page_error(404, gettext("There is no exercise %(exercise)s in this course.") % {"exercise": exercise})
    if not staff and exercise not in released(gradebook):
        raise _page_error(404, gettext("No feedback has been released for %(exercise)s yet.") % {"exercise": exercise})
    from grader.server.feedback import render_feedback
    page = render_feedback(app, student, exercise, lang)
    if page is None:
        raise _page_error(404, gettext("There is no graded submission of %(exercise)s by this learner yet.")
                          % {"exercise": exercise})
    return page[0]


def dashboard(app, lang: str) -> str:
    """The class dashboard of grader/report (the staff's page)."""
    from grader.report.views import load_rows, render_dashboard
    gradebook = app.state.gradebook
    grade_rows, gradings = load_rows(gradebook)
    return render_dashboard(app.state.course, grade_rows, gradings, lang, gradebook.override_rows())


def regrade(app, person, grading_id: int, lang: str) -> None:
    """Queue a regrade of the (learner, exercise) of a failed grading (a background job)."""
    from grader.gradebook.rows import GradingState
    gettext = gettext_for(lang)
    row = next((r for r in app.state.gradebook.grade_rows() if r.grading_id == grading_id), None)
    if row is None or row.status not in (GradingState.FAILED, GradingState.CRASHED):
        raise _page_error(404, gettext("There is no failed grading %(id)s to grade again; reload the staff page.")
                          % {"id": grading_id})
    from grader.server.jobs import batch_job
    job = app.state.jobs.submit("regrade", {"student": row.student, "exercise": row.exercise},
                                batch_job(app.state.course, app.state.gradebook, exercise=row.exercise,
                                          student=row.student))
    log.info("regrade of %s/%s queued by %s from the staff page (job %d)", row.student, row.exercise, person.id, job.id)


def release(app, person, exercise: str, lang: str) -> None:
    """Release an exercise's hidden results and feedback to its learners."""
    from grader.server.results import release as release_exercise
    gettext = gettext_for(lang)
    if exercise not in app.state.course.exercise_ids:
        raise _page_error(404, gettext("There is no exercise %(exercise)s in this course.") % {"exercise": exercise})
    release_exercise(app.state.gradebook, exercise, person.id)
    log.info("%s released %s from the staff page", person.id, exercise)


def autograde(app, person, lang: str) -> None:
    """Start today's batch on the server's course in the background."""
    from grader.server.jobs import batch_job
    job = app.state.jobs.submit("autograde", {"exercise": None}, batch_job(app.state.course, app.state.gradebook))
    log.info("autograde queued by %s from the staff page (job %d)", person.id, job.id)


__all__ = ["PageError", "learner_page", "staff_page", "learner_report", "dashboard", "regrade", "release", "autograde",
           "late_policy_text"]
