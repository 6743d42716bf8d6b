"""What learners receive: templates generated from the reference solutions.

A reference marks its answers with nbgrader's markers; each marked region, the marker lines
included, becomes `raise NotImplementedError(...)` at the marker's indentation."""

from __future__ import annotations

import re
from dataclasses import dataclass

from grader.exercise.spec import Exercise

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
PLACEHOLDER = 'raise NotImplementedError("write your code here")'
_GENERATED = "# This file was generated from the reference solution by `dlgrade templates`.\n"


class TemplateError(Exception):
    """A reference whose solution markers do not pair up."""


@dataclass(frozen=True)
class Region:
    """One marked answer in a reference: the lines of its BEGIN and END markers (1-based) and the
    indentation of its BEGIN marker."""

    begin: int
    end: int
    indent: str


def solution_regions(source: str, name: str = "solution.py") -> list[Region]:
    """THE marker scanner: every solution region of a reference's source, in order; TemplateError
    (naming the file and line) when the markers do not pair up."""
    regions, begin, indent = [], 0, ""
    for number, line in enumerate(source.splitlines(), start=1):
        stripped = line.strip()
        if stripped == BEGIN:
            if begin:
                raise TemplateError(f"{name}:{number}: {BEGIN} inside another solution region")
            begin, indent = number, re.match(r"[ \t]*", line).group(0)
        elif stripped == END:
            if not begin:
                raise TemplateError(f"{name}:{number}: {END} without a {BEGIN}")
            regions.append(Region(begin, number, indent))
            begin = 0
    if begin:
        raise TemplateError(f"{name}:{begin}: {BEGIN} is never closed")
    return regions


def blank_regions(source: str, regions: list[Region]) -> str:
    """The source with each of `regions` (markers included) replaced by the placeholder at its
    marker's indentation."""
    starts = {r.begin: r for r in regions}
    out: list[str] = []
    skip_to = 0
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        if number <= skip_to:
            continue
        region = starts.get(number)
        if region is not None:
            out.append(f"{region.indent}{PLACEHOLDER}\n")
            skip_to = region.end
        else:
            out.append(line)
    return "".join(out)


def make_template(solution_source: str, name: str = "solution.py") -> str:
    """The learner's template for a reference solution's source text."""
    return _GENERATED + blank_regions(solution_source, solution_regions(solution_source, name))


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


__all__ = ["BEGIN", "END", "PLACEHOLDER", "TemplateError", "Region", "solution_regions", "blank_regions",
           "make_template", "expected_template", "write_templates"]
