"""Collecting: the instructor copies the submission that counts for each (student, exercise) from
the exchange into `<course>/submitted/<student>/<exercise>/` (late.choose decides which; see
grader/course/late.py), with its submission.json plus the late fields.

Nothing a learner wrote is trusted at collect: each submission is read once through file
descriptors (no link followed), its limits (files, bytes, kinds, UTF-8 text: grading.files'
rules) are checked again, and its files are hashed from the bytes read; a notebook must convert to
the module a grading imports (grading/notebook.py). With a roster
(grader/course/roster.py) a submission whose folders, record or files are not owned by the
roster's user for its id is refused (left in the exchange and reported), and the time that counts
is the later of the declared `submitted_at` and the file system's ctime of the submission (which
the learner cannot set). Without a roster (a single-user course) ids are taken as given; the
declared time counts for a submission owned by whoever collects, the later of both for one owned
by anyone else."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import stat
import tempfile
from datetime import datetime
from pathlib import Path

from grader.clock import UTC, as_utc, iso, now_utc
from grader.course.config import Course
from grader.course.errors import ExchangeError
from grader.course.folders import INBOUND, RECORD, owner_name, remove_dir, replace_dir, subdirs, user_name, \
    write_new_file
from grader.course.ids import is_id
from grader.course.late import Candidate, Verdict, choose
from grader.course.records import MAX_RECORD_BYTES, BadRecord, hash_contents, parse_record
from grader.course.roster import load_roster
from grader.exercise.spec import hash_files
from grader.grading.files import MAX_FILE_BYTES, MAX_SUBMISSION_FILES, MAX_TOTAL_BYTES, NOTEBOOK_SUFFIX, SNIFF_BYTES, \
    is_archive, size_problem, source_problem


def collect(course: Course, exchange_root: Path | str | None = None, now: datetime | None = None) -> list[dict]:
    """Copy the submission that counts for each (student, exercise) of the exchange into
    `<course>/submitted/<student>/<exercise>/`; return one record per (student, exercise) found,
    sorted: collected ones (`collected: True`, `skipped: False`, the submission.json with `submission`, `deadline`,
    `late`, `late_days`, `factor` = `late_factor` (the score's factor, 1.0 when on time or under `accept`),
    `accepted`, `ignored` (each with its late.Verdict `state` and `reason`); plus `path`, `source`, `owner`) and
    skipped ones (`collected: False`, `skipped: True`, `reason`). Running it again without new submissions changes nothing."""
    root = Path(exchange_root).expanduser() if exchange_root is not None else Path(course.exchange_path)
    if not root.is_dir():
        raise ExchangeError(f"the exchange folder {root} does not exist; check [exchange] path in "
                            f"{course.toml_path}")
    at = as_utc(now) if now is not None else now_utc()
    submitted = course.submitted_dir
    try:
        submitted.mkdir(mode=0o700, exist_ok=True)
        lock = open(submitted / ".collect.lock", "a")
    except OSError as err:
        raise ExchangeError(f"cannot write to {submitted}: {err.strerror}") from None
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ExchangeError(f"another collect is running on {course.root}; wait for it to finish") from None
        return _collect_locked(course, root, at)


def _collect_locked(course: Course, root: Path, now: datetime) -> list[dict]:
    roster = load_roster(course)
    results, entries = [], {}
    for sdir in subdirs(root / INBOUND):
        student = sdir.name
        learner = roster.get(student)
        owner = _roster_uid(learner) if learner is not None else None
        problem = None
        if roster and learner is None:
            problem = f"{student} is not on the course's roster; nothing collected, nothing removed"
        elif roster and owner is None:
            problem = f"the roster's user {learner.user} of {student} does not exist on this machine"
        elif owner is not None and sdir.lstat().st_uid != owner:
            problem = (f"refused: {INBOUND}/{student}/ is owned by {user_name(sdir.lstat().st_uid)}, not "
                       f"{learner.user} (the roster's user for {student}); nothing collected, nothing removed")
        for edir in subdirs(sdir):
            exercise = edir.name
            base = {"student": student, "exercise": exercise}
            if not is_id(student):
                results.append({**base, "collected": False, "skipped": True, "ignored": [],
                                "reason": "not a valid student id"})
                continue
            if problem is None and owner is not None and edir.lstat().st_uid != owner:
                why = (f"refused: {INBOUND}/{student}/{exercise}/ is owned by {user_name(edir.lstat().st_uid)}, "
                       f"not {learner.user} (the roster's user for {student}); nothing collected, nothing removed")
            else:
                why = problem
            if why is not None:
                results.append({**base, "collected": False, "skipped": True, "ignored": [], "reason": why,
                                "refused": why.startswith("refused")})
                continue
            if exercise not in course.deadlines:
                results.append({**base, "collected": False, "skipped": True, "ignored": [],
                                "reason": f"not an exercise of course {course.id}"})
                continue
            if exercise not in entries:
                entries[exercise] = course.exercise(exercise).entry
            entry = entries[exercise]
            candidates, snapshots = [], {}
            for sub in subdirs(edir):  # by name
                try:
                    snap = _snapshot(sub, student, exercise, entry, owner, learner.user if learner else None)
                except _Damaged as err:
                    candidates.append(Candidate(sub.name, problem=Verdict.DAMAGED, why=str(err)))
                except _Refused as err:
                    candidates.append(Candidate(sub.name, problem=Verdict.REFUSED, why=str(err)))
                else:
                    snapshots[sub.name] = snap
                    candidates.append(Candidate(sub.name, snap["submitted_at"], snap.get("declared_at")))
            results.append(_collect_one(course, student, exercise, candidates, snapshots, now))
    return results


class _Damaged(Exception):
    """A submission that is not whole (no record, missing files, a changed file)."""


class _Refused(Exception):
    """A submission that breaks a rule (owner, limits): kept in the exchange, reported, not collected."""


def _roster_uid(learner) -> int | None:
    try:
        return learner.uid
    except KeyError:
        return None


def _open_in(name: str, dir_fd: int, what: str) -> int:
    try:
        return os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=dir_fd)
    except FileNotFoundError:
        raise _Damaged(f"{what} is missing") from None
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise _Damaged(f"{what} is a symbolic link") from None
        raise _Damaged(f"{what} is unreadable ({err.strerror})") from None


def _snapshot(sub: Path, student: str, exercise: str, entry: str, owner: int | None,
              owner_user: str | None) -> dict:
    """Read one submission once, through file descriptors (no link followed): its record, its
    files' bytes, checked against the owner (with a roster), the limits and the sha256; and the
    time that counts. _Damaged or _Refused (one line) when it cannot be collected."""
    notebook = Path(entry).stem + NOTEBOOK_SUFFIX  # grading.files.notebook_name of the exercise
    try:
        dfd = os.open(sub, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as err:
        raise _Damaged(f"cannot open the folder ({err.strerror})") from None
    try:
        folder_st = os.fstat(dfd)

        def own(st: os.stat_result, what: str) -> None:
            if owner is not None and st.st_uid != owner:
                raise _Refused(f"{what} is owned by {user_name(st.st_uid)}, not {owner_user} (the roster's user "
                               f"for {student}): someone else wrote it")

        own(folder_st, "the folder")
        ctimes = [folder_st.st_ctime]
        with os.fdopen(_open_in(RECORD, dfd, RECORD), "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise _Damaged(f"{RECORD} is not a plain file")
            own(st, RECORD)
            raw = fh.read(MAX_RECORD_BYTES + 1)
        if len(raw) > MAX_RECORD_BYTES:
            raise _Refused(f"{RECORD} is over {MAX_RECORD_BYTES // 1024} KiB")
        ctimes.append(st.st_ctime)
        try:
            record = parse_record(raw, student, exercise)
        except BadRecord as err:
            raise _Damaged(str(err)) from None
        files = record["files"]
        if len(files) > MAX_SUBMISSION_FILES:
            raise _Refused(f"{len(files)} files, over the limit of {MAX_SUBMISSION_FILES}")
        for name in files:
            if name != Path(name).name or name in (".", "..", RECORD) or "/" in name or "\0" in name \
                    or (name.startswith(".") and not name.endswith(".py")):
                raise _Damaged(f"bad file name {name!r}")
            if not name.endswith(".py") and name != notebook:
                raise _Refused(f"{name} is not a .py file (a submission holds Python source files and {notebook} "
                               "only)")
        if len(set(files)) != len(files):
            raise _Damaged("a file is listed twice")
        if entry not in files and notebook not in files:
            raise _Refused(f"no {entry} or {notebook} (the entry file of {exercise})")
        if entry in files and notebook in files:
            raise _Refused(f"both {entry} and {notebook}: a submission holds one of them")
        contents: dict[str, bytes] = {}
        total = 0
        for name in sorted(files):
            with os.fdopen(_open_in(name, dfd, name), "rb") as fh:
                st = os.fstat(fh.fileno())
                if not stat.S_ISREG(st.st_mode):
                    raise _Damaged(f"{name} is not a plain file")
                own(st, name)
                too_big = size_problem(st.st_size) if name != notebook else None  # a notebook: the total's limit
                if too_big is not None:
                    raise _Refused(f"{name} {too_big.what}")
                data = fh.read((MAX_TOTAL_BYTES if name == notebook else MAX_FILE_BYTES) + 1)
            total += len(data)
            if total > MAX_TOTAL_BYTES:
                raise _Refused(f"the files add up to more than {MAX_TOTAL_BYTES // (1024 * 1024)} MiB")
            if is_archive(name, data[:SNIFF_BYTES]):
                raise _Refused(f"{name} is an archive")
            if name == notebook:
                _check_notebook(data, name)
            else:
                problem = source_problem(data)
                if problem is not None:
                    raise _Refused(f"{name} {problem.what}")
            contents[name] = data
            ctimes.append(st.st_ctime)
        if hash_contents(contents) != record["sha256"]:
            raise _Damaged("the files do not match their sha256")
    finally:
        os.close(dfd)
    declared = as_utc(record["submitted_at"])
    counted = declared
    if owner is not None or folder_st.st_uid != os.geteuid():
        counted = max(declared, datetime.fromtimestamp(max(ctimes), UTC))
    out = {**record, "id": sub.name, "path": str(sub), "_contents": contents}
    if counted > declared:
        out["declared_at"] = record["submitted_at"]
        out["submitted_at"] = iso(counted)
        out["counted_from"] = "ctime"
    return out


def _check_notebook(data: bytes, name: str) -> None:
    """A stored notebook must convert to the module a grading imports; _Refused (its reason) if not."""
    from grader.grading.notebook import NotebookError, notebook_to_module
    try:
        notebook_to_module(data, name)
    except NotebookError as err:
        raise _Refused(str(err)) from None


def _same_copy(dest: Path, record_text: str, record: dict) -> bool:
    """Whether `dest` already holds exactly this submission and record (collect again: no change)."""
    try:
        if dest.is_symlink() or (dest / RECORD).read_text(encoding="utf-8") != record_text:
            return False
        names = {p.name for p in dest.iterdir()} - {RECORD}
        if names != set(record["files"]):
            return False
        return hash_files([(n, dest / n) for n in record["files"]]) == record["sha256"]
    except (OSError, UnicodeDecodeError):
        return False


def _collect_one(course: Course, student: str, exercise: str, candidates: list[Candidate],
                 snapshots: dict[str, dict], now: datetime) -> dict:
    """Copy the submission that counts (if any) into submitted/<student>/<exercise>/, or remove a
    stale copy there; the result record (see collect)."""
    choice = choose(course.late, course.deadlines[exercise], candidates, now)
    ignored = [i.as_dict() for i in choice.ignored]
    deadline = course.deadlines[exercise]
    deadline = None if deadline is None else iso(deadline, micro=False)
    dest = course.submitted_dir / student / exercise
    try:
        if dest.parent.is_dir():
            for stale in dest.parent.glob(f".*-{exercise}-*"):
                shutil.rmtree(stale, ignore_errors=True)  # left by a collect that was killed
        if choice.chosen is None:
            if dest.exists() or dest.is_symlink():
                remove_dir(dest)
            return {"student": student, "exercise": exercise, "collected": False, "skipped": True,
                    "reason": choice.reason, "deadline": deadline, "ignored": ignored}
        record, info = snapshots[choice.chosen.id], choice.info
        stored = {k: v for k, v in record.items() if k not in ("id", "path") and not k.startswith("_")}
        stored.update({"submission": record["id"], "deadline": deadline, "policy": course.late.policy,
                       "late": info.late, "late_days": info.late_days, "factor": info.factor,
                       "late_factor": info.factor, "accepted": info.accepted, "ignored": ignored})
        text = json.dumps(stored, indent=2, ensure_ascii=False) + "\n"
        if not _same_copy(dest, text, stored):
            dest.parent.mkdir(mode=0o700, exist_ok=True)
            build = Path(tempfile.mkdtemp(prefix=f".collect-{exercise}-", dir=dest.parent))
            try:
                for name in record["files"]:
                    write_new_file(build / name, record["_contents"][name], 0o600)
                write_new_file(build / RECORD, text.encode("utf-8"), 0o600)
                if hash_files([(n, build / n) for n in record["files"]]) != record["sha256"]:
                    raise OSError(errno.EIO, f"submission {record['id']} changed while it was copied")
                os.chmod(build, 0o700)
                replace_dir(build, dest)
            except BaseException:
                shutil.rmtree(build, ignore_errors=True)
                raise
    except OSError as err:
        raise ExchangeError(f"cannot write {dest}: {err.strerror or err}; the submissions in the exchange are "
                            "untouched, fix the problem and collect again") from None
    return {**stored, "collected": True, "skipped": False, "path": str(dest), "source": record["path"],
            "owner": owner_name(Path(record["path"]))}


__all__ = ["collect"]
