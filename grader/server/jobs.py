"""Staff jobs the server runs in the background, one at a time in order: an autograde of the
course (today's batch: `grader.batch.run.run_batch`, local pool) or a regrade of one learner's
exercise. The server stays responsive while a job runs; the gradebook records each result as the
batch commits it. Jobs live in memory: a restart forgets their status, never their results."""

from __future__ import annotations

import itertools
import logging
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

log = logging.getLogger("dlgrade.server")


@dataclass
class Job:
    """One background job and where it stands (queued, running, done, failed)."""

    id: int
    kind: str
    what: dict
    state: str = "queued"
    queued_at: float = field(default_factory=time.time)
    summary: dict | None = None
    error: str | None = None

    def as_dict(self) -> dict:
        """The job as the API shows it."""
        return {"job": self.id, "kind": self.kind, **self.what, "state": self.state, "summary": self.summary,
                "error": self.error}


class Jobs:
    """A queue of jobs served by one thread."""

    def __init__(self):
        self._queue: queue.Queue = queue.Queue()
        self._jobs: dict[int, Job] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(self, kind: str, what: dict, run: Callable[[], dict]) -> Job:
        """Queue `run` (returns a summary dict) as a job; start the worker thread on first use."""
        with self._lock:
            job = Job(next(self._ids), kind, what)
            self._jobs[job.id] = job
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name="dlgrade-jobs", daemon=True)
                self._thread.start()
        self._queue.put((job, run))
        return job

    def get(self, job_id: int) -> Job | None:
        """A job by id, or None."""
        return self._jobs.get(job_id)

    def all(self) -> list[Job]:
        """Every job, newest first."""
        return sorted(self._jobs.values(), key=lambda j: -j.id)

    def _serve(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            job, run = item
            job.state = "running"
            try:
                job.summary = run()
                job.state = "done"
            except Exception as err:  # a job's failure is the job's, never the server's
                job.state, job.error = "failed", f"{type(err).__name__}: {(str(err).splitlines() or [''])[0][:500]}"
                log.error("job %d (%s) failed: %s", job.id, job.kind, job.error)

    def wait(self, job_id: int, timeout: float) -> Job | None:
        """Wait (polling) until a job is done or failed, at most `timeout` seconds (for tests)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            job = self.get(job_id)
            if job is None or job.state in ("done", "failed"):
                return job
            time.sleep(0.1)
        return self.get(job_id)

    def close(self) -> None:
        """Stop the worker thread after the job it runs (queued ones are dropped)."""
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        if self._thread is not None:
            self._queue.put(None)


def batch_job(course, gradebook, *, exercise: str | None = None, student: str | None = None,
              workers: int | None = None) -> Callable[[], dict]:
    """A job that runs today's batch on the course (what `dlgrade autograde` does) and returns its
    counts."""
    def run() -> dict:
        from grader.batch.plan import hoda_folder
        from grader.batch.run import run_batch
        summary = run_batch(course, gradebook, exercise=exercise, student=student,
                            workers=workers or min(4, os.cpu_count() or 1), hoda_dir=hoda_folder(None, course))
        return {"graded": summary.graded, "failed": summary.failed, "cached": summary.cached,
                "retried": summary.retried, "seconds": round(summary.seconds, 3)}
    return run


__all__ = ["Job", "Jobs", "batch_job"]
