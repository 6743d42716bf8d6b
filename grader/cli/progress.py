"""The progress of an autograde batch for a person: a bar that fits 80 columns on a terminal, and
one plain line every few gradings when the output goes to a file or a pipe (a log, CI)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from grader.gradebook.rows import GradingState

PLAIN_LINES = 20  # about how many lines a batch prints when not on a terminal


def _duration(seconds: float) -> str:
    """A short duration: 45 s, 12 min, 2 h 5 min."""
    seconds = max(0, int(seconds + 0.5))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


class BatchProgress:
    """`on_plan` and `on_result` for `run_batch` (grader.protocols' PlanCallback and ResultCallback);
    use it as a context manager around the batch."""

    def __init__(self, stream: TextIO | None = None, terminal: bool | None = None):
        self.stream = stream or sys.stderr
        self.terminal = self.stream.isatty() if terminal is None else terminal
        self.total = self.cached = self.graded = self.failed = 0
        self.t0 = time.monotonic()
        self.every = 1
        self._bar = self._task = None

    @property
    def finished(self) -> int:
        return self.graded + self.failed

    def _rate_and_eta(self) -> tuple[str, str]:
        elapsed = max(time.monotonic() - self.t0, 1e-6)
        if not self.finished:
            return "-", "?"
        per_min = 60 * self.finished / elapsed
        return f"{per_min:.1f}", _duration((self.total - self.finished) * elapsed / self.finished)

    def __enter__(self) -> "BatchProgress":
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()

    def on_plan(self, n_tasks: int, n_cached: int) -> None:
        self.total, self.cached, self.t0 = n_tasks, n_cached, time.monotonic()
        self.every = max(1, round(n_tasks / PLAIN_LINES))
        if not self.terminal:
            print(f"grading {n_tasks} submission(s), {n_cached} already graded (cached)", file=self.stream,
                  flush=True)
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
        # ~75 columns at most: "grading ━━━━━━━━━━━━━━━━━━ 12/40 failed 1 cached 3 4.2/min ETA 3 min"
        self._bar = Progress(TextColumn("grading"), BarColumn(bar_width=18), MofNCompleteColumn(),
                             TextColumn("failed {task.fields[failed]} cached {task.fields[cached]}"),
                             TextColumn("{task.fields[rate]}/min ETA {task.fields[eta]}"),
                             console=Console(file=self.stream), transient=False)
        self._task = self._bar.add_task("grading", total=n_tasks, failed=0, cached=n_cached, rate="-", eta="?")
        self._bar.start()

    def on_result(self, status, task, result) -> None:
        if status == GradingState.GRADED:
            self.graded += 1
        else:
            self.failed += 1
        rate, eta = self._rate_and_eta()
        if self._bar is not None:
            self._bar.update(self._task, completed=self.finished, failed=self.failed, rate=rate, eta=eta)
        elif self.finished % self.every == 0 or self.finished == self.total:
            left = f", about {eta} left" if self.finished < self.total else ""
            print(f"{self.finished}/{self.total} gradings done ({self.failed} failed, {self.cached} cached), "
                  f"{rate}/min{left}", file=self.stream, flush=True)
