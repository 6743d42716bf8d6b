"""What learners receive: templates generated from the reference solutions.

A reference marks its answers with nbgrader's markers; each marked region, the marker lines
included, becomes `raise NotImplementedError(...)` at the marker's indentation."""

from __future__ import annotations

import re
from pathlib import Path

from .spec import Exercise

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
PLACEHOLDER = 'raise NotImplementedError("write your code here")'
_GENERATED = "# This file was generated from the reference solution by `dlgrade templates`.\n"


class TemplateError(Exception):
    """A reference whose solution markers do not pair up."""


def make_template(solution_source: str, name: str = "solution.py") -> str:
    """The learner's template for a reference solution's source text."""
    out, inside, begin_line = [], False, 0
    for number, line in enumerate(solution_source.splitlines(keepends=True), start=1):
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise TemplateError(f"{name}:{number}: {BEGIN} inside another solution region")
            inside, begin_line = True, number
            indent = re.match(r"[ \t]*", line).group(0)
            out.append(f"{indent}{PLACEHOLDER}\n")
        elif stripped == END:
            if not inside:
                raise TemplateError(f"{name}:{number}: {END} without a {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise TemplateError(f"{name}:{begin_line}: {BEGIN} is never closed")
    return _GENERATED + "".join(out)


def expected_template(exercise: Exercise) -> str:
    """The template that the exercise's reference solution generates."""
    if exercise.solution is None:
        raise TemplateError(f"{exercise.id} has no reference solution here")
    return make_template(exercise.solution.read_text(encoding="utf-8"), str(exercise.solution))


def write_templates(exercises: list[Exercise], check_only: bool = False) -> list[str]:
    """Regenerate each exercise's `template.py`; return the ids whose committed template was
    stale (with `check_only`, nothing is written)."""
    stale = []
    for ex in exercises:
        want = expected_template(ex)
        have = ex.template.read_text(encoding="utf-8") if ex.template.is_file() else None
        if have != want:
            stale.append(ex.id)
            if not check_only:
                ex.template.write_text(want, encoding="utf-8")
    return stale
