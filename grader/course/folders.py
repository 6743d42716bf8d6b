"""The exchange's folders and their permissions: the layout every exchange module shares, the
folders each learner owns, and the file operations that never follow a link or leave half a copy.

```
<exchange>/                    0755
  inbound/                     0711: learners reach their own folder, cannot list or create
    <student>/<exercise>/      0700, the learner's (made by `dlgrade roster add/import`)
  feedback/<student>/          0711 / 0700 the learner's: released pages
  users/<os user>              0711 / 0644: the learner-readable id of each OS user
```"""

from __future__ import annotations

import ctypes
import os
import pwd
import shutil
import stat
import uuid
from pathlib import Path
from typing import Iterable, Protocol

from grader.atomic import write_text
from grader.course.errors import ExchangeError, RosterError

INBOUND = "inbound"
FEEDBACK = "feedback"
USERS = "users"
RECORD = "submission.json"


class Owner(Protocol):
    """A learner with an OS account (grader.course.roster.Learner)."""

    id: str
    user: str

    @property
    def uid(self) -> int: ...

    @property
    def gid(self) -> int: ...


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


def user_name(uid: int) -> str:
    """The OS user name of `uid`, or "uid N"."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def owner_name(path: Path) -> str | None:
    """The OS user who owns a submission's folder (on a shared server: who really wrote it)."""
    try:
        return pwd.getpwuid(Path(path).lstat().st_uid).pw_name
    except (KeyError, OSError):
        return None


def subdirs(folder: Path) -> list[Path]:
    """Visible, real (not linked) sub-folders, by name."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except FileNotFoundError:
        return []
    except OSError as err:
        raise ExchangeError(f"cannot list {folder}: {err.strerror}; check the exchange's permissions") from None
    return [folder / e.name for e in entries if not e.name.startswith(".") and e.is_dir(follow_symlinks=False)]


# --- writing without following links ----------------------------------------------------------

def write_new_file(path: Path, data: bytes, mode: int) -> None:
    """Write a new file (never an existing one, never through a link) and flush it to disk."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(path, mode)


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (a rename into it) to disk, where the OS allows it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return  # nothing to flush through: the rename itself is done
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a folder; the data was flushed file by file
    finally:
        os.close(fd)


def _rename_exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return fn(-100, os.fsencode(a), -100, os.fsencode(b), 2) == 0


def replace_dir(new: Path, dest: Path) -> None:
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


def remove_dir(dest: Path) -> None:
    """Remove a folder (or a link) by first moving it aside: readers see it or nothing."""
    aside = dest.with_name(f".old-{dest.name}-{uuid.uuid4().hex[:8]}")
    os.rename(dest, aside)
    shutil.rmtree(aside) if aside.is_dir() and not aside.is_symlink() else aside.unlink()


# --- the folders learners own (a course with a roster) -----------------------------------------

def _own_dir(path: Path, uid: int, gid: int) -> None:
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    st = path.lstat()
    if not stat.S_ISDIR(st.st_mode):
        raise RosterError(f"{path} is not a folder; remove it and run again")
    if (st.st_uid, st.st_gid) != (uid, gid):
        os.chown(path, uid, gid, follow_symlinks=False)
    os.chmod(path, 0o700)


def _shared_dir(path: Path, mode: int) -> None:
    try:
        os.mkdir(path, mode)
    except FileExistsError:
        pass
    if path.is_symlink() or not path.is_dir():
        raise RosterError(f"{path} is not a folder; remove it and run again")
    os.chmod(path, mode)


def prepare_learner_folders(exchange_root: Path | str, learners: Iterable[Owner]) -> Path:
    """inbound/ and feedback/ 0711, users/ 0711; each learner's inbound/<id>/ and feedback/<id>/
    0700 and theirs; users/<user> holding their id (0644, the instructor's). Returns the exchange."""
    root = ensure_exchange(exchange_root)
    try:
        for kind in (INBOUND, FEEDBACK, USERS):
            _shared_dir(root / kind, 0o711)
        for learner in learners:
            uid, gid = learner.uid, learner.gid
            _own_dir(root / INBOUND / learner.id, uid, gid)
            _own_dir(root / FEEDBACK / learner.id, uid, gid)
            write_text(root / USERS / learner.user, learner.id + "\n", 0o644)
    except OSError as err:
        raise RosterError(f"cannot prepare the exchange {root} for the roster: {err.strerror or err}; run as root "
                          "(sudo) on a shared server") from None
    return root


def check_learner_folders(exchange_root: Path | str, learner: Owner) -> None:
    """Refuse a learner's folder that is already there and belongs to someone else (made before the
    roster, or squatted): it is not given to the learner and nothing is removed."""
    root = Path(exchange_root)
    for kind in (INBOUND, FEEDBACK):
        path = root / kind / learner.id
        try:
            st = path.lstat()
        except FileNotFoundError:
            continue
        if not stat.S_ISDIR(st.st_mode):
            raise RosterError(f"{path} is not a folder (a link or a file); remove it and run again; nothing was "
                              "changed")
        if st.st_uid not in (learner.uid, os.geteuid()):
            raise RosterError(f"{path} already exists and belongs to user {user_name(st.st_uid)}, not "
                              f"{learner.user}: made before the roster, or squatted; move it aside (its content is "
                              "kept) and run again; nothing was changed")


def learner_folder_state(exchange_root: Path | str, learner: Owner) -> str:
    """`ok`, `missing` or `owned by X` for a learner's inbound folder (for `roster list`)."""
    try:
        st = (Path(exchange_root) / INBOUND / learner.id).lstat()
    except FileNotFoundError:
        return "missing (run roster add again)"
    except OSError as err:
        return f"unreadable ({err.strerror})"
    if not stat.S_ISDIR(st.st_mode):
        return "not a folder"
    try:
        uid = learner.uid
    except KeyError:
        return f"user {learner.user} no longer exists"
    if st.st_uid != uid:
        return f"owned by {user_name(st.st_uid)}"
    return "ok" if stat.S_IMODE(st.st_mode) == 0o700 else f"mode {stat.S_IMODE(st.st_mode):o}, want 700"


__all__ = ["INBOUND", "FEEDBACK", "USERS", "RECORD", "ensure_exchange", "user_name", "owner_name", "subdirs",
           "write_new_file", "fsync_dir", "replace_dir", "remove_dir", "prepare_learner_folders",
           "check_learner_folders", "learner_folder_state"]
