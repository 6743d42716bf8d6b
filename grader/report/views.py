"""Feedback reports: a page per learner (HTML and Markdown, Persian right-to-left or English) and a
class dashboard for the instructor, made from the gradebook.

* `render_learner(course, rows, lang)` -> (html, markdown): one learner's page, a section per row
  (an exercise). A row is a `Gradebook.grades()` row (after `course.apply_late_policy`) with the
  counting grading's `result_json` (and `grading_error`, `duration_s`, `device`) added; see
  `learner_rows`. Rows of `Gradebook.gradings()` are accepted too.
* `render_dashboard(course, gradebook_rows, gradings, lang)` -> html: score histograms, pass rate per
  test, the commonest failures, grading times and devices, late work, overrides.
* `write_reports(course, gradebook, out_dir, lang)`: every learner's page and the dashboard.
* `release_feedback(...)` puts per-exercise pages into the exchange:
  `<exchange>/feedback/<student>/<exercise>/report.html|.md`; `read_feedback` finds a learner's.

What a learner sees of a test is its name (none for a test whose visibility is "hidden"), its
status and points, a hint chosen from the kind of failure, and the test's own output text (which
the tests write never to reveal an expected value), with tracebacks cut down to the frames of the
learner's own files. Grader problems (`internal_errors`, a grading's error) reach the dashboard
only. Plots are hand-written inline SVG (no plotting library), cached per identical data, and the
pages load nothing: a Content-Security-Policy forbids every request.
"""

from __future__ import annotations

import html as _html
import json
import math
import os
import re
import statistics
from collections import Counter
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from grader.atomic import write_text
from grader.report.i18n import (N_, check_lang, direction, format_fixed, format_number, format_percent, gettext_for,
                   localize_digits, template)
from grader.grading.result import Kind, kind_of

FEEDBACK = "feedback"          # <exchange>/feedback/<student>/<exercise>/report.html|.md
REPORT_HTML = "report.html"
REPORT_MD = "report.md"
OUTPUT_MAX_CHARS = 6000        # the submission's own output shown to the learner
OUTPUT_MAX_LINES = 80
MESSAGE_MAX_CHARS = 4000
MAX_SERIES = 8                 # history keys drawn
MAX_POINTS = 400               # points per curve (longer histories are thinned)
MAX_CLASSES = 20               # a larger confusion matrix is not drawn (the Markdown lists it)
TOP_FAILURES = 20

_GRADER_PATH_MARKERS = ("site-packages", "dist-packages", "/opt/dlgrade", "/lib/python", "/grader/",
                        "/solutions/", "/_pytest/", "/pluggy/")
_FRAME = re.compile(r'^(\s*)File "([^"]*)", line (\d+)(.*)$')
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ReportError(Exception):
    """A report that cannot be made or found; the message is one line that says what to do."""


# --- text a learner may read ------------------------------------------------------------------

def clean_text(text: object) -> str:
    """Text without terminal escapes and control characters (but newlines and tabs)."""
    if not isinstance(text, str):
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", _ANSI.sub("", text))


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
            indent, path, lineno, rest = m.groups()
            if _is_learner_path(path, files):
                skip_indent = None
                name = path.replace("\\", "/").rsplit("/", 1)[-1]
                out.append(f'{indent}File "{name}", line {lineno}{rest}')
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
    name = re.sub(r"\[.*\]$", "", name or "")
    name = name[5:] if name.startswith("test_") else name
    return name.replace("_", " ").strip() or "test"


# --- hints ------------------------------------------------------------------------------------

HINTS = {
    "import": N_("Your file could not be imported, so no test could run. Fix the error shown below (the "
                 "line number points into your file), then run `dlgrade check %(exercise)s` before you "
                 "submit again."),
    "todo": N_("`%(function)s` is still the template's placeholder: replace `raise NotImplementedError` "
               "with your code."),
    "raised": N_("`%(function)s` raised %(error)s. The traceback shows the line of your file where it "
                 "happened; try that call on a small input yourself."),
    "memory": N_("Your code ran out of memory: avoid building huge arrays; work on smaller pieces or in "
                 "batches."),
    "timeout": N_("Your code ran out of time: look for a loop that never ends, or replace Python loops over "
                  "array elements with numpy operations."),
    "missing": N_("A function the tests call is missing: keep the function names and arguments of the "
                  "template."),
    "crashed": N_("Your code stopped the sandbox (a crash or a resource limit); the message says what "
                  "happened."),
    "grader": N_("This test could not run because of a problem in the grader, not in your code; your "
                 "instructor has been told."),
    "unsendable": N_("Your function returned something the grader cannot read (the message says what): "
                     "return numbers, strings, lists, tuples, dicts or numpy arrays."),
    "failed": N_("This test failed; its message says what happened."),
    "threshold": N_("Your model's held-out accuracy %(accuracy)s is below the threshold %(threshold)s: "
                    "train for more epochs, check the learning rate and the scaling of the inputs, and look "
                    "at which classes the confusion matrix mixes up."),
    "wrong": N_("The result is not right yet: the test's message says what it checked and where to look. "
                "Fix it, then run `dlgrade check %(exercise)s`."),
}
NOT_RUN = N_("Not run: your file could not be imported (see above).")


_HINT_OF_KIND = {Kind.PASSED: "passed", Kind.IMPORT_ERROR: "import", Kind.NOT_IMPLEMENTED: "todo",
                 Kind.RAISED: "raised", Kind.MEMORY: "memory", Kind.TIMEOUT: "timeout",
                 Kind.MISSING_FUNCTION: "missing", Kind.CRASHED: "crashed", Kind.GRADER_FAULT: "grader",
                 Kind.UNSENDABLE: "unsendable", Kind.WRONG_ANSWER: "wrong"}
_NAME = re.compile(r"[A-Za-z_][\w.]{0,80}")


def classify(test: dict, metric: dict | None = None) -> tuple[str, dict]:
    """(kind, parameters) of a test's outcome: passed, or the kind of failure (a key of HINTS),
    from the kind the grading stored (`extra_data["kind"]`), never from the message's text. A
    result stored before kinds existed is passed or timed out (known from its status) or "failed"."""
    kind = kind_of(test)
    hint = _HINT_OF_KIND.get(kind, "failed")
    detail = (test.get("extra_data") or {}).get("detail") if isinstance(test.get("extra_data"), dict) else None
    detail = detail if isinstance(detail, dict) else {}
    function = clean_text(detail.get("function") or "").replace("`", "")[:80]
    error = str(detail.get("error") or "")
    if hint in ("todo", "raised"):
        if not function:
            return "failed", {}
        if hint == "todo":
            return "todo", {"function": function}
        return "raised", {"function": function, "error": error if _NAME.fullmatch(error) else "an exception"}
    if hint == "wrong" and metric and metric.get("accuracy") is not None and metric.get("threshold") is not None \
            and metric["accuracy"] < metric["threshold"]:
        return "threshold", {}
    return hint, {}


def hint_text(kind: str, params: dict, lang: str) -> str:
    if kind not in HINTS:
        return ""
    gettext, _ = gettext_for(lang)
    return gettext(HINTS[kind]) % params


# --- artifacts of Keras tests -----------------------------------------------------------------

def _finite(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def normalize_metric(metric: object) -> dict | None:
    """{accuracy, threshold, dataset, seconds, device} from a recorded metric (either
    {"accuracy": a, ...} or {"name": "accuracy", "value": a, ...}); None when unusable."""
    if not isinstance(metric, dict):
        return None
    acc = _finite(metric.get("accuracy", metric.get("value")))
    out = {"accuracy": acc, "threshold": _finite(metric.get("threshold")),
           "dataset": str(metric.get("dataset") or "")[:40], "seconds": _finite(metric.get("seconds")),
           "device": str(metric.get("device") or "")[:20]}
    return out if acc is not None or out["threshold"] is not None else None


def normalize_history(history: object) -> dict[str, list[float | None]]:
    """At most MAX_SERIES per-epoch series of numbers (None where a value is not finite)."""
    if not isinstance(history, dict):
        return {}
    out: dict[str, list[float | None]] = {}
    for key, series in history.items():
        if len(out) >= MAX_SERIES:
            break
        if not isinstance(series, list) or not series:
            continue
        values = [_finite(v) for v in series[:100_000]]
        if any(v is not None for v in values):
            out[str(key)[:40]] = values
    return out


def normalize_confusion(matrix: object) -> list[list[int]] | None:
    """A square matrix of non-negative integers (rows: true class), or None."""
    if not isinstance(matrix, list) or not 0 < len(matrix) <= 1000:
        return None
    n = len(matrix)
    rows = []
    for row in matrix:
        if not isinstance(row, list) or len(row) != n:
            return None
        cells = []
        for v in row:
            f = _finite(v)
            if f is None or f < 0:
                return None
            cells.append(int(round(f)))
        rows.append(cells)
    return rows


# --- plots: hand-written SVG ------------------------------------------------------------------

PALETTE = ("#1f5fa8", "#c2410c", "#15803d", "#7e22ce", "#b91c1c", "#0e7490", "#a16207", "#475569")
THRESHOLD_COLOR = "#d97706"


def _esc(text: object) -> str:
    return _html.escape(str(text), quote=True)


def _f(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        hi = lo + 1.0
    span = hi - lo
    raw = span / max(count, 1)
    step = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= step * m:
            step *= m
            break
    start = math.ceil(lo / step - 1e-9) * step
    ticks, t = [], start
    while t <= hi + step * 1e-6 and len(ticks) < 20:
        ticks.append(round(t, 10))
        t += step
    return ticks


def _svg_open(width: int, height: int, label: str, cls: str = "plot") -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="{cls}" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" role="img" aria-label="{_esc(label)}" direction="ltr" '
            f'font-size="12" style="direction:ltr"><title>{_esc(label)}</title>'
            f'<rect width="{width}" height="{height}" fill="#ffffff"/>')


def _words(x: float, y: float, text: str, lang: str, align: str = "left", attrs: str = "") -> str:
    """An SVG <text> of words in the page's language, placed by its visual `align` (left edge,
    right edge or middle at x); right-to-left text gets direction="rtl" so it is shaped and
    ordered right."""
    rtl = direction(lang) == "rtl"
    anchor = {"middle": "middle", "left": "end" if rtl else "start", "right": "start" if rtl else "end"}[align]
    bidi = ' direction="rtl"' if rtl else ""
    return (f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}"{bidi} {attrs}>'.replace(" >", ">")
            + f"{_esc(text)}</text>")


def _plot_title(W: int, L: int, y: float, title: str, lang: str) -> str:
    """A plot's title: at the left in English, at the right in Persian."""
    if direction(lang) == "rtl":
        return _words(W - 10, y, title, lang, "right", 'font-size="14" font-weight="bold" fill="#1f2328"')
    return _words(L, y, title, lang, "left", 'font-size="14" font-weight="bold" fill="#1f2328"')


def _tick_label(value: float, lang: str) -> str:
    return format_number(value, lang, digits=3)


def line_chart(series: dict[str, list[float | None]], lang: str, title: str, *, y_range: tuple | None = None,
               threshold: float | None = None, marker: float | None = None) -> str:
    """Per-epoch curves (x: epoch 1..N) with an optional dashed threshold line and a marker for
    the held-out value after the last epoch."""
    gettext, _ = gettext_for(lang)
    W, H, L, R, T, B = 420, 260, 52, 18, 44, 42
    pw, ph = W - L - R, H - T - B
    epoch_label = gettext("epoch")
    held_out_label = gettext("held-out")
    threshold_label = gettext("threshold %(value)s") % {"value": format_fixed(threshold, lang, 2)}
    n = max((len(v) for v in series.values()), default=1)
    values = [v for vs in series.values() for v in vs if v is not None]
    extra = [v for v in (threshold, marker) if v is not None]
    if y_range is not None:
        lo, hi = y_range
    else:
        lo, hi = min(values + extra, default=0.0), max(values + extra, default=1.0)
        pad = (hi - lo) * 0.08 or abs(hi) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
        if min(values + extra, default=0.0) >= 0 and lo < 0:
            lo = 0.0
    ticks = _nice_ticks(lo, hi)
    lo, hi = min(lo, ticks[0]), max(hi, ticks[-1])
    x_lo, x_hi = (0.5, 1.5) if n == 1 else (1.0, float(n))

    def X(i: float) -> float:
        return L + (i - x_lo) / (x_hi - x_lo) * pw

    def Y(v: float) -> float:
        return T + (1 - (v - lo) / (hi - lo)) * ph

    parts = [_svg_open(W, H, title),
             _plot_title(W, L, 16, title, lang)]
    for t in ticks:
        y = Y(t)
        parts.append(f'<line x1="{L}" y1="{_f(y)}" x2="{W - R}" y2="{_f(y)}" stroke="#e5e7eb"/>'
                     f'<text x="{L - 6}" y="{_f(y + 4)}" text-anchor="end" fill="#4b5563">'
                     f'{_esc(_tick_label(t, lang))}</text>')
    step = max(1, math.ceil(n / 8))
    for e in list(range(1, n + 1, step)) + ([n] if (n - 1) % step else []):
        x = X(e)
        parts.append(f'<line x1="{_f(x)}" y1="{T + ph}" x2="{_f(x)}" y2="{T + ph + 4}" stroke="#6b7280"/>'
                     f'<text x="{_f(x)}" y="{T + ph + 17}" text-anchor="middle" fill="#4b5563">'
                     f'{_esc(localize_digits(str(e), lang))}</text>')
    parts.append(f'<rect x="{L}" y="{T}" width="{pw}" height="{ph}" fill="none" stroke="#9ca3af"/>')
    parts.append(_words(L + pw / 2, H - 6, epoch_label, lang, "middle", 'fill="#374151"'))
    if threshold is not None:
        y = Y(threshold)
        parts.append(f'<line class="threshold" x1="{L}" y1="{_f(y)}" x2="{W - R}" y2="{_f(y)}" '
                     f'stroke="{THRESHOLD_COLOR}" stroke-width="2" stroke-dasharray="6 4"/>'
                     + _words(W - R - 4, y - 5, threshold_label, lang, "right", f'fill="{THRESHOLD_COLOR}"'))
    legend_x = L
    for k, (name, vs) in enumerate(series.items()):
        color = PALETTE[k % len(PALETTE)]
        thin = max(1, math.ceil(len(vs) / MAX_POINTS))
        idx = list(range(0, len(vs), thin))
        if idx[-1] != len(vs) - 1:
            idx.append(len(vs) - 1)
        segment: list[str] = []
        segments: list[list[str]] = []
        for i in idx:
            v = vs[i]
            if v is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            segment.append(f"{_f(X(i + 1))},{_f(Y(min(max(v, lo), hi)))}")
        if segment:
            segments.append(segment)
        for seg in segments:
            if len(seg) == 1:
                x, y = seg[0].split(",")
                parts.append(f'<circle cx="{x}" cy="{y}" r="3" fill="{color}"/>')
            else:
                parts.append(f'<polyline points="{" ".join(seg)}" fill="none" stroke="{color}" stroke-width="2"/>')
        parts.append(f'<rect x="{legend_x}" y="28" width="12" height="4" fill="{color}"/>'
                     f'<text x="{legend_x + 16}" y="34" fill="#374151">{_esc(name)}</text>')
        legend_x += 24 + 7 * len(name)
    if marker is not None:
        x, y = X(n if n > 1 else 1), Y(min(max(marker, lo), hi))
        parts.append(f'<path d="M{_f(x)},{_f(y - 6)} L{_f(x + 6)},{_f(y)} L{_f(x)},{_f(y + 6)} '
                     f'L{_f(x - 6)},{_f(y)} Z" fill="#111827"/>'
                     f'<path d="M{legend_x + 6},25 L{legend_x + 11},30 L{legend_x + 6},35 L{legend_x + 1},30 Z" '
                     f'fill="#111827"/>' + _words(legend_x + 16, 34, held_out_label, lang, "left", 'fill="#374151"'))
    parts.append("</svg>")
    return "".join(parts)


def accuracy_gauge(accuracy: float | None, threshold: float | None, lang: str) -> str:
    """A bar from 0 to 1: the held-out accuracy, and the threshold it had to reach."""
    gettext, _ = gettext_for(lang)
    W, H, L, R = 420, 92, 20, 20
    pw = W - L - R
    title = gettext("Held-out accuracy and the threshold")
    threshold_label = gettext("threshold %(value)s") % {"value": format_fixed(threshold, lang, 2)}
    parts = [_svg_open(W, H, title), _plot_title(W, L, 16, title, lang),
             f'<rect x="{L}" y="34" width="{pw}" height="18" rx="4" fill="#e5e7eb"/>']
    if accuracy is not None:
        ok = threshold is None or accuracy >= threshold
        color = "#15803d" if ok else "#b91c1c"
        a = min(max(accuracy, 0.0), 1.0)
        parts.append(f'<rect x="{L}" y="34" width="{_f(pw * a)}" height="18" rx="4" fill="{color}"/>'
                     f'<text x="{_f(L + pw * a)}" y="28" text-anchor="middle" fill="{color}" font-weight="bold">'
                     f'{_esc(format_fixed(accuracy, lang, 3))}</text>')
    for t in (0, 0.25, 0.5, 0.75, 1.0):
        x = L + pw * t
        parts.append(f'<text x="{_f(x)}" y="68" text-anchor="middle" fill="#6b7280">'
                     f'{_esc(format_number(t, lang))}</text>')
    if threshold is not None:
        x = L + pw * min(max(threshold, 0.0), 1.0)
        parts.append(f'<line class="threshold" x1="{_f(x)}" y1="30" x2="{_f(x)}" y2="56" stroke="{THRESHOLD_COLOR}" '
                     f'stroke-width="3" stroke-dasharray="4 3"/>'
                     + _words(x, 86, threshold_label, lang, "middle", f'fill="{THRESHOLD_COLOR}"'))
    parts.append("</svg>")
    return "".join(parts)


def confusion_svg(matrix: list[list[int]], lang: str) -> str:
    """Rows: true class, columns: predicted class; each cell coloured by its share of the row
    (the diagonal blue, mistakes red) and labelled with its count."""
    gettext, _ = gettext_for(lang)
    n = len(matrix)
    cell = max(16, min(36, 380 // max(n, 1)))
    L, T = 64, 58
    W, H = L + n * cell + 16, T + n * cell + 16
    title = gettext("Confusion matrix (held-out data)")
    predicted, true = gettext("predicted class"), gettext("true class")
    parts = [_svg_open(W, H, title, "plot confusion"),
             _plot_title(W, 8, 16, title, lang),
             _words(L + n * cell / 2, 34, predicted, lang, "middle", 'fill="#374151"'),
             _words(14, T + n * cell / 2, true, lang, "middle",
                    f'fill="#374151" transform="rotate(-90 14 {T + n * cell / 2:.0f})"')]
    font = max(8, int(cell * 0.38))
    for j in range(n):
        parts.append(f'<text x="{L + j * cell + cell / 2:.0f}" y="{T - 6}" text-anchor="middle" fill="#4b5563">'
                     f'{_esc(localize_digits(str(j), lang))}</text>')
    cells, counts = [f'<g stroke="#ffffff"><rect x="{L}" y="{T}" width="{n * cell}" height="{n * cell}" '
                     f'fill="#f9fafb"/>'], [f'<g text-anchor="middle" font-size="{font}">']
    for i, row in enumerate(matrix):
        total = sum(row) or 1
        y = T + i * cell
        parts.append(f'<text x="{L - 6}" y="{y + cell / 2 + 4:.0f}" text-anchor="end" fill="#4b5563">'
                     f'{_esc(localize_digits(str(i), lang))}</text>')
        for j, count in enumerate(row):
            if not count and i != j:
                continue  # the background shows through
            share = count / total
            x = L + j * cell
            if i == j:
                fill, opacity = "#1f5fa8", 0.08 + 0.92 * share
            else:
                fill, opacity = "#b91c1c", min(1.0, 2.7 * share)
            cells.append(f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{fill}" '
                         f'fill-opacity="{opacity:.2f}"/>')
            if count and cell >= 18:
                dark = (i == j and share > 0.5) or (i != j and share > 0.2)
                ink = ' fill="#ffffff"' if dark else ""
                counts.append(f'<text x="{x + cell / 2:.0f}" y="{y + cell / 2 + font * 0.35:.0f}"{ink}>'
                              f'{_esc(localize_digits(str(count), lang))}</text>')
    parts += cells + ["</g>"] + counts + ["</g>"]
    parts.append("</svg>")
    return "".join(parts)


def histogram_svg(percentages: list[float], lang: str, title: str) -> str:
    """Scores (per cent of the points) in ten bins of 10 points each (100 in the last)."""
    gettext, _ = gettext_for(lang)
    bins = [0] * 10
    for p in percentages:
        bins[min(9, max(0, int(p // 10)))] += 1
    W, H, L, R, T, B = 420, 250, 44, 16, 44, 44
    pw, ph = W - L - R, H - T - B
    top = max(bins) or 1
    x_label = gettext("score (share of the points)")
    ticks = [t for t in _nice_ticks(0, top, min(top, 5)) if float(t).is_integer()]
    top = max(top, ticks[-1] if ticks else top)
    parts = [_svg_open(W, H, title, "plot histogram"),
             _plot_title(W, L, 18, title, lang)]
    for t in ticks:
        y = T + ph - ph * t / top
        parts.append(f'<line x1="{L}" y1="{_f(y)}" x2="{W - R}" y2="{_f(y)}" stroke="#e5e7eb"/>'
                     f'<text x="{L - 6}" y="{_f(y + 4)}" text-anchor="end" fill="#4b5563">'
                     f'{_esc(format_number(t, lang))}</text>')
    bw = pw / 10
    for k, count in enumerate(bins):
        h = ph * count / top
        x = L + k * bw
        if count:
            parts.append(f'<rect class="bar" x="{_f(x + 2)}" y="{_f(T + ph - h)}" width="{_f(bw - 4)}" '
                         f'height="{_f(h)}" fill="#1f5fa8"/>'
                         f'<text x="{_f(x + bw / 2)}" y="{_f(T + ph - h - 4)}" text-anchor="middle" '
                         f'fill="#1f2328">{_esc(format_number(count, lang))}</text>')
    for k in range(0, 11, 2):
        x = L + k * bw
        parts.append(f'<text x="{_f(x)}" y="{T + ph + 16}" text-anchor="middle" fill="#4b5563">'
                     f'{_esc(format_percent(k / 10, lang))}</text>')
    parts.append(f'<line x1="{L}" y1="{T + ph}" x2="{W - R}" y2="{T + ph}" stroke="#6b7280"/>'
                 + _words(L + pw / 2, H - 6, x_label, lang, "middle", 'fill="#374151"'))
    parts.append("</svg>")
    return "".join(parts)


@lru_cache(maxsize=8192)
def _plot(kind: str, payload: str, lang: str) -> str:
    data = json.loads(payload)
    gettext, _ = gettext_for(lang)
    if kind == "loss":
        return line_chart(data["series"], lang, gettext("Training loss (as your code reported it)"))
    if kind == "accuracy":
        bounded = all(v is None or -0.001 <= v <= 1.001 for vs in data["series"].values() for v in vs)
        return line_chart(data["series"], lang, gettext("Training accuracy (as your code reported it)"),
                          y_range=(0.0, 1.0) if bounded else None, threshold=data["threshold"],
                          marker=data["held_out"])
    if kind == "gauge":
        return accuracy_gauge(data["accuracy"], data["threshold"], lang)
    if kind == "confusion":
        return confusion_svg(data, lang)
    if kind == "histogram":
        return histogram_svg(data["scores"], lang, data["title"])
    raise ValueError(kind)


def plot(kind: str, data: Any, lang: str) -> str:
    """An inline SVG plot; identical data in the same language is drawn once."""
    return _plot(kind, json.dumps(data, sort_keys=True, separators=(",", ":")), lang)


def accuracy_plots(history: dict, metric: dict | None, confusion: list | None, lang: str) -> list[str]:
    """The SVGs of one accuracy test: loss curve, accuracy curve with the threshold line, the
    held-out accuracy against the threshold, and the confusion matrix."""
    plots = []
    threshold = metric.get("threshold") if metric else None
    held_out = metric.get("accuracy") if metric else None
    losses = {k: v for k, v in history.items() if "loss" in k.lower()}
    others = {k: v for k, v in history.items() if "loss" not in k.lower()}
    if losses:
        plots.append(plot("loss", {"series": losses}, lang))
    if others:
        plots.append(plot("accuracy", {"series": others, "threshold": threshold, "held_out": held_out}, lang))
    if metric:
        plots.append(plot("gauge", {"accuracy": held_out, "threshold": threshold}, lang))
    if confusion and len(confusion) <= MAX_CLASSES:
        plots.append(plot("confusion", confusion, lang))
    return plots


def history_table(history: dict[str, list[float | None]], max_rows: int = 12) -> tuple[list[str], list[list]]:
    """(columns, rows) of a history for Markdown: at most max_rows epochs, evenly spread, the last kept."""
    if not history:
        return [], []
    n = max(len(v) for v in history.values())
    if n <= max_rows:
        picks = list(range(n))
    else:
        picks = sorted({round(i * (n - 1) / (max_rows - 1)) for i in range(max_rows)})
    keys = list(history)
    rows = [[i + 1] + [history[k][i] if i < len(history[k]) else None for k in keys] for i in picks]
    return keys, rows


# --- rows from the gradebook ------------------------------------------------------------------

def _student(row: dict) -> str:
    return str(row.get("student") or row.get("student_id") or "")


def _exercise_id(row: dict) -> str:
    return str(row.get("exercise") or row.get("exercise_id") or "")


def _result_json(row: dict) -> dict | None:
    rj = row.get("result_json")
    if isinstance(rj, str):
        try:
            rj = json.loads(rj)
        except json.JSONDecodeError:
            return None
    if rj is None and row.get("result") is not None and hasattr(row["result"], "to_json"):
        rj = row["result"].to_json()
    return rj if isinstance(rj, dict) else None


def counting_gradings(grade_rows: list[dict], gradings: list[dict]) -> dict[tuple[str, str], dict]:
    """The grading that counts for each (student, exercise) row of `Gradebook.grades()`: the latest
    grading of the counting submission's content (as grades() picks it)."""
    def newness(g: dict) -> tuple:
        at = g.get("created_at")
        return (at.timestamp() if isinstance(at, datetime) else 0.0, g.get("grading_id") or g.get("id") or 0)

    by_submission: dict[Any, dict] = {}
    for g in gradings:
        key = g.get("submission_id")
        best = by_submission.get(key)
        if best is None or newness(g) >= newness(best):
            by_submission[key] = g
    out = {}
    for row in grade_rows:
        g = by_submission.get(row.get("submission_id"))
        if g is not None:
            out[(_student(row), _exercise_id(row))] = g
    return out


def learner_rows(grade_rows: list[dict], gradings: list[dict]) -> dict[str, list[dict]]:
    """{student: [grade row + result_json, grading_error, duration_s, device]} for render_learner."""
    counting = counting_gradings(grade_rows, gradings)
    out: dict[str, list[dict]] = {}
    for row in grade_rows:
        g = counting.get((_student(row), _exercise_id(row)))
        full = dict(row)
        if g is not None:
            full.update(result_json=g.get("result_json"), grading_error=g.get("error"),
                        duration_s=g.get("duration_s"), device=g.get("device"), backend=g.get("backend"))
        out.setdefault(_student(row), []).append(full)
    return out


def load_rows(course, gradebook) -> tuple[list[dict], list[dict]]:
    """(grade rows with the late policy applied, gradings) of a gradebook: read once per report run."""
    from grader.course.config import apply_late_policy
    return apply_late_policy(course, gradebook.grades()), gradebook.gradings()


@lru_cache(maxsize=256)
def _exercise_meta_cached(exercises_dir: str, exercise_id: str, _mtime: float) -> tuple[dict, str | None]:
    from grader.exercise.spec import load_exercise
    try:
        ex = load_exercise(Path(exercises_dir) / exercise_id, None)
        return dict(ex.title), ex.entry
    except Exception:  # an exercise folder the course lost: the id stands in for its title
        return {}, None


def exercise_meta(course, exercise_id: str) -> tuple[dict, str | None]:
    """(title {en, fa}, entry file name) of a course's exercise, read once."""
    toml = Path(course.exercises_dir) / exercise_id / "exercise.toml"
    try:
        mtime = toml.stat().st_mtime
    except OSError:
        return {}, None
    return _exercise_meta_cached(str(course.exercises_dir), exercise_id, mtime)


def _title(course, exercise_id: str, lang: str) -> str:
    titles, _ = exercise_meta(course, exercise_id)
    return titles.get(lang) or titles.get("en") or exercise_id


def _learner_files(course, row: dict, entry: str | None) -> frozenset[str]:
    names = {entry} if entry else set()
    student, exercise = _student(row), _exercise_id(row)
    record = Path(course.submitted_dir) / student / exercise / "submission.json"
    try:
        files = json.loads(record.read_text(encoding="utf-8")).get("files", [])
        names.update(f for f in files if isinstance(f, str) and f.endswith(".py"))
    except (OSError, ValueError, AttributeError):
        pass
    return frozenset(n for n in names if n)


def _exercise_order(course, ids: Iterable[str]) -> list[str]:
    known = list(course.exercises)
    ids = list(dict.fromkeys(ids))
    return [e for e in known if e in ids] + sorted(e for e in ids if e not in known)


def _when(value: object, lang: str) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return ""
    if not isinstance(value, datetime):
        return ""
    text = value.strftime("%Y/%m/%d %H:%M" if lang == "fa" else "%Y-%m-%d %H:%M")
    return localize_digits(text, lang) + " UTC"


# --- the learner's page -----------------------------------------------------------------------

def _exercise_view(course, row: dict, lang: str) -> dict:
    gettext, _ = gettext_for(lang)
    ex_id = _exercise_id(row)
    _, entry = exercise_meta(course, ex_id)
    files = _learner_files(course, row, entry)
    rj = _result_json(row)
    status = row.get("status") or ("graded" if rj else "pending")
    graded = rj is not None and status == "graded"  # a failed grading is not a grade: "not graded yet"
    view: dict[str, Any] = {
        "id": ex_id, "title": _title(course, ex_id, lang), "status": status, "graded": graded,
        "fault": row.get("fault") if status != "graded" else None,
        "score": row.get("score"), "auto_score": row.get("auto_score", row.get("score")),
        "max_score": row.get("max_score") if row.get("max_score") is not None else (rj or {}).get("max_score"),
        "late": bool(row.get("late")), "late_days": row.get("late_days") or 0.0,
        "late_factor": row.get("late_factor", 1.0), "overridden": bool(row.get("overridden")),
        "override_reason": clean_text(row.get("override_reason") or "")[:500],
        "graded_at": _when(row.get("graded_at"), lang), "tests": [], "errors": [], "accuracy": [],
        "output": "", "output_more": 0, "passed": 0, "problem": None,
    }
    if view["score"] is None and graded:
        view["score"] = rj.get("score")
    if view["max_score"]:
        view["fraction"] = max(0.0, min(1.0, (view["score"] or 0) / view["max_score"]))
    else:
        view["fraction"] = 0.0
    if not graded:
        return view
    extra = rj.get("extra_data") or {}
    artifacts = extra.get("artifacts") or {}
    errors: dict[str, dict] = {}
    hidden_n = 0
    for test in rj.get("tests") or []:
        if not isinstance(test, dict):
            continue
        hidden = test.get("visibility") == "hidden"
        if hidden:
            hidden_n += 1
            label = gettext("hidden test %(n)s") % {"n": localize_digits(str(hidden_n), lang)}
        else:
            label = humanize_test(str(test.get("name", "")))
        art = {} if hidden else (artifacts.get(test.get("name")) or {})
        metric = normalize_metric(art.get("metric")) if isinstance(art, dict) else None
        kind, params = classify(test, metric)
        output = clean_text(test.get("output", ""))[:MESSAGE_MAX_CHARS]
        message, trace = split_output(output, files)
        error_no = None
        if trace:
            entry_ = errors.get(trace)
            if entry_ is None:
                entry_ = errors[trace] = {"n": len(errors) + 1, "text": trace, "tests": []}
            entry_["tests"].append(label)
            error_no = entry_["n"]
        if metric:
            params.update(accuracy=format_fixed(metric["accuracy"], lang, 3),
                          threshold=format_fixed(metric["threshold"], lang, 2))
        params.setdefault("exercise", ex_id)
        passed = kind == "passed"
        view["passed"] += passed
        hint = "" if passed else hint_text(kind, params, lang)
        if kind == "import":  # one import failure fails every test alike: say it once, above the tests
            if view["problem"] is None:
                view["problem"] = {"hint": hint, "message": message, "error": error_no,
                                   "error_label": localize_digits(str(error_no), lang) if error_no else ""}
            if view["problem"]["message"] == message:
                hint, message, error_no = gettext(NOT_RUN), "", None
        view["tests"].append({
            "label": label, "hidden": hidden, "passed": passed, "kind": kind,
            "score": test.get("score"), "max_score": test.get("max_score"),
            "hint": hint, "message": message, "error": error_no,
            "error_label": localize_digits(str(error_no), lang) if error_no else "",
        })
        if isinstance(art, dict) and (metric or art.get("history") or art.get("confusion")):
            history = normalize_history(art.get("history"))
            confusion = normalize_confusion(art.get("confusion"))
            columns, table = history_table(history)
            view["accuracy"].append({
                "label": label, "metric": metric, "passed": passed,
                "plots": accuracy_plots(history, metric, confusion, lang),
                "history_columns": columns, "history_rows": table, "confusion": confusion,
            })
    for err in errors.values():
        err["tests_text"] = _listing(err["tests"], lang)
    view["errors"] = list(errors.values())
    output = strip_grader_frames(clean_text(rj.get("output", "")), files)
    view["output"], view["output_more"] = cap_text(output.strip("\n"))
    return view


def learner_view(course, rows: list[dict], lang: str, student_name: str | None = None) -> dict:
    check_lang(lang)
    if not rows:
        raise ReportError("no gradebook rows for this learner; give at least one (student, exercise) row")
    students = {_student(r) for r in rows}
    if len(students) != 1:
        raise ReportError(f"the rows are of {len(students)} learners ({', '.join(sorted(students)[:4])}); "
                          "render one learner's rows at a time")
    order = _exercise_order(course, (_exercise_id(r) for r in rows))
    by_ex = {_exercise_id(r): r for r in rows}
    exercises = [_exercise_view(course, by_ex[e], lang) for e in order]
    total = sum(e["score"] or 0 for e in exercises if e["graded"] or e["overridden"])
    possible = sum(e["max_score"] or 0 for e in exercises)
    return {"student": students.pop(), "student_name": student_name, "course_title": course.title,
            "course_id": course.id, "exercises": exercises, "total": total, "possible": possible,
            "version": _version()}


def _version() -> str:
    try:
        from grader import __version__
        return str(__version__)
    except ImportError:
        return ""


def render_learner(course, rows_for_student: list[dict], lang: str = "fa",
                   student_name: str | None = None) -> tuple[str, str]:
    """(HTML page, Markdown) of one learner's feedback: one section per row (exercise)."""
    view = learner_view(course, rows_for_student, lang, student_name)
    html_text = template(lang, "learner.html.j2").render(**view)
    md_text = template(lang, "learner.md.j2").render(**view)
    return html_text, md_text


# --- the class dashboard ----------------------------------------------------------------------

def _listing(names: list[str], lang: str, shown: int = 4) -> str:
    """'a, b, c, d … (+3)': a few names of a long list."""
    text = ", ".join(names[:shown])
    if len(names) > shown:
        text += " … (+" + localize_digits(str(len(names) - shown), lang) + ")"
    return text


def _normalize_failure(message: str) -> str:
    first = message.strip().splitlines()[0] if message.strip() else ""
    return re.sub(r"\d+(\.\d+)?", "#", first)[:200]


def dashboard_view(course, gradebook_rows: list[dict], gradings: list[dict], lang: str = "en",
                   overrides: list[dict] | None = None) -> dict:
    check_lang(lang)
    gettext, _ = gettext_for(lang)
    counting = counting_gradings(gradebook_rows, gradings)
    exercises = []
    failures: dict[tuple, dict] = {}
    order = _exercise_order(course, (_exercise_id(r) for r in gradebook_rows))
    for ex_id in order:
        rows = [r for r in gradebook_rows if _exercise_id(r) == ex_id]
        scores = [100 * r["score"] / r["max_score"] for r in rows
                  if r.get("score") is not None and r.get("max_score")]
        statuses = Counter(r.get("status") or "pending" for r in rows)
        tests: dict[str, dict] = {}
        durations, devices, backends = [], Counter(), Counter()
        for r in rows:
            g = counting.get((_student(r), ex_id))
            if g is None:
                continue
            if g.get("duration_s") is not None:
                durations.append(float(g["duration_s"]))
            if g.get("status") == "graded":
                devices[(g.get("device") or "?").upper()] += 1
                if g.get("backend"):
                    backends[g["backend"]] += 1
            rj = _result_json(g)
            if not rj or g.get("status", "graded") != "graded":  # a failed grading is no learner's result
                continue
            artifacts = (rj.get("extra_data") or {}).get("artifacts") or {}
            for t in rj.get("tests") or []:
                name = str(t.get("name", ""))
                agg = tests.setdefault(name, {"name": name, "passed": 0, "total": 0, "points": t.get("max_score")})
                agg["total"] += 1
                metric = normalize_metric((artifacts.get(name) or {}).get("metric"))
                kind, params = classify(t, metric)
                if kind == "passed":
                    agg["passed"] += 1
                    continue
                message = clean_text(t.get("output", ""))
                key = (ex_id, kind, _normalize_failure(message))
                entry = failures.get(key)
                if entry is None:
                    params.setdefault("exercise", ex_id)
                    if metric:
                        params.update(accuracy="…", threshold=format_fixed(metric["threshold"], lang, 2))
                    entry = failures[key] = {"exercise": ex_id, "kind": kind, "hint": hint_text(kind, params, lang),
                                             "example": split_output(message)[0][:300], "count": 0,
                                             "students": set(), "tests": set()}
                entry["count"] += 1
                entry["students"].add(_student(r))
                entry["tests"].add(name)
        for agg in tests.values():
            agg["rate"] = agg["passed"] / agg["total"] if agg["total"] else 0.0
        exercises.append({
            "id": ex_id, "title": _title(course, ex_id, lang), "count": len(rows),
            "graded": statuses.get("graded", 0), "pending": statuses.get("pending", 0),
            "failed": statuses.get("failed", 0) + statuses.get("crashed", 0),
            "mean": statistics.fmean(scores) / 100 if scores else None,
            "median": statistics.median(scores) / 100 if scores else None,
            "full": sum(1 for s in scores if s >= 100 - 1e-9),
            "histogram": plot("histogram", {"scores": [round(s, 3) for s in scores],
                                            "title": gettext("Scores: %(exercise)s") % {"exercise": ex_id}}, lang),
            "tests": list(tests.values()),
            "time_median": statistics.median(durations) if durations else None,
            "time_max": max(durations) if durations else None,
            "time_total": sum(durations) if durations else None,
            "devices": sorted(devices.items()), "backends": sorted(backends.items()),
        })
    top = sorted(failures.values(), key=lambda f: (-len(f["students"]), -f["count"], f["exercise"], f["example"]))
    for f in top:
        f["learners"] = len(f["students"])
        f["tests"] = _listing(sorted(f["tests"]), lang, 6)
        del f["students"]
    late = [{"student": _student(r), "exercise": _exercise_id(r), "late_days": r.get("late_days") or 0.0,
             "factor": r.get("late_factor", 1.0), "score": r.get("score"), "auto_score": r.get("auto_score"),
             "max_score": r.get("max_score")} for r in gradebook_rows if r.get("late")]
    who = {}
    for o in overrides or []:
        who[(o.get("student_id"), o.get("exercise_id"))] = o
    overridden = []
    for r in gradebook_rows:
        if r.get("overridden"):
            o = who.get((_student(r), _exercise_id(r)), {})
            overridden.append({"student": _student(r), "exercise": _exercise_id(r), "score": r.get("score"),
                               "auto_score": r.get("auto_score"), "max_score": r.get("max_score"),
                               "reason": clean_text(r.get("override_reason") or "")[:300],
                               "who": o.get("who") or "", "when": _when(o.get("created_at"), lang)})
    problems = []  # every grading that is not a grade, with its cause: the instructor is told here
    for r in gradebook_rows:
        if r.get("status") in ("failed", "crashed"):
            g = counting.get((_student(r), _exercise_id(r))) or {}
            error = clean_text(g.get("error") or r.get("error") or "").strip()
            problems.append({"student": _student(r), "exercise": _exercise_id(r), "status": r.get("status"),
                             "fault": g.get("fault") or r.get("fault") or "",
                             "error": error.splitlines()[0][:300] if error else ""})
    internal = []
    for (student, ex_id), g in sorted(counting.items()):
        rj = _result_json(g) or {}
        for err in (rj.get("extra_data") or {}).get("internal_errors") or []:
            internal.append({"student": student, "exercise": ex_id,
                             "error": clean_text(str(err)).strip().splitlines()[0][:300] if str(err).strip() else ""})
    return {"course_title": course.title, "course_id": course.id, "exercises": exercises,
            "failures": top[:TOP_FAILURES], "failure_kinds": len(top), "late": late, "overrides": overridden,
            "problems": problems, "internal": internal[:50],
            "students": len({_student(r) for r in gradebook_rows}), "submissions": len(gradebook_rows),
            "version": _version()}


def render_dashboard(course, gradebook_rows: list[dict], gradings: list[dict], lang: str = "en",
                     overrides: list[dict] | None = None) -> str:
    """The instructor's class dashboard (HTML) from `Gradebook.grades()` rows (late policy applied)
    and `Gradebook.gradings()`; `overrides` (`Gradebook.overrides()`) adds who overrode and when."""
    view = dashboard_view(course, gradebook_rows, gradings, lang, overrides)
    return template(lang, "dashboard.html.j2").render(**view)


# --- writing ----------------------------------------------------------------------------------

def _mkdir(path: Path, what: str, mode: int = 0o755) -> None:
    try:
        if path.exists() and not path.is_dir():
            raise ReportError(f"{path} is a file; give a folder for the {what}")
        fresh = not path.exists()
        path.mkdir(parents=True, exist_ok=True)
        if fresh:
            os.chmod(path, mode)
    except OSError as err:
        raise ReportError(f"cannot create {path} for the {what}: {err.strerror or err}; give a folder you can "
                          "write to") from None


def _safe_id(value: str, what: str) -> str:
    from grader.course.config import check_id
    try:
        return check_id(value, what)
    except ValueError as err:
        raise ReportError(str(err)) from None


def write_reports(course, gradebook, out_dir: Path | str, lang: str = "fa", *,
                  students: Iterable[str] | None = None) -> dict:
    """Write `<out>/<student>/report.html` and `report.md` for every learner with collected work,
    and `<out>/dashboard.html`. Returns {"learners": [html paths], "markdown": [md paths],
    "dashboard": path}."""
    check_lang(lang)
    grade_rows, gradings = load_rows(course, gradebook)
    if not grade_rows:
        raise ReportError(f"the gradebook {gradebook.where} has no collected submissions; run `dlgrade collect` "
                          "and `dlgrade autograde` first")
    by_student = learner_rows(grade_rows, gradings)
    if students is not None:
        wanted = set(students)
        unknown = sorted(wanted - set(by_student))
        if unknown:
            raise ReportError(f"no collected work of {unknown[0]!r} in the gradebook; `dlgrade grades` lists the "
                              "learners")
        by_student = {s: r for s, r in by_student.items() if s in wanted}
    names = {s["id"]: s.get("name") for s in gradebook.students()}
    out = Path(out_dir).expanduser()
    _mkdir(out, "reports")
    learners, markdown = [], []
    try:
        for student, rows in sorted(by_student.items()):
            folder = out / _safe_id(student, "student id")
            _mkdir(folder, "reports")
            html_text, md_text = render_learner(course, rows, lang, names.get(student))
            write_text(folder / REPORT_HTML, html_text)
            write_text(folder / REPORT_MD, md_text)
            learners.append(folder / REPORT_HTML)
            markdown.append(folder / REPORT_MD)
        dashboard = out / "dashboard.html"
        write_text(dashboard, render_dashboard(course, grade_rows, gradings, lang, gradebook.overrides()))
    except OSError as err:
        raise ReportError(f"cannot write the reports into {out}: {err.strerror or err}; give a folder you can "
                          "write to (--out)") from None
    return {"learners": learners, "markdown": markdown, "dashboard": dashboard}


def feedback_dir(exchange_root: Path | str, student: str, exercise: str) -> Path:
    """`<exchange>/feedback/<student>/<exercise>/`."""
    return (Path(exchange_root).expanduser() / FEEDBACK / _safe_id(student, "student id")
            / _safe_id(exercise, "exercise id"))


def release_feedback(course, gradebook, lang: str = "fa", *, exercise: str | None = None,
                     student: str | None = None) -> list[Path]:
    """Put each graded (student, exercise)'s page into the exchange (`feedback/<student>/<exercise>/
    report.html|.md`, replacing an earlier release); returns the folders written. feedback/ is 0711
    (learners cannot list it), its folders 0755 and the pages 0644."""
    check_lang(lang)
    if exercise is not None and exercise not in course.exercises:
        raise ReportError(f"unknown exercise {exercise!r} in course {course.id}; its exercises are: "
                          f"{', '.join(course.exercises) or 'none'}")
    root = Path(course.exchange_path).expanduser()
    if not root.is_dir():
        raise ReportError(f"the exchange folder {root} does not exist; check [exchange] path in "
                          f"{course.toml_path} (dlgrade init creates it)")
    grade_rows, gradings = load_rows(course, gradebook)
    if student is not None and student not in {_student(r) for r in grade_rows}:
        raise ReportError(f"no collected work of {student!r} in the gradebook; `dlgrade grades` lists the learners")
    rows = [r for r in grade_rows
            if (exercise is None or _exercise_id(r) == exercise) and (student is None or _student(r) == student)
            and (r.get("status") not in (None, "pending") or r.get("overridden"))]
    if not rows:
        what = " of ".join(x for x in (exercise, student) if x)
        raise ReportError(f"nothing to release: no graded submission{' ' + what if what else ''}; run "
                          "`dlgrade autograde` first")
    full = learner_rows(rows, gradings)
    _mkdir(root / FEEDBACK, "feedback", 0o711)
    written = []
    try:
        for who, student_rows in sorted(full.items()):
            for row in student_rows:
                folder = feedback_dir(root, who, _exercise_id(row))
                _mkdir(folder.parent, "feedback")
                _mkdir(folder, "feedback")
                html_text, md_text = render_learner(course, [row], lang)
                write_text(folder / REPORT_HTML, html_text)
                write_text(folder / REPORT_MD, md_text)
                written.append(folder)
    except OSError as err:
        raise ReportError(f"cannot write feedback into {root / FEEDBACK}: {err.strerror or err}; check the "
                          "exchange's permissions") from None
    return written


def read_feedback(course, exercise: str, student: str) -> tuple[str, Path]:
    """(the Markdown of a learner's released feedback on `exercise`, the path of its HTML page)."""
    if exercise not in course.exercises:
        raise ReportError(f"unknown exercise {exercise!r} in course {course.id}; its exercises are: "
                          f"{', '.join(course.exercises) or 'none'}")
    folder = feedback_dir(course.exchange_path, student, exercise)
    md = folder / REPORT_MD
    try:
        text = md.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportError(f"no feedback on {exercise} for {student} yet; your instructor releases it after "
                          "grading (`dlgrade release-feedback`); check the exercise and --student") from None
    except (OSError, UnicodeDecodeError) as err:
        why = getattr(err, "strerror", None) or type(err).__name__
        raise ReportError(f"cannot read {md}: {why}; ask your instructor to release the feedback again") from None
    return text, folder / REPORT_HTML


__all__ = ["render_learner", "render_dashboard", "write_reports", "release_feedback", "read_feedback",
           "learner_rows", "counting_gradings", "load_rows", "strip_grader_frames", "classify", "ReportError",
           "FEEDBACK", "feedback_dir", "plot"]
