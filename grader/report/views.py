"""What a report shows: a page per learner (HTML and Markdown, Persian right-to-left or English) and
a class dashboard for the instructor, made from the gradebook's typed rows.

* `load_rows(gradebook)` -> (grade rows, gradings): `GradeRow`s carry the score that counts with the
  late factor already applied by the gradebook; a report never applies the late policy itself.
* `learner_rows(grade_rows, gradings)` -> {student: [ReportRow]}: each grade row joined to the
  grading it counts (`ReportRow`).
* `render_learner(course, rows, lang)` -> (html, markdown): one learner's page, a section per row.
* `render_dashboard(course, grade_rows, gradings, lang, overrides)` -> html: score histograms, pass
  rate per test, the commonest failures, grading times and devices, late work, overrides.
* `write_reports(...)` and `release_feedback(...)` choose the rows, render them and hand the pages
  to `grader.report.feedback`, which writes them.

What a learner sees of a test is its name (none for a test whose visibility is "hidden"), its
status and points, a hint chosen from the kind of failure (`failures`), and the test's own output
text (which the tests write never to reveal an expected value), with tracebacks cut down to the
frames of the learner's own files (`text`). Grader problems (`internal_errors`, a grading's error)
reach the dashboard only. Plots are inline SVG (`plots`), and the pages load nothing: a
Content-Security-Policy forbids every request.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from grader import __version__
from grader.exercise.spec import load_exercise
from grader.gradebook.rows import GradeRow, GradingRow, GradingState, OverrideRow
from grader.report.errors import ReportError
from grader.report.failures import NOT_RUN, classify, failure_signature, hint_text
from grader.report.feedback import make_folder, release_pages, write_report_folder
from grader.report.i18n import check_lang, gettext_for, localize_digits, template
from grader.report.metrics import metric_texts, normalize_metric
from grader.report.plots import accuracy_plots, history_table, normalize_confusion, normalize_history, plot
from grader.report.text import (MESSAGE_MAX_CHARS, cap_text, clean_text, humanize_test, listing, split_output,
                                strip_grader_frames, when_text)

TOP_FAILURES = 20
NO_GRADE = (GradingState.FAILED, GradingState.CRASHED)


# --- rows from the gradebook ------------------------------------------------------------------

@dataclass(frozen=True)
class ReportRow:
    """A grade row joined to the grading it counts (None while there is none: pending)."""

    grade: GradeRow
    grading: GradingRow | None = None

    @property
    def student(self) -> str:
        return self.grade.student

    @property
    def exercise(self) -> str:
        return self.grade.exercise

    @property
    def result_json(self) -> dict | None:
        """The counting grading's Result JSON when it is a grade (a failed grading's is not)."""
        if self.grading is None or not self.grade.status.is_grade or not isinstance(self.grading.result_json, dict):
            return None
        return self.grading.result_json


def load_rows(gradebook) -> tuple[list[GradeRow], list[GradingRow]]:
    """(grade rows, gradings) of a gradebook: read once per report run."""
    return gradebook.grade_rows(), gradebook.grading_rows()


def counting_gradings(grade_rows: list[GradeRow], gradings: list[GradingRow]
                      ) -> dict[tuple[str, str], GradingRow]:
    """The grading that counts for each (student, exercise) grade row: the one the gradebook chose
    (`GradeRow.grading_id`), as it applies to the row's own submission."""
    by_id = {(g.submission_id, g.grading_id): g for g in gradings}
    out = {}
    for row in grade_rows:
        g = by_id.get((row.submission_id, row.grading_id))
        if g is not None:
            out[(row.student, row.exercise)] = g
    return out


def learner_rows(grade_rows: list[GradeRow], gradings: list[GradingRow]) -> dict[str, list[ReportRow]]:
    """{student: [ReportRow]} for render_learner, in the order of `grade_rows`."""
    counting = counting_gradings(grade_rows, gradings)
    out: dict[str, list[ReportRow]] = {}
    for row in grade_rows:
        out.setdefault(row.student, []).append(ReportRow(row, counting.get((row.student, row.exercise))))
    return out


@lru_cache(maxsize=256)
def _exercise_meta_cached(exercises_dir: str, exercise_id: str, _mtime: float) -> tuple[dict, str | None]:
    try:
        ex = load_exercise(Path(exercises_dir) / exercise_id, None)
    except Exception:  # an exercise the course broke or lost: its id stands in for its title, no entry file
        return {}, None
    return dict(ex.title), ex.entry


def exercise_meta(course, exercise_id: str) -> tuple[dict, str | None]:
    """(title {en, fa}, entry file name) of a course's exercise, read once per change of its toml."""
    toml = Path(course.exercises_dir) / exercise_id / "exercise.toml"
    try:
        mtime = toml.stat().st_mtime
    except OSError:
        return {}, None
    return _exercise_meta_cached(str(course.exercises_dir), exercise_id, mtime)


def _title(course, exercise_id: str, lang: str) -> str:
    titles, _ = exercise_meta(course, exercise_id)
    return titles.get(lang) or titles.get("en") or exercise_id


def _learner_files(course, student: str, exercise: str, entry: str | None) -> frozenset[str]:
    """The learner's own file names (their frames stay in a traceback): the entry file and the
    .py files (or the notebook) of the collected submission."""
    names = {entry} if entry else set()
    record = Path(course.submitted_dir) / student / exercise / "submission.json"
    try:
        files = json.loads(record.read_text(encoding="utf-8")).get("files", [])
        names.update(f for f in files if isinstance(f, str) and f.endswith((".py", ".ipynb")))
    except (OSError, ValueError, AttributeError):
        pass  # no record (a grading added by hand): the entry file alone is the learner's
    return frozenset(n for n in names if n)


def notebook_notes(extra: dict) -> list[str]:
    """What was left out of a notebook when it was graded (IPython magics, shell escapes), as the
    grading noted it in `extra_data["notebook"]`: cleaned, capped, at most 25."""
    notebook = extra.get("notebook") if isinstance(extra, dict) else None
    notes = notebook.get("notes") if isinstance(notebook, dict) else None
    if not isinstance(notes, list):
        return []
    return [clean_text(n)[:300] for n in notes[:25] if isinstance(n, str) and n.strip()]


def _exercise_order(course, ids: Iterable[str]) -> list[str]:
    known = list(course.exercise_ids)
    ids = list(dict.fromkeys(ids))
    return [e for e in known if e in ids] + sorted(e for e in ids if e not in known)


# --- the learner's page -----------------------------------------------------------------------

def _exercise_view(course, row: ReportRow, lang: str) -> dict:
    gettext, _ = gettext_for(lang)
    grade = row.grade
    ex_id = grade.exercise
    _, entry = exercise_meta(course, ex_id)
    files = _learner_files(course, grade.student, ex_id, entry)
    rj = row.result_json
    graded = rj is not None  # a failed grading is not a grade: "not graded yet"
    max_score = grade.max_score if grade.max_score is not None else (rj or {}).get("max_score")
    view: dict[str, Any] = {
        "id": ex_id, "title": _title(course, ex_id, lang), "status": grade.status.value, "graded": graded,
        "fault": grade.fault.value if grade.fault is not None and grade.status is not GradingState.GRADED else None,
        "score": grade.score, "auto_score": grade.auto_score, "max_score": max_score,
        "late": grade.late, "late_days": grade.late_days,
        "late_factor": grade.late_factor if grade.late_factor is not None else 1.0,  # None: none was applied
        "overridden": grade.overridden, "override_reason": clean_text(grade.override_reason or "")[:500],
        "graded_at": when_text(grade.graded_at, lang), "tests": [], "errors": [], "accuracy": [],
        "output": "", "output_more": 0, "passed": 0, "problem": None, "notebook_notes": [],
    }
    view["fraction"] = max(0.0, min(1.0, (view["score"] or 0) / max_score)) if max_score else 0.0
    if not graded:
        return view
    extra = rj.get("extra_data") or {}
    view["notebook_notes"] = notebook_notes(extra)
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
        texts = metric_texts(metric, lang) if metric else {}
        params.update(texts)
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
                "label": label, "metric": dict(metric, texts=texts) if metric else None, "passed": passed,
                "plots": accuracy_plots(history, metric, confusion, lang),
                "history_columns": columns, "history_rows": table, "confusion": confusion,
            })
    for err in errors.values():
        err["tests_text"] = listing(err["tests"], lang)
    view["errors"] = list(errors.values())
    output = strip_grader_frames(clean_text(rj.get("output", "")), files)
    view["output"], view["output_more"] = cap_text(output.strip("\n"))
    return view


def learner_view(course, rows: list[ReportRow], lang: str, student_name: str | None = None) -> dict:
    """What one learner's page shows (the template's variables)."""
    check_lang(lang)
    if not rows:
        raise ReportError("no gradebook rows for this learner; give at least one (student, exercise) row")
    students = {r.student for r in rows}
    if len(students) != 1:
        raise ReportError(f"the rows are of {len(students)} learners ({', '.join(sorted(students)[:4])}); "
                          "render one learner's rows at a time")
    order = _exercise_order(course, (r.exercise for r in rows))
    by_ex = {r.exercise: r for r in rows}
    exercises = [_exercise_view(course, by_ex[e], lang) for e in order]
    total = sum(e["score"] or 0 for e in exercises if e["graded"] or e["overridden"])
    possible = sum(e["max_score"] or 0 for e in exercises)
    return {"student": students.pop(), "student_name": student_name, "course_title": course.title,
            "course_id": course.id, "exercises": exercises, "total": total, "possible": possible,
            "version": __version__}


def render_learner(course, rows_for_student: list[ReportRow], lang: str = "fa",
                   student_name: str | None = None) -> tuple[str, str]:
    """(HTML page, Markdown) of one learner's feedback: one section per row (exercise)."""
    view = learner_view(course, rows_for_student, lang, student_name)
    html_text = template(lang, "learner.html.j2").render(**view)
    md_text = template(lang, "learner.md.j2").render(**view)
    return html_text, md_text


# --- the class dashboard ----------------------------------------------------------------------

def dashboard_view(course, grade_rows: list[GradeRow], gradings: list[GradingRow], lang: str = "en",
                   overrides: list[OverrideRow] | None = None) -> dict:
    """What the class dashboard shows (the template's variables)."""
    check_lang(lang)
    gettext, _ = gettext_for(lang)
    counting = counting_gradings(grade_rows, gradings)
    exercises = []
    failures: dict[tuple, dict] = {}
    for ex_id in _exercise_order(course, (r.exercise for r in grade_rows)):
        rows = [r for r in grade_rows if r.exercise == ex_id]
        scores = [100 * r.score / r.max_score for r in rows if r.score is not None and r.max_score]
        statuses = Counter(r.status for r in rows)
        tests: dict[str, dict] = {}
        durations, devices, backends = [], Counter(), Counter()
        for r in rows:
            g = counting.get((r.student, ex_id))
            if g is None:
                continue
            if g.duration_s is not None:
                durations.append(float(g.duration_s))
            if not g.is_grade:  # a failed grading is no learner's result
                continue
            devices[(g.device or "?").upper()] += 1
            if g.backend:
                backends[g.backend] += 1
            rj = g.result_json
            if not isinstance(rj, dict):
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
                key = (ex_id, kind, failure_signature(message))
                entry = failures.get(key)
                if entry is None:
                    params.setdefault("exercise", ex_id)
                    if metric:
                        params.update(metric_texts(metric, lang), accuracy="…", value="…")
                    entry = failures[key] = {"exercise": ex_id, "kind": kind, "hint": hint_text(kind, params, lang),
                                             "example": split_output(message)[0][:300], "count": 0,
                                             "students": set(), "tests": set()}
                entry["count"] += 1
                entry["students"].add(r.student)
                entry["tests"].add(name)
        for agg in tests.values():
            agg["rate"] = agg["passed"] / agg["total"] if agg["total"] else 0.0
        exercises.append({
            "id": ex_id, "title": _title(course, ex_id, lang), "count": len(rows),
            "graded": statuses[GradingState.GRADED], "pending": statuses[GradingState.PENDING],
            "failed": sum(statuses[s] for s in NO_GRADE),
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
        f["tests"] = listing(sorted(f["tests"]), lang, 6)
        del f["students"]
    late = [{"student": r.student, "exercise": r.exercise, "late_days": r.late_days, "factor": r.late_factor,
             "score": r.score, "auto_score": r.auto_score, "max_score": r.max_score} for r in grade_rows if r.late]
    latest_override = {(o.student_id, o.exercise_id): o for o in overrides or []}  # oldest first: the last counts
    overridden = []
    for r in grade_rows:
        if r.overridden:
            o = latest_override.get((r.student, r.exercise))
            overridden.append({"student": r.student, "exercise": r.exercise, "score": r.score,
                               "auto_score": r.auto_score, "max_score": r.max_score,
                               "reason": clean_text(r.override_reason or "")[:300],
                               "who": o.who if o is not None else "",
                               "when": when_text(o.created_at, lang) if o is not None else ""})
    problems = []  # every grading that is not a grade, with its cause: the instructor is told here
    for r in grade_rows:
        if r.status in NO_GRADE:
            g = counting.get((r.student, r.exercise))
            error = clean_text((g.error if g is not None else None) or r.error or "").strip()
            fault = (g.fault if g is not None else None) or r.fault
            problems.append({"student": r.student, "exercise": r.exercise, "status": r.status.value,
                             "fault": fault.value if fault is not None else "",
                             "error": error.splitlines()[0][:300] if error else ""})
    internal = []
    for (student, ex_id), g in sorted(counting.items()):
        for err in ((g.result_json or {}).get("extra_data") or {}).get("internal_errors") or []:
            internal.append({"student": student, "exercise": ex_id,
                             "error": clean_text(str(err)).strip().splitlines()[0][:300] if str(err).strip() else ""})
    return {"course_title": course.title, "course_id": course.id, "exercises": exercises,
            "failures": top[:TOP_FAILURES], "failure_kinds": len(top), "late": late, "overrides": overridden,
            "problems": problems, "internal": internal[:50],
            "students": len({r.student for r in grade_rows}), "submissions": len(grade_rows),
            "version": __version__}


def render_dashboard(course, grade_rows: list[GradeRow], gradings: list[GradingRow], lang: str = "en",
                     overrides: list[OverrideRow] | None = None) -> str:
    """The instructor's class dashboard (HTML) from `Gradebook.grade_rows()` and
    `Gradebook.grading_rows()`; `overrides` (`Gradebook.override_rows()`) adds who overrode and when."""
    view = dashboard_view(course, grade_rows, gradings, lang, overrides)
    return template(lang, "dashboard.html.j2").render(**view)


# --- the pages a run writes -------------------------------------------------------------------

def write_reports(course, gradebook, out_dir: Path | str, lang: str = "fa", *,
                  students: Iterable[str] | None = None) -> dict:
    """Write `<out>/<student>/report.html` and `report.md` for every learner with collected work,
    and `<out>/dashboard.html`. Returns {"learners": [html paths], "markdown": [md paths],
    "dashboard": path}."""
    check_lang(lang)
    grade_rows, gradings = load_rows(gradebook)
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
    make_folder(Path(out_dir).expanduser(), "reports")  # before rendering: a bad --out is said at once
    pages = {student: render_learner(course, rows, lang, names.get(student))
             for student, rows in sorted(by_student.items())}
    dashboard = render_dashboard(course, grade_rows, gradings, lang, gradebook.override_rows())
    return write_report_folder(out_dir, pages, dashboard)


def release_feedback(course, gradebook, lang: str = "fa", *, exercise: str | None = None,
                     student: str | None = None) -> list[Path]:
    """Put each graded (or overridden) (student, exercise)'s page into the exchange
    (`feedback/<student>/<exercise>/report.html|.md`, see `feedback.release_pages`); returns the
    folders written."""
    check_lang(lang)
    if exercise is not None and exercise not in course.deadlines:
        raise ReportError(f"unknown exercise {exercise!r} in course {course.id}; its exercises are: "
                          f"{', '.join(course.exercise_ids) or 'none'}")
    root = Path(course.exchange_path).expanduser()
    if not root.is_dir():
        raise ReportError(f"the exchange folder {root} does not exist; check [exchange] path in "
                          f"{course.toml_path} (dlgrade init creates it)")
    grade_rows, gradings = load_rows(gradebook)
    if student is not None and student not in {r.student for r in grade_rows}:
        raise ReportError(f"no collected work of {student!r} in the gradebook; `dlgrade grades` lists the learners")
    rows = [r for r in grade_rows
            if (exercise is None or r.exercise == exercise) and (student is None or r.student == student)
            and (r.status is not GradingState.PENDING or r.overridden)]
    if not rows:
        what = " of ".join(x for x in (exercise, student) if x)
        raise ReportError(f"nothing to release: no graded submission{' ' + what if what else ''}; run "
                          "`dlgrade autograde` first")
    pages = {(row.student, row.exercise): render_learner(course, [row], lang)
             for student_rows in learner_rows(rows, gradings).values() for row in student_rows}
    return release_pages(root, pages)


__all__ = ["ReportRow", "load_rows", "learner_rows", "counting_gradings", "exercise_meta", "learner_view",
           "render_learner", "dashboard_view", "render_dashboard", "write_reports", "release_feedback",
           "ReportError"]
