"""The JSON API under /api/v1: a learner's whoami, exercises, uploads, own submissions and released
feedback; the staff's roster, submissions, failed gradings, regrade, release and autograde.

Every request carries `Authorization: Bearer <token>` (grader/server/identity.py). A learner only
ever reads or changes their own work; staff endpoints refuse learners (403), and release and
autograde are the instructor's. Every refusal is `{"error": "<one line: the problem and what to
do>"}` with a 4xx (`ApiError`)."""

from __future__ import annotations

import logging

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from grader.clock import iso, now_utc
from grader.server.identity import Person, lookup, people
from grader.server.jobs import batch_job
from grader.server.multipart import BodyRefused, read_multipart
from grader.server.results import receipts, release, released
from grader.server.uploads import Receipt, UploadRefused, checked_files, record_upload, shown

PREFIX = "/api/v1"
log = logging.getLogger("dlgrade.server")


class ApiError(Exception):
    """A refusal: HTTP `status` and a one-line message; `headers` such as Retry-After."""

    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def error_response(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    """`{"error": message}` with `status`."""
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def bearer(request: Request) -> str | None:
    """The token of an `Authorization: Bearer` header, or None."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def caller(request: Request) -> Person:
    """The person whose token the request carries; ApiError 401 (no or unknown token) or 403 (revoked)."""
    token = bearer(request)
    if token is None:
        raise ApiError(401, "no token: log in first (`dlgrade login URL --token TOKEN`); the API needs "
                            "`Authorization: Bearer <token>`")
    person, state = lookup(request.app.state.gradebook, token)
    if state == "revoked":
        log.info("refused a revoked token (%s %s)", request.method, request.url.path)
        raise ApiError(403, "token revoked: ask your instructor for a new one")
    if person is None:
        log.info("refused an unknown token (%s %s)", request.method, request.url.path)
        raise ApiError(401, "unknown token: check it (it starts with dlg_) or ask your instructor for a new one")
    return person


def staff(who: Person = Depends(caller)) -> Person:
    """The caller when they are a TA or an instructor; else ApiError 403."""
    if not who.is_staff:
        raise ApiError(403, "this is for the course's staff (TAs and instructors); your token is a learner's")
    return who


def instructor(who: Person = Depends(staff)) -> Person:
    """The caller when they are an instructor; else ApiError 403."""
    if not who.is_instructor:
        raise ApiError(403, "only an instructor may do this; ask the course's instructor")
    return who


def _exercise(request: Request, exercise: str) -> str:
    course = request.app.state.course
    if exercise not in course.deadlines:
        raise ApiError(404, f"unknown exercise {shown(exercise)}; the course's exercises are: "
                            f"{', '.join(course.exercise_ids) or 'none'}")
    return exercise


def _student(request: Request, student: str) -> str:
    known = {p.id for p in people(request.app.state.gradebook, "learner")}
    if student not in known:
        raise ApiError(404, f"no learner {shown(student)} on the server's roster; GET {PREFIX}/staff/roster lists them")
    return student


def _own_rows(request: Request, who: Person, exercise: str | None, student: str | None):
    if exercise is not None:
        _exercise(request, exercise)
    if student is not None and student != who.id:
        if not who.is_staff:
            raise ApiError(403, "a learner sees only their own submissions; leave out ?student=")
        _student(request, student)
    target = student or who.id
    return request.app.state.gradebook.submission_rows(student=target, exercise=exercise)


def register(app: FastAPI) -> None:
    """Add the JSON API's routes and its error handlers to `app`."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, err: ApiError):
        return error_response(err.status, err.message, err.headers)

    @app.get(PREFIX + "/whoami")
    def whoami(request: Request, who: Person = Depends(caller)):
        """Who the token is: id, name, role, course."""
        return {"id": who.id, "name": who.name, "role": who.role, "course": request.app.state.course.id}

    @app.get(PREFIX + "/exercises")
    def exercises(request: Request, who: Person = Depends(caller)):
        """The course's exercises: id, title, deadline (ISO UTC or null), late policy."""
        course = request.app.state.course
        titles = request.app.state.titles
        return [{"id": ex, "title": titles.get(ex, ex),
                 "deadline": iso(course.deadlines[ex], micro=False) if course.deadlines[ex] else None,
                 "late_policy": course.late.describe()} for ex in course.exercise_ids]

    @app.post(PREFIX + "/exercises/{exercise}/submissions")
    async def submit(request: Request, exercise: str, who: Person = Depends(caller)):
        """Upload a submission (multipart, parts named `file`): 201 and a receipt (200 with the earlier
        receipt when the content is the same as the learner's latest)."""
        state = request.app.state
        _exercise(request, exercise)
        if who.role != "learner":
            raise ApiError(403, "only learners submit; staff tokens cannot hand in work (use a learner's test "
                                "account)")
        wait = state.limiter.take((who.id, exercise))
        if wait is not None:
            raise ApiError(429, f"over the limit of {state.settings.rate_per_hour} uploads of {exercise} per hour; "
                                f"try again in {int(wait)} s", {"Retry-After": str(int(wait))})
        settings = state.settings
        try:
            parts = await read_multipart(request.headers, request.receive, max_bytes=settings.max_upload_bytes,
                                         max_files=settings.max_files, idle_s=settings.upload_idle_s)
        except BodyRefused as err:
            log.info("refused an upload of %s by %s: %s", exercise, who.id, err.status)
            raise ApiError(err.status, err.message + ("" if "nothing was stored" in err.message
                                                      else "; nothing was stored")) from None
        received_at = now_utc()  # the server's clock decides: once the whole body is here
        course = state.course

        def store() -> Receipt:
            files = checked_files(course.exercise(exercise), parts)
            return record_upload(course, state.gradebook, state.locks, who.id, exercise, files, received_at)
        try:
            receipt = await run_in_threadpool(store)
        except UploadRefused as err:
            log.info("refused an upload of %s by %s: %s", exercise, who.id, err.status)
            raise ApiError(err.status, err.message) from None
        log.info("submission %d: %s for %s, sha256 %s, %d file(s), %s%s", receipt.submission_id, who.id, exercise,
                 receipt.sha256[:12], len(receipt.files), "late" if receipt.late else "on time",
                 " (duplicate)" if receipt.duplicate else "")
        if settings.grade_on_submit != "none":  # a duplicate too: its failed grading on submit runs again
            from grader.server.grading import start_grading
            try:
                start_grading(request.app, receipt.submission_id)
            except Exception as err:  # the submission is committed: its receipt is owed whatever the grader does
                log.error("grading on submit of submission %d did not start: %s", receipt.submission_id,
                          type(err).__name__)
        return JSONResponse(receipt.as_dict(), status_code=200 if receipt.duplicate else 201)

    @app.get(PREFIX + "/submissions")
    def submissions(request: Request, exercise: str | None = None, student: str | None = None,
                    who: Person = Depends(caller)):
        """The caller's own submissions (staff: ?student= any learner's), each with its grading."""
        rows = _own_rows(request, who, exercise, student)
        return receipts(request.app, rows, staff=who.is_staff)

    @app.get(PREFIX + "/submissions/{submission_id}")
    def submission(request: Request, submission_id: int, who: Person = Depends(caller)):
        """One submission of the caller's (staff: anyone's), with its grading."""
        rows = [r for r in request.app.state.gradebook.submission_rows(student=None if who.is_staff else who.id)
                if r.id == submission_id]
        if not rows:  # another learner's submission is "not found" to a learner: its existence is not told
            raise ApiError(404, f"no submission {submission_id} of yours; GET {PREFIX}/submissions lists them")
        return receipts(request.app, rows, staff=who.is_staff)[0]

    @app.get(PREFIX + "/feedback/{exercise}")
    def feedback(request: Request, exercise: str, lang: str = "en", student: str | None = None,
                 who: Person = Depends(caller)):
        """The caller's released feedback on an exercise: {"exercise", "markdown", "html"}."""
        _exercise(request, exercise)
        if lang not in ("en", "fa"):
            raise ApiError(422, f"unknown language {shown(lang)}; use ?lang=en or ?lang=fa")
        if student is not None and student != who.id and not who.is_staff:
            raise ApiError(403, "a learner reads only their own feedback; leave out ?student=")
        target = student or who.id
        if not who.is_staff and exercise not in released(request.app.state.gradebook):
            raise ApiError(404, f"no feedback released for {exercise} yet; your instructor releases it after grading")
        from grader.server.feedback import render_feedback
        page = render_feedback(request.app, target, exercise, lang)
        if page is None and who.is_staff:
            raise ApiError(404, f"no graded work of {shown(target)} on {exercise} yet; autograde first")
        if page is None:
            raise ApiError(404, f"no feedback released for {exercise} yet; your instructor releases it after grading")
        html, markdown = page
        return {"exercise": exercise, "markdown": markdown, "html": html}

    # -- staff ---------------------------------------------------------------------------------

    @app.get(PREFIX + "/staff/roster")
    def roster(request: Request, who: Person = Depends(staff)):
        """Everyone on the server's roster, and whether they hold an active token."""
        from grader.server.identity import has_active_token
        gradebook = request.app.state.gradebook
        holders = has_active_token(gradebook)
        return [{**p.row(), "token": p.id in holders} for p in people(gradebook)]

    @app.get(PREFIX + "/staff/submissions")
    def staff_submissions(request: Request, exercise: str | None = None, who: Person = Depends(staff)):
        """Every learner's submissions (or one exercise's), with their gradings."""
        if exercise is not None:
            _exercise(request, exercise)
        rows = request.app.state.gradebook.submission_rows(exercise=exercise)
        return receipts(request.app, rows, staff=True)

    @app.get(PREFIX + "/staff/gradings")
    def staff_gradings(request: Request, state: str = "failed", who: Person = Depends(staff)):
        """Gradings in a state (failed: failed or crashed, the ones to regrade; graded; all)."""
        if state not in ("failed", "graded", "all"):
            raise ApiError(422, f"unknown state {shown(state)}; use ?state=failed, graded or all")
        out = []
        for g in request.app.state.gradebook.grading_rows():
            if g.submission_id != g.recorded_for:
                continue  # a grading shared by content is listed once, for the submission it was recorded for
            kind = "graded" if g.status.value == "graded" else "failed"
            if state in ("all", kind):
                out.append({"grading_id": g.grading_id, "submission_id": g.submission_id, "student": g.student_id,
                            "exercise": g.exercise_id, "state": kind, "status": g.status.value,
                            "fault": g.fault.value if g.fault else None, "score": g.score, "max_score": g.max_score,
                            "error": (g.error or "").splitlines()[0][:500] if g.error else None,
                            "graded_at": iso(g.created_at), "attempts": g.attempts})
        return out

    @app.post(PREFIX + "/staff/gradings/{grading_id}/regrade")
    def regrade(request: Request, grading_id: int, who: Person = Depends(staff)):
        """Grade a learner's exercise again (the batch, in the background): 202 and the job."""
        found = [g for g in request.app.state.gradebook.grading_rows() if g.grading_id == grading_id]
        if not found:
            raise ApiError(404, f"no grading {grading_id}; GET {PREFIX}/staff/gradings?state=failed lists them")
        g = found[0]
        state = request.app.state
        job = state.jobs.submit("regrade", {"student": g.student_id, "exercise": g.exercise_id},
                                batch_job(state.course, state.gradebook, exercise=g.exercise_id, student=g.student_id))
        log.info("regrade of %s/%s queued by %s (job %d)", g.student_id, g.exercise_id, who.id, job.id)
        return JSONResponse(job.as_dict(), status_code=202)

    @app.post(PREFIX + "/staff/exercises/{exercise}/release")
    def release_exercise(request: Request, exercise: str, who: Person = Depends(instructor)):
        """Release an exercise's hidden results and feedback to its learners."""
        _exercise(request, exercise)
        done = release(request.app.state.gradebook, exercise, who.id)
        log.info("%s released %s", who.id, exercise)
        return done

    @app.get(PREFIX + "/staff/releases")
    def releases(request: Request, who: Person = Depends(staff)):
        """The exercises released so far."""
        return released(request.app.state.gradebook)

    @app.post(PREFIX + "/staff/autograde")
    def autograde(request: Request, exercise: str | None = None, who: Person = Depends(instructor)):
        """Run today's batch on the server's course in the background: 202 and the job."""
        if exercise is not None:
            _exercise(request, exercise)
        state = request.app.state
        job = state.jobs.submit("autograde", {"exercise": exercise},
                                batch_job(state.course, state.gradebook, exercise=exercise))
        log.info("autograde queued by %s (job %d)", who.id, job.id)
        return JSONResponse(job.as_dict(), status_code=202)

    @app.get(PREFIX + "/staff/jobs/{job_id}")
    def job_status(request: Request, job_id: int, who: Person = Depends(staff)):
        """Where a background job (autograde, regrade) stands."""
        job = request.app.state.jobs.get(job_id)
        if job is None:
            raise ApiError(404, f"no job {job_id} (jobs are forgotten when the server restarts)")
        return job.as_dict()


__all__ = ["register", "ApiError", "PREFIX", "caller", "staff", "instructor", "bearer", "error_response"]
