"""What a failed test tells a learner: the kind of failure (from the kind the grading stored,
never from the message's text) and the hint a learner can act on, in the page's language."""

from __future__ import annotations

import re

from grader.grading.result import Kind, kind_of
from grader.report.i18n import N_, gettext_for
from grader.report.metrics import missed, normalize_metric, threshold_variant
from grader.report.text import clean_text

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
    "threshold-above": N_("Your model's held-out %(metric)s %(value)s is above the bound %(threshold)s (lower is "
                          "better): train for more epochs, and check the learning rate, the loss and the scaling of "
                          "the inputs."),
    "threshold-below": N_("Your model's held-out %(metric)s %(value)s is below the threshold %(threshold)s (higher "
                          "is better): train for more epochs, and check the learning rate, the loss and the scaling "
                          "of the inputs."),
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
    result stored before kinds existed is passed or timed out (known from its status) or "failed".
    A wrong answer whose recorded metric (either form, see `metrics.normalize_metric`) missed its
    threshold in its own direction is "threshold" (params: {"variant": ...})."""
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
    if hint == "wrong":
        metric = normalize_metric(metric)
        if missed(metric):  # below its threshold, or above its bound when lower is better
            return "threshold", {"variant": threshold_variant(metric)}
    return hint, {}


def hint_text(kind: str, params: dict, lang: str) -> str:
    """The hint of a kind of failure in `lang`, its parameters filled in ("" for passed). The
    threshold hint says the metric's direction (params["variant"]: "above" for a lower-is-better
    metric over its bound, "below"; an accuracy's own text otherwise)."""
    if kind not in HINTS:
        return ""
    gettext, _ = gettext_for(lang)
    if kind == "threshold" and params.get("variant") in ("above", "below"):
        kind = f"threshold-{params['variant']}"
    return gettext(HINTS[kind]) % params


def failure_signature(message: str) -> str:
    """What groups alike failures on the dashboard: the message's first line, numbers as '#'."""
    first = message.strip().splitlines()[0] if message.strip() else ""
    return re.sub(r"\d+(\.\d+)?", "#", first)[:200]


__all__ = ["HINTS", "NOT_RUN", "classify", "hint_text", "failure_signature"]
