"""Plots of a report, hand-written as inline SVG (no plotting library, nothing to load), and the Keras
test artifacts they draw (training history, held-out metric, confusion matrix), checked first (the
metric's own checks are in `grader.report.metrics`; `normalize_metric` is re-exported here).

A plot of identical data in the same language is drawn once (`plot` caches by the data's JSON).
Labels in the page's language; numbers as the language writes them; text from a learner escaped.
"""

from __future__ import annotations

import html as _html
import json
import math
from functools import lru_cache
from typing import Any

from grader.report.i18n import direction, format_fixed, format_number, format_percent, gettext_for, localize_digits
from grader.report.metrics import metric_label, metric_texts, missed, normalize_metric

MAX_SERIES = 8                 # history keys drawn
MAX_POINTS = 400               # points per curve (longer histories are thinned)
MAX_CLASSES = 20               # a larger confusion matrix is not drawn (the Markdown lists it)


# --- artifacts of Keras tests -----------------------------------------------------------------

def _finite(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


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


def accuracy_gauge(accuracy: float | None, threshold: float | None, lang: str, title: str | None = None) -> str:
    """A bar from 0 to 1: the held-out accuracy (or another 0-1 metric, higher is better, named
    in `title`), and the threshold it had to reach."""
    gettext, _ = gettext_for(lang)
    W, H, L, R = 420, 92, 20, 20
    pw = W - L - R
    title = title or gettext("Held-out accuracy and the threshold")
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


def metric_bar(metric: dict, lang: str) -> str:
    """A bar from 0 for a metric that is not a 0-1 score (an MAE, a reconstruction error): its
    held-out value and the bound it had to stay under (or the threshold it had to reach); the
    scale ends a little past the larger of the two, at most three times the threshold (a value
    beyond is drawn to the end, its number written in full)."""
    gettext, _ = gettext_for(lang)
    W, H, L, R = 420, 92, 20, 20
    pw = W - L - R
    texts = metric_texts(metric, lang)
    value, threshold = metric.get("value"), metric.get("threshold")
    title = gettext("Held-out %(metric)s and the threshold") % {"metric": texts["metric"]}
    bound = gettext("at most %(value)s") if metric.get("lower_is_better") else gettext("threshold %(value)s")
    top = max(v for v in (value, threshold, 0.0) if v is not None) * 1.1
    if threshold is not None and threshold > 0:
        top = min(top, 3 * threshold)
    top = top or 1.0
    parts = [_svg_open(W, H, title), _plot_title(W, L, 16, title, lang),
             f'<rect x="{L}" y="34" width="{pw}" height="18" rx="4" fill="#e5e7eb"/>']
    if value is not None:
        color = "#b91c1c" if missed(metric) else "#15803d"
        a = min(max(value / top, 0.0), 1.0)
        anchor = "end" if a > 0.85 else "start" if a < 0.15 else "middle"
        parts.append(f'<rect class="value" x="{L}" y="34" width="{_f(pw * a)}" height="18" rx="4" fill="{color}"/>'
                     f'<text x="{_f(L + pw * a)}" y="28" text-anchor="{anchor}" fill="{color}" font-weight="bold">'
                     f'{_esc(texts["value"])}</text>')
    for t in _nice_ticks(0.0, top, 4):
        if t <= top * 1.0001:
            parts.append(f'<text x="{_f(L + pw * t / top)}" y="68" text-anchor="middle" fill="#6b7280">'
                         f'{_esc(format_number(t, lang, 3))}</text>')
    if threshold is not None:
        x = L + pw * min(max(threshold / top, 0.0), 1.0)
        parts.append(f'<line class="threshold" x1="{_f(x)}" y1="30" x2="{_f(x)}" y2="56" stroke="{THRESHOLD_COLOR}" '
                     f'stroke-width="3" stroke-dasharray="4 3"/>'
                     + _words(x, 86, bound % {"value": texts["threshold"]}, lang, "middle", f'fill="{THRESHOLD_COLOR}"'))
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
    if kind == "metrics":  # the history's other metrics, beside a held-out metric that is not accuracy
        bounded = all(v is None or -0.001 <= v <= 1.001 for vs in data["series"].values() for v in vs)
        return line_chart(data["series"], lang, gettext("Training metrics (as your code reported it)"),
                          y_range=(0.0, 1.0) if bounded else None)
    if kind == "gauge":
        title = gettext("Held-out %(metric)s and the threshold") % {"metric": data["label"]} if "label" in data else None
        return accuracy_gauge(data["accuracy"], data["threshold"], lang, title)
    if kind == "bar":
        return metric_bar(data, lang)
    if kind == "confusion":
        return confusion_svg(data, lang)
    if kind == "histogram":
        return histogram_svg(data["scores"], lang, data["title"])
    raise ValueError(kind)


def plot(kind: str, data: Any, lang: str) -> str:
    """An inline SVG plot; identical data in the same language is drawn once."""
    return _plot(kind, json.dumps(data, sort_keys=True, separators=(",", ":")), lang)


def accuracy_plots(history: dict, metric: dict | None, confusion: list | None, lang: str) -> list[str]:
    """The SVGs of one held-out metric test: loss curve, the other curves (accuracy with the
    threshold line and the held-out marker), the held-out metric against its threshold (a gauge
    from 0 to 1 for accuracy and other 0-1 scores where higher is better, else a bar from 0), and
    the confusion matrix. `metric` in either recorded form (see `metrics.normalize_metric`)."""
    plots = []
    metric = normalize_metric(metric)
    accuracy = metric is None or metric["is_accuracy"]
    threshold = metric.get("threshold") if metric else None
    held_out = metric.get("value") if metric else None
    losses = {k: v for k, v in history.items() if "loss" in k.lower()}
    others = {k: v for k, v in history.items() if "loss" not in k.lower()}
    if losses:
        plots.append(plot("loss", {"series": losses}, lang))
    if others and accuracy:
        plots.append(plot("accuracy", {"series": others, "threshold": threshold, "held_out": held_out}, lang))
    elif others:  # a threshold of another metric does not belong on these curves
        plots.append(plot("metrics", {"series": others}, lang))
    if metric and accuracy:
        plots.append(plot("gauge", {"accuracy": held_out, "threshold": threshold}, lang))
    elif metric and metric["bounded"]:
        plots.append(plot("gauge", {"accuracy": held_out, "threshold": threshold,
                                    "label": metric_label(metric, lang)}, lang))
    elif metric:
        plots.append(plot("bar", metric, lang))
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


__all__ = ["plot", "accuracy_plots", "history_table", "normalize_metric", "normalize_history",
           "normalize_confusion", "line_chart", "accuracy_gauge", "metric_bar", "confusion_svg", "histogram_svg",
           "MAX_SERIES", "MAX_POINTS", "MAX_CLASSES"]
