"""The learner bundle: what learners receive for a course (`dlgrade release`): the learner's
course.toml and, per exercise, its README, exercise.toml, public tests and the template generated
from the reference solution, and/or the exercise as a notebook made from that template; nothing
else from solutions/."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from grader.course.config import Course, learner_course_toml
from grader.course.errors import CourseError
from grader.exercise.templates import TemplateError, expected_template

if TYPE_CHECKING:
    from grader.exercise.spec import Exercise

BUNDLE_FILES = ("README.md", "exercise.toml", "test_public.py")


class BundleError(CourseError):
    """A learner bundle that cannot be built; nothing was written."""


def build_bundle(course: Course, out_dir: Path | str, force: bool = False, *, templates: bool = True,
                 notebook: Callable[[Exercise, str], str] | None = None) -> Path:
    """Write what learners receive into `out_dir`: `course.toml` (the learner's copy: no gradebook,
    no solutions, no data paths) and `exercises/<id>/` with README.md, exercise.toml,
    test_public.py and template.py generated from the course's reference solution (unless not
    `templates`) and, with `notebook` (exercise, template text -> the .ipynb file's text),
    `<id>.ipynb`. Nothing from solutions/ but what the generated templates hold. A non-empty
    `out_dir` is refused unless `force`, and even then only when it holds nothing but a previous
    bundle. Returns `out_dir`."""
    if not templates and notebook is None:
        raise BundleError("a learner bundle needs templates, notebooks or both; choose at least one format")
    out = Path(out_dir).expanduser().resolve()
    root = Path(course.root).resolve()
    if out == root or root.is_relative_to(out):
        raise BundleError(f"{out} holds the course itself; give a separate folder for the learner bundle")
    for private in (course.solutions_dir, course.submitted_dir, course.exercises_dir, Path(course.exchange_path)):
        if out.is_relative_to(Path(private).resolve()):
            raise BundleError(f"{out} is inside the course's {Path(private).name}/; give another folder for the "
                                "learner bundle")
    if out.exists() and not out.is_dir():
        raise BundleError(f"{out} is a file; give a new or empty folder for the learner bundle")
    existing = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
    if existing:
        if not force:
            raise BundleError(f"{out} is not empty; give an empty folder, or force to replace a previous bundle "
                                "there (nothing was changed)")
        others = [n for n in existing if n not in ("course.toml", "exercises")]
        if others:
            raise BundleError(f"{out} holds more than a previous bundle ({', '.join(others[:5])}); refusing to "
                                "replace it even with force: give an empty folder")
    files: dict[str, str | Path] = {}
    for ex_id in course.deadlines:
        try:
            ex = course.exercise(ex_id)
        except BundleError:
            raise
        except CourseError as err:
            raise BundleError(str(err)) from None
        if ex.solution is None:
            raise BundleError(f"exercise {ex_id} has no solutions/{ex_id}/solution.py in the course; its template "
                                "is generated from the reference, so add it first")
        try:
            template = expected_template(ex)
        except TemplateError as err:
            raise BundleError(f"{err}; fix the solution markers of exercise {ex_id}") from None
        if templates:
            files[f"exercises/{ex_id}/template.py"] = template
        if notebook is not None:
            try:
                files[f"exercises/{ex_id}/{ex_id}.ipynb"] = notebook(ex, template)
            except ValueError as err:
                raise BundleError(f"exercise {ex_id} cannot be made a notebook: {err}") from None
        for name in BUNDLE_FILES:
            src = ex.directory / name
            if not src.is_file():
                raise BundleError(f"exercise {ex_id} has no {name} in {ex.directory}; add it first")
            files[f"exercises/{ex_id}/{name}"] = src
    files["course.toml"] = learner_course_toml(course)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        build = Path(tempfile.mkdtemp(prefix=f".{out.name}.bundle-", dir=out.parent))
    except OSError as err:
        raise BundleError(f"cannot create {out}: {err.strerror}") from None
    try:
        for rel, content in files.items():
            dst = build / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, Path):
                shutil.copyfile(content, dst)
            else:
                dst.write_text(content, encoding="utf-8")
        for dirpath, dirnames, filenames in os.walk(build):
            os.chmod(dirpath, 0o755)
            for f in filenames:
                os.chmod(os.path.join(dirpath, f), 0o644)
        if existing:
            aside = out.with_name(f".{out.name}.old-{os.getpid()}")
            os.rename(out, aside)
            os.rename(build, out)
            shutil.rmtree(aside, ignore_errors=True)
        else:
            os.rename(build, out)  # onto a missing or empty folder
    except OSError as err:
        shutil.rmtree(build, ignore_errors=True)
        raise BundleError(f"cannot write the bundle to {out}: {err.strerror or err}") from None
    return out


__all__ = ["BUNDLE_FILES", "BundleError", "build_bundle"]
