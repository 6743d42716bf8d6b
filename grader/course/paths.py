"""The layout of a course's folder: where course.toml, the exercises, the solutions, the
collected submissions and the held-out seed live; finding a course; keeping its folder the
instructor's.

```
<course>/
  course.toml        [course] id, title; [exercises.<id>] deadline; [late]; [exchange]; [gradebook]; [data]
  exercises/<id>/    learner material (exercise.toml, README.md, template.py, test_public.py)
  solutions/<id>/    reference solution + hidden tests (instructor only); solutions/.heldout-seed
  exchange/          the shared folder learners submit to (grader/course/exchange.py); [exchange] path
  submitted/<student>/<exercise>/   what `collect` picked, one submission per learner and exercise
  release/           the learner bundle (`dlgrade release`), meant to be handed out
```"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path
from typing import Protocol

from grader.course.errors import CourseError

COURSE_FILE = "course.toml"
EXERCISES = "exercises"
SOLUTIONS = "solutions"
SUBMITTED = "submitted"
DEFAULT_GRADEBOOK = "gradebook.sqlite"
DEFAULT_EXCHANGE = "exchange"
HELDOUT_SEED_FILE = ".heldout-seed"  # in solutions/ (0700): instructor only, never released
PUBLIC_ENTRIES = ("release",)  # the learner bundle: meant to be handed out


class CourseFolders(Protocol):
    """What these functions need of a course (grader.course.config.Course has it)."""

    root: Path
    exchange_path: Path | None

    @property
    def solutions_dir(self) -> Path: ...


def gradebook_url(url: str, root: Path) -> str:
    """A SQLAlchemy URL as is; a bare path (relative to the course) becomes a SQLite URL."""
    if "://" in url:
        return url
    path = Path(url).expanduser()
    return f"sqlite:///{path if path.is_absolute() else root / path}"


def course_path(value: str, root: Path) -> Path:
    """A path from course.toml: absolute as is, else relative to the course folder."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else root / path


def find_course_dir(start: Path | None = None) -> Path | None:
    """The nearest folder from `start` (default: the working directory) upwards with a course.toml."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / COURSE_FILE).is_file():
            return folder
    return None


# --- the held-out seed -------------------------------------------------------------------------

def write_heldout_seed(path: Path) -> int:
    """Write a new secret seed to `path` (0600; never over an existing one); returns it."""
    seed = secrets.randbelow(2**62)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(f"{seed}\n")
    return seed


def heldout_seed(course: CourseFolders) -> int:
    """The course's secret seed that draws the held-out data of threshold tests
    (`solutions/.heldout-seed`, 0600, made by `dlgrade init`; made here for an older course)."""
    path = course.solutions_dir / HELDOUT_SEED_FILE
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        try:
            return write_heldout_seed(path)
        except FileExistsError:
            text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as err:
        raise CourseError(f"cannot read the course's held-out seed {path}: {err}; restore it from a backup "
                          "(a new seed changes every held-out set)") from None
    if not text.isdigit():
        raise CourseError(f"{path} does not hold a seed (a non-negative integer); restore it from a backup")
    return int(text)


# --- the instructor's folder is the instructor's only ------------------------------------------

def secure_course_dir(course: CourseFolders) -> list[str]:
    """Make the course folder the instructor's only: the folder itself 0711 when the exchange lies
    inside it (learners must reach exchange/; they can list nothing), else 0700; every other entry
    at its top (course.toml, gradebook, roster, exercises/, solutions/, submitted/, reports/) 0700
    for folders and 0600 for files. Links are left alone. Only the owner of the folder (or root)
    changes anything; returns the entries changed."""
    root = Path(course.root)
    try:
        st = root.stat()
    except OSError:
        return []
    if os.geteuid() not in (0, st.st_uid) or not course.solutions_dir.is_dir():
        return []  # not the instructor, or a learner's copy of the course (no solutions/)
    exchange = Path(course.exchange_path).resolve()
    inside = exchange.is_relative_to(root) and exchange != root
    changed = []
    want_root = 0o711 if inside else 0o700
    try:
        if stat.S_IMODE(st.st_mode) != want_root:
            os.chmod(root, want_root)
            changed.append(str(root))
        with os.scandir(root) as entries:
            for entry in entries:
                path = root / entry.name
                if entry.is_symlink() or entry.name in PUBLIC_ENTRIES:
                    continue
                if inside and (path == exchange or exchange.is_relative_to(path)):
                    continue
                mode = 0o700 if entry.is_dir(follow_symlinks=False) else 0o600
                if stat.S_IMODE(entry.stat(follow_symlinks=False).st_mode) != mode:
                    os.chmod(path, mode)
                    changed.append(str(path))
    except OSError:
        pass  # best effort: a folder the instructor cannot change stays as it is (the callers say what changed)
    return changed


__all__ = ["COURSE_FILE", "EXERCISES", "SOLUTIONS", "SUBMITTED", "DEFAULT_GRADEBOOK", "DEFAULT_EXCHANGE",
           "HELDOUT_SEED_FILE", "PUBLIC_ENTRIES", "gradebook_url", "course_path", "find_course_dir",
           "write_heldout_seed", "heldout_seed", "secure_course_dir"]
