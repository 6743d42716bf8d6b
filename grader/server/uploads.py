"""An upload, from the parts of its body to its receipt: the files checked (names, kinds, the source
and notebook rules of grader/grading/files.py), stored by content hash, recorded in the gradebook,
and answered with a receipt.

Storage: `<course>/server/uploads/<sha[:2]>/<sha256>/<files>`. The files are written into a
temporary folder beside it, fsynced, and renamed into place (a crash mid-upload leaves no partial
folder there; `clean_incoming` removes leftovers at start-up); only then is the submission row
committed, and the receipt is sent only after that commit. The same content again from the same
learner for the same exercise (the latest submission's sha256) is not a new submission: the earlier
receipt is answered, marked `duplicate`."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from grader.clock import iso
from grader.gradebook.rows import SubmissionRow
from grader.grading.files import (MAX_TOTAL_BYTES, NOTEBOOK_SUFFIX, SNIFF_BYTES, is_archive, notebook_name,
                                  notebook_problem, source_problem)
from grader.server.multipart import Part

NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")
KINDS = (".py", NOTEBOOK_SUFFIX)
INCOMING = ".incoming-"


class UploadRefused(Exception):
    """An upload refused: `status` (4xx) and a one-line `message` (nothing was stored)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def shown(value: str | bytes, limit: int = 60) -> str:
    """An untrusted name made safe to quote in a message: ASCII, escaped, cut."""
    text = ascii(value if isinstance(value, str) else bytes(value))
    return text if len(text) <= limit else text[:limit] + "...'"


def _refuse(status: int, message: str) -> UploadRefused:
    return UploadRefused(status, f"{message}; nothing was stored")


def _name(part: Part) -> str:
    if part.field != "file":
        raise _refuse(422, f"unexpected form field {shown(part.field)}: send each file as a part named `file`")
    raw = part.filename
    if raw is None or raw == b"":
        raise _refuse(422, "a part named `file` has no file name: send each file with its name")
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _refuse(422, f"the file name {shown(raw)} is not UTF-8: rename the file with letters, digits, "
                           "'_', '.' or '-'") from None
    if "/" in name or "\\" in name or name in (".", "..") or "\0" in name:
        raise _refuse(422, f"the file name {shown(name)} is a path: send base names only (such as perceptron.py)")
    if not NAME.fullmatch(name):
        raise _refuse(422, f"the file name {shown(name)} is not a plain file name: use letters, digits, '_', '.' "
                           "or '-' (not starting with '.' or '-')")
    if not name.endswith(KINDS) or is_archive(name, bytes(part.data[:SNIFF_BYTES])):
        raise _refuse(415, f"{shown(name)} is not a Python file (.py) or a notebook (.ipynb): submit your "
                           "exercise's source files only")
    return name


def checked_files(exercise, parts: list[Part]) -> dict[str, bytes]:
    """The files to store (name as graded -> content) from an upload's parts, or UploadRefused. One
    `.py` file of any name is the entry file, one `.ipynb` the entry notebook; several files must
    hold the entry file or the notebook (not both). A notebook is stored without its outputs and
    must convert to a module."""
    if not parts:
        raise _refuse(422, "the upload holds no file: send your files as parts named `file`")
    named: dict[str, bytes] = {}
    for part in parts:
        name = _name(part)
        if name in named:
            raise _refuse(422, f"{shown(name)} is sent twice: send each file once")
        named[name] = bytes(part.data)
    notebook = notebook_name(exercise)
    if len(named) == 1:
        (name, data), = named.items()
        named = {notebook if name.endswith(NOTEBOOK_SUFFIX) else exercise.entry: data}
    else:
        books = [n for n in named if n.endswith(NOTEBOOK_SUFFIX)]
        if any(n != notebook for n in books):
            raise _refuse(422, f"{shown(books[0])}: the notebook of {exercise.id} is named {notebook}")
        if exercise.entry in named and notebook in named:
            raise _refuse(422, f"both {exercise.entry} and {notebook} are sent: send the one you mean")
        if exercise.entry not in named and notebook not in named:
            raise _refuse(422, f"no {exercise.entry} (or {notebook}) among the files: the entry file of "
                               f"{exercise.id} is {exercise.entry}")
    files, total = {}, 0
    for name, data in named.items():
        if name == notebook:
            problem = notebook_problem(len(data), data[:SNIFF_BYTES])
            if problem is not None:
                raise _refuse(413 if "limit" in problem.what else 422, problem.message(shown(name)))
            from grader.grading.notebook import NotebookError, submission_copy
            try:
                data = submission_copy(data, name)
            except NotebookError as err:
                raise _refuse(422, str(err)) from None
        else:
            problem = source_problem(data)
            if problem is not None:
                raise _refuse(413 if "limit" in problem.what else 422, problem.message(shown(name)))
        total += len(data)
        if total > MAX_TOTAL_BYTES:
            raise _refuse(413, f"the files add up to more than {MAX_TOTAL_BYTES // (1024 * 1024)} MiB: submit only "
                               "your exercise's source files")
        files[name] = data
    return files


def content_hash(files: dict[str, bytes]) -> str:
    """sha256 over (name, content) pairs in name order: the same hash the exchange gives the same
    files (grader.exercise.spec.hash_files)."""
    h = hashlib.sha256()
    for name in sorted(files):
        data = files[name]
        h.update(name.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
    return h.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def store_files(root: Path, files: dict[str, bytes]) -> tuple[str, Path]:
    """(sha256, folder) of the files stored under `root` by content hash; written to a temporary
    folder, fsynced and renamed into place (already there: nothing is written)."""
    sha = content_hash(files)
    final = Path(root) / sha[:2] / sha
    if final.is_dir():
        return sha, final
    final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = Path(tempfile.mkdtemp(prefix=INCOMING, dir=root))
    try:
        for name, data in files.items():
            fd = os.open(tmp / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        _fsync_dir(tmp)
        try:
            os.rename(tmp, final)
        except OSError as err:
            if err.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # the same content arrived at the same time: it is there
        tmp = None
        _fsync_dir(final.parent)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return sha, final


def clean_incoming(root: Path) -> int:
    """Remove what a crash left of uploads being written (temporary folders); returns how many."""
    count = 0
    if Path(root).is_dir():
        for entry in Path(root).iterdir():
            if entry.name.startswith(INCOMING) and entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
                count += 1
    return count


def stored_names(path: str | Path) -> list[str]:
    """The file names of a stored submission."""
    try:
        return sorted(p.name for p in Path(path).iterdir() if p.is_file())
    except OSError:
        return []


@dataclass(frozen=True)
class Receipt:
    """What the server answers for an accepted upload (see `as_dict`)."""

    submission_id: int
    student: str
    exercise: str
    sha256: str
    received_at: datetime
    late: bool
    late_days: float
    files: tuple[str, ...]
    duplicate: bool = False

    @classmethod
    def of(cls, row: SubmissionRow, duplicate: bool = False) -> "Receipt":
        """The receipt of a stored submission."""
        return cls(row.id, row.student_id, row.exercise_id, row.sha256, row.submitted_at, row.late, row.late_days,
                   tuple(stored_names(row.path)), duplicate)

    def as_dict(self) -> dict:
        """The receipt as the API sends it."""
        return {"submission_id": self.submission_id, "student": self.student, "exercise": self.exercise,
                "sha256": self.sha256, "received_at": iso(self.received_at), "late": self.late,
                "late_days": self.late_days, "files": list(self.files), "duplicate": self.duplicate}


class SubmitLocks:
    """One lock per (student, exercise), so two identical uploads at once are one submission."""

    def __init__(self):
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._guard = threading.Lock()

    def __call__(self, student: str, exercise: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault((student, exercise), threading.Lock())


def record_upload(course, gradebook, locks: SubmitLocks, student: str, exercise_id: str, files: dict[str, bytes],
                  received_at: datetime) -> Receipt:
    """Store the files, then record the submission (one transaction) and return its receipt; the
    learner's latest submission with the same content is answered again instead (duplicate).
    UploadRefused 409 when the late policy refuses work received at `received_at`."""
    sha = content_hash(files)
    with locks(student, exercise_id):
        latest = gradebook.counting_submissions(student=student, exercise=exercise_id)
        if latest and latest[0].sha256 == sha:
            return Receipt.of(latest[0], duplicate=True)
        info = course.late_info(exercise_id, received_at)
        if not info.accepted:
            deadline = course.deadline(exercise_id)
            raise _refuse(409, f"the deadline of {exercise_id} was {iso(deadline, micro=False)} and this upload came "
                               f"{info.late_days:.2f} days late: {course.late.describe()}")
        from grader.server.settings import uploads_root
        sha, folder = store_files(uploads_root(course), files)
        sub_id = gradebook.add_submission(student, exercise_id, sha, received_at, str(folder), late=info.late,
                                          late_days=info.late_days, late_factor=info.factor)
        row = next(r for r in gradebook.submission_rows(student=student, exercise=exercise_id) if r.id == sub_id)
        return Receipt.of(row)


__all__ = ["UploadRefused", "Receipt", "SubmitLocks", "checked_files", "content_hash", "store_files",
           "clean_incoming", "stored_names", "record_upload", "shown"]
