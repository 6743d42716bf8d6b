"""The held-out metric a Keras test recorded, as a report reads it: either the first form
{"accuracy": a, "threshold": t, ...} (`score_held_out`) or the named one {"name": "MAE", "value": v,
"threshold": t, "lower_is_better": True, ...} (`grader.modelcheck.score_metric`), checked and made one
shape; whether it missed its threshold in its own direction; its name and numbers in the page's
language."""

from __future__ import annotations

import math

from grader.report.i18n import N_, format_fixed, gettext_for, localize_digits
from grader.report.text import clean_text

NAME_MAX = 40
# metric names the Persian page translates; any other name is shown as it was recorded
METRIC_NAMES = frozenset({N_("accuracy"), N_("recall"), N_("minority-class recall"), N_("reconstruction error"),
                          N_("noisy reconstruction error"), N_("reconstruction MSE")})


def _finite(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _name(value: object) -> str:
    name = " ".join(clean_text(value).replace("`", "").split())[:NAME_MAX].strip()
    return "accuracy" if not name or name.lower() == "accuracy" else name


def normalize_metric(metric: object) -> dict | None:
    """{name, value, threshold, lower_is_better, dataset, seconds, device, is_accuracy, bounded} of a
    recorded metric (either form; a normalized one comes back the same), None when unusable.
    `is_accuracy`: plain accuracy (higher is better), shown as reports always showed it; `bounded`:
    a higher-is-better value and threshold within 0..1 (a gauge from 0 to 1 fits)."""
    if not isinstance(metric, dict):
        return None
    if "value" in metric or "name" in metric:
        name = _name(metric.get("name"))
        value = _finite(metric.get("value"))
        lower = metric.get("lower_is_better")
        lower = bool(lower) if isinstance(lower, (bool, int)) else False
    else:
        name, value, lower = "accuracy", _finite(metric.get("accuracy")), False
    threshold = _finite(metric.get("threshold"))
    if value is None and threshold is None:
        return None
    bounded = not lower and all(v is None or -0.001 <= v <= 1.001 for v in (value, threshold))
    return {"name": name, "value": value, "threshold": threshold, "lower_is_better": lower,
            "dataset": clean_text(str(metric.get("dataset") or ""))[:40],
            "seconds": _finite(metric.get("seconds")), "device": clean_text(str(metric.get("device") or ""))[:20],
            "is_accuracy": name == "accuracy" and not lower, "bounded": bounded}


def missed(metric: dict | None) -> bool:
    """Whether a (normalized) metric misses its threshold in its own direction: above it when
    lower is better, below it otherwise. A metric without a value or a threshold misses nothing."""
    if not metric or metric.get("value") is None or metric.get("threshold") is None:
        return False
    if metric.get("lower_is_better"):
        return metric["value"] > metric["threshold"]
    return metric["value"] < metric["threshold"]


def metric_label(metric: dict, lang: str) -> str:
    """The metric's name in the page's language ('accuracy', Persian 'دقت'; 'MAE' stays 'MAE')."""
    name = metric.get("name") or "accuracy"
    if name in METRIC_NAMES:
        gettext, _ = gettext_for(lang)
        return gettext(name)
    return name


def _number(value: float | None, lang: str) -> str:
    """A metric's number as the tests' messages write it: 3 decimals under 10, else 1 (48.1)."""
    if value is None:
        return "-"
    return localize_digits(f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}", lang)


def metric_texts(metric: dict, lang: str) -> dict:
    """{metric, value, threshold, accuracy} as a page writes them: an accuracy as 0.820 against 0.90
    (as reports always wrote it), another metric as its test's message does (48.1 against 55.0)."""
    if metric.get("is_accuracy"):
        value, threshold = format_fixed(metric.get("value"), lang, 3), format_fixed(metric.get("threshold"), lang, 2)
    else:
        value, threshold = _number(metric.get("value"), lang), _number(metric.get("threshold"), lang)
    return {"metric": metric_label(metric, lang), "value": value, "accuracy": value, "threshold": threshold}


def threshold_variant(metric: dict) -> str:
    """Which threshold hint fits: "accuracy", "above" (lower is better) or "below"."""
    if metric.get("is_accuracy"):
        return "accuracy"
    return "above" if metric.get("lower_is_better") else "below"


__all__ = ["METRIC_NAMES", "normalize_metric", "missed", "metric_label", "metric_texts", "threshold_variant"]
