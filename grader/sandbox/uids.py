"""The uids sandboxes run as: one per slot, from a documented range that no person, group or
user-namespace mapping on the machine may use.

Where the grader runs as root, the sandbox of slot K runs as uid (and gid) FIRST_UID + K, with
K in 0 .. SLOTS-1: uids 60000-64999, the range Debian leaves for accounts created on demand, below
`nobody` (65534) and below the subordinate ids that `useradd` hands out (SUB_UID_MIN 100000).
Every use checks, at run time, that the uid is neither an account nor a group in the passwd/group
databases nor inside a range of /etc/subuid or /etc/subgid (a rootless container's user would own
the sandbox's files); if it is, grading stops with an error that says which line to change.

A slot belongs to one process at a time (a local pool worker, a Dask worker process, a test), so
concurrent gradings never share a uid: it is given explicitly, or claimed with `claim_slot()`,
never derived from thread ids."""

from __future__ import annotations

import fcntl
import grp
import os
import pwd
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from grader.sandbox.errors import START_FAILED, SandboxStartError

FIRST_UID = 60000
SLOTS = 5000
LAST_UID = FIRST_UID + SLOTS - 1
SUBID_FILES = (Path("/etc/subuid"), Path("/etc/subgid"))


class SandboxUidError(SandboxStartError):
    """A sandbox uid is in use on this machine (an account, a group or a subordinate-id range)."""


def _subid_ranges(path: Path) -> list[tuple[str, int, int]]:
    """(owner, first, count) of each line of an /etc/subuid-style file; none when it is missing."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    ranges = []
    for line in text.splitlines():
        owner, _, rest = line.strip().partition(":")
        first, _, count = rest.partition(":")
        if owner and not owner.startswith("#") and first.isdigit() and count.isdigit():
            ranges.append((owner, int(first), int(count)))
        # a line of another shape is not a range newuidmap would grant either
    return ranges


def check_uid(uid: int) -> None:
    """Raise SandboxUidError when `uid` is used on this machine by anything but dlgrade."""
    problems = []
    for path in SUBID_FILES:
        for owner, first, count in _subid_ranges(path):
            if first <= uid < first + count:
                problems.append(f"{path} gives {owner} the ids {first}-{first + count - 1}")
    try:
        problems.append(f"it is the account {pwd.getpwuid(uid).pw_name!r} in the passwd database")
    except KeyError:
        pass
    try:
        problems.append(f"it is the group {grp.getgrgid(uid).gr_name!r} in the group database")
    except KeyError:
        pass
    if problems:
        reason = (f"sandbox uid {uid} is in use on this machine ({'; '.join(problems)}); dlgrade runs its "
                  f"sandboxes as uids {FIRST_UID}-{LAST_UID}: move that range or account elsewhere, or "
                  "grade on a machine where these uids are free")
        raise SandboxUidError(f"{START_FAILED}: {reason}", reason)


def uid_for_slot(slot: int) -> int:
    """The uid (and gid) of the sandboxes of `slot`, checked to be free on this machine."""
    if not isinstance(slot, int) or not 0 <= slot < SLOTS:
        raise ValueError(f"sandbox slot {slot!r} is outside 0..{SLOTS - 1} (uids {FIRST_UID}-{LAST_UID})")
    uid = FIRST_UID + slot
    check_uid(uid)
    return uid


@dataclass
class SlotClaim:
    """A slot held by this process until `release()` (or its exit): a lock file no other holds."""

    slot: int
    fd: int

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # the lock goes with the descriptor
            self.fd = -1


def _lock_dir() -> Path:
    """The grader's own folder of slot locks (0700): no sandbox uid can take or hold a lock."""
    d = Path(tempfile.gettempdir()) / f"dlgrade-slots-{os.geteuid()}"
    try:
        d.mkdir(mode=0o700)
    except FileExistsError:
        pass
    st = os.lstat(d)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
        raise SandboxStartError(f"{START_FAILED}: {d} is not a private folder of this user; remove it",
                                f"{d}: mode {oct(st.st_mode)}, owner {st.st_uid}")
    return d


def claim_slot(first: int = 0) -> SlotClaim:
    """Claim the lowest slot >= `first` that no other process on this machine holds."""
    folder = _lock_dir()
    for slot in range(first, SLOTS):
        fd = os.open(folder / f"{slot}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return SlotClaim(slot, fd)
    raise SandboxStartError(f"{START_FAILED}: all {SLOTS} sandbox slots are taken by other processes")
