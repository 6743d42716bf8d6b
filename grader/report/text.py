"""Text a learner or an instructor reads on a report: cleaned of terminal sequences, capped,
tracebacks cut down to the learner's own frames, test names made readable, lists and moments
written as the page's language writes them."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Iterable

from grader.clock import as_utc
from grader.sandbox.inside.wire import clean_text as wire_clean_text
from grader.report.i18n import localize_digits

OUTPUT_MAX_CHARS = 6000        # the submission's own output shown to the learner
OUTPUT_MAX_LINES = 80
MESSAGE_MAX_CHARS = 4000

_GRADER_PATH_MARKERS = ("site-packages", "dist-packages", "/opt/dlgrade", "/lib/python", "/grader/",
                        "/solutions/", "/_pytest/", "/pluggy/")
# a frame line; a notebook's names its cell: File "perceptron.ipynb", cell 4, line 3, in step
_FRAME = re.compile(r'^(\s*)File "([^"]*)", ((?:cell \d+, )?line \d+)(.*)$')


def clean_text(text: object) -> str:
    """Text without terminal sequences, control characters (but newlines and tabs) or bidi
    overrides: the wire's one cleaner (`wire.clean_text`), with no length cap (`cap_text` cuts)."""
    if not isinstance(text, str):
        return ""
    return wire_clean_text(text, limit=max(len(text), 1))


def cap_text(text: str, max_chars: int = OUTPUT_MAX_CHARS, max_lines: int = OUTPUT_MAX_LINES) -> tuple[str, int]:
    """(the first max_lines lines / max_chars characters of text, how many characters were left out)."""
    lines = text.splitlines()
    shown = "\n".join(lines[:max_lines])
    if len(shown) > max_chars:
        shown = shown[:max_chars]
    left = len(text.rstrip("\n")) - len(shown)
    return shown, max(left, 0)


def _is_learner_path(path: str, learner_files: frozenset[str]) -> bool:
    p = path.replace("\\", "/")
    if not p or p.startswith("<"):  # <frozen importlib._bootstrap>, <string>
        return False
    low = p.lower()
    if any(marker in low for marker in _GRADER_PATH_MARKERS):
        return False
    name = p.rsplit("/", 1)[-1]
    if learner_files:
        return name in learner_files
    return p.startswith("/work/")


def strip_grader_frames(text: str, learner_files: Iterable[str] = ()) -> str:
    """A traceback (or any text holding one) with only the frames of the learner's own files:
    every `File "...", line N` whose file is not one of `learner_files` (by name, and never under
    site-packages, /opt/dlgrade, the grader or the solutions) is removed with its source and
    caret lines. The learner's frames name the file without its folder."""
    files = frozenset(learner_files)
    out: list[str] = []
    skip_indent: int | None = None
    for line in text.splitlines():
        m = _FRAME.match(line)
        if m:
            indent, path, where, rest = m.groups()
            if _is_learner_path(path, files):
                skip_indent = None
                name = path.replace("\\", "/").rsplit("/", 1)[-1]
                out.append(f'{indent}File "{name}", {where}{rest}')
            else:
                skip_indent = len(indent)
            continue
        if skip_indent is not None:
            if line.strip() and len(line) - len(line.lstrip()) > skip_indent:
                continue  # the hidden frame's source line or its ^^^ markers
            skip_indent = None
        out.append(line)
    return "\n".join(out)


def split_output(output: str, learner_files: Iterable[str] = ()) -> tuple[str, str]:
    """(message, traceback) of a test's output: the traceback starts at the first frame line."""
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if _FRAME.match(line):
            message = "\n".join(lines[:i]).strip()
            trace = strip_grader_frames("\n".join(lines[i:]), learner_files).strip("\n")
            return message, trace
    return output.strip(), ""


def humanize_test(name: str) -> str:
    """A test's function name as words: `test_step_values[3]` -> `step values`."""
    name = re.sub(r"\[.*\]$", "", name or "")
    name = name[5:] if name.startswith("test_") else name
    return name.replace("_", " ").strip() or "test"


def listing(names: list[str], lang: str, shown: int = 4) -> str:
    """'a, b, c, d … (+3)': a few names of a long list."""
    text = ", ".join(names[:shown])
    if len(names) > shown:
        text += " … (+" + localize_digits(str(len(names) - shown), lang) + ")"
    return text


def when_text(value: datetime | str | None, lang: str) -> str:
    """A moment as the page shows it, in UTC ("" for nothing or text that is not a moment)."""
    if value is None:
        return ""
    try:
        moment = as_utc(value)
    except (TypeError, ValueError):
        return ""
    text = moment.strftime("%Y/%m/%d %H:%M" if lang == "fa" else "%Y-%m-%d %H:%M")
    return localize_digits(text, lang) + " UTC"


__all__ = ["clean_text", "cap_text", "strip_grader_frames", "split_output", "humanize_test", "listing",
           "when_text", "OUTPUT_MAX_CHARS", "OUTPUT_MAX_LINES", "MESSAGE_MAX_CHARS"]
