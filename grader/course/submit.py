"""Submitting: a learner's file or folder becomes a new, never-changed submission in the exchange.

`submit` validates everything before it writes anything, writes the submission into a hidden
temporary folder beside its final place and renames it into place: a crash leaves either the whole
submission or only a hidden `.incoming-*` folder, and an earlier submission is never touched.
Archives (.zip, .tar*, ...) are refused, never unpacked. The rules for a source file are
grading.files' (the one place they live); this module adds what only a folder has (links, other
files, totals). A notebook (EXERCISE.ipynb) is stored with its outputs and execution counts
cleared (they are never trusted or shown as results, and a plot-heavy notebook would not fit the
exchange's limits), after checking that it converts to the module a grading imports."""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from grader import __version__
from grader.clock import as_utc, iso, now_utc, stamp
from grader.course.errors import ExchangeError
from grader.course.folders import INBOUND, RECORD, USERS, fsync_dir, write_new_file
from grader.course.identity import _id, default_student
from grader.course.records import RECORD_FORMAT
from grader.exercise.spec import Exercise, hash_files
from grader.grading.files import (MAX_FILE_BYTES, MAX_NOTEBOOK_BYTES, MAX_SUBMISSION_FILES, MAX_TOTAL_BYTES,
                                  NOTEBOOK_SUFFIX, SNIFF_BYTES, Problem, SubmissionError, is_archive, notebook_name,
                                  notebook_problem, size_problem, source_problem, submission_files, text_problem)

if TYPE_CHECKING:  # annotations only: the course's settings
    from grader.course.config import Course

MAX_FILES = MAX_SUBMISSION_FILES


def _head(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError as err:
        raise ExchangeError(f"cannot read {path}: {err.strerror}; check its permissions") from None
    try:
        return os.read(fd, SNIFF_BYTES)
    finally:
        os.close(fd)


def _archive_error(path: Path, exercise: Exercise, inside: bool = False) -> ExchangeError:
    if inside:
        return ExchangeError(f"{path} is an archive; dlgrade does not unpack archives: remove it from the folder, "
                             f"or submit your {exercise.entry} alone")
    return ExchangeError(f"{path} is an archive; dlgrade does not unpack archives: unpack it and submit the "
                         f"folder, or your {exercise.entry} alone")


def _refuse(path: Path, problem: Problem) -> ExchangeError:
    return ExchangeError(problem.message(path))


def _scan_folder(folder: Path, exercise: Exercise) -> list[str]:
    """Check every entry of a submitted folder (without following links); return the names that
    are not submitted, with the reason. The files submitted are those grading.files.submission_files picks."""
    real = folder.resolve()
    left_out: list[str] = []
    counts = [0, 0]  # files, bytes
    try:
        entries = os.scandir(folder)  # not sorted: a folder of a million files fails at the 51st
    except OSError as err:
        raise ExchangeError(f"cannot list {folder}: {err.strerror}; check its permissions") from None
    with entries:
        for entry in entries:
            _check_entry(entry, folder, real, exercise, left_out, counts)
    return sorted(left_out)


def _check_entry(entry: os.DirEntry, folder: Path, real: Path, exercise: Exercise, left_out: list[str],
                 counts: list[int]) -> None:
    name, path = entry.name, folder / entry.name
    if entry.is_symlink():
        target = Path(os.path.realpath(path))
        if not target.is_relative_to(real):
            raise ExchangeError(f"{path} is a symbolic link to {target}, outside the folder; copy the file "
                                "into the folder instead of linking it")
        if name == exercise.entry:
            raise ExchangeError(f"{path} is a symbolic link; make your {exercise.entry} a plain file")
        left_out.append(f"{name} (symbolic link)")
        return
    if entry.is_dir(follow_symlinks=False):
        if not name.startswith("."):
            left_out.append(f"{name}/ (folder)")
        return
    if not entry.is_file(follow_symlinks=False):
        left_out.append(f"{name} (not a regular file)")
        return
    if name.startswith(".") and not name.endswith(".py"):
        return  # hidden files (.DS_Store, editor state) are neither checked nor submitted
    counts[0] += 1
    if counts[0] > MAX_FILES:
        raise ExchangeError(f"{folder} holds more than {MAX_FILES} files; submit only your exercise's folder "
                            f"(or your {exercise.entry} alone)")
    size = entry.stat(follow_symlinks=False).st_size
    counts[1] += size
    if counts[1] > MAX_TOTAL_BYTES:
        raise ExchangeError(f"{folder} holds more than {MAX_TOTAL_BYTES // (1024 * 1024)} MiB of files; remove "
                            f"data and model files, or submit your {exercise.entry} alone")
    head = _head(path)
    if is_archive(name, head):
        raise _archive_error(path, exercise, inside=True)
    if name.endswith(".py"):
        problem = size_problem(size) or text_problem(head, source=True)
        if problem is not None:
            raise _refuse(path, problem)
    elif name == notebook_name(exercise):
        problem = notebook_problem(size, head)
        if problem is not None:
            raise _refuse(path, problem)
    else:
        problem = text_problem(head)
        if problem is not None:
            raise ExchangeError(f"{path} {problem.what}; a submission holds source files only: remove it from the "
                                f"folder, or submit your {exercise.entry} alone")
        left_out.append(f"{name} (only .py files and {notebook_name(exercise)} are graded)")


def _read_submission(exercise: Exercise, path: Path) -> tuple[dict[str, bytes], list[str]]:
    """The files to submit (name -> content, read once) and the names left out, or ExchangeError."""
    path = Path(path).expanduser()
    left_out: list[str] = []
    if not path.is_symlink() and path.is_file():
        if is_archive(path.name, _head(path)):
            raise _archive_error(path, exercise)
        if path.suffix == ".py":
            problem = size_problem(path.stat().st_size)
            if problem is not None:
                raise _refuse(path, problem)
        if path.suffix == NOTEBOOK_SUFFIX:
            problem = notebook_problem(path.stat().st_size, _head(path))
            if problem is not None:
                raise _refuse(path, problem)
    if not path.is_symlink() and path.is_dir():
        left_out = _scan_folder(path, exercise)
    try:
        chosen = submission_files(exercise, path)
    except SubmissionError as err:
        raise ExchangeError(str(err)) from None
    notebook = notebook_name(exercise)
    if exercise.entry not in chosen and notebook not in chosen:
        raise ExchangeError(f"{path} has no plain file {exercise.entry} (or {notebook}); the entry file of "
                            f"{exercise.id} is {exercise.entry}")
    contents, total = {}, 0
    for name, src in chosen.items():
        try:
            fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, "rb") as fh:
                data = fh.read((MAX_NOTEBOOK_BYTES if name == notebook else MAX_FILE_BYTES) + 1)
        except OSError as err:
            raise ExchangeError(f"cannot read {src}: {err.strerror}; check the file") from None
        if name == notebook:  # checked again (it may have changed) and stored without its outputs
            problem = notebook_problem(len(data), data[:SNIFF_BYTES])
            if problem is not None:
                raise _refuse(src, problem)
            from grader.grading.notebook import NotebookError, submission_copy
            try:
                data = submission_copy(data, src.name)
            except NotebookError as err:
                raise ExchangeError(str(err)) from None
        else:
            problem = source_problem(data)  # again: the file may have changed since it was checked
        if problem is not None:
            raise _refuse(src, problem)
        total += len(data)
        if total > MAX_TOTAL_BYTES:
            raise ExchangeError(f"the files of {path} add up to more than {MAX_TOTAL_BYTES // (1024 * 1024)} MiB; "
                                f"submit only your exercise's source files")
        contents[name] = data
    return contents, left_out


def _learner_folder_owner(root: Path, folder: Path, student: str) -> tuple[int, int] | None:
    """With a roster: check that the learner's folder is there (the instructor makes it) and
    return (uid, gid) to give a submission written by root on the learner's behalf, else None."""
    if not (root / USERS).is_dir():
        return None
    try:
        st = folder.lstat()
    except FileNotFoundError:
        raise ExchangeError(f"{student} has no folder in the exchange ({folder}): they are not on the course's "
                            "roster; the instructor adds them (dlgrade roster add ID --user NAME)") from None
    except OSError as err:
        raise ExchangeError(f"cannot reach {folder}: {err.strerror}; you can submit only as yourself") from None
    if not stat.S_ISDIR(st.st_mode):
        raise ExchangeError(f"{folder} is not a folder; ask your instructor to run `dlgrade roster add` again")
    euid = os.geteuid()
    if st.st_uid == euid:
        return None
    if euid != 0:
        raise ExchangeError(f"{folder} is not yours: you can submit only as yourself")
    return st.st_uid, st.st_gid


def submit(exchange_root: Path | str, exercise: Exercise, path: Path | str, student: str | None = None,
           now: datetime | None = None, *, course: Course | None = None) -> dict:
    """Put a learner's file or folder into the exchange as a new submission; return its record
    (submission.json plus `id`, its folder name, and `path`). With `course`, the exercise must be
    one of the course's. ExchangeError (one line) when anything is wrong; then nothing was written."""
    student = _id(student if student is not None else default_student(), "student id")
    _id(exercise.id, "exercise id")
    if course is not None and exercise.id not in course.deadlines:
        raise ExchangeError(f"{exercise.id!r} is not an exercise of course {course.id}; its exercises are: "
                            f"{', '.join(course.exercise_ids) or 'none'}")
    root = Path(exchange_root).expanduser()
    inbound = root / INBOUND
    if not root.is_dir():
        raise ExchangeError(f"the exchange folder {root} does not exist; check [exchange] path in course.toml or "
                            "ask your instructor")
    if not inbound.is_dir():
        raise ExchangeError(f"the exchange {root} has no {INBOUND}/ folder; your instructor creates it "
                            "(`dlgrade init`)")
    give_to = _learner_folder_owner(root, inbound / student, student)
    contents, left_out = _read_submission(exercise, Path(path))
    at = as_utc(now) if now is not None else now_utc()
    record = {
        "format": RECORD_FORMAT,
        "student": student,
        "exercise": exercise.id,
        "submitted_at": iso(at),
        "sha256": "",
        "entry": notebook_name(exercise) if notebook_name(exercise) in contents else exercise.entry,
        "files": sorted(contents),
        "sizes": {name: len(contents[name]) for name in sorted(contents)},
        "total_bytes": sum(len(d) for d in contents.values()),
        "not_submitted": left_out,
        "dlgrade_version": __version__,
    }
    created: list[Path] = []
    tmp = None
    try:
        for folder in (inbound / student, inbound / student / exercise.id):
            if folder.is_symlink():
                raise ExchangeError(f"{folder} is a symbolic link; ask your instructor to remove it")
            try:
                folder.mkdir()
            except FileExistsError:
                continue  # there already (or made just now by a parallel submit)
            created.append(folder)
            os.chmod(folder, 0o700)
            if give_to is not None:
                os.chown(folder, *give_to, follow_symlinks=False)
        target_dir = inbound / student / exercise.id
        tmp = Path(tempfile.mkdtemp(prefix=".incoming-", dir=target_dir))
        for name, data in contents.items():
            write_new_file(tmp / name, data, 0o600)
        record["sha256"] = hash_files([(name, tmp / name) for name in contents])
        write_new_file(tmp / RECORD, (json.dumps(record, indent=2, ensure_ascii=False) + "\n").encode(), 0o600)
        os.chmod(tmp, 0o700)
        if give_to is not None:  # the instructor submits for a learner: the submission is the learner's
            for name in (*contents, RECORD):
                os.chown(tmp / name, *give_to, follow_symlinks=False)
            os.chown(tmp, *give_to, follow_symlinks=False)
        base = f"{stamp(at)}-{record['sha256'][:12]}"
        final, n = target_dir / base, 1
        while True:
            try:
                os.rename(tmp, final)  # fails on an existing (non-empty) submission: never overwritten
                break
            except OSError as err:
                if err.errno not in (errno.EEXIST, errno.ENOTEMPTY, errno.EISDIR, errno.ENOTDIR) or n > 1000:
                    raise
                n += 1
                final = target_dir / f"{base}-{n}"
        tmp = None
        fsync_dir(target_dir)
    except (OSError, ExchangeError) as err:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        for folder in reversed(created):
            try:
                folder.rmdir()
            except OSError:
                pass  # a parallel submit put something there: the folder is theirs now
        if isinstance(err, ExchangeError):
            raise
        if getattr(err, "errno", None) in (errno.EACCES, errno.EPERM):
            raise ExchangeError(f"you may not write to {inbound / student}: a learner submits only into the folder "
                                "the instructor made for them (dlgrade roster add ID --user NAME); nothing was "
                                "submitted") from None
        raise ExchangeError(f"could not write your submission to {inbound / student}: {err.strerror or err}; "
                            "nothing was submitted, try again or tell your instructor") from None
    return {**record, "id": final.name, "path": str(final)}


__all__ = ["submit", "MAX_FILES"]
