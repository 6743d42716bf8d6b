"""What a grading does with a notebook submission, on the trusted side: convert it to the entry
module before staging (the sandbox sees only the generated `.py`, never the notebook, its outputs
or the line map), and afterwards name the notebook's cells wherever the learner's text names the
generated module's lines (tracebacks, SyntaxError messages, warnings), in text that the wire has
already cleaned. The notes on what was left out (IPython magics, shell escapes) go into
`Result.extra_data["notebook"]`, which `check`, `--json` and the feedback report show."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from grader.exercise.spec import Exercise
from grader.grading.files import SubmissionError, notebook_in
from grader.grading.notebook import ConvertedNotebook, NotebookError, notebook_to_module
from grader.grading.result import Result


_PLAIN_NAME = re.compile(r"[\w .+-]{1,120}\.ipynb")


@dataclass(frozen=True)
class NotebookSubmission:
    """A submission whose entry is a notebook: its name in the submission (perceptron.ipynb), the
    entry module it stands for (perceptron.py), the module made from it, and the name feedback
    calls it (the learner's own file name when it is a plain one: `dlgrade check EX "my work.ipynb"`)."""

    name: str
    entry: str
    converted: ConvertedNotebook
    shown: str = ""

    @property
    def display(self) -> str:
        return self.shown or self.name


def convert_submission(exercise: Exercise, files: dict[str, Path]) -> NotebookSubmission | None:
    """The entry notebook of `files` (grading.files.submission_files) converted, or None when the
    submission is `.py` files. SubmissionError (one line) when the notebook cannot be graded."""
    name = notebook_in(exercise, files)
    if name is None:
        return None
    path = files[name]
    try:
        with open(path, "rb") as fh:
            data = fh.read()
        converted = notebook_to_module(data, name, cells_apart="nbgrader" in exercise.extra)  # nbgrader's way
    except NotebookError as err:
        raise SubmissionError(str(err)) from None
    except OSError as err:
        raise SubmissionError(f"cannot read {path}: {err.strerror}; check the file") from None
    own = Path(path).name
    return NotebookSubmission(name, exercise.entry, converted, own if _PLAIN_NAME.fullmatch(own) else name)


@contextlib.contextmanager
def module_files(files: dict[str, Path], notebook: NotebookSubmission | None) -> Iterator[dict[str, Path]]:
    """`files` as the sandbox gets them: the notebook replaced by its generated module (written to a
    private folder of the trusted side for the time of the staging, then removed)."""
    if notebook is None:
        yield files
        return
    folder = tempfile.mkdtemp(prefix="dlgrade-nb-")
    try:
        os.chmod(folder, 0o700)
        module = Path(folder) / notebook.entry
        fd = os.open(module, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(notebook.converted.source)
        graded = {name: p for name, p in files.items() if name != notebook.name}
        graded[notebook.entry] = module
        yield graded
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def name_cells_in_text(text: str, notebook: NotebookSubmission) -> str:
    """`text` with every mention of a line of the generated module (`File ".../perceptron.py", line 12`,
    `(perceptron.py, line 12)`, `perceptron.py:12:`, a SyntaxError's `on line 12`) naming the
    notebook's cell and line instead ("perceptron.ipynb", cell 4, line 3)."""
    if not text:
        return text
    entry, name, conv = re.escape(notebook.entry), notebook.display, notebook.converted

    def frame(m: re.Match) -> str:
        return f'File "{name}", {conv.where(int(m.group(1)))}'

    def paren(m: re.Match) -> str:
        return f"({name}, {conv.where(int(m.group(1)))})"

    def warning(m: re.Match) -> str:
        return f"{m.group(1)}{name}, {conv.where(int(m.group(2)))}:"

    text = re.sub(r'File "(?:[^"\n]*/)?' + entry + r'", line (\d+)', frame, text)
    text = re.sub(r"\(" + entry + r", line (\d+)\)", paren, text)
    text = re.sub(r"(^|\s)(?:[^\s:\"]*/)?" + entry + r":(\d+):", warning, text, flags=re.MULTILINE)
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if "Error" in line and " on line " in line:
            lines[i] = re.sub(r"\bon line (\d+)\b", lambda m: f"on {conv.where(int(m.group(1)))}", line)
    text = "\n".join(lines)
    text = text.replace(f"Your file {notebook.entry} could not be imported",
                        f"Your notebook {name} could not be imported")
    return text.replace(f"Importing your file {notebook.entry} ", f"Importing your notebook {name} ")


def name_cells(result: Result, notebook: NotebookSubmission | None) -> Result:
    """The grading's result with the notebook's cells named in every test's feedback and in the
    submission's own output, and `extra_data["notebook"]`: the file, the cells graded, the notes.
    A `.py` submission's result is returned as it is."""
    if notebook is None:
        return result
    for test in result.tests:
        test.output = name_cells_in_text(test.output, notebook)
    result.output = name_cells_in_text(result.output, notebook)
    result.extra_data["notebook"] = {"file": notebook.display, "cells": list(notebook.converted.cells),
                                     "notes": list(notebook.converted.notes)}
    return result


__all__ = ["NotebookSubmission", "convert_submission", "module_files", "name_cells", "name_cells_in_text"]
