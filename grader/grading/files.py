"""A submission's files: which of a learner's files are graded, and the checks every submission
path passes (the one place these rules live: `dlgrade check`, `grade`, `submit` and the exchange
all call it). Light: no numpy, no pytest."""

from __future__ import annotations

from pathlib import Path

from grader.exercise.spec import Exercise

MAX_SUBMISSION_FILES = 50
MAX_FILE_BYTES = 1 << 20


class SubmissionError(Exception):
    """A submission path that cannot be graded; the message says what to do."""


def submission_files(exercise: Exercise, path: Path) -> dict[str, Path]:
    """The learner's files to grade, by their name in the sandbox. A `.py` file of any name is the
    entry file; a directory must hold the entry file and may hold other `.py` modules."""
    path = Path(path)
    if not path.exists():
        raise SubmissionError(f"{path} does not exist; give the path of your {exercise.entry} or its folder")
    if path.is_symlink():
        raise SubmissionError(f"{path} is a symbolic link; give the file itself")
    if path.is_file():
        if path.suffix != ".py":
            raise SubmissionError(f"{path} is not a Python file (.py); submit your {exercise.entry}")
        chosen = {exercise.entry: path}
    elif path.is_dir():
        entry = path / exercise.entry
        if not entry.is_file():
            raise SubmissionError(f"{path} has no {exercise.entry}; the entry file of {exercise.id} is "
                                  f"{exercise.entry}")
        chosen = {}
        for p in sorted(path.iterdir()):
            if p.suffix == ".py" and p.is_file() and not p.is_symlink():
                chosen[p.name] = p
            if len(chosen) > MAX_SUBMISSION_FILES:
                raise SubmissionError(f"{path} holds more than {MAX_SUBMISSION_FILES} Python files; "
                                      "submit only your exercise's files")
    else:
        raise SubmissionError(f"{path} is neither a file nor a folder")
    for name, p in chosen.items():
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SubmissionError(f"{p} is {size} bytes, over the {MAX_FILE_BYTES}-byte limit for a source file")
        try:
            p.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise SubmissionError(f"{p} is not UTF-8 text; save it as UTF-8") from None
    return chosen
