"""Feedback reports: learners' pages (Persian right-to-left and English, HTML and Markdown) and the
class dashboard, made from a real gradebook (a course, learners who submit, collect, a batch
grading with 2 workers) plus one crafted Keras grading that carries a training history, the
held-out metric and a confusion matrix; released into the exchange and read back with the CLI;
opened in headless Chromium (no console errors, no request leaving the file, `dir` right, every
plot drawn), with screenshots in tests/artifacts/."""

from __future__ import annotations

import csv
import gettext
import hashlib
import re
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from html import unescape
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.batch.plan import record_collected
from grader.batch.run import run_batch
from grader.exercise.cohort import write_submission
from grader.course.config import init_course
from grader.course.exchange import collect, submit
from grader.gradebook.rows import GradeRow, GradingRow, GradingState
from grader.gradebook.store import Gradebook
from grader.report import failures, views
from grader.report import plots as report_plots
from grader.report import text as report_text
from grader.report.export import export_gradebook
from grader.report.i18n import LOCALE_DIR, LanguageError, format_number, format_percent, localize_digits
from grader.cli.learner import feedback
from grader.cli.reports import release_feedback, report

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
ARTIFACTS = TESTS / "artifacts"
START = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)  # the course's deadlines follow a week apart
PERSIAN = re.compile(r"[۰-۹]")
SECRETS = ("SECRET_HIDDEN_KEY", "SECRET_HIDDEN_NAME", "SECRET_INTERNAL", "site-packages", "/opt/dlgrade", "<frozen")

# --- a crafted Keras grading ------------------------------------------------------------------

HISTORY = {"loss": [2.1, 1.4, 1.0, 0.81, 0.7, 0.62, 0.57, 0.53, 0.5, 0.48, 0.46, 0.45],
           "accuracy": [0.35, 0.55, 0.66, 0.72, 0.76, 0.78, 0.8, 0.81, 0.82, 0.83, 0.835, 0.84],
           "val_loss": [1.9, 1.3, 1.05, 0.9, 0.82, 0.77, 0.74, 0.72, 0.71, 0.7, 0.7, 0.69],
           "val_accuracy": [0.4, 0.57, 0.65, 0.7, 0.73, 0.75, 0.77, 0.78, 0.79, 0.8, 0.8, 0.81]}


def _confusion(n: int = 10) -> list[list[int]]:
    rows = []
    for i in range(n):
        row = [0] * n
        row[i] = 40 - (i % 4) * 3
        row[(i + 1) % n] = i % 3
        row[(i + 3) % n] = 2 if i in (3, 8) else 0
        rows.append(row)
    return rows


def keras_result(accuracy: float = 0.82) -> dict:
    """The Result JSON of a Keras grading with the artifacts the tests record."""
    learner_trace = ("Traceback (most recent call last):\n"
                     '  File "/work/keras_mlp.py", line 31, in train_mlp\n'
                     "    history = model.fit(x, y, epochs=12)\n"
                     '  File "/usr/lib/python3/site-packages/keras/src/trainer.py", line 120, in fit\n'
                     "    raise ValueError(msg)\n"
                     '  File "/opt/dlgrade/runner.py", line 88, in call\n'
                     "    result = fn(*args)\n"
                     "ValueError: this warning came from the learner's own try/except")
    return {
        "score": 9.0, "max_score": 16.0, "execution_time": 41.5,
        "output": "Epoch 1/12 - loss: 2.1000\nEpoch 12/12 - loss: 0.4500\n" + learner_trace + "\n",
        "stdout_visibility": "visible",
        "tests": [
            {"name": "test_build_mlp_layers", "score": 4.0, "max_score": 4.0, "status": "passed", "output": "",
             "visibility": "after_published", "extra_data": {"status": "passed", "duration": 1.2}},
            {"name": "test_train_mlp_returns_the_history", "score": 2.0, "max_score": 2.0, "status": "passed",
             "output": "", "visibility": "after_published", "extra_data": {"status": "passed", "duration": 30.0}},
            {"name": "test_held_out_accuracy", "score": 0.0, "max_score": 5.0, "status": "failed",
             "output": f"your model reached {accuracy:.3f} held-out accuracy on hoda in 31 s on GPU; 0.90 needed",
             "visibility": "after_published",
             "extra_data": {"status": "failed", "duration": 2.0, "kind": "wrong_answer"}},
            {"name": "test_predict_shape", "score": 0.0, "max_score": 2.0, "status": "failed",
             "output": ("`train_mlp` raised ValueError: bad shape\n"
                        '  File "<frozen importlib._bootstrap>", line 241, in _call_with_frames_removed\n'
                        '  File "/work/keras_mlp.py", line 40, in train_mlp\n'
                        "    raise ValueError('bad shape')\n"
                        '  File "/root/.pyenv/lib/python3.11/site-packages/numpy/core/x.py", line 3, in f\n'
                        "    secret_line()\n"
                        "ValueError: bad shape"),
             "visibility": "after_published",
             "extra_data": {"status": "failed", "duration": 0.3, "kind": "raised",
                            "detail": {"function": "train_mlp", "error": "ValueError"}}},
            {"name": "test_SECRET_HIDDEN_NAME", "score": 3.0, "max_score": 3.0, "status": "passed", "output": "",
             "visibility": "hidden", "extra_data": {"status": "passed", "duration": 0.1}},
        ],
        "extra_data": {
            "exercise": "keras-mlp", "suite": "hidden", "device": "gpu",
            "artifacts": {
                "test_held_out_accuracy": {
                    "history": HISTORY,
                    "metric": {"accuracy": accuracy, "threshold": 0.9, "dataset": "hoda", "seconds": 31.2,
                               "device": "gpu"},
                    "confusion": _confusion()},
                "test_SECRET_HIDDEN_NAME": {"history": {"SECRET_HIDDEN_KEY": [1.0, 2.0]}},
            },
            "internal_errors": ["test_x: SECRET_INTERNAL grader stack\nTraceback ..."],
        },
    }


def add_keras_grading(gradebook: Gradebook, student: str, result: dict, at: datetime) -> None:
    gradebook.add_student(student)
    gradebook.upsert_exercise("keras-mlp", "A first Keras model", "0" * 64)
    sha = hashlib.sha256(student.encode()).hexdigest()
    sub = gradebook.add_submission(student, "keras-mlp", sha, at, f"/nowhere/{student}")
    gradebook.record_grading(sub, Gradebook.grading_key(sha, "0" * 64, "0.1.0"), "0" * 64, "0.1.0", result,
                             "graded", "gpu", "jax", 41.5)


def keras_row(student: str, result: dict) -> views.ReportRow:
    """A report row of a Keras grading that is in no gradebook."""
    grading = GradingRow(grading_id=1, submission_id=1, recorded_for=1, student_id=student, exercise_id="keras-mlp",
                         sha256="0" * 64, key="k", exercise_hash="0" * 64, grader_version="0.1.0",
                         status=GradingState.GRADED, score=result["score"], max_score=result["max_score"],
                         result_json=result, device="gpu", backend="jax", duration_s=41.5, attempts=1, error=None,
                         created_at=START, fault=None)
    grade = GradeRow(student, "keras-mlp", GradingState.GRADED, score=result["score"], max_score=result["max_score"],
                     auto_score=result["score"], submission_id=1, grading_id=1)
    return views.ReportRow(grade, grading)


# --- the cohort -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """A course graded for real: ali (correct), sara (partial, late on perceptron), reza (broken,
    one override), on perceptron and backprop; mina has a crafted Keras grading."""
    root = tmp_path_factory.mktemp("report")
    course = init_course(root / "course", "nn", title="Neural networks", now=START)
    kinds = {"ali": "correct", "sara": "partial", "reza": "broken"}
    for student, kind in kinds.items():
        for ex_id in ("perceptron", "backprop"):
            ex = course.exercise(ex_id)
            folder = write_submission(ex, kind, root / "work" / student / ex_id).parent
            when = course.deadline(ex_id) - timedelta(hours=2)
            if (student, ex_id) == ("sara", "perceptron"):
                when = course.deadline(ex_id) + timedelta(days=1, hours=6)  # 2 started days late
            submit(course.exchange_path, ex, folder, student, now=when, course=course)
    gradebook = Gradebook.open(course.gradebook_url)
    record_collected(course, gradebook, collect(course))
    summary = run_batch(course, gradebook, workers=2, device="cpu")
    assert summary.graded == 6 and summary.failed == 0, summary
    gradebook.override("reza", "backprop", 5.0, "partial credit for the derivation on paper", "teacher")
    add_keras_grading(gradebook, "mina", keras_result(), START)
    for student in ("nima", "omid"):  # nima: collected, not graded yet; omid: the grading crashed
        gradebook.add_student(student)
        sub = gradebook.add_submission(student, "perceptron", student * 8, START, f"/nowhere/{student}")
    gradebook.record_grading(sub, "omid-key", "0" * 64, "0.1.0", None, "crashed", None, None, 3.0,
                             error="worker died: SIGKILL SECRET_WORKER_DETAIL")
    yield course, gradebook
    gradebook.close()


@pytest.fixture(scope="module")
def written(cohort, tmp_path_factory):
    """`dlgrade report` in both languages."""
    course, _ = cohort
    out = {}
    for lang in ("fa", "en"):
        target = tmp_path_factory.mktemp(f"reports-{lang}")
        result = CliRunner().invoke(report, ["--course", str(course.root), "--lang", lang, "--out", str(target)])
        assert result.exit_code == 0, result.output
        assert "Wrote 6 learner page(s)" in result.output
        out[lang] = target
    return out


def page(written, lang: str, student: str, ext: str = "html") -> str:
    return (written[lang] / student / f"report.{ext}").read_text(encoding="utf-8")


# --- pieces -----------------------------------------------------------------------------------

def test_tracebacks_keep_only_the_learners_frames():
    text = ("Traceback (most recent call last):\n"
            '  File "<frozen importlib._bootstrap>", line 241, in _call_with_frames_removed\n'
            '  File "/work/perceptron.py", line 12, in step\n'
            "    return helper(z)\n"
            "           ^^^^^^^^^\n"
            '  File "/work/helpers.py", line 3, in helper\n'
            "    raise ValueError('no')\n"
            '  File "/usr/lib/python3/dist-packages/numpy/core/fromnumeric.py", line 59, in _wrapfunc\n'
            "    return bound(*args, **kwds)\n"
            '  File "/opt/dlgrade/runner.py", line 40, in call\n'
            "    value = fn(*args)\n"
            "ValueError: no")
    out = report_text.strip_grader_frames(text, {"perceptron.py", "helpers.py"})
    assert out.splitlines() == [
        "Traceback (most recent call last):",
        '  File "perceptron.py", line 12, in step',
        "    return helper(z)",
        "           ^^^^^^^^^",
        '  File "helpers.py", line 3, in helper',
        "    raise ValueError('no')",
        "ValueError: no"]
    # without a list of files, only the sandbox's /work/ counts as the learner's
    assert "fromnumeric" not in report_text.strip_grader_frames(text) and 'File "perceptron.py"' in report_text.strip_grader_frames(text)
    message, trace = report_text.split_output("`step` raised ValueError: no\n" + text.split("\n", 1)[1], {"perceptron.py"})
    assert message == "`step` raised ValueError: no" and "runner.py" not in trace


def test_numbers_as_each_language_writes_them():
    assert format_number(15.0, "fa") == "۱۵" and format_number(15.0, "en") == "15"
    assert format_number(0.125, "fa") == "۰٫۱۲" and format_number(2.5, "en") == "2.5"
    assert format_percent(0.853, "fa") == "۸۵٪" and format_percent(None, "fa") == "-"
    assert localize_digits("file2.py line 3", "en") == "file2.py line 3"
    with pytest.raises(LanguageError, match="use one of: fa, en"):
        views.render_learner(None, [{"student": "a"}], "de")


def test_hints_by_kind_of_failure():
    def kind(output, k=None, status="failed", metric=None, detail=None):
        extra = {"status": status, **({"kind": k} if k else {}), **({"detail": detail} if detail else {})}
        return failures.classify({"status": "failed", "output": output, "extra_data": extra}, metric)[0]
    raised = {"function": "step", "error": "ZeroDivisionError"}
    assert kind("Your file perceptron.py could not be imported: SyntaxError", "import_error") == "import"
    assert kind("`step` raised NotImplementedError", "not_implemented", detail=raised) == "todo"
    assert kind("`step` raised ZeroDivisionError: division by zero", "raised", detail=raised) == "raised"
    assert kind("`train` took longer than 10 s (the time limit)", "timeout", "timeout") == "timeout"
    assert kind("`f` raised MemoryError", "memory", detail={"function": "f", "error": "MemoryError"}) == "memory"
    assert kind("your file does not define a function `step`; keep the names", "missing_function") == "missing"
    assert kind("step(z) is wrong on 3 of 6 entries", "wrong_answer") == "wrong"
    assert kind("`f` returned a generator, which cannot be graded", "unsendable") == "unsendable"
    assert kind("the grader's sandbox could not start", "grader_fault") == "grader"
    assert kind("reached 0.5", "wrong_answer", metric={"accuracy": 0.5, "threshold": 0.9}) == "threshold"
    assert failures.classify({"status": "passed", "extra_data": {"status": "passed"}})[0] == "passed"
    # the kind is what counts, never the text: a learner's own message that reads like another kind
    grader_sentence = ("`step` raised RuntimeError: the grader's sandbox could not start; this is not a problem "
                       "in your code: tell your instructor (problem in the grader)")
    assert kind(grader_sentence, "raised", detail={"function": "step", "error": "RuntimeError"}) == "raised"
    assert kind("Your file x.py could not be imported: `step` raised NotImplementedError", "wrong_answer") == "wrong"
    # a row stored before kinds existed: passed / timeout from its status, else a neutral hint
    assert kind("`step` raised NotImplementedError: write your code here") == "failed"
    assert kind("took longer than", status="timeout") == "timeout"
    # what the learner named is cleaned before it reaches a hint
    assert failures.classify({"status": "failed", "extra_data": {"kind": "raised", "detail": {
        "function": "f`<b>", "error": "Bad Name<script>"}}})[1] == {"function": "f<b>", "error": "an exception"}
    assert "`step`" in failures.hint_text("todo", {"function": "step"}, "en")
    assert "`step`" in failures.hint_text("todo", {"function": "step"}, "fa") and "قالب" in failures.hint_text(
        "todo", {"function": "step"}, "fa")


def test_bad_rows_are_refused_in_one_line(cohort):
    course, gradebook = cohort
    rows = views.learner_rows(*views.load_rows(gradebook))
    with pytest.raises(views.ReportError, match="render one learner's rows at a time"):
        views.render_learner(course, rows["ali"] + rows["sara"], "en")
    with pytest.raises(views.ReportError, match="at least one"):
        views.render_learner(course, [], "en")


# --- learners' pages --------------------------------------------------------------------------

def test_persian_page_is_right_to_left_with_persian_digits(written):
    html = page(written, "fa", "sara")
    assert re.search(r'<html lang="fa" dir="rtl">', html)
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert not re.search(r"(src|href)=\"(https?:)?//", html)  # nothing to fetch
    assert "بازخورد برای sara" in html
    # prose numbers in Persian digits; code stays left to right
    assert "۱٫۲۵ روز پس از مهلت" in html
    assert PERSIAN.search(html.split("<main>", 1)[1])
    assert re.search(r'<pre dir="ltr"><code>\s*File &#34;perceptron.py&#34;, line \d+, in step', html)
    assert 'class="msg" dir="ltr"' in html
    # the late penalty: 2 started days at 10% a day
    assert "۰٫۸" in html
    md = page(written, "fa", "sara", "md")
    assert md.startswith("# بازخورد برای sara") and "۰٫۸" in md and 'File "perceptron.py"' in md


def test_english_page_tests_hints_errors_and_output(written):
    html = page(written, "en", "sara")
    assert '<html lang="en" dir="ltr">' in html
    assert "Submitted 1.25 days after the deadline." in html and "multiplied the score by 0.8" in html
    assert "train other gates and rates" in html  # a passed test, by its name
    assert '<code dir="ltr">step</code> is still the template&#39;s placeholder' in html
    assert 'File "perceptron.py", line 17, in step' in unescape(html)
    md = page(written, "en", "sara", "md")
    for text in ("## The perceptron (`perceptron`)", "✘ failed: **step values dtype and shape**",
                 "`step` is still the template's placeholder", "### Errors", 'File "perceptron.py", line'):
        assert text in md, text
    broken = page(written, "en", "reza")
    # one import failure, said once above the tests; the tests say they did not run
    assert broken.count("Your file could not be imported, so no test could run.") == 2  # one per exercise
    assert "Not run: your file could not be imported (see above)." in broken
    assert "SyntaxError: invalid syntax" in broken and "<frozen" not in broken
    assert "Your instructor set this score by hand." in broken and "partial credit for the derivation" in broken


def test_ungraded_and_crashed_gradings(written):
    assert "Not graded yet." in page(written, "en", "nima")
    crashed = page(written, "en", "omid")
    assert "Not graded yet." in crashed and "This is not a 0: it will be graded again" in crashed
    assert "listed on the class dashboard" in crashed  # ...and it is: the instructor really is told
    assert "SECRET_WORKER_DETAIL" not in crashed and "SIGKILL" not in crashed
    assert "هنوز نمره‌دهی نشده است." in page(written, "fa", "nima", "md")
    assert "این صفر نیست" in page(written, "fa", "omid", "md")
    dashboard = (written["en"] / "dashboard.html").read_text(encoding="utf-8")
    assert "worker died: SIGKILL SECRET_WORKER_DETAIL" in dashboard and "are not grades" in dashboard


def test_accuracy_exercise_plots_and_hidden_tests(written):
    for lang in ("fa", "en"):
        html = page(written, lang, "mina")
        svgs = re.findall(r"<svg\b.*?</svg>", html, re.S)
        assert len(svgs) == 4  # loss curve, accuracy curve with the threshold, accuracy vs threshold, confusion
        assert all(len(s.encode()) < 100_000 for s in svgs)
        assert html.count('class="threshold"') == 2
        assert 'class="plot confusion"' in html
        for secret in SECRETS:
            assert secret not in html, secret
            assert secret not in page(written, lang, "mina", "md"), secret
        assert 'File "keras_mlp.py", line 31, in train_mlp' in unescape(html)
    en = page(written, "en", "mina")
    assert "hidden test 1" in en and "never saw: 0.820 accuracy" in en and "The threshold is 0.90." in en
    # the history is labelled as the learner's own record, apart from the score the grader computed
    assert "The training history is your own record" in en and "Training loss (as your code reported it)" in en
    assert "only the held-out accuracy the grader computed itself counts" in en
    assert "below the threshold 0.90" in en
    fa = page(written, "fa", "mina")
    assert "آزمون پنهان ۱" in fa and "۰٫۸۲۰" in fa
    md = page(written, "en", "mina", "md")
    assert "on GPU.\n\nThe training history is your own record" in md and "\n\nTraining history" in md
    assert "| epoch | loss | accuracy | val\\_loss | val\\_accuracy |" in md
    assert "| **8** | 0 | 2 | 0 | 0 | 0 | 0 | 0 | 0 | 40 | 2 |" in md


def test_plots_stay_small_and_escape_what_the_learner_named():
    long_history = {"loss": [1 / (e + 1) for e in range(5000)]}
    long_history.update({f"<script>k{i}</script>": [0.5 + 0.4 * (e % 7) / 7 for e in range(5000)] for i in range(12)})
    dense = [[(i * 7 + j * 3) % 50 + 1 for j in range(20)] for i in range(20)]
    plots = report_plots.accuracy_plots(report_plots.normalize_history(long_history), {"accuracy": 0.5, "threshold": 0.9}, dense, "fa")
    assert len(plots) == 4
    for svg in plots:
        assert len(svg.encode()) < 100_000 and "<script>" not in svg
    assert "&lt;script&gt;" in plots[1]
    assert report_plots.normalize_confusion([[1, 2], [3]]) is None and report_plots.normalize_confusion([[1, -2], [3, 4]]) is None
    assert report_plots.accuracy_plots({}, None, [[1] * 21] * 21, "en") == []  # too many classes to draw


def test_plots_are_drawn_once_per_identical_data(cohort):
    course, _ = cohort
    views.render_learner(course, [keras_row("x", keras_result(0.7))], "en")
    before = report_plots._plot.cache_info().hits
    views.render_learner(course, [keras_row("y", keras_result(0.7))], "en")
    assert report_plots._plot.cache_info().hits >= before + 4


# --- the dashboard ----------------------------------------------------------------------------

def test_dashboard(written):
    for lang in ("en", "fa"):
        html = (written[lang] / "dashboard.html").read_text(encoding="utf-8")
        assert html.count('class="plot histogram"') == 3  # one per exercise
        assert "SECRET_INTERNAL grader stack" in html  # the instructor sees grader problems
    html = (written["en"] / "dashboard.html").read_text(encoding="utf-8")
    assert "test_step_values_dtype_and_shape" in html and "1 / 3" in html
    assert "The commonest failures" in html and "Your file could not be imported" in html
    late = html.split("Late submissions</h2>", 1)[1]
    assert '<code dir="ltr">sara</code></td><td><code dir="ltr">perceptron</code>' in late
    assert "partial credit for the derivation on paper" in html and "teacher" in html
    assert "GPU</code> × 1" in html and "CPU</code> × 3" in html and ">jax</code>" in html


def test_render_time_for_a_cohort_of_100(cohort, tmp_path):
    course, gradebook = cohort
    grade_rows, gradings = views.load_rows(gradebook)
    by_student = views.learner_rows(grade_rows, gradings)
    template_rows = by_student["sara"] + by_student["reza"][:1] + by_student["mina"]
    t0 = time.perf_counter()
    for i in range(100):
        rows = [replace(r, grade=replace(r.grade, student=f"s{i:03d}")) for r in template_rows
                if r.exercise != "backprop" or i % 2]
        html, md = views.render_learner(course, rows, "fa" if i % 2 else "en")
        assert html and md
    seconds = time.perf_counter() - t0
    print(f"rendered 100 learners (HTML + Markdown) in {seconds:.2f} s")
    assert seconds < 10


def test_exports_read_the_typed_rows_with_the_late_factor_applied_once(cohort, tmp_path):
    _, gradebook = cohort
    rows = {(r.student, r.exercise): r for r in gradebook.grade_rows()}
    sara = rows["sara", "perceptron"]
    assert sara.late and sara.late_factor == 0.8 and sara.score == round(sara.auto_score * 0.8, 6)
    with export_gradebook("csv", gradebook, tmp_path / "grades.csv").open(encoding="utf-8") as fh:
        table = {r["student"]: r for r in csv.DictReader(fh)}
    assert float(table["sara"]["perceptron"]) == pytest.approx(sara.score)
    assert table["nima"]["perceptron"] == table["omid"]["perceptron"] == ""  # pending, crashed: never 0
    assert float(table["reza"]["backprop"]) == 5.0  # the override counts as it is
    export_gradebook("gradescope", gradebook, tmp_path / "gs")
    assert (tmp_path / "gs" / "mina" / "keras-mlp" / "results.json").is_file()
    assert not (tmp_path / "gs" / "omid").exists() and not (tmp_path / "gs" / "nima").exists()


# --- release and read back --------------------------------------------------------------------

def test_release_feedback_and_read_it_back(cohort, written, monkeypatch):
    course, _ = cohort
    runner = CliRunner()
    result = runner.invoke(release_feedback, ["--course", str(course.root), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "Released 8 feedback report(s) for 5 learner(s)" in result.output
    assert not (course.exchange_path / "feedback" / "nima").exists()  # nothing graded yet
    folder = course.exchange_path / "feedback" / "sara" / "perceptron"
    assert (folder / "report.html").is_file() and (folder / "report.md").is_file()
    assert (course.exchange_path / "feedback").stat().st_mode & 0o777 == 0o711
    assert (folder / "report.html").stat().st_mode & 0o777 == 0o644
    assert "backprop" not in (folder / "report.md").read_text()  # one exercise per released page

    monkeypatch.setenv("DLGRADE_STUDENT", "sara")
    result = runner.invoke(feedback, ["perceptron", "--course", str(course.root)])
    assert result.exit_code == 0, result.output
    assert "Feedback for sara" in result.output and "The perceptron" in result.output
    assert f"The page with plots: {folder / 'report.html'}" in result.output
    raw = runner.invoke(feedback, ["perceptron", "--student", "sara", "--raw", "--course", str(course.root)])
    assert raw.output.startswith("# Feedback for sara")


@pytest.mark.parametrize("command, args, says", [
    (report, ["--lang", "de"], "unknown language 'de'; use one of: fa, en"),
    (report, ["--out", "{file}"], "is a file; give a folder for the reports"),
    (report, ["--student", "../x"], "student id '../x' is not a valid id"),
    (report, ["--student", "nobody"], "no collected work of 'nobody' in the gradebook"),
    (release_feedback, ["--exercise", "nope"], "unknown exercise 'nope' in course nn"),
    (release_feedback, ["--student", "nobody"], "no collected work of 'nobody'"),
    (feedback, ["perceptron", "--student", "nobody"], "no feedback on perceptron for nobody yet"),
    (feedback, ["nope", "--student", "sara"], "unknown exercise 'nope'"),
    (feedback, ["perceptron", "--student", "a/b"], "student id 'a/b' is not a valid id"),
])
def test_bad_input_gets_one_line(cohort, tmp_path, command, args, says):
    course, _ = cohort
    (tmp_path / "afile").write_text("x")
    args = [a.replace("{file}", str(tmp_path / "afile")) for a in args]
    result = CliRunner().invoke(command, [*args, "--course", str(course.root)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and says in lines[0], result.output


def test_empty_gradebook_and_missing_course(tmp_path):
    course = init_course(tmp_path / "c", "empty", now=START)
    result = CliRunner().invoke(report, ["--course", str(course.root)])
    assert result.exit_code == 2 and "has no collected submissions; run `dlgrade collect`" in result.output
    result = CliRunner().invoke(release_feedback, ["--course", str(course.root)])
    assert result.exit_code == 2 and "nothing to release" in result.output
    result = CliRunner().invoke(report, ["--course", str(tmp_path / "none")])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1


# --- as a person sees it ----------------------------------------------------------------------

def test_pages_in_chromium(written):
    from browser import Browser, unavailable
    why = unavailable()
    assert why is None, f"the browser check cannot run: {why}"
    ARTIFACTS.mkdir(exist_ok=True)
    pages = [("fa", written["fa"] / "mina" / "report.html", "report-learner-fa.png", 4),
             ("en", written["en"] / "mina" / "report.html", "report-learner-en.png", 4),
             ("fa", written["fa"] / "sara" / "report.html", None, 0),
             ("en", written["en"] / "dashboard.html", "report-dashboard-en.png", 3),
             ("fa", written["fa"] / "dashboard.html", "report-dashboard-fa.png", 3)]
    with Browser() as browser:
        for lang, path, shot, svgs in pages:
            visit = browser.visit(path, count=("svg", "svg line.threshold", "pre"),
                                  evaluate=("[...document.querySelectorAll('pre')].every("
                                            "p => getComputedStyle(p).direction === 'ltr')",
                                            "getComputedStyle(document.body).direction",
                                            "document.fonts.check('16px \"Noto Sans Arabic\"')"),
                                  screenshot=ARTIFACTS / shot if shot else None)
            assert visit.lang == lang and visit.dir == ("rtl" if lang == "fa" else "ltr"), path
            assert visit.values["getComputedStyle(document.body).direction"] == visit.dir
            assert visit.requests == [visit.url] and not visit.blocked, visit.requests
            assert not visit.console_errors and not visit.page_errors, (visit.console_errors, visit.page_errors)
            assert visit.counts["svg"] == svgs, (path, visit.counts)
            assert visit.values[next(k for k in visit.values if k.startswith("[...document"))], "a <pre> is not LTR"
            if "mina" in str(path):
                assert visit.counts["svg line.threshold"] == 2
            if shot:
                assert (ARTIFACTS / shot).stat().st_size > 10_000


# --- the catalogs -----------------------------------------------------------------------------

def test_catalogs_are_complete_and_compiled():
    babel = __import__("babel.messages.pofile").messages.pofile  # in the test extras
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg
    with open(REPO / "babel.cfg", encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found = {msg[2] if isinstance(msg[2], str) else msg[2][0]
             for msg in extract_from_dir(str(REPO), method_map, options_map)}
    pot = babel.read_po((LOCALE_DIR / "messages.pot").open("rb"))
    assert {m.id for m in pot if m.id} == found, "messages.pot is stale: run pybabel extract (see grader/report/i18n.py)"
    po = babel.read_po((LOCALE_DIR / "fa" / "LC_MESSAGES" / "messages.po").open("rb"), locale="fa")
    with (LOCALE_DIR / "fa" / "LC_MESSAGES" / "messages.mo").open("rb") as fh:
        mo = gettext.GNUTranslations(fh)
    placeholder = re.compile(r"%\(\w+\)s")
    for m in po:
        if not m.id:
            continue
        assert m.id in found, f"obsolete entry in fa/messages.po: {m.id!r}"
        assert m.string and not m.fuzzy, f"untranslated: {m.id!r}"
        assert sorted(placeholder.findall(m.id)) == sorted(placeholder.findall(m.string)), m.id
        assert mo.gettext(m.id) == m.string, f"messages.mo is stale ({m.id!r}): run pybabel compile -d grader/report/locale"
    assert found <= {m.id for m in po if m.id}
