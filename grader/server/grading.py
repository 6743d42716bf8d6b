"""Grading on submit: what `[server] grade_on_submit` asks for each upload, run in the background
by the batch's own workers, and the "grading" object of a receipt (`grading_view`).

* "public": the exercise's public tests run on the upload; the learner sees their results at once
  (`dlgrade submit --wait`, `dlgrade status`). They are the learner's check, not a grade, so they are
  NOT gradings rows (`Gradebook.grade_rows` would count them as the grade): each is a small JSON
  file under `<course>/server/checks/`, keyed like a grading by (sha256, exercise hash, grader
  version), written in one step.
* "hidden": the hidden tests run as `dlgrade autograde` runs them, recorded in the gradings table
  with the standard key (a later autograde finds them cached); the score is shown only once the
  exercise's results are released.
* "none": nothing runs on submit; the receipt's grading shows what autograde recorded.

One background thread per application takes queued submission ids and grades them in rounds
through `grader.batch.local.LocalPool` (`python -m grader.batch.worker` processes, their zygotes and
sandboxes: the path every batch takes). Identical content is graded once. A grader fault (or a
worker that died twice) is recorded as failed, never as a grade, and `start_grading` runs it
again. Queued and running are known in memory only; `resume_grading` re-queues at start-up what a
stopped server left ungraded."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

log = logging.getLogger("dlgrade.server.grading")

CHECKS = "checks"  # <course>/server/checks/: the public results of grade_on_submit = "public"
MAX_ATTEMPTS = 2  # a worker that dies under a grading: tried once more, then failed
MAX_OUTPUT = 8000  # characters of a test's output or the program's output in a receipt
QUEUED, RUNNING, GRADED, FAILED = "queued", "running", "graded", "failed"


# -- where results live --------------------------------------------------------------------------

def checks_root(course) -> Path:
    """The folder of the public results: `<course>/server/checks`."""
    return Path(course.root) / "server" / CHECKS


def check_key(sha256: str, exercise_hash: str) -> str:
    """The key of a public-tests run: a grading's key with the suite added (never a gradings key)."""
    from grader import __version__
    from grader.gradebook.store import Gradebook
    return Gradebook.grading_key(sha256, exercise_hash, __version__) + ":public"


def _check_path(course, key: str) -> Path:
    digest = hashlib.sha256(key.encode()).hexdigest()
    return checks_root(course) / digest[:2] / f"{digest}.json"


def read_check(course, key: str) -> dict | None:
    """The stored public-tests run of `key` ({"state", "result", "error", "fault"}), or None."""
    try:
        data = json.loads(_check_path(course, key).read_text(encoding="ascii"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("key") == key else None


def write_check(course, key: str, state: str, result: dict | None, error: str | None, fault: str | None) -> None:
    """Store a public-tests run in one step (0600; ASCII JSON)."""
    from grader.atomic import write_text
    path = _check_path(course, key)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_text(path, json.dumps({"key": key, "state": state, "result": result, "error": error, "fault": fault},
                                ensure_ascii=True), 0o600)


# -- the queue -----------------------------------------------------------------------------------

@dataclass
class _Job:
    """One grading to run: the submissions it serves (same content and exercise), its key."""

    key: str
    suite: str
    submission_ids: list[int]
    task: object  # grader.batch.plan.Task
    attempts: int = 0


class OnSubmitGrader:
    """The background grader of one application: a queue of submission ids, a thread that grades
    them in rounds, the in-memory state (queued, running) of each."""

    def __init__(self, course, gradebook, mode: str, workers: int = 1, device: str = "auto"):
        if mode not in ("public", "hidden"):
            raise ValueError(f"grading on submit runs the public or the hidden tests, not {mode!r}")
        self.course, self.gradebook, self.mode = course, gradebook, mode
        self.workers, self.device = max(1, int(workers)), device
        self._queue: list[int] = []
        self._states: dict[int, str] = {}
        self._cv = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="dlgrade-grade-on-submit", daemon=True)
        self._thread.start()

    def enqueue(self, submission_id: int) -> None:
        """Queue a submission (once: a queued or running one is not queued again)."""
        with self._cv:
            if self._closed or submission_id in self._states:
                return
            self._states[submission_id] = QUEUED
            self._queue.append(submission_id)
            self._cv.notify()

    def state(self, submission_id: int) -> str | None:
        """"queued" or "running" while the submission is in this grader's hands, else None."""
        with self._cv:
            return self._states.get(submission_id)

    def idle(self) -> bool:
        """Whether nothing is queued or running."""
        with self._cv:
            return not self._states

    def close(self, timeout: float = 30.0) -> None:
        """Stop taking work; wait up to `timeout` s for the round in progress (its workers then stop)."""
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._queue and not self._closed:
                    self._cv.wait()
                if self._closed:
                    return
                ids, self._queue = self._queue, []
                for i in ids:
                    self._states[i] = RUNNING
            try:
                self._round(ids)
            except Exception:  # noqa: BLE001 - the thread must live on; the submissions stay regradable
                log.exception("grading on submit failed for a round of %d submission(s)", len(ids))
            finally:
                with self._cv:
                    for i in ids:
                        self._states.pop(i, None)

    # -- one round ---------------------------------------------------------------------------------

    def _round(self, ids: list[int]) -> None:
        jobs, failed = self._plan(ids)
        for key, (sub_ids, why, ex_hash) in failed.items():
            self._store_failure(key, sub_ids, why, exercise_hash=ex_hash)
        if not jobs:
            return
        from grader.batch.local import LocalPool
        round_jobs, left = list(jobs.values()), dict(jobs)
        try:
            while round_jobs:
                retry = []
                by_task = {job.task.task_id: job for job in round_jobs}
                for task, answer in LocalPool(min(self.workers, len(round_jobs))).run([j.task for j in round_jobs]):
                    job = by_task[task.task_id]
                    job.attempts += 1
                    if "crashed" in answer and job.attempts < MAX_ATTEMPTS:
                        retry.append(job)
                        continue
                    self._store(job, answer)
                    left.pop(job.key, None)
                    with self._cv:
                        if self._closed:
                            return
                round_jobs = retry
        except Exception as err:  # noqa: BLE001 - e.g. no worker could start: what is left failed, not lost
            first = (str(err).strip().splitlines() or [type(err).__name__])[0][:500]
            why = f"the grading workers failed: {first}"
            for job in left.values():
                self._store_failure(job.key, job.submission_ids, why, exercise_hash=job.task.exercise_hash)

    def _plan(self, ids: list[int]) -> tuple[dict[str, _Job], dict[str, tuple[list[int], str, str | None]]]:
        """The jobs of a round (one per key: identical content is graded once), and the keys that
        cannot run (the course lost the exercise, the Hoda folder is missing...) with why."""
        from grader import __version__
        from grader.batch.plan import Task, hoda_folder
        from grader.course.paths import heldout_seed
        from grader.gradebook.store import Gradebook
        jobs: dict[str, _Job] = {}
        failed: dict[str, tuple[list[int], str, str | None]] = {}
        hashes: dict[str, tuple] = {}
        context = None
        for sub in submissions_by_id(self.gradebook, ids).values():
            if sub.exercise_id not in hashes:
                try:
                    ex = self.course.exercise(sub.exercise_id)
                    hashes[sub.exercise_id] = (ex, ex.content_hash())
                except Exception as err:  # noqa: BLE001 - the course changed under the server: not a grade
                    hashes[sub.exercise_id] = (None, str(err))
            ex, ex_hash = hashes[sub.exercise_id]
            if ex is None:
                failed.setdefault(f"{sub.sha256}:{sub.exercise_id}", ([], ex_hash, None))[0].append(sub.id)
                continue
            hidden_key = Gradebook.grading_key(sub.sha256, ex_hash, __version__)
            key = check_key(sub.sha256, ex_hash) if self.mode == "public" else hidden_key
            if key in jobs:
                jobs[key].submission_ids.append(sub.id)
                continue
            if self._done(key):
                continue
            if context is None:
                try:
                    context = (str(hoda_folder(None, self.course) or ""), heldout_seed(self.course))
                except Exception as err:  # noqa: BLE001 - the server's setup, not the learner's work
                    context = str(err)
            if isinstance(context, str):
                failed.setdefault(key, ([], context, ex_hash))[0].append(sub.id)
                continue
            hoda, seed = context
            task = Task(task_id=f"{sub.id}:{key[:16]}:{self.mode}", student=sub.student_id, exercise_id=ex.id,
                        submission_id=sub.id, key=key, exercise_hash=ex_hash, exercise_dir=str(ex.directory),
                        solutions_dir=str(self.course.solutions_dir), submission_path=str(sub.path),
                        device=self.device, gpu=ex.gpu != "no", hoda_dir=hoda, heldout_seed=seed, suite=self.mode)
            jobs[key] = _Job(key, self.mode, [sub.id], task)
        return jobs, failed

    def _done(self, key: str) -> bool:
        """Whether `key` is graded already (a failed one runs again)."""
        if self.mode == "public":
            found = read_check(self.course, key)
            return found is not None and found.get("state") == GRADED
        return self.gradebook.find_grading(key) is not None

    def _store(self, job: _Job, answer: dict) -> None:
        """Record a worker's answer: a grade, or a failure that is no grade."""
        from grader.gradebook.rows import GradingFault, GradingState
        fault = answer.get("fault") if answer.get("fault") in set(GradingFault) else None
        result = answer.get("result")
        if result is not None and fault is None:
            state, error = GradingState.GRADED, None
        elif "crashed" in answer and result is None:
            state, error = GradingState.CRASHED, str(answer["crashed"])
        else:
            state, error = GradingState.FAILED, str(answer.get("error") or "grader fault")
            fault = fault or GradingFault.GRADER_FAULT.value
        if self.mode == "public":
            write_check(self.course, job.key, GRADED if state is GradingState.GRADED else FAILED, result,
                        _no_path(error, job.task.submission_path), fault)
            return
        from grader import __version__
        extra = (result or {}).get("extra_data") or {}
        versions = extra.get("versions") if isinstance(extra.get("versions"), dict) else {}
        try:
            self.gradebook.record_grading(job.submission_ids[0], job.key, job.task.exercise_hash, __version__, result,
                                          state, extra.get("device", ""), versions.get("backend", ""),
                                          (result or {}).get("execution_time", 0.0), error=error, fault=fault)
        except Exception as err:  # noqa: BLE001 - this row fails alone, as in a batch
            log.warning("the gradebook could not store grading %s: %s", job.key[:24], str(err).splitlines()[0][:300])
            self._store_failure(job.key, job.submission_ids, f"the gradebook could not store this grading: {err}",
                                fault=GradingFault.DATABASE.value, exercise_hash=job.task.exercise_hash)

    def _store_failure(self, key: str, sub_ids: list[int], why: str, fault: str = "grader_fault",
                       exercise_hash: str | None = None) -> None:
        """A grading that could not run is failed (no grade), kept where its results would be."""
        log.warning("grading on submit failed for submission(s) %s: %s", sub_ids, str(why).splitlines()[0][:300])
        if self.mode == "public" or exercise_hash is None:
            if self.mode == "public":
                write_check(self.course, key, FAILED, None, str(why)[:2000], fault)
            return
        from grader import __version__
        try:
            self.gradebook.record_grading(sub_ids[0], key, exercise_hash, __version__, None, "failed", None, None,
                                          None, error=str(why)[:2000], fault=fault)
        except Exception:  # noqa: BLE001 - nothing more can be stored; the log says why
            log.exception("recording a failed grading failed too")


def _no_path(text: str | None, path: str) -> str | None:
    """A learner-facing message without the server's folder of the upload."""
    if text is None:
        return None
    return text.replace(path.rstrip("/") + "/", "").replace(path, "your submission")[:2000]


# -- reading the gradebook -----------------------------------------------------------------------

def submissions_by_id(gradebook, ids: Iterable[int]) -> dict:
    """{id: SubmissionRow} of the given submission ids (unknown ids are left out)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from grader.gradebook.models import Submission
    from grader.gradebook.store import _submission_row
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return {}
    with Session(gradebook.engine) as s:
        return {r.id: _submission_row(r) for r in s.scalars(select(Submission).where(Submission.id.in_(wanted)))}


def _gradings_by_key(gradebook, keys: Iterable[str]) -> dict:
    """{key: Grading} of the given grading keys (any status)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from grader.gradebook.models import Grading
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    with Session(gradebook.engine) as s:
        return {g.key: g for g in s.scalars(select(Grading).where(Grading.key.in_(wanted)))}


# -- the application's side ----------------------------------------------------------------------

_GRADERS_LOCK = threading.Lock()  # one OnSubmitGrader per application, made once


def _mode(app) -> str:
    settings = getattr(app.state, "settings", None)
    return getattr(settings, "grade_on_submit", "none") or "none"


def _grader(app, create: bool = True) -> OnSubmitGrader | None:
    mode = _mode(app)
    if mode == "none":
        return None
    with _GRADERS_LOCK:
        grader = getattr(app.state, "on_submit_grader", None)
        if grader is None and create:
            settings = app.state.settings
            workers = getattr(settings, "grading_workers", None) or min(2, os.cpu_count() or 1)
            grader = OnSubmitGrader(app.state.course, app.state.gradebook, mode, workers)
            app.state.on_submit_grader = grader
        return grader


def start_grading(app, submission_id: int) -> None:
    """Queue the grading on submit of a stored submission (after its upload committed). Does nothing
    when `grade_on_submit` is "none"; a graded one is not graded again, a failed one is."""
    grader = _grader(app)
    if grader is not None:
        grader.enqueue(int(submission_id))


def resume_grading(app) -> int:
    """At start-up: queue the counting submissions whose grading on submit never ran (a server
    stopped while they waited) or failed for the grader (tried again; a submission that cannot be
    graded is not). Returns how many were queued."""
    mode = _mode(app)
    if mode == "none":
        return 0
    ids = [s.id for s in app.state.gradebook.counting_submissions()]
    views = grading_views(app, ids, released=lambda _: False)
    waiting = sorted({i for i, v in views.items() if v["state"] == QUEUED} | set(_grader_faults(app, ids)))
    for i in waiting:
        start_grading(app, i)
    return len(waiting)


def _grader_faults(app, submission_ids: Iterable[int]) -> list[int]:
    """The submissions whose stored grading on submit failed for the grader (not for their files)."""
    from grader import __version__
    from grader.gradebook.store import Gradebook
    course, mode = app.state.course, _mode(app)
    subs = submissions_by_id(app.state.gradebook, submission_ids)
    hashes = _exercise_hashes(course, subs.values())
    found, keys = [], {}
    for i, sub in subs.items():
        ex_hash = hashes.get(sub.exercise_id)
        if ex_hash is None:
            continue
        if mode == "public":
            check = read_check(course, check_key(sub.sha256, ex_hash))
            if check and check.get("state") == FAILED and check.get("fault") != "submission":
                found.append(i)
        else:
            keys[i] = Gradebook.grading_key(sub.sha256, ex_hash, __version__)
    rows = _gradings_by_key(app.state.gradebook, keys.values())
    found += [i for i, key in keys.items() if key in rows and rows[key].status != GRADED
              and rows[key].fault != "submission"]
    return found


def _exercise_hashes(course, subs: Iterable) -> dict[str, str | None]:
    """{exercise id: its content hash now} of the submissions' exercises (None: the course lost it)."""
    hashes: dict[str, str | None] = {}
    for ex_id in {s.exercise_id for s in subs}:
        try:
            hashes[ex_id] = course.exercise(ex_id).content_hash()
        except Exception:  # noqa: BLE001 - an exercise the course no longer has: nothing to grade or show
            hashes[ex_id] = None
    return hashes


def stop_grading(app, timeout: float = 30.0) -> None:
    """At shut-down: stop the background grader (the round in progress ends, or is left to the next start)."""
    grader = _grader(app, create=False)
    if grader is not None:
        grader.close(timeout)
        app.state.on_submit_grader = None


def grading_view(app, submission_id: int, *, released: bool) -> dict:
    """The "grading" object of one receipt (see `grading_views`)."""
    views = grading_views(app, [submission_id], released=lambda _: released)
    return views.get(int(submission_id), {"state": QUEUED, "on_submit": _mode(app), "public": None})


def grading_views(app, submission_ids: Iterable[int], *, released: Callable[[str], bool]) -> dict[int, dict]:
    """{submission id: its "grading"}: {"state": queued|running|graded|failed, "on_submit": the
    course's grade_on_submit, "public": the public tests' results or None, and "score"/"max_score"
    (the counting grade: late factor and any override applied) only where `released(exercise)`}.
    "state" follows what runs on submit: the public tests ("public"), else the hidden grading
    (recorded on submit or by autograde)."""
    from grader import __version__
    from grader.gradebook.rows import GradingState, late_score
    from grader.gradebook.store import Gradebook
    course, gradebook, mode = app.state.course, app.state.gradebook, _mode(app)
    grader = _grader(app, create=False)
    subs = submissions_by_id(gradebook, submission_ids)
    hashes = _exercise_hashes(course, subs.values())
    keys = {i: Gradebook.grading_key(s.sha256, hashes[s.exercise_id], __version__)
            for i, s in subs.items() if hashes[s.exercise_id]}
    hidden = _gradings_by_key(gradebook, keys.values())
    grades = None
    views = {}
    for i, sub in subs.items():
        row = hidden.get(keys.get(i, ""))
        check = read_check(course, check_key(sub.sha256, hashes[sub.exercise_id])) if hashes[sub.exercise_id] \
            else None
        view: dict = {"on_submit": mode, "public": _public(check) if check and check.get("state") == GRADED else None}
        if mode == "public":
            stored = check.get("state") if check else None
        else:
            stored = None if row is None else (GRADED if row.status == GradingState.GRADED.value else FAILED)
        in_hand = grader.state(i) if grader is not None else None  # queued again: a graded one stays graded
        view["state"] = GRADED if stored == GRADED else (in_hand or stored or QUEUED)
        if view["state"] == FAILED:
            fault, error = (check.get("fault"), check.get("error")) if mode == "public" and check else \
                ((row.fault, row.error) if row is not None else (None, None))
            view["problem"] = _learner_problem(fault, _no_path(error, sub.path))
        if row is not None and row.status == GradingState.GRADED.value and released(sub.exercise_id):
            if grades is None:
                grades = {(g.student, g.exercise): g for g in gradebook.grade_rows()}
            counting = grades.get((sub.student_id, sub.exercise_id))
            if counting is not None and counting.submission_id == sub.id:
                view["score"], view["max_score"] = counting.score, counting.max_score
            else:
                view["score"], view["max_score"] = late_score(row.score, sub.late_factor), row.max_score
        views[i] = view
    return views


def _learner_problem(fault: str | None, error: str | None) -> str:
    """Why a grading on submit is not a result, as a learner reads it (a grader's own error stays
    with the staff)."""
    if fault == "submission":
        return str(error or "the submission cannot be graded")[:2000]
    return ("the grader could not run your submission (a problem of the grader or the machine, not of your work); "
            "your instructor sees it and runs it again")


def _public(check: dict) -> dict | None:
    """The learner-facing part of a public-tests result: score, tests (name, points, status, output)."""
    result = check.get("result")
    if not isinstance(result, dict):
        return None
    tests = []
    for t in result.get("tests") or []:
        if not isinstance(t, dict) or t.get("visibility") == "hidden":
            continue
        extra = t.get("extra_data") if isinstance(t.get("extra_data"), dict) else {}
        tests.append({"name": str(t.get("name", "")), "score": t.get("score"), "max_score": t.get("max_score"),
                      "status": str(extra.get("status") or t.get("status") or ""),
                      "output": str(t.get("output") or "")[:MAX_OUTPUT]})
    return {"score": result.get("score"), "max_score": result.get("max_score"), "tests": tests,
            "output": str(result.get("output") or "")[:MAX_OUTPUT]}


__all__ = ["OnSubmitGrader", "start_grading", "resume_grading", "stop_grading", "grading_view", "grading_views",
           "checks_root", "check_key", "read_check", "write_check", "submissions_by_id"]
