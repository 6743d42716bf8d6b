"""Who is asking: the learner id a learner command acts for. Without a roster, ids are taken as
given (`--student`, `$DLGRADE_STUDENT`, the OS user name); with one, a learner's id comes from
their OS user (`<exchange>/users/<user>`, written by the instructor) and only the instructor may
act for someone else. The exchange is all a learner can see, so nothing here reads the course."""

from __future__ import annotations

import getpass
import os
import pwd
from pathlib import Path

from grader.course.errors import ExchangeError
from grader.course.folders import USERS
from grader.course.ids import check_id


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


def roster_mode(exchange_root: Path | str) -> bool:
    """Whether the exchange belongs to a course with a roster (a multi-user course)."""
    return (Path(exchange_root).expanduser() / USERS).is_dir()


def is_instructor(exchange_root: Path | str) -> bool:
    """Root, or the owner of the exchange folder (the instructor who ran `dlgrade init`)."""
    euid = os.geteuid()
    if euid == 0:
        return True
    try:
        return Path(exchange_root).expanduser().stat().st_uid == euid
    except OSError:
        return False


def own_id(exchange_root: Path | str) -> str:
    """The learner id of the calling OS user, from `<exchange>/users/<user>`."""
    try:
        user = pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        raise ExchangeError(f"your uid {os.geteuid()} has no user name; ask your instructor") from None
    path = Path(exchange_root).expanduser() / USERS / user
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            text = fh.read(256).decode("utf-8", "replace").strip()
    except FileNotFoundError:
        raise ExchangeError(f"you (user {user}) are not on the roster of this course; ask your instructor to add "
                            f"you (dlgrade roster add ID --user {user})") from None
    except OSError as err:
        raise ExchangeError(f"cannot read your roster entry {path}: {err.strerror}; ask your instructor") from None
    if st.st_uid not in (0, Path(exchange_root).expanduser().stat().st_uid):
        raise ExchangeError(f"your roster entry {path} was not written by your instructor; ask them to run "
                            "`dlgrade roster add` again")
    try:
        return check_id(text, "roster id")
    except ValueError as err:
        raise ExchangeError(f"{path}: {err}; ask your instructor") from None


def check_requested(value: str) -> str:
    """A student id given on the command line, or ExchangeError."""
    return _id(value, "student id")


def resolve_student(exchange_root: Path | str, requested: str | None) -> str:
    """The learner id a learner command acts for. Without a roster: `requested`, else
    `$DLGRADE_STUDENT`, else the user name. With a roster: the caller's own id; another id only
    for the instructor (root or the exchange's owner), e.g. to submit on a learner's behalf."""
    if not roster_mode(exchange_root):
        return check_requested(requested) if requested is not None else default_student()
    if requested is None:
        env = os.environ.get("DLGRADE_STUDENT", "").strip()
        requested = env or None
    if is_instructor(exchange_root):
        if requested is None:
            try:
                return own_id(exchange_root)
            except ExchangeError:
                raise ExchangeError("you are the instructor of this course, not a learner on its roster: give "
                                    "--student ID to act for a learner") from None
        return check_requested(requested)
    mine = own_id(exchange_root)
    if requested is not None and requested != mine:
        raise ExchangeError(f"--student (or $DLGRADE_STUDENT) {requested!r} is refused: you are {mine} on this "
                            "course's roster and can act only as yourself (--student is for instructors)")
    return mine


__all__ = ["default_student", "roster_mode", "is_instructor", "own_id", "check_requested", "resolve_student"]
