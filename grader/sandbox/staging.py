"""Private copies of a learner's files for a sandbox (folders 0700, files 0400 owned by the
sandbox's uid), and their removal, even of what a learner made read-only."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from grader.sandbox.probe import sandbox_uid


def private_dir(prefix: str, uid: int | None = None) -> Path:
    """A fresh folder only the grader (and the sandbox's `uid`) can enter: 0700."""
    d = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(d, 0o700)
    if uid is not None:
        os.chown(d, uid, uid)
    return d


def copy_private(files: dict[str, Path], dest: Path, uid: int | None = None) -> dict[str, Path]:
    """Copy `files` (name -> host path) into `dest`: each 0400, owned by the sandbox's `uid` where
    the grader is root, so no other local user can read them."""
    staged = {}
    for name, src in files.items():
        dst = dest / name
        dst.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o400)
        with os.fdopen(fd, "wb") as out, open(src, "rb") as inp:
            shutil.copyfileobj(inp, out)
        if uid is not None:
            os.chown(dst, uid, uid)
        staged[name] = dst
    return staged


def stage_private(files: dict[str, Path], slot: int, prefix: str = "dlgrade-sub-") -> tuple[Path, dict[str, Path]]:
    """A private staging folder (0700) with copies of `files` readable by the sandbox's uid only."""
    uid = sandbox_uid(slot)
    stage = private_dir(prefix, uid)
    return stage, copy_private(files, stage, uid)


def remove_tree(path: Path) -> None:
    """Remove a folder even where a learner made parts of it read-only. Permissions are restored
    only INSIDE the folder: its parent (for a staging folder, /tmp) is never touched, even when
    the folder is already gone or cannot be removed."""
    top = os.path.abspath(path)

    def fix(func, p, _exc):
        try:
            parent = os.path.dirname(os.path.abspath(p))
            if parent == top or parent.startswith(top + os.sep):
                os.chmod(parent, 0o700)
            if os.path.isdir(p) and not os.path.islink(p):
                os.chmod(p, 0o700)
            func(p)
        except OSError:
            pass  # whatever is still there is removed by the second pass below, or stays visible
    if not os.path.lexists(top):
        return
    shutil.rmtree(top, onerror=fix)
    if os.path.exists(path):
        shutil.rmtree(path, ignore_errors=True)


def empty_folder(folder: Path) -> None:
    """Remove everything inside `folder`, keeping the folder."""
    for p in folder.iterdir():
        if p.is_dir() and not p.is_symlink():
            remove_tree(p)
        else:
            p.unlink()


def remove_owned(uid: int, folders: tuple[str, ...] = ("/tmp", "/dev/shm")) -> None:
    """Remove what `uid` left directly in shared `folders` (rlimits-only with the slot's uid)."""
    for shared in folders:
        for p in Path(shared).iterdir() if os.path.isdir(shared) else ():
            try:
                if p.lstat().st_uid == uid:
                    remove_tree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
            except OSError:
                pass  # gone already, or removed by another slot's cleanup
