"""The exchange: the shared folder learners submit to and the instructor collects from (as
nbgrader's exchange on a JupyterHub server).

```
<exchange>/                                   0755
  inbound/                                    0711: learners reach their own folder, cannot list or create
    <student>/                                0700, the learner's (made by `dlgrade roster add/import`)
      <exercise>/                             0700
        20261201T235900Z-<sha256[:12]>/       one submission (0700, files 0600), never changed after it is written
          perceptron.py ...                   the submitted files (exactly what a grading uses)
          submission.json                     student, exercise, submitted_at, sha256, files, sizes
        20261201T235900Z-<sha256[:12]>-2/     the same content again in the same second
        .incoming-XXXX/                       a submission being written (ignored by everyone)
  feedback/<student>/                         0711 / 0700 the learner's: released pages (grader/roster.py)
  users/<os user>                             0711 / 0644: the learner-readable id of each OS user
```

`submit` validates everything before it writes anything, writes the submission into a hidden
temporary folder beside its final place and renames it into place: a crash leaves either the whole
submission or only a hidden `.incoming-*` folder, and an earlier submission is never touched.

`collect` picks one submission per (student, exercise): **the latest on-time submission counts; if
there is none, the latest late one that the late policy accepts** (see grader/course.py for the
policy), and copies it into `<course>/submitted/<student>/<exercise>/` with its submission.json
plus the late fields. Archives (.zip, .tar*, ...) are refused, never unpacked.

Nothing a learner wrote is trusted at collect: each submission is read once through file
descriptors (no link followed), its limits (files, bytes, kinds, UTF-8 text) are checked again,
and its files are hashed from the bytes read. With a roster (grader/roster.py) a submission whose
folders, record or files are not owned by the roster's user for its id is refused (left in the
exchange and reported), and the time that counts is the later of the declared `submitted_at` and
the file system's ctime of the submission (which the learner cannot set). Without a roster (a
single-user course) ids are taken as given; the declared time counts for a submission owned by
whoever collects, the later of both for one owned by anyone else."""

from __future__ import annotations

import codecs
import ctypes
import errno
import fcntl
import getpass
import json
import os
import shutil
import stat
import tempfile
import uuid
from datetime import datetime, timezone
from pathlib import Path

from grader import __version__
from grader.clock import as_utc
from grader.course.config import Course
from grader.course.ids import check_id
from grader.course.late import Candidate, Choice, Verdict, choose
from grader.grading.files import MAX_FILE_BYTES, SubmissionError, submission_files
from grader.exercise.spec import Exercise, hash_files

INBOUND = "inbound"
RECORD = "submission.json"
MAX_FILES = 50
MAX_TOTAL_BYTES = 5 * 1024 * 1024
SNIFF_BYTES = 8192
RECORD_FORMAT = 1
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tgz", ".tbz", ".tbz2", ".txz", ".gz", ".bz2", ".xz", ".zst", ".7z", ".rar")
_ARCHIVE_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08", b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00",
                  b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07", b"\x28\xb5\x2f\xfd")


class ExchangeError(Exception):
    """A submission or collection that cannot be done; nothing in the exchange was changed."""


# --- ids, times, records ----------------------------------------------------------------------

def _id(value: object, what: str) -> str:
    try:
        return check_id(value, what)
    except ValueError as err:
        raise ExchangeError(str(err)) from None


def default_student() -> str:
    """The learner's id: `$DLGRADE_STUDENT`, else the OS user name."""
    env = os.environ.get("DLGRADE_STUDENT", "").strip()
    if env:
        return _id(env, "student id (from DLGRADE_STUDENT)")
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        raise ExchangeError("cannot tell who you are: set DLGRADE_STUDENT to your student id") from None
    try:
        return check_id(user, "user name")
    except ValueError:
        raise ExchangeError(f"your user name {user!r} is not a valid student id: set DLGRADE_STUDENT to your "
                            "student id (letters, digits, '.', '_', '-')") from None


def _iso(moment: datetime) -> str:
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _iso_deadline(moment: datetime | None) -> str | None:
    return None if moment is None else as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def _stamp(moment: datetime) -> str:
    return as_utc(moment).strftime("%Y%m%dT%H%M%SZ")


def _sort_key(record: dict):
    return (as_utc(record["submitted_at"]), len(record["id"]), record["id"])


def ensure_exchange(root: Path | str) -> Path:
    """Create the exchange and its inbound/ (instructors: `dlgrade init` does it). inbound/ is 0711:
    learners' folders are made by the instructor (`dlgrade roster add/import`)."""
    root = Path(root)
    inbound = root / INBOUND
    fresh = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    if fresh:
        os.chmod(root, 0o755)
    if not inbound.is_dir():
        inbound.mkdir()
        os.chmod(inbound, 0o711)
    return root


# --- what a learner submits -------------------------------------------------------------------

def _is_archive(name: str, head: bytes) -> bool:
    lower = name.lower()
    return (lower.endswith(ARCHIVE_SUFFIXES) or any(head.startswith(m) for m in _ARCHIVE_MAGIC)
            or head[257:262] == b"ustar")


def _not_text(head: bytes) -> str | None:
    """Why a file's first bytes are not UTF-8 text, or None."""
    if b"\0" in head:
        return "is a binary file"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "is not UTF-8 text"
    return None


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


def _size_error(path: Path, size: int) -> ExchangeError:
    return ExchangeError(f"{path} is {size} bytes, over the {MAX_FILE_BYTES // 1024} KiB limit for a source file; "
                         "keep data out of your code (the tests give it to your functions)")


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
    counts[1] += entry.stat(follow_symlinks=False).st_size
    if counts[1] > MAX_TOTAL_BYTES:
        raise ExchangeError(f"{folder} holds more than {MAX_TOTAL_BYTES // (1024 * 1024)} MiB of files; remove "
                            f"data and model files, or submit your {exercise.entry} alone")
    head = _head(path)
    if _is_archive(name, head):
        raise _archive_error(path, exercise, inside=True)
    if name.endswith(".py"):
        size = entry.stat(follow_symlinks=False).st_size
        if size > MAX_FILE_BYTES:
            raise _size_error(path, size)
        if b"\0" in head:
            raise ExchangeError(f"{path} is a binary file, not Python source; save your code as text")
        if _not_text(head):
            raise ExchangeError(f"{path} is not UTF-8 text; save it as UTF-8")
    else:
        why = _not_text(head)
        if why:
            raise ExchangeError(f"{path} {why}; a submission holds source files only: remove it from the "
                                f"folder, or submit your {exercise.entry} alone")
        left_out.append(f"{name} (only .py files are graded)")


def _read_submission(exercise: Exercise, path: Path) -> tuple[dict[str, bytes], list[str]]:
    """The files to submit (name -> content, read once) and the names left out, or ExchangeError."""
    path = Path(path).expanduser()
    left_out: list[str] = []
    if not path.is_symlink() and path.is_file():
        if _is_archive(path.name, _head(path)):
            raise _archive_error(path, exercise)
        if path.suffix == ".py" and path.stat().st_size > MAX_FILE_BYTES:
            raise _size_error(path, path.stat().st_size)
    if not path.is_symlink() and path.is_dir():
        left_out = _scan_folder(path, exercise)
    try:
        chosen = submission_files(exercise, path)
    except SubmissionError as err:
        raise ExchangeError(str(err)) from None
    if exercise.entry not in chosen:
        raise ExchangeError(f"{path} has no plain file {exercise.entry}; the entry file of {exercise.id} is "
                            f"{exercise.entry}")
    contents, total = {}, 0
    for name, src in chosen.items():
        try:
            fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, "rb") as fh:
                data = fh.read(MAX_FILE_BYTES + 1)
        except OSError as err:
            raise ExchangeError(f"cannot read {src}: {err.strerror}; check the file") from None
        if len(data) > MAX_FILE_BYTES:
            raise _size_error(src, len(data))
        if b"\0" in data:
            raise ExchangeError(f"{src} is a binary file, not Python source; save your code as text")
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise ExchangeError(f"{src} is not UTF-8 text; save it as UTF-8") from None
        total += len(data)
        if total > MAX_TOTAL_BYTES:
            raise ExchangeError(f"the files of {path} add up to more than {MAX_TOTAL_BYTES // (1024 * 1024)} MiB; "
                                f"submit only your exercise's source files")
        contents[name] = data
    return contents, left_out


def _write_file(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(path, mode)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def submit(exchange_root: Path | str, exercise: Exercise, path: Path | str, student: str | None = None,
           now: datetime | None = None, *, course: Course | None = None) -> dict:
    """Put a learner's file or folder into the exchange as a new submission; return its record
    (submission.json plus `id`, its folder name, and `path`). With `course`, the exercise must be
    one of the course's. ExchangeError (one line) when anything is wrong; then nothing was written."""
    student = _id(student if student is not None else default_student(), "student id")
    _id(exercise.id, "exercise id")
    if course is not None and exercise.id not in course.exercises:
        raise ExchangeError(f"{exercise.id!r} is not an exercise of course {course.id}; its exercises are: "
                            f"{', '.join(course.exercises) or 'none'}")
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
    at = as_utc(now) if now is not None else datetime.now(timezone.utc)
    record = {
        "format": RECORD_FORMAT,
        "student": student,
        "exercise": exercise.id,
        "submitted_at": _iso(at),
        "sha256": "",
        "entry": exercise.entry,
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
            _write_file(tmp / name, data, 0o600)
        record["sha256"] = hash_files([(name, tmp / name) for name in contents])
        _write_file(tmp / RECORD, (json.dumps(record, indent=2, ensure_ascii=False) + "\n").encode(), 0o600)
        os.chmod(tmp, 0o700)
        if give_to is not None:  # the instructor submits for a learner: the submission is the learner's
            for name in (*contents, RECORD):
                os.chown(tmp / name, *give_to, follow_symlinks=False)
            os.chown(tmp, *give_to, follow_symlinks=False)
        base = f"{_stamp(at)}-{record['sha256'][:12]}"
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
        _fsync_dir(target_dir)
    except (OSError, ExchangeError) as err:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        for folder in reversed(created):
            try:
                folder.rmdir()
            except OSError:
                pass
        if isinstance(err, ExchangeError):
            raise
        if getattr(err, "errno", None) in (errno.EACCES, errno.EPERM):
            raise ExchangeError(f"you may not write to {inbound / student}: a learner submits only into the folder "
                                "the instructor made for them (dlgrade roster add ID --user NAME); nothing was "
                                "submitted") from None
        raise ExchangeError(f"could not write your submission to {inbound / student}: {err.strerror or err}; "
                            "nothing was submitted, try again or tell your instructor") from None
    return {**record, "id": final.name, "path": str(final)}


def _learner_folder_owner(root: Path, folder: Path, student: str) -> tuple[int, int] | None:
    """With a roster: check that the learner's folder is there (the instructor makes it) and
    return (uid, gid) to give a submission written by root on the learner's behalf, else None."""
    from grader.course.roster import USERS
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


# --- reading the exchange ---------------------------------------------------------------------

def _subdirs(folder: Path) -> list[Path]:
    """Visible, real (not linked) sub-folders, by name."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except FileNotFoundError:
        return []
    except OSError as err:
        raise ExchangeError(f"cannot list {folder}: {err.strerror}; check the exchange's permissions") from None
    return [folder / e.name for e in entries if not e.name.startswith(".") and e.is_dir(follow_symlinks=False)]


def _load_record(folder: Path, student: str, exercise: str) -> tuple[dict | None, str | None]:
    """(record, None) or (None, why it is damaged)."""
    meta = folder / RECORD
    try:
        if meta.is_symlink():
            return None, f"{RECORD} is a symbolic link"
        record = json.loads(meta.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, f"no {RECORD}"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        return None, f"unreadable {RECORD} ({type(err).__name__})"
    if not isinstance(record, dict):
        return None, f"{RECORD} is not an object"
    if record.get("student") != student or record.get("exercise") != exercise:
        return None, f"{RECORD} names another student or exercise"
    try:
        as_utc(record["submitted_at"])
    except (KeyError, TypeError, ValueError):
        return None, "no valid submitted_at"
    files = record.get("files")
    if not isinstance(files, list) or not files or not all(isinstance(f, str) for f in files) \
            or not isinstance(record.get("sha256"), str):
        return None, "no valid files/sha256"
    return {**record, "id": folder.name, "path": str(folder)}, None


def status(exchange_root: Path | str, student: str | None = None, exercise: str | None = None) -> list[dict]:
    """The submissions in the exchange (of one student and/or one exercise), oldest first. Each is
    its submission.json plus `id` (the folder name) and `path`."""
    root = Path(exchange_root).expanduser()
    if not root.is_dir():
        raise ExchangeError(f"the exchange folder {root} does not exist; check [exchange] path in course.toml")
    inbound = root / INBOUND
    students = [inbound / _id(student, "student id")] if student is not None else _subdirs(inbound)
    records = []
    for sdir in students:
        if sdir.is_symlink():
            continue
        exdirs = [sdir / _id(exercise, "exercise id")] if exercise is not None else _subdirs(sdir)
        for edir in exdirs:
            if edir.is_symlink():
                continue
            for sub in _subdirs(edir):
                record, _ = _load_record(sub, sdir.name, edir.name)
                if record is not None:
                    records.append(record)
    return sorted(records, key=_sort_key)


# --- collecting -------------------------------------------------------------------------------

def _rename_exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return fn(-100, os.fsencode(a), -100, os.fsencode(b), 2) == 0


def _replace_dir(new: Path, dest: Path) -> None:
    """Put folder `new` at `dest`, replacing what is there in one step where the OS allows it."""
    if not dest.exists() and not dest.is_symlink():
        os.rename(new, dest)
    elif dest.is_dir() and not dest.is_symlink() and _rename_exchange(new, dest):
        shutil.rmtree(new)  # now holds the previous copy
    else:
        aside = dest.with_name(f".old-{dest.name}-{uuid.uuid4().hex[:8]}")
        os.rename(dest, aside)
        os.rename(new, dest)
        shutil.rmtree(aside) if aside.is_dir() and not aside.is_symlink() else aside.unlink()


def _remove_dir(dest: Path) -> None:
    aside = dest.with_name(f".old-{dest.name}-{uuid.uuid4().hex[:8]}")
    os.rename(dest, aside)
    shutil.rmtree(aside) if aside.is_dir() and not aside.is_symlink() else aside.unlink()


def _same_copy(dest: Path, record_text: str, record: dict) -> bool:
    try:
        if dest.is_symlink() or (dest / RECORD).read_text(encoding="utf-8") != record_text:
            return False
        names = {p.name for p in dest.iterdir()} - {RECORD}
        if names != set(record["files"]):
            return False
        return hash_files([(n, dest / n) for n in record["files"]]) == record["sha256"]
    except (OSError, UnicodeDecodeError):
        return False


def _choose(course: Course, exercise: str, records: list[dict], now: datetime) -> Choice:
    """late.choose over the records read (damaged and refused ones included, with their reason)."""
    candidates = []
    for r in records:
        if r.get("_damaged"):
            candidates.append(Candidate(r["id"], problem=Verdict.DAMAGED, why=r["_damaged"]))
        elif r.get("_refused"):
            candidates.append(Candidate(r["id"], problem=Verdict.REFUSED, why=r["_refused"]))
        else:
            candidates.append(Candidate(r["id"], r["submitted_at"], r.get("declared_at")))
    return choose(course.late, course.exercises[exercise], candidates, now)


def collect(course: Course, exchange_root: Path | str | None = None, now: datetime | None = None) -> list[dict]:
    """Copy the submission that counts for each (student, exercise) of the exchange into
    `<course>/submitted/<student>/<exercise>/`; return one record per (student, exercise) found,
    sorted: collected ones (`collected: True`, `skipped: False`, the submission.json with `submission`, `deadline`,
    `late`, `late_days`, `factor`, `accepted`, `ignored`; plus `path`, `source`) and skipped ones
    (`collected: False`, `skipped: True`, `reason`). Running it again without new submissions changes nothing."""
    root = Path(exchange_root).expanduser() if exchange_root is not None else Path(course.exchange_path)
    if not root.is_dir():
        raise ExchangeError(f"the exchange folder {root} does not exist; check [exchange] path in "
                            f"{course.toml_path}")
    at = as_utc(now) if now is not None else datetime.now(timezone.utc)
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
    from grader.course.roster import load_roster
    roster = load_roster(course)
    results, entries = [], {}
    for sdir in _subdirs(root / INBOUND):
        student = sdir.name
        learner = roster.get(student)
        owner = _roster_uid(learner) if learner is not None else None
        problem = None
        if roster and learner is None:
            problem = f"{student} is not on the course's roster; nothing collected, nothing removed"
        elif roster and owner is None:
            problem = f"the roster's user {learner.user} of {student} does not exist on this machine"
        elif owner is not None and sdir.lstat().st_uid != owner:
            problem = (f"refused: {INBOUND}/{student}/ is owned by {_user_name(sdir.lstat().st_uid)}, not "
                       f"{learner.user} (the roster's user for {student}); nothing collected, nothing removed")
        for edir in _subdirs(sdir):
            exercise = edir.name
            base = {"student": student, "exercise": exercise}
            try:
                check_id(student, "student id")
            except ValueError:
                results.append({**base, "collected": False, "skipped": True, "ignored": [],
                                "reason": "not a valid student id"})
                continue
            if problem is None and owner is not None and edir.lstat().st_uid != owner:
                why = (f"refused: {INBOUND}/{student}/{exercise}/ is owned by {_user_name(edir.lstat().st_uid)}, "
                       f"not {learner.user} (the roster's user for {student}); nothing collected, nothing removed")
            else:
                why = problem
            if why is not None:
                results.append({**base, "collected": False, "skipped": True, "ignored": [], "reason": why,
                                "refused": why.startswith("refused")})
                continue
            if exercise not in course.exercises:
                results.append({**base, "collected": False, "skipped": True, "ignored": [],
                                "reason": f"not an exercise of course {course.id}"})
                continue
            if exercise not in entries:
                entries[exercise] = course.exercise(exercise).entry
            entry = entries[exercise]
            records = []
            for sub in _subdirs(edir):
                try:
                    records.append(_snapshot(sub, student, exercise, entry, owner,
                                             learner.user if learner else None))
                except _Damaged as err:
                    records.append({"id": sub.name, "_damaged": str(err)})
                except _Refused as err:
                    records.append({"id": sub.name, "_refused": str(err)})
            results.append(_collect_one(course, student, exercise, sorted(records, key=lambda r: r["id"]),
                                        now))
    return results


class _Damaged(Exception):
    """A submission that is not whole (no record, missing files, a changed file)."""


class _Refused(Exception):
    """A submission that breaks a rule (owner, limits): kept in the exchange, reported, not collected."""


MAX_RECORD_BYTES = 256 * 1024


def _roster_uid(learner) -> int | None:
    try:
        return learner.uid
    except KeyError:
        return None


def _user_name(uid: int) -> str:
    try:
        import pwd
        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return f"uid {uid}"


def _open_in(name: str, dir_fd: int, what: str) -> int:
    try:
        return os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=dir_fd)
    except FileNotFoundError:
        raise _Damaged(f"{what} is missing") from None
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise _Damaged(f"{what} is a symbolic link") from None
        raise _Damaged(f"{what} is unreadable ({err.strerror})") from None


def _check_record(raw: bytes, student: str, exercise: str) -> dict:
    try:
        record = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise _Damaged(f"unreadable {RECORD} ({type(err).__name__})") from None
    if not isinstance(record, dict):
        raise _Damaged(f"{RECORD} is not an object")
    if record.get("student") != student or record.get("exercise") != exercise:
        raise _Damaged(f"{RECORD} names another student or exercise")
    try:
        as_utc(record["submitted_at"])
    except (KeyError, TypeError, ValueError):
        raise _Damaged("no valid submitted_at") from None
    files = record.get("files")
    if not isinstance(files, list) or not files or not all(isinstance(f, str) for f in files) \
            or not isinstance(record.get("sha256"), str):
        raise _Damaged("no valid files/sha256")
    return record


def _hash_contents(contents: dict[str, bytes]) -> str:
    """spec.hash_files over bytes already read (the same digest)."""
    import hashlib
    h = hashlib.sha256()
    for name in sorted(contents):
        data = contents[name]
        h.update(name.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
    return h.hexdigest()


def _snapshot(sub: Path, student: str, exercise: str, entry: str, owner: int | None,
              owner_user: str | None) -> dict:
    """Read one submission once, through file descriptors (no link followed): its record, its
    files' bytes, checked against the owner (with a roster), the limits and the sha256; and the
    time that counts. _Damaged or _Refused (one line) when it cannot be collected."""
    try:
        dfd = os.open(sub, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as err:
        raise _Damaged(f"cannot open the folder ({err.strerror})") from None
    try:
        folder_st = os.fstat(dfd)

        def own(st: os.stat_result, what: str) -> None:
            if owner is not None and st.st_uid != owner:
                raise _Refused(f"{what} is owned by {_user_name(st.st_uid)}, not {owner_user} (the roster's user "
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
        record = _check_record(raw, student, exercise)
        files = record["files"]
        if len(files) > MAX_FILES:
            raise _Refused(f"{len(files)} files, over the limit of {MAX_FILES}")
        for name in files:
            if name != Path(name).name or name in (".", "..", RECORD) or "/" in name or "\0" in name \
                    or (name.startswith(".") and not name.endswith(".py")):
                raise _Damaged(f"bad file name {name!r}")
            if not name.endswith(".py"):
                raise _Refused(f"{name} is not a .py file (a submission holds Python source files only)")
        if len(set(files)) != len(files):
            raise _Damaged("a file is listed twice")
        if entry not in files:
            raise _Refused(f"no {entry} (the entry file of {exercise})")
        contents: dict[str, bytes] = {}
        total = 0
        for name in sorted(files):
            with os.fdopen(_open_in(name, dfd, name), "rb") as fh:
                st = os.fstat(fh.fileno())
                if not stat.S_ISREG(st.st_mode):
                    raise _Damaged(f"{name} is not a plain file")
                own(st, name)
                if st.st_size > MAX_FILE_BYTES:
                    raise _Refused(f"{name} is {st.st_size} bytes, over the {MAX_FILE_BYTES // 1024} KiB limit "
                                   "for a source file")
                data = fh.read(MAX_FILE_BYTES + 1)
            if len(data) > MAX_FILE_BYTES:
                raise _Refused(f"{name} is over the {MAX_FILE_BYTES // 1024} KiB limit for a source file")
            total += len(data)
            if total > MAX_TOTAL_BYTES:
                raise _Refused(f"the files add up to more than {MAX_TOTAL_BYTES // (1024 * 1024)} MiB")
            if _is_archive(name, data[:SNIFF_BYTES]):
                raise _Refused(f"{name} is an archive")
            if b"\0" in data:
                raise _Refused(f"{name} is a binary file, not Python source")
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                raise _Refused(f"{name} is not UTF-8 text") from None
            contents[name] = data
            ctimes.append(st.st_ctime)
        if _hash_contents(contents) != record["sha256"]:
            raise _Damaged("the files do not match their sha256")
    finally:
        os.close(dfd)
    declared = as_utc(record["submitted_at"])
    counted = declared
    if owner is not None or folder_st.st_uid != os.geteuid():
        counted = max(declared, datetime.fromtimestamp(max(ctimes), timezone.utc))
    out = {**record, "id": sub.name, "path": str(sub), "_contents": contents}
    if counted > declared:
        out["declared_at"] = record["submitted_at"]
        out["submitted_at"] = _iso(counted)
        out["counted_from"] = "ctime"
    return out


def _collect_one(course: Course, student: str, exercise: str, records: list[dict], now: datetime) -> dict:
    choice = _choose(course, exercise, records, now)
    ignored = [i.as_dict() for i in choice.ignored]
    deadline = _iso_deadline(course.exercises[exercise])
    dest = course.submitted_dir / student / exercise
    try:
        if dest.parent.is_dir():
            for stale in dest.parent.glob(f".*-{exercise}-*"):
                shutil.rmtree(stale, ignore_errors=True)  # left by a collect that was killed
        if choice.chosen is None:
            if dest.exists() or dest.is_symlink():
                _remove_dir(dest)
            return {"student": student, "exercise": exercise, "collected": False, "skipped": True,
                    "reason": choice.reason, "deadline": deadline, "ignored": ignored}
        record, info = next(r for r in records if r["id"] == choice.chosen.id), choice.info
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
                    _write_file(build / name, record["_contents"][name], 0o600)
                _write_file(build / RECORD, text.encode("utf-8"), 0o600)
                if hash_files([(n, build / n) for n in record["files"]]) != record["sha256"]:
                    raise OSError(errno.EIO, f"submission {record['id']} changed while it was copied")
                os.chmod(build, 0o700)
                _replace_dir(build, dest)
            except BaseException:
                shutil.rmtree(build, ignore_errors=True)
                raise
    except OSError as err:
        raise ExchangeError(f"cannot write {dest}: {err.strerror or err}; the submissions in the exchange are "
                            "untouched, fix the problem and collect again") from None
    return {**stored, "collected": True, "skipped": False, "path": str(dest), "source": record["path"],
            "owner": owner_name(Path(record["path"]))}


def owner_name(path: Path) -> str | None:
    """The OS user who owns a submission's folder (on a shared server: who really wrote it)."""
    try:
        import pwd
        return pwd.getpwuid(Path(path).lstat().st_uid).pw_name
    except (ImportError, KeyError, OSError):
        return None


__all__ = ["ExchangeError", "submit", "status", "collect", "ensure_exchange", "default_student",
           "owner_name", "INBOUND", "RECORD", "MAX_FILES", "MAX_TOTAL_BYTES"]
