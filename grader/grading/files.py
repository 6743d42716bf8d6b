"""A submission's files: which of a learner's files are graded, and the rules every source file
passes (the one place these rules live: `dlgrade check`, `grade`, and the exchange's `submit` and
`collect` all call them). The entry may be a Jupyter notebook (`EXERCISE.ipynb`) instead of the
entry `.py` file: it is turned into the entry module at grading (grading/notebook.py). Light: no
numpy, no pytest."""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

from grader.exercise.spec import Exercise

MAX_SUBMISSION_FILES = 50
MAX_FILE_BYTES = 1 << 20
MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024  # a notebook with outputs; the module made from it obeys MAX_FILE_BYTES
NOTEBOOK_SUFFIX = ".ipynb"
MAX_TOTAL_BYTES = 5 * 1024 * 1024
SNIFF_BYTES = 8192  # what is read of a file to tell an archive or binary data from text
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tgz", ".tbz", ".tbz2", ".txz", ".gz", ".bz2", ".xz", ".zst", ".7z", ".rar")
_ARCHIVE_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08", b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00",
                  b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07", b"\x28\xb5\x2f\xfd")


class SubmissionError(Exception):
    """A submission path that cannot be graded; the message says what to do."""


@dataclass(frozen=True)
class Problem:
    """Why a file cannot be submitted: `what` follows its name ("x.py is a binary file ..."), `fix`
    says what to do."""

    what: str
    fix: str

    def message(self, name: object) -> str:
        return f"{name} {self.what}; {self.fix}"


def size_problem(size: int) -> Problem | None:
    """A source file over the size limit."""
    if size > MAX_FILE_BYTES:
        return Problem(f"is {size} bytes, over the {MAX_FILE_BYTES // 1024} KiB limit for a source file",
                       "keep data out of your code (the tests give it to your functions)")
    return None


def text_problem(data: bytes, *, source: bool = False, complete: bool = False) -> Problem | None:
    """Why bytes are not UTF-8 text, or None: a Python `source` file or another one, its first bytes
    (a multi-byte character may be cut at the end) or its `complete` content."""
    if b"\0" in data:
        if source:
            return Problem("is a binary file, not Python source", "save your code as text")
        return Problem("is a binary file", "a submission holds source files only")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data, final=complete)
    except UnicodeDecodeError:
        return Problem("is not UTF-8 text", "save it as UTF-8")
    return None


def source_problem(data: bytes) -> Problem | None:
    """Why the whole content of a Python source file cannot be graded (size, binary, not UTF-8)."""
    return size_problem(len(data)) or text_problem(data, source=True, complete=True)


def notebook_problem(size: int, head: bytes) -> Problem | None:
    """A notebook over its size limit, or whose first bytes are binary or not UTF-8 (its JSON and
    cells are checked when it is read: grading/notebook.py)."""
    if size > MAX_NOTEBOOK_BYTES:
        return Problem(f"is {size} bytes, over the {MAX_NOTEBOOK_BYTES // (1024 * 1024)} MiB limit for a notebook",
                       "clear its outputs (Edit > Clear All Outputs) and save it again")
    problem = text_problem(head)
    if problem is not None:
        return Problem(problem.what + ", not a notebook", "submit the .ipynb file Jupyter saves")
    return None


def notebook_name(exercise: Exercise) -> str:
    """The name a learner's notebook has in a submission: the entry file's, with .ipynb
    (perceptron.py -> perceptron.ipynb)."""
    return Path(exercise.entry).stem + NOTEBOOK_SUFFIX


def is_archive(name: str, head: bytes) -> bool:
    """An archive by its name or its first bytes (archives are refused, never unpacked)."""
    return (name.lower().endswith(ARCHIVE_SUFFIXES) or any(head.startswith(m) for m in _ARCHIVE_MAGIC)
            or head[257:262] == b"ustar")


def submission_files(exercise: Exercise, path: Path) -> dict[str, Path]:
    """The learner's files to grade, by their name in the submission. A `.py` file of any name is
    the entry file; a `.ipynb` file of any name is the entry notebook (named `notebook_name`); a
    directory must hold the entry file or the entry notebook (not both) and may hold other `.py`
    modules."""
    path = Path(path)
    notebook = notebook_name(exercise)
    if not path.exists():
        raise SubmissionError(f"{path} does not exist; give the path of your {exercise.entry} (or {notebook}) or "
                              "its folder")
    if path.is_symlink():
        raise SubmissionError(f"{path} is a symbolic link; give the file itself")
    if path.is_file():
        if path.suffix == NOTEBOOK_SUFFIX:
            chosen = {notebook: path}
        elif path.suffix == ".py":
            chosen = {exercise.entry: path}
        else:
            raise SubmissionError(f"{path} is not a Python file (.py) or a notebook (.ipynb); submit your "
                                  f"{exercise.entry} or {notebook}")
    elif path.is_dir():
        entry, nb = path / exercise.entry, path / notebook
        has_entry = entry.is_file() and not entry.is_symlink()
        has_notebook = nb.is_file() and not nb.is_symlink()
        if has_entry and has_notebook:
            raise SubmissionError(f"{path} holds both {exercise.entry} and {notebook}; give the path of the one "
                                  f"you mean ({entry} or {nb}), or move the other out of the folder")
        if not has_entry and not has_notebook:
            raise SubmissionError(f"{path} has no {exercise.entry} or {notebook}; the entry file of {exercise.id} is "
                                  f"{exercise.entry} (or the notebook {notebook})")
        chosen = {notebook: nb} if has_notebook else {}
        for p in sorted(path.iterdir()):
            if p.suffix == ".py" and p.is_file() and not p.is_symlink():
                chosen[p.name] = p
            if len(chosen) > MAX_SUBMISSION_FILES:
                raise SubmissionError(f"{path} holds more than {MAX_SUBMISSION_FILES} Python files; "
                                      "submit only your exercise's files")
    else:
        raise SubmissionError(f"{path} is neither a file nor a folder")
    for name, p in chosen.items():
        if name == notebook:
            with open(p, "rb") as fh:
                problem = notebook_problem(p.stat().st_size, fh.read(SNIFF_BYTES))
        else:
            problem = size_problem(p.stat().st_size)
            if problem is None:
                problem = source_problem(p.read_bytes())
        if problem is not None:
            raise SubmissionError(problem.message(p))
    return chosen


def notebook_in(exercise: Exercise, files: dict[str, object]) -> str | None:
    """The name of the entry notebook among a submission's `files`, or None (a `.py` submission)."""
    name = notebook_name(exercise)
    return name if name in files else None
