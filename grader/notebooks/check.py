"""The notebook's check cell: run the public tests on the saved notebook and show the result there.

`check_notebook("perceptron")` finds the notebook the kernel runs, runs `dlgrade check EXERCISE
NOTEBOOK --json` in a separate process (the same engine and sandbox as at the terminal: the
learner's kernel, whatever it patched, takes no part in the grading) and displays the result: an
HTML table in Jupyter, plain text elsewhere. The kernel cannot see unsaved cells, so the result
says which saved file it graded and when that file was saved.

Kept light (standard library only at import): the check cell runs in the learner's kernel."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_TIMEOUT = 1800.0  # seconds for the whole check; the engine has its own, smaller limits
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")  # grader.course.ids.ID_PATTERN (kept here: no grader import)
_STATUS_COLOURS = {"passed": "#1a7f37", "failed": "#cf222e", "error": "#cf222e", "timeout": "#9a6700"}


def _plain(text: object, limit: int = 20_000) -> str:
    """Text from a grading for a page or a terminal: no control or bidi-override character, capped."""
    text = _CONTROL.sub("", str(text))
    return text if len(text) <= limit else text[:limit] + " [...]"


@dataclass(frozen=True)
class CheckedTest:
    """One public test as the check shows it."""

    name: str
    score: float
    max_score: float
    status: str  # passed, failed, error, timeout
    hint: str


@dataclass(frozen=True)
class NotebookCheck:
    """What one check found: the notebook graded (and when it was saved), the score and tests, or
    why it could not be graded (`error`, one line or a few)."""

    exercise: str
    path: Path
    saved_at: float | None = None  # the notebook's modification time (seconds since the epoch)
    score: float | None = None
    max_score: float | None = None
    tests: tuple[CheckedTest, ...] = ()
    printed: str = ""  # what the learner's code printed during the grading
    notes: tuple[str, ...] = ()  # what the conversion left out (magics, shell escapes)
    error: str | None = None
    seconds: float = 0.0
    checked_at: float = field(default_factory=time.time)

    @property
    def full_marks(self) -> bool:
        return self.error is None and self.max_score is not None and self.score == self.max_score

    def saved_line(self) -> str:
        """Which file was graded and when it was saved: the kernel cannot see unsaved cells."""
        if self.saved_at is None:
            return f"No saved notebook at {self.path}."
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.saved_at))
        age = max(0, round(self.checked_at - self.saved_at))
        ago = f"{age} s ago" if age < 120 else f"{age // 60} min ago"
        return (f"Graded the notebook as saved at {stamp} ({ago}): {self.path}. Changes made since the last "
                "save are not seen: save (Ctrl+S) and run this cell again.")

    def text(self) -> str:
        """The check as plain text (a terminal, a log)."""
        lines = [f"{self.exercise} (public tests): " + (
            f"not graded: {self.error}" if self.error else
            f"{self.score:g} / {self.max_score:g} points in {self.seconds:.1f} s")]
        if self.saved_at is not None:
            lines.append(self.saved_line())
        for note in self.notes:
            lines.append(f"note: {_plain(note, 2000)}")
        for t in self.tests:
            lines.append(f"  {t.status.upper():8} {_plain(t.name, 400)}  {t.score:g}/{t.max_score:g}")
            lines += [f"           {line}" for line in _plain(t.hint).splitlines()]
        if self.printed.strip():
            lines.append("  your code printed:")
            lines += [f"           {line}" for line in _plain(self.printed).rstrip().splitlines()[:40]]
        return "\n".join(lines)

    def html(self) -> str:
        """The check as an HTML fragment for Jupyter; every text from the grading is escaped."""
        esc = html.escape
        if self.error:
            head = (f"<strong>{esc(self.exercise)}</strong>: <span style=\"color:#cf222e\">not graded</span>: "
                    f"{esc(_plain(self.error, 4000))}")
        else:
            colour = "#1a7f37" if self.full_marks else "#cf222e"
            head = (f"<strong>{esc(self.exercise)}</strong> (public tests): <strong style=\"color:{colour}\">"
                    f"{self.score:g} / {self.max_score:g}</strong> points in {self.seconds:.1f} s")
        parts = [f"<div class=\"dlgrade-check\" style=\"font-family:sans-serif;line-height:1.4\">",
                 f"<p style=\"font-size:1.1em;margin:0 0 .3em\">{head}</p>",
                 f"<p style=\"color:#57606a;margin:0 0 .6em\">{esc(self.saved_line())}</p>"
                 if self.saved_at is not None else ""]
        for note in self.notes:
            parts.append(f"<p style=\"color:#9a6700;margin:0 0 .4em\">note: {esc(_plain(note, 2000))}</p>")
        if self.tests:
            cell = "style=\"border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top\""
            parts.append("<table style=\"border-collapse:collapse\"><thead><tr>" +
                         "".join(f"<th {cell}>{h}</th>" for h in ("test", "points", "status", "hint")) +
                         "</tr></thead><tbody>")
            for t in self.tests:
                colour = _STATUS_COLOURS.get(t.status, "#cf222e")
                hint = esc(_plain(t.hint))
                parts.append(f"<tr><td {cell}><code>{esc(_plain(t.name, 400))}</code></td>"
                             f"<td {cell}>{t.score:g} / {t.max_score:g}</td>"
                             f"<td {cell}><strong style=\"color:{colour}\">{esc(t.status)}</strong></td>"
                             f"<td {cell[:-1]};white-space:pre-wrap\">{hint}</td></tr>")
            parts.append("</tbody></table>")
        if self.printed.strip():
            printed = "\n".join(_plain(self.printed).rstrip().splitlines()[:40])
            parts.append("<p style=\"margin:.6em 0 .2em\">Your code printed:</p>"
                         f"<pre style=\"margin:0\">{esc(printed)}</pre>")
        parts.append("</div>")
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        return self.html()

    def __str__(self) -> str:
        return self.text()


def _existing(candidate: str | os.PathLike) -> Path | None:
    path = Path(candidate).expanduser()
    return path.resolve() if path.suffix == ".ipynb" and path.is_file() else None


def find_notebook(exercise_id: str, caller_globals: dict | None = None) -> Path:
    """The notebook the kernel runs: `$JPY_SESSION_NAME` (Jupyter Server: the notebook's path,
    relative to the server's folder), VS Code's `__vsc_ipynb_file__` in the caller's globals, else
    EXERCISE.ipynb in the working folder (which may not exist: the check then says so)."""
    session = os.environ.get("JPY_SESSION_NAME", "")
    if session.endswith(".ipynb"):
        here = Path.cwd()
        for candidate in (session, *(folder / session for folder in (here, *here.parents)), here / Path(session).name):
            found = _existing(candidate)
            if found is not None:
                return found
    vscode = (caller_globals or {}).get("__vsc_ipynb_file__")
    if isinstance(vscode, str) and _existing(vscode) is not None:
        return _existing(vscode)
    return Path.cwd() / f"{exercise_id}.ipynb"


def _tests(data: dict) -> tuple[CheckedTest, ...]:
    out = []
    for t in data.get("tests") or []:
        if not isinstance(t, dict):
            continue
        extra = t.get("extra_data") if isinstance(t.get("extra_data"), dict) else {}
        out.append(CheckedTest(name=str(t.get("name", "?")), score=float(t.get("score") or 0),
                            max_score=float(t.get("max_score") or 0),
                            status=str(extra.get("status") or t.get("status") or "failed"),
                            hint=str(t.get("output") or "")))
    return tuple(out)


def _notes(extra: dict) -> tuple[str, ...]:
    """The conversion's notes, where the grading put them (extra_data "notes" or "notebook"/"notes")."""
    for holder in (extra, extra.get("notebook")):
        if isinstance(holder, dict) and isinstance(holder.get("notes"), list):
            return tuple(str(n) for n in holder["notes"])
    return ()


def _json_result(stdout: str) -> dict | None:
    for text in (stdout, *reversed(stdout.splitlines())):
        text = text.strip()
        if text.startswith("{"):
            try:
                data = json.loads(text)
            except ValueError:
                continue
            if isinstance(data, dict) and "tests" in data:
                return data
    return None


def run_check(exercise_id: str, path: str | os.PathLike | None = None, *, timeout: float = DEFAULT_TIMEOUT,
              caller_globals: dict | None = None) -> NotebookCheck:
    """Grade the saved notebook at `path` (default: `find_notebook`) with the exercise's public tests
    by running `dlgrade check EXERCISE PATH --json` beside it; the result, or why there is none."""
    if not isinstance(exercise_id, str) or not _ID.fullmatch(exercise_id) or exercise_id.startswith("."):
        raise ValueError(f"exercise id {exercise_id!r} is not valid: give the exercise's id, e.g. "
                         "check_notebook(\"perceptron\")")
    notebook = Path(path).expanduser().resolve() if path is not None else find_notebook(exercise_id, caller_globals)
    started = time.time()
    try:
        saved_at = notebook.stat().st_mtime
    except OSError:
        return NotebookCheck(exercise_id, notebook, error=(
            f"no saved notebook at {notebook}: save the notebook (Ctrl+S), or give its path: "
            f"check_notebook(\"{exercise_id}\", \"path/to/{exercise_id}.ipynb\")"), checked_at=started)
    command = [sys.executable, "-c", "from grader.cli import main; main(prog_name='dlgrade')",
               "check", exercise_id, str(notebook), "--json"]
    try:
        proc = subprocess.run(command, cwd=notebook.parent, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, env=dict(os.environ, NO_COLOR="1"))
    except subprocess.TimeoutExpired:
        return NotebookCheck(exercise_id, notebook, saved_at, error=(
            f"the check took longer than {timeout:g} s and was stopped; run `dlgrade check {exercise_id} "
            f"{notebook.name}` in a terminal to see more"), checked_at=started)
    data = _json_result(proc.stdout)
    if data is None:  # dlgrade refused (exit 2: `Error: ...` lines on stderr) or failed to start
        errors = [line.removeprefix("Error: ") for line in proc.stderr.splitlines() if line.startswith("Error: ")]
        why = " ".join(errors) or (proc.stderr.strip().splitlines() or [f"dlgrade exited {proc.returncode}"])[-1]
        return NotebookCheck(exercise_id, notebook, saved_at, error=_plain(why, 4000), checked_at=started,
                             seconds=time.time() - started)
    extra = data.get("extra_data") if isinstance(data.get("extra_data"), dict) else {}
    error = None
    if proc.returncode == 3:  # not a grade: the grader or the machine failed
        lines = [line for line in proc.stderr.splitlines() if line.startswith("not graded:")]
        error = _plain(lines[-1].removeprefix("not graded: ") if lines else "a problem of the grader or the "
                       "machine, not of your notebook; run this cell again", 4000)
    return NotebookCheck(exercise_id, notebook, saved_at, score=float(data.get("score") or 0),
                         max_score=float(data.get("max_score") or 0), tests=_tests(data),
                         printed=str(data.get("output") or ""), notes=_notes(extra), error=error,
                         seconds=float(data.get("execution_time") or time.time() - started), checked_at=started)


def check_notebook(exercise_id: str, path: str | os.PathLike | None = None) -> None:
    """The check cell: grade the saved notebook (default: the one this kernel runs) with the public
    tests and display the result (HTML in Jupyter, text elsewhere). Does nothing when called from a
    module being imported (a notebook graded as a module never runs its own check)."""
    caller = sys._getframe(1).f_globals
    if caller.get("__name__") != "__main__":
        return
    result = run_check(exercise_id, path, caller_globals=caller)
    shell = None
    if "IPython" in sys.modules:
        try:
            from IPython import get_ipython
            shell = get_ipython()
        except ImportError:
            shell = None
    if shell is not None:
        from IPython.display import display
        display({"text/plain": result.text(), "text/html": result.html()}, raw=True)
    else:
        print(result.text())


__all__ = ["DEFAULT_TIMEOUT", "NotebookCheck", "CheckedTest", "check_notebook", "find_notebook", "run_check"]
