"""The roster: which OS user each learner id belongs to, so that on a shared server the file
system itself keeps one learner from touching another.

```
<course>/roster.csv                 id,user,name,email,section (instructor only, 0600)
<exchange>/inbound/                 0711: learners reach their own folder, cannot list or create
<exchange>/inbound/<id>/            0700, owned by the learner's OS user (made by `roster add/import`)
<exchange>/feedback/<id>/           0700, owned by the learner; released pages 0600, owned by them
<exchange>/users/                   0711: the learner-readable mapping, one file per OS user
<exchange>/users/<os user>          "<id>\\n", 0644, owned by the instructor (the learner cannot change it)
```

A course without a roster is a single-user course (the demo, a self-study course, the tests):
ids are taken as given and whoever runs dlgrade owns everything. The first `roster add` or
`roster import` turns the course into a multi-user one: from then on a learner's id comes from
their OS user (`users/<user>`), `--student` (and `$DLGRADE_STUDENT`) naming someone else is
refused unless the caller is the instructor (root, or the owner of the exchange), and `collect`
refuses any submission not owned by the roster's user for its id. Giving folders to other users
needs root: run the instructor's commands with sudo on a shared server.

Here: reading and changing roster.csv, giving learners their folders (grader/course/folders.py
makes them), and handing released feedback pages to their owners (`deliver_feedback`). Who is
asking (a learner's own id) is grader/course/identity.py."""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import pwd
import re
import secrets
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from grader.atomic import write_text
from grader.course.config import Course
from grader.course.errors import RosterError
from grader.course.folders import FEEDBACK, USERS, check_learner_folders, learner_folder_state, prepare_learner_folders, \
    user_name
from grader.course.ids import check_id

ROSTER_FILE = "roster.csv"
FIELDS = ("id", "user", "name", "email", "section")
REQUIRED = ("id", "user")
MAX_ROSTER_BYTES = 4 * 1024 * 1024
MAX_FIELD = 200


@dataclass(frozen=True)
class Learner:
    """One row of the roster: a learner id and the OS user it belongs to."""

    id: str
    user: str
    name: str = ""
    email: str = ""
    section: str = ""

    @property
    def uid(self) -> int:
        return pwd.getpwnam(self.user).pw_uid

    @property
    def gid(self) -> int:
        return pwd.getpwnam(self.user).pw_gid

    def row(self) -> dict:
        return {"id": self.id, "user": self.user, "name": self.name, "email": self.email, "section": self.section}


def roster_path(course: Course) -> Path:
    """The course's roster file."""
    return course.root / ROSTER_FILE


# --- reading ----------------------------------------------------------------------------------

def _parse(text: str, source: str) -> tuple[list[tuple[int, dict]], list[str]]:
    """Rows (line number, fields) of a roster CSV, and one-line errors for the header."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if not header:
        return [], [f"{source}: empty file; the first row must be a header with the columns id,user "
                    "(and optionally name,email,section)"]
    missing = [c for c in REQUIRED if c not in header]
    unknown = [h for h in header if h not in FIELDS]
    errors = []
    if missing:
        errors.append(f"{source} row 1 (header): no column {', '.join(missing)}; the header must name the columns "
                      "id,user (and optionally name,email,section)")
    if unknown:
        errors.append(f"{source} row 1 (header): unknown column {unknown[0]!r}; the columns are: {', '.join(FIELDS)}")
    if len(set(header)) != len(header):
        errors.append(f"{source} row 1 (header): a column is named twice")
    if errors:
        return [], errors
    reader.fieldnames = header
    rows = []
    try:
        for raw in reader:
            extra = raw.pop(None, None)
            fields = {k: (v or "").strip() for k, v in raw.items()}
            if extra:
                fields["_extra"] = "yes"
            if not any(v for k, v in fields.items() if k != "_extra") and not extra:
                continue  # a blank line
            rows.append((reader.line_num, fields))
    except csv.Error as err:
        return [], [f"{source} row {reader.line_num}: not valid CSV ({err})"]
    return rows, []


def _check_row(line: int, fields: dict, source: str, need_user: bool = True) -> tuple[Learner | None, str | None]:
    where = f"{source} row {line}" if line else source
    if fields.get("_extra"):
        return None, f"{where}: more values than columns in the header"
    try:
        learner_id = check_id(fields.get("id", ""), "id")
    except ValueError as err:
        return None, f"{where}: {err}"
    user = fields.get("user", "")
    if not user:
        return None, f"{where}: no user for id {learner_id}; give the learner's OS user name"
    try:
        if need_user:  # a stored roster stays readable when an account goes (collect then refuses its folder)
            pwd.getpwnam(user)
    except KeyError:
        return None, (f"{where}: no OS user {user!r} on this machine (id {learner_id}); create the account first "
                      "(useradd) or fix the name")
    for key in ("name", "email", "section"):
        value = fields.get(key, "")
        if len(value) > MAX_FIELD or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
            return None, f"{where}: {key} is longer than {MAX_FIELD} characters or holds control characters"
    return Learner(learner_id, user, fields.get("name", ""), fields.get("email", ""), fields.get("section", "")), None


def load_roster(course: Course) -> dict[str, Learner]:
    """The course's roster by id ({} for a course without one: a single-user course)."""
    path = roster_path(course)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as err:
        raise RosterError(f"cannot read the roster {path}: {getattr(err, 'strerror', None) or err}") from None
    rows, errors = _parse(text, str(path))
    learners: dict[str, Learner] = {}
    for line, fields in rows:
        learner, why = _check_row(line, fields, str(path), need_user=False)
        if why:
            errors.append(why)
        elif learner.id in learners:
            errors.append(f"{path} row {line}: id {learner.id} is listed twice")
        else:
            learners[learner.id] = learner
    if errors:
        raise RosterError("\n".join(errors[:20]) + "\nfix the roster file (it is the instructor's CSV) and run again")
    return learners


def has_roster(course: Course) -> bool:
    """Whether the course has a roster (a multi-user course)."""
    return roster_path(course).is_file()


# --- changing ---------------------------------------------------------------------------------

def _merge(current: dict[str, Learner], new: list[tuple[int, Learner]], source: str) -> tuple[dict, list, list[str]]:
    """(the merged roster, the learners added or changed, one-line errors)."""
    merged = dict(current)
    by_user = {l.user: l.id for l in current.values()}
    seen: dict[str, int] = {}
    changed, errors = [], []
    for line, learner in new:
        where = f"{source} row {line}" if line else source
        if learner.id in seen:
            errors.append(f"{where}: duplicate id {learner.id} (also in row {seen[learner.id]})")
            continue
        seen[learner.id] = line
        old = merged.get(learner.id)
        if old is not None and old.user != learner.user:
            errors.append(f"{where}: duplicate id {learner.id}: it is already on the roster as user {old.user}; "
                          f"edit {ROSTER_FILE} in the course folder to change it")
            continue
        other = by_user.get(learner.user)
        if other is not None and other != learner.id:
            errors.append(f"{where}: user {learner.user} is already on the roster as id {other}; one id per user")
            continue
        by_user[learner.user] = learner.id
        if old != learner:
            merged[learner.id] = learner
            changed.append(learner)
    return merged, changed, errors


def _write_roster(course: Course, learners: dict[str, Learner]) -> None:
    path = roster_path(course)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(FIELDS), lineterminator="\n")
    writer.writeheader()
    for learner in sorted(learners.values(), key=lambda l: l.id):
        writer.writerow(learner.row())
    write_text(path, out.getvalue(), 0o600)


def add(course: Course, learner_id: str, user: str, name: str = "", email: str = "", section: str = "") -> Learner:
    """Put one learner on the roster and give them their folders in the exchange."""
    learner, why = _check_row(0, {"id": learner_id, "user": user, "name": name, "email": email,
                                  "section": section}, "roster add")
    if why:
        raise RosterError(why + "; nothing was changed")
    return _apply(course, [(0, learner)], "roster add")[0]


def import_csv(course: Course, csv_path: Path | str) -> list[Learner]:
    """Add every row of a CSV (header: id,user[,name,email,section]); all rows or none."""
    csv_path = Path(csv_path).expanduser()
    try:
        if csv_path.stat().st_size > MAX_ROSTER_BYTES:
            raise RosterError(f"{csv_path} is over {MAX_ROSTER_BYTES // (1024 * 1024)} MiB; a roster is a small CSV")
        text = csv_path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise RosterError(f"{csv_path} is not UTF-8 text; save the CSV as UTF-8") from None
    except OSError as err:
        raise RosterError(f"cannot read {csv_path}: {err.strerror}") from None
    source = csv_path.name
    rows, errors = _parse(text, source)
    checked = []
    for line, fields in rows:
        learner, why = _check_row(line, fields, source)
        if why:
            errors.append(why)
        else:
            checked.append((line, learner))
    if not errors and not rows:
        errors.append(f"{source}: no learners under the header; nothing to import")
    if rows:
        errors += _merge(load_roster(course), checked, source)[2]
    if errors:
        errors.sort(key=_row_number)
        raise RosterError("\n".join(errors) + "\nnothing was imported")
    return _apply(course, checked, source)


def _row_number(message: str) -> int:
    found = re.search(r" row (\d+)", message)
    return int(found.group(1)) if found else 0


def _apply(course: Course, new: list[tuple[int, Learner]], source: str) -> list[Learner]:
    current = load_roster(course)
    merged, changed, errors = _merge(current, new, source)
    if errors:
        raise RosterError("\n".join(errors) + "\nnothing was changed")
    learners = [l for _, l in new]
    _check_can_give(course, learners)
    for learner in learners:
        check_learner_folders(course.exchange_path, learner)
    prepare_exchange(course, learners)
    _write_roster(course, merged)
    return learners


# --- the exchange's folders -------------------------------------------------------------------

def _check_can_give(course: Course, learners: list[Learner]) -> None:
    euid = os.geteuid()
    if euid == 0:
        return
    for learner in learners:
        if learner.uid != euid:
            raise RosterError(f"giving {learner.id}'s folders to user {learner.user} needs root: run "
                              f"`sudo dlgrade roster ...`; nothing was changed")


def prepare_exchange(course: Course, learners: list[Learner]) -> None:
    """The exchange's shared folders, and each learner's own (folders.prepare_learner_folders)."""
    prepare_learner_folders(course.exchange_path, learners)


def folder_state(course: Course, learner: Learner) -> str:
    """`ok`, `missing` or `owned by X` for a learner's inbound folder (for `roster list`)."""
    return learner_folder_state(course.exchange_path, learner)


def user_exists(user: str) -> bool:
    """Whether an OS user of this name exists on this machine."""
    try:
        pwd.getpwnam(user)
        return True
    except KeyError:
        return False


__all__ = ["Learner", "RosterError", "ROSTER_FILE", "USERS", "load_roster", "has_roster", "add", "import_csv",
           "prepare_exchange", "folder_state", "roster_path", "user_exists", "PageWriter", "deliver_feedback"]


# --- releasing feedback to learners who own their folder --------------------------------------
# The pages are the report package's business: it passes a writer here (PageWriter), so the course
# package never imports the report package.

PageWriter = Callable[[Course], list[Path]]
"""Writes a course's pages into `<course.exchange_path>/feedback/<student>/<exercise>/` and returns
those folders (report.views.release_feedback with its gradebook and options bound)."""


def deliver_feedback(course: Course, write_pages: PageWriter) -> tuple[list[Path], list[str]]:
    """Without a roster: `write_pages(course)` as it is. With one, the pages are written into a
    private staging folder of the exchange (0700, the instructor's), given to the learner (folder
    0700, files 0600, their owner) and moved into `feedback/<id>/` through a file descriptor of that
    folder (a link the learner planted there is replaced, never followed). Returns (the folders
    released, one-line notes on learners whose feedback was not released)."""
    roster = load_roster(course)
    if not roster:
        return write_pages(course), []
    prepare_learner_folders(course.exchange_path, [l for l in roster.values() if user_exists(l.user)])
    root = Path(course.exchange_path).expanduser()
    stage = Path(tempfile.mkdtemp(prefix=".release-", dir=root))
    released, notes = [], []
    try:
        staged = write_pages(dataclasses.replace(course, exchange_path=stage))
        for folder in staged:
            who, ex_id = folder.parent.name, folder.name
            learner = roster.get(who)
            if learner is None:
                notes.append(f"{who} is not on the roster: their feedback on {ex_id} was not released")
                continue
            if not user_exists(learner.user):
                notes.append(f"{who}'s OS user {learner.user} does not exist: their feedback on {ex_id} was not "
                             "released")
                continue
            if _move_in(root, folder, who, ex_id, learner.uid, learner.gid, learner.user, notes):
                released.append(root / FEEDBACK / who / ex_id)
    except OSError as err:
        raise RosterError(f"cannot release feedback into {root / FEEDBACK}: {err.strerror or err}; run as root "
                          "(sudo) on a shared server") from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return released, notes


def _move_in(root: Path, folder: Path, who: str, ex_id: str, uid: int, gid: int, user: str,
             notes: list[str]) -> bool:
    """Give a staged folder to the learner and move it into feedback/<who>/<ex_id>; False (and a
    note) when their feedback folder is not theirs."""
    for item in folder.iterdir():
        os.chmod(item, 0o600)
        os.chown(item, uid, gid, follow_symlinks=False)
    os.chmod(folder, 0o700)
    os.chown(folder, uid, gid, follow_symlinks=False)
    dfd = os.open(root / FEEDBACK / who, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        st = os.fstat(dfd)
        if st.st_uid != uid:
            notes.append(f"{FEEDBACK}/{who}/ is owned by {user_name(st.st_uid)}, not {user}: feedback on "
                         f"{ex_id} not released; run `dlgrade roster add {who} --user {user}`")
            return False
        aside = None
        try:
            os.lstat(ex_id, dir_fd=dfd)
            aside = f".old-{ex_id}-{secrets.token_hex(4)}"
            os.rename(ex_id, aside, src_dir_fd=dfd, dst_dir_fd=dfd)
        except FileNotFoundError:
            pass  # the first release of this exercise to this learner
        os.rename(folder, ex_id, dst_dir_fd=dfd)
        if aside is not None:
            if stat.S_ISDIR(os.lstat(aside, dir_fd=dfd).st_mode):
                shutil.rmtree(aside, dir_fd=dfd)
            else:
                os.unlink(aside, dir_fd=dfd)
    finally:
        os.close(dfd)
    return True
