"""The local pool: N grading worker processes on this machine (`python -m grader.batch.worker`, each
claims its own sandbox slot), fed tasks as JSON lines on stdin, answering on stdout.

A worker takes a few tenths of a second to import pytest and the grader before it says it is ready,
so the pool can be started early (`start`), before the coordinator has even read the course, and
its workers get ready while the coordinator plans the batch. Workers a batch turns out not to need
are stopped at once (`run` starts and waits for only as many as there are tasks; `close` stops the
rest). Only the standard library is imported here at first: `start` spawns before anything heavy
is loaded."""

from __future__ import annotations

import collections
import selectors
import subprocess
import sys
import threading
from typing import Callable, Iterator

STDERR_LINES = 12  # a dead worker's last lines on stderr, told to the instructor
TICK_S = 0.25  # how often a waiting pool calls `on_idle` (the coordinator commits what it holds)


class _Worker:
    """One local worker process, with the last lines it wrote on stderr (read as they come, so a
    chatty worker never blocks on a full pipe). Starting one does not wait for it: `wait_ready`
    does, so that several workers start side by side."""

    command = (sys.executable, "-m", "grader.batch.worker")

    def __init__(self):
        self.proc = subprocess.Popen(list(self.command), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
                                     errors="replace")
        self.stderr: collections.deque[str] = collections.deque(maxlen=STDERR_LINES)
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()
        self.slot: int | None = None

    def wait_ready(self) -> "_Worker":
        """Wait for the worker's ready line (its slot); a worker that dies first raises RuntimeError."""
        from grader.batch.messages import Ready
        line = self.proc.stdout.readline()
        try:
            self.slot = Ready.model_validate_json(line).slot
        except ValueError:
            code = self.proc.poll()
            self.stop()
            raise RuntimeError(f"a grading worker did not start (exit {code}){self.last_words()}") from None
        return self

    def _drain(self) -> None:
        for line in self.proc.stderr:
            if line.strip():
                self.stderr.append(line.rstrip("\n"))

    def last_words(self) -> str:
        """The worker's last lines on stderr, as the tail of a message (empty when it wrote none)."""
        self.reader.join(timeout=2)
        lines = list(self.stderr)
        return ("; its last lines on stderr:\n" + "\n".join("  " + ln[:300] for ln in lines)) if lines else ""

    def died(self) -> str:
        code = self.proc.wait()
        why = (f"the grading worker died (signal {-code})" if code and code < 0
               else f"the grading worker exited with code {code}")
        return why + self.last_words()

    def stop(self) -> None:
        """SIGTERM first (the worker removes its zygotes' private folders), SIGKILL if it lingers."""
        proc = self.proc
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


class LocalPool:
    """N worker processes on this machine, fed tasks as JSON lines (see the module's docstring)."""

    def __init__(self, workers: int):
        self.size = max(1, int(workers))
        self.workers: dict[int, _Worker] = {}
        self.on_idle: Callable[[], None] | None = None

    def start(self, count: int | None = None) -> "LocalPool":
        """Start up to `count` workers (default: the pool's size) without waiting for them, so that
        they import while this process does other work; `run` waits for them."""
        for n in range(self.size if count is None else min(self.size, count)):
            if n not in self.workers:
                self.workers[n] = _Worker()
        return self

    def run(self, tasks: list) -> Iterator[tuple[object, dict]]:
        """Yield (task, answer dict) for `tasks` (`grader.batch.plan.Task`s) as gradings finish; a
        worker's death yields {"crashed": why}. `on_idle` is called every TICK_S while no answer has
        come. Uses min(size, tasks) workers (started ones beyond that are stopped unused); all of
        them end when the run does."""
        from grader.batch.messages import MessageError, parse_answer, task_message
        pending = collections.deque(tasks)
        busy: dict[int, object] = {}
        sel = selectors.DefaultSelector()
        try:
            needed = min(self.size, len(pending))
            for n in [n for n in self.workers if n >= needed]:  # started early, not needed after all
                self.workers.pop(n).stop()
            self.start(needed)  # every one started before any is waited for
            for worker in self.workers.values():
                worker.wait_ready()
            while pending or busy:
                for n, worker in list(self.workers.items()):
                    if n not in busy and pending:
                        task = pending.popleft()
                        try:
                            worker.proc.stdin.write(task_message(task).model_dump_json() + "\n")
                            worker.proc.stdin.flush()
                        except (BrokenPipeError, OSError):
                            pending.appendleft(task)
                            self._replace(sel, n)
                            continue
                        busy[n] = task
                        sel.register(worker.proc.stdout, selectors.EVENT_READ, n)
                if not busy:
                    continue
                ready = sel.select(timeout=TICK_S)
                if not ready and self.on_idle is not None:
                    self.on_idle()
                for key, _ in ready:
                    n = key.data
                    worker = self.workers[n]
                    sel.unregister(worker.proc.stdout)
                    task = busy.pop(n)
                    line = worker.proc.stdout.readline()
                    if not line:
                        yield task, {"task_id": task.task_id, "crashed": worker.died()}
                        self._replace(sel, n)
                        continue
                    try:
                        yield task, parse_answer(line).as_dict()
                    except MessageError as err:  # its stream cannot be trusted any more: a new worker
                        yield task, {"task_id": task.task_id, "crashed": f"{err}{worker.last_words()}"}
                        self._replace(sel, n)
        finally:
            self.close()

    def _replace(self, sel, n: int) -> None:
        old = self.workers.pop(n, None)
        if old is not None:
            try:
                sel.unregister(old.proc.stdout)
            except (KeyError, ValueError):
                pass
            old.stop()
        self.workers[n] = _Worker().wait_ready()

    def close(self) -> None:
        """End every worker: a ready one when its stdin closes (it finishes nothing: it is idle),
        one that never became ready at once (SIGTERM), so an early-started pool a batch did not
        need costs no wait."""
        for worker in self.workers.values():
            if worker.slot is None:
                worker.stop()
                continue
            try:
                worker.proc.stdin.close()
            except OSError:
                pass
        for worker in self.workers.values():
            try:
                worker.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.stop()
        self.workers.clear()


__all__ = ["LocalPool", "STDERR_LINES", "TICK_S"]
