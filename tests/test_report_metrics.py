"""Reports of a held-out metric that is not accuracy (issue 14): a regression's MAE (lower is better)
that passes and one that misses its bound, a recall (0-1, higher is better), as `score_metric`
records them, rendered for the learner (HTML and Markdown, English and Persian) and on the class
dashboard, and opened in headless Chromium; the first {"accuracy": ...} form renders as it always did."""

from __future__ import annotations

import re
from html import unescape

import pytest

from grader.course.config import init_course
from grader.gradebook.rows import GradeRow, GradingRow, GradingState
from grader.modelcheck import score_metric
from grader.report import failures, views
from grader.report import plots as report_plots
from grader.report.metrics import missed, normalize_metric
from grader.testing import Feedback

from test_report import START, keras_result, keras_row

HISTORY = {"loss": [29000.0, 9000.0, 4100.0, 3300.0, 3050.0, 2990.0],
           "mae": [150.2, 80.1, 52.3, 47.0, 45.1, 44.6],
           "val_mae": [149.0, 82.4, 55.0, 50.2, 49.3, 48.9]}


def recorded(name: str, value: float, threshold: float, lower_is_better: bool, dataset: str) -> tuple[dict, str]:
    """(the metric `score_metric` records, the test's message: "" when it passes)."""
    records: dict = {}
    try:
        score_metric(lambda key, data: records.__setitem__(key, data), name=name, value=value, threshold=threshold,
                     lower_is_better=lower_is_better, dataset=dataset, seconds=3.2, device="cpu")
        message = ""
    except Feedback as err:
        message = str(err)
    return records["metric"], message


def metric_result(name: str, value: float, threshold: float, lower_is_better: bool, dataset: str,
                  test: str, history: dict | None = None) -> dict:
    """The Result JSON of a grading whose threshold test recorded a metric through `score_metric`."""
    metric, message = recorded(name, value, threshold, lower_is_better, dataset)
    passed = not message
    artifact = {"metric": metric, **({"history": history} if history else {})}
    return {
        "score": 12.0 if passed else 7.0, "max_score": 12.0, "execution_time": 9.0, "output": "",
        "stdout_visibility": "visible",
        "tests": [
            {"name": "test_build_regressor_layers", "score": 3.0, "max_score": 3.0, "status": "passed", "output": "",
             "visibility": "after_published", "extra_data": {"status": "passed"}},
            {"name": test, "score": 5.0 if passed else 0.0, "max_score": 5.0, "status": "passed" if passed else "failed",
             "output": message, "visibility": "after_published",
             "extra_data": {"status": "passed"} if passed else {"status": "failed", "kind": "wrong_answer"}},
            {"name": "test_hidden_thing", "score": 4.0, "max_score": 4.0, "status": "passed", "output": "",
             "visibility": "hidden", "extra_data": {"status": "passed"}},
        ],
        "extra_data": {"exercise": "keras-regression", "suite": "hidden", "device": "cpu",
                       "artifacts": {test: artifact}},
    }


def row_of(student: str, result: dict, exercise: str = "keras-regression", n: int = 1) -> views.ReportRow:
    """A report row of a grading that is in no gradebook (`n`: its submission and grading id)."""
    grading = GradingRow(grading_id=n, submission_id=n, recorded_for=1, student_id=student, exercise_id=exercise,
                         sha256="0" * 64, key="k", exercise_hash="0" * 64, grader_version="0.1.0",
                         status=GradingState.GRADED, score=result["score"], max_score=result["max_score"],
                         result_json=result, device="cpu", backend="tensorflow", duration_s=9.0, attempts=1,
                         error=None, created_at=START, fault=None)
    grade = GradeRow(student, exercise, GradingState.GRADED, score=result["score"], max_score=result["max_score"],
                     auto_score=result["score"], submission_id=n, grading_id=n)
    return views.ReportRow(grade, grading)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return init_course(tmp_path_factory.mktemp("metrics") / "course", "nn", title="Neural networks", now=START)


def mae_result(value: float) -> dict:
    return metric_result("MAE", value, 55.0, True, "diabetes", "test_held_out_mae", HISTORY)


def svgs(html: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", html, re.S)


# --- the metric itself ------------------------------------------------------------------------

def test_both_recorded_forms_normalize_to_one_shape():
    old = normalize_metric({"accuracy": 0.82, "threshold": 0.9, "dataset": "hoda", "seconds": 31.2, "device": "gpu"})
    assert old["name"] == "accuracy" and old["value"] == 0.82 and old["is_accuracy"] and not old["lower_is_better"]
    mae, _ = recorded("MAE", 48.1, 55.0, True, "diabetes")
    new = normalize_metric(mae)
    assert (new["name"], new["value"], new["threshold"], new["lower_is_better"]) == ("MAE", 48.1, 55.0, True)
    assert not new["is_accuracy"] and not new["bounded"] and normalize_metric(new) == new  # normalizing twice
    assert normalize_metric({"name": "Accuracy", "value": 0.5})["is_accuracy"]
    assert normalize_metric({"value": 0.5})["name"] == "accuracy"  # a name left out means accuracy
    odd = normalize_metric({"name": "re\x1b[31mcall `x`\n" + "z" * 80, "value": 0.4, "threshold": 0.5,
                            "lower_is_better": "yes"})
    assert odd["name"].startswith("recall x z") and len(odd["name"]) <= 40 and not odd["lower_is_better"]
    assert normalize_metric({"name": "MAE", "value": float("nan")}) is None and normalize_metric([1]) is None
    assert normalize_metric({"name": "recall", "value": 0.8, "threshold": 0.7})["bounded"]
    # missed in its own direction
    assert missed(new) is False and missed(normalize_metric(recorded("MAE", 61.3, 55.0, True, "d")[0])) is True
    assert missed(normalize_metric({"name": "recall", "value": 0.6, "threshold": 0.7})) is True
    assert missed(normalize_metric({"name": "MAE", "value": 40.0, "lower_is_better": True})) is False


def test_the_threshold_hint_names_the_metric_and_its_direction():
    def classify(metric, status="failed", kind="wrong_answer"):
        test = {"status": status, "extra_data": {"status": status, "kind": kind}}
        return failures.classify(test, metric)
    above = recorded("MAE", 61.3, 55.0, True, "diabetes")[0]
    assert classify(above) == ("threshold", {"variant": "above"})
    # a lower-is-better metric under its bound: the test failed for another reason
    assert classify(recorded("MAE", 48.1, 55.0, True, "diabetes")[0]) == ("wrong", {})
    assert classify({"name": "recall", "value": 0.6, "threshold": 0.7, "lower_is_better": False}) == (
        "threshold", {"variant": "below"})
    assert classify({"name": "recall", "value": 0.8, "threshold": 0.7, "lower_is_better": False})[0] == "wrong"
    assert classify({"accuracy": 0.5, "threshold": 0.9}) == ("threshold", {"variant": "accuracy"})
    assert classify(above, "passed", "passed")[0] == "passed"
    params = {"variant": "above", "metric": "MAE", "value": "61.3", "threshold": "55.0"}
    assert failures.hint_text("threshold", params, "en").startswith(
        "Your model's held-out MAE 61.3 is above the bound 55.0 (lower is better): train for more epochs")
    old = failures.hint_text("threshold", {"variant": "accuracy", "accuracy": "0.500", "threshold": "0.90"}, "en")
    assert old.startswith("Your model's held-out accuracy 0.500 is below the threshold 0.90: train")
    assert "بیشتر از حد مجاز" in failures.hint_text("threshold", params, "fa")


# --- the learner's page -----------------------------------------------------------------------

def test_a_failed_mae_says_the_bound_in_both_languages(course):
    row = row_of("mina", mae_result(61.3))
    html, md = views.render_learner(course, [row], "en")
    assert row.grading.result_json["tests"][1]["output"] == (
        "your model reached 61.3 held-out MAE on diabetes in 3 s on CPU; at most 55.0 needed")
    for page in (unescape(html), md):
        assert "Training and held-out MAE" in page and "Training and held-out accuracy" not in page
        assert ("The grader ran your trained model on held-out data it never saw: held-out MAE 61.3 (diabetes); "
                "at most 55.0 needed (lower is better).") in page
        assert "Your model's held-out MAE 61.3 is above the bound 55.0 (lower is better)" in page
        assert "only the held-out MAE the grader computed itself counts" in page
        assert "accuracy" not in page.lower()  # nothing speaks of accuracy
    assert "### Training and held-out MAE (held out mae)" in md and "| epoch | loss | mae | val\\_mae |" in md
    plots = svgs(html)
    assert len(plots) == 3  # the loss, the other curves, the MAE against its bound (no gauge from 0 to 1)
    assert html.count('class="threshold"') == 1  # the bound is drawn on the bar only, not on the curves
    assert "Held-out MAE and the threshold" in html and "Training metrics (as your code reported it)" in html
    assert "Held-out accuracy and the threshold" not in html and "Training accuracy" not in html
    bar = next(s for s in plots if "Held-out MAE" in s)
    assert "at most 55.0" in bar and ">61.3<" in bar and "#b91c1c" in bar  # red: missed

    fa_html, fa_md = views.render_learner(course, [row], "fa")
    for page in (unescape(fa_html), fa_md):
        assert "آموزش و MAE روی داده‌های کنارگذاشته" in page
        assert "MAE روی داده‌های کنارگذاشته ۶۱٫۳ (diabetes)؛ حداکثر ۵۵٫۰ مجاز است (هرچه کمتر، بهتر)." in page
        assert "MAE مدل شما روی داده‌های کنارگذاشته (۶۱٫۳) بیشتر از حد مجاز ۵۵٫۰ است (هرچه کمتر، بهتر)" in page
        assert "61.3" not in page.replace("reached 61.3", "")  # prose numbers in Persian digits
    assert "حداکثر ۵۵٫۰" in fa_html and 'direction="rtl"' in fa_html


def test_a_passed_mae_says_its_value_and_no_hint(course):
    html, md = views.render_learner(course, [row_of("mina", mae_result(48.1))], "en")
    for page in (unescape(html), md):
        assert ("The grader ran your trained model on held-out data it never saw: held-out MAE 48.1 (diabetes); "
                "at most 55.0 needed (lower is better). Training took 3 s on CPU.") in page
        assert "above the bound" not in page and "3 of 3 tests passed." in page
    assert "#15803d" in next(s for s in svgs(html) if "Held-out MAE" in s)  # green: within the bound
    fa_html, fa_md = views.render_learner(course, [row_of("mina", mae_result(48.1))], "fa")
    for page in (unescape(fa_html), fa_md):
        assert "MAE روی داده‌های کنارگذاشته ۴۸٫۱ (diabetes)؛ حداکثر ۵۵٫۰ مجاز است" in page
        assert "آموزش ۳ ثانیه روی CPU طول کشید." in page and "بیشتر از حد مجاز" not in page


def test_a_recall_gets_the_gauge_and_its_own_words(course):
    result = metric_result("recall", 0.61, 0.7, False, "breast-cancer (imbalanced)", "test_minority_recall")
    html, md = views.render_learner(course, [row_of("mina", result, "keras-classifiers")], "en")
    assert "held-out recall 0.610 (breast-cancer (imbalanced)); at least 0.700 needed." in unescape(html)
    assert "Your model's held-out recall 0.610 is below the threshold 0.700 (higher is better)" in md
    gauge = svgs(html)
    assert len(gauge) == 1 and "Held-out recall and the threshold" in gauge[0] and "threshold 0.70" in gauge[0]
    fa_html, _ = views.render_learner(course, [row_of("mina", result, "keras-classifiers")], "fa")
    assert "بازیابی (recall) روی داده‌های کنارگذاشته ۰٫۶۱۰" in unescape(fa_html)
    assert "کمتر از آستانهٔ ۰٫۷۰۰ است (هرچه بیشتر، بهتر)" in unescape(fa_html)


def test_the_old_accuracy_form_renders_as_before(course):
    """{"accuracy": a} and {"name": "accuracy", "value": a, ...} give the very same pages, with the
    sentences, hint and four plots reports always had."""
    old, named = keras_result(0.82), keras_result(0.82)
    art = named["extra_data"]["artifacts"]["test_held_out_accuracy"]
    art["metric"] = {"name": "accuracy", "value": 0.82, "threshold": 0.9, "lower_is_better": False,
                     "dataset": "hoda", "seconds": 31.2, "device": "gpu"}
    for lang in ("en", "fa"):
        assert views.render_learner(course, [keras_row("mina", old)], lang) == \
            views.render_learner(course, [keras_row("mina", named)], lang)
    html, md = views.render_learner(course, [keras_row("mina", old)], "en")
    assert "never saw: 0.820 accuracy (hoda). The threshold is 0.90. Training took 31 s on GPU." in md
    assert "held-out accuracy 0.820 is below the threshold 0.90: train" in md
    assert len(svgs(html)) == 4 and html.count('class="threshold"') == 2
    assert "Held-out accuracy and the threshold" in html and "Training accuracy (as your code reported it)" in html


# --- the dashboard ----------------------------------------------------------------------------

def test_the_dashboard_hint_names_the_metric(course):
    rows = [row_of("mina", mae_result(61.3)), row_of("sara", mae_result(48.1), n=2)]
    html = views.render_dashboard(course, [r.grade for r in rows], [r.grading for r in rows], "en")
    assert "Your model&#39;s held-out MAE … is above the bound 55.0 (lower is better)" in html
    assert "test_held_out_mae" in html and "1 / 2" in html
    fa = views.render_dashboard(course, [r.grade for r in rows], [r.grading for r in rows], "fa")
    assert "بیشتر از حد مجاز ۵۵٫۰" in fa


# --- the bar itself ---------------------------------------------------------------------------

def test_the_bar_keeps_a_runaway_value_on_its_scale():
    far = normalize_metric({"name": "reconstruction error", "value": 1e6, "threshold": 0.02,
                            "lower_is_better": True, "dataset": "hoda"})
    svg = report_plots.metric_bar(far, "en")
    widths = [float(w) for w in re.findall(r'class="value" x="20" y="34" width="([\d.]+)"', svg)]
    assert widths == [380.0] and "1000000.0" in svg and "at most 0.020" in svg
    assert "Held-out reconstruction error and the threshold" in svg
    assert "خطای بازسازی روی داده‌های کنارگذاشته و آستانه" in report_plots.metric_bar(far, "fa")
    plots = report_plots.accuracy_plots({}, far, None, "en")
    assert len(plots) == 1 and plots[0] == svg
    # a lower-is-better metric within 0..1 (the autoencoder's) gets the bar too, never the 0-1 gauge
    mse, message = recorded("reconstruction MSE", 0.0214, 0.03, True, "hoda, noise std 0.3")
    assert message == ""
    [bar] = report_plots.accuracy_plots({}, mse, None, "fa")
    assert 'class="value"' in bar and "خطای بازسازی (MSE) روی داده‌های کنارگذاشته و آستانه" in bar
    assert "حداکثر ۰٫۰۳۰" in bar and "۰٫۰۲۱" in bar


# --- as a person sees it ----------------------------------------------------------------------

def test_metric_pages_in_chromium(course, tmp_path):
    from browser import Browser, unavailable
    why = unavailable()
    assert why is None, f"the browser check cannot run: {why}"
    with Browser() as browser:
        for lang in ("fa", "en"):
            path = tmp_path / f"mae-{lang}.html"
            path.write_text(views.render_learner(course, [row_of("mina", mae_result(61.3))], lang)[0], encoding="utf-8")
            visit = browser.visit(path, count=("svg", "svg line.threshold", "svg rect.value"))
            assert visit.lang == lang and visit.dir == ("rtl" if lang == "fa" else "ltr")
            assert visit.requests == [visit.url] and not visit.blocked, visit.requests
            assert not visit.console_errors and not visit.page_errors, (visit.console_errors, visit.page_errors)
            assert visit.counts == {"svg": 3, "svg line.threshold": 1, "svg rect.value": 1}, visit.counts
