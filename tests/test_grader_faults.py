"""A grader fault is never a grade (issue 8, B).

Every test result carries a typed kind, set where it is known, and nothing downstream reads a
message's text to learn it. A grading whose sandbox cannot start is retried once in a fresh
sandbox, then stored as failed with its cause: never cached, graded again by the next autograde,
"failed" in autograde's summary and in `grades`, listed on the dashboard, "not graded yet" on the
learner's page, and missing (empty, never 0) in every export. A database error on one row is that
row's failure and the batch goes on, on SQLite and on PostgreSQL. Real sandboxes, real gradings,
real databases."""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from pg import fresh_database
from pg import postgres_url  # noqa: F401
from sqlalchemy import text

from grader.cli import main as cli_main
from grader.batch import run as batch_module
from grader.report import failures, views
from grader.batch.run import run_batch
from grader.exercise.cohort import submission_source
from grader.course.config import init_course
from grader.grading.engine import grade
from grader.gradebook.store import Gradebook
from grader.grading.result import Kind, Result
from grader.sandbox.limits import Limits
from grader.sandbox.errors import SandboxStartError
from grader.exercise.spec import find_exercise

START = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
GRADER_SENTENCE = ("the grader's sandbox could not start on this machine; this is not a problem in your code: "
                   "tell your instructor (a problem in the grader)")
_names = itertools.count()


def _write(folder: Path, source: str, name: str = "perceptron.py") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(source, encoding="utf-8")
    return folder


def _kinds(result: Result) -> dict[str, str]:
    return {t.name: t.kind for t in result.tests}


def _about(result: Result):
    """kinds of the tests whose name mentions a word (the function they are about)"""
    return lambda word: {t.kind for t in result.tests
                         if word in t.name and not (word == "step" and "exactly" in t.name)}


# --- one grading ------------------------------------------------------------------------------

def test_a_sandbox_that_cannot_start_is_retried_once_then_is_not_a_grade(tmp_path):
    ex = find_exercise("perceptron")
    sub = _write(tmp_path / "ali", submission_source(ex, "correct"))
    result = grade(ex, sub, "hidden", device="cpu", limits=Limits(start_seconds=0.001))
    assert result.extra_data["attempts"] == 2 and len(result.extra_data["earlier_faults"]) == 1
    assert result.tests and all(t.kind == Kind.GRADER_FAULT and t.status == "error" for t in result.tests)
    assert result.grader_fault and "could not start" in result.grader_fault
    assert not result.full_marks
    # the learner reads neither the instructor's details nor "tell your instructor"
    assert all("tell your instructor" not in t.output and "exit code" not in t.output for t in result.tests)
    again = Result.from_json(json.loads(result.dumps()))
    assert again.grader_fault and _kinds(again) == _kinds(result)


def test_the_retry_runs_in_a_fresh_sandbox(tmp_path):
    ex = find_exercise("perceptron")
    sub = _write(tmp_path / "ali", submission_source(ex, "correct"))
    calls = []

    def broken_factory(files, entry, limits, device):  # e.g. a zygote that died at start
        calls.append(entry)
        raise SandboxStartError("the grader's sandbox could not start on this machine", "zygote: EBADF")

    result = grade(ex, sub, "hidden", device="cpu", sandbox_factory=broken_factory)
    assert calls == ["perceptron.py"]  # tried once; the retry did not use it
    assert result.extra_data["attempts"] == 2 and "EBADF" in result.extra_data["earlier_faults"][0]
    assert result.full_marks and result.grader_fault is None


def test_kinds_from_real_gradings(tmp_path):
    ex = find_exercise("perceptron")
    solution = (ex.solution.read_text(encoding="utf-8"))
    limits = Limits(wall_seconds=40, test_seconds=2)
    # A: step raises MemoryError, predict is wrong, train is the template's placeholder, no logic_gate
    a = (solution.split("def step(")[0]
         + "def step(z):\n    raise MemoryError('a huge array')\n\n"
         + "def predict(X, w, b):\n    return np.ones(len(np.atleast_2d(X)), dtype=int)\n\n"
         + "def train_perceptron(X, y, lr=1.0, epochs=100):\n    raise NotImplementedError('write your code here')\n")
    result = grade(ex, _write(tmp_path / "a", a), "hidden", device="cpu", limits=limits)
    about = _about(result)  # the hidden tests' names change; what each calls does not
    assert about("step") == {Kind.MEMORY}
    assert Kind.WRONG_ANSWER in about("predict")
    assert about("train") == {Kind.NOT_IMPLEMENTED}
    assert about("nand") == about("unknown_gate") == {Kind.MISSING_FUNCTION}
    assert result.grader_fault is None
    step = next(t for t in result.tests if "step" in t.name)
    assert step.detail == {"function": "step", "error": "MemoryError"} and "memory limit is" in step.output

    # B: step raises an exception whose text is the grader-fault sentence, predict hangs,
    # logic_gate returns something that cannot be graded
    b = (solution.replace("def step(z):", f"def step(z):\n    raise RuntimeError({GRADER_SENTENCE!r})\n\n"
                                            "def _old_step(z):")
         .replace("def predict(X, w, b):", "def predict(X, w, b):\n    while True:\n        pass\n\n"
                                           "def _old_predict(X, w, b):")
         .replace("def logic_gate(", "def logic_gate(name):\n    return lambda: 0\n\n\ndef _old_logic_gate("))
    result = grade(ex, _write(tmp_path / "b", b), "hidden", device="cpu", limits=limits)
    about = _about(result)
    assert about("step") == {Kind.RAISED}  # the learner's, whatever its text says
    assert about("predict") == {Kind.TIMEOUT}
    assert about("nand") == about("unknown_gate") == {Kind.UNSENDABLE}
    assert about("xor") == {Kind.PASSED}
    assert result.grader_fault is None and result.extra_data["attempts"] == 1  # no retry: the learner's
    rj = result.to_json()
    step = next(t for t in rj["tests"] if "step" in t["name"])
    assert GRADER_SENTENCE in step["output"] and step["extra_data"]["kind"] == "raised"
    assert failures.classify(step) == ("raised", {"function": "step", "error": "RuntimeError"})
    assert "`step` raised RuntimeError" in failures.hint_text(*failures.classify(step), "en")

    # C: a file that does not import
    result = grade(ex, _write(tmp_path / "c", "import numpy as np\n\ndef step(:\n"), "hidden", device="cpu")
    assert set(_kinds(result).values()) == {Kind.IMPORT_ERROR} and result.grader_fault is None


# --- a batch: autograde, grades, exports, reports ---------------------------------------------

def _course_with(root: Path, learners: dict[str, dict[str, str]], db: str | None = None):
    """A course whose gradebook holds the given learners' submissions ({student: {exercise: kind}}),
    their files written under root/work (no exchange needed)."""
    course = init_course(root / "course", "faults", title="Faults", now=START)
    gradebook = Gradebook.open(db or course.gradebook_url)
    for student, exercises in learners.items():
        gradebook.add_student(student)
        for ex_id, kind in exercises.items():
            ex = course.exercise(ex_id)
            gradebook.upsert_exercise(ex_id, ex.title["en"], ex.content_hash())
            folder = _write(root / "work" / student / ex_id, submission_source(ex, kind), ex.entry)
            sha = hashlib.sha256(f"{student}/{ex_id}/{kind}".encode()).hexdigest()
            gradebook.add_submission(student, ex_id, sha, START - timedelta(hours=1), str(folder))
    return course, gradebook


def _set_start_seconds(course, ex_id: str, seconds: float | None) -> None:
    toml = course.exercises_dir / ex_id / "exercise.toml"
    body = re.sub(r"\nstart_seconds = .*", "", toml.read_text(encoding="utf-8"))
    if seconds is not None:
        body = body.replace("[limits]\n", f"[limits]\nstart_seconds = {seconds}\n")
    toml.write_text(body, encoding="utf-8")


def _invoke(*args) -> str:
    run = CliRunner().invoke(cli_main, [str(a) for a in args])
    assert run.exit_code == 0, run.output
    return run.output


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    """ali's perceptron cannot be graded (its sandbox never starts); ali's backprop can."""
    root = tmp_path_factory.mktemp("faulty")
    course, gradebook = _course_with(root, {"ali": {"perceptron": "correct", "backprop": "correct"}})
    _set_start_seconds(course, "perceptron", 0.001)
    first = _invoke("autograde", "--course", course.root, "--workers", "1", "--device", "cpu")
    yield course, gradebook, first, root
    gradebook.close()


def test_autograde_says_failed_with_the_cause_and_stores_no_score(faulty):
    course, gradebook, first, _ = faulty
    assert "graded 1, failed 1, cached 0 (retried 1)" in first, first
    assert re.search(r"failed ali / perceptron: grader fault in \d+ of \d+ tests", first), first
    assert "not a grade" in first
    (row,) = [g for g in gradebook.gradings() if g["exercise_id"] == "perceptron"]
    assert row["status"] == "failed" and row["fault"] == "grader_fault" and row["score"] is None
    assert "could not start" in row["error"] and row["result_json"]["extra_data"]["attempts"] == 2
    grades = json.loads(_invoke("grades", "--course", course.root, "--json"))
    (mine,) = [r for r in grades if r["exercise"] == "perceptron"]
    assert mine["status"] == "failed" and mine["score"] is None and mine["fault"] == "grader_fault"
    table = _invoke("grades", "--course", course.root)
    assert "failed (grader_fault)" in table


def test_a_failed_grading_is_never_cached_and_the_next_autograde_regrades_it(faulty):
    course, gradebook, _, _ = faulty
    again = _invoke("autograde", "--course", course.root, "--workers", "1", "--device", "cpu")
    assert "graded 0, failed 1, cached 1" in again, again
    (row,) = [g for g in gradebook.gradings() if g["exercise_id"] == "perceptron"]
    assert row["attempts"] == 2  # the same key, tried again


def test_exports_leave_it_missing_never_zero(faulty):
    course, _, _, root = faulty
    out = root / "exports"
    out.mkdir(exist_ok=True)
    _invoke("export", "--format", "csv", "--out", out / "grades.csv", "--course", course.root)
    (row,) = list(csv.DictReader((out / "grades.csv").open(encoding="utf-8")))
    assert row["perceptron"] == "" and float(row["backprop"]) > 0 and row["total"] == row["backprop"]
    _invoke("export", "--format", "canvas", "--out", out / "canvas.csv", "--course", course.root)
    lines = list(csv.reader((out / "canvas.csv").open(encoding="utf-8")))
    header, ali = lines[0], next(r for r in lines if r[0] == "ali")
    assert ali[header.index("perceptron")] == "" and float(ali[header.index("backprop")]) > 0
    _invoke("export", "--format", "gradescope", "--out", out / "gs", "--course", course.root)
    assert (out / "gs" / "ali" / "backprop" / "results.json").is_file()
    assert not (out / "gs" / "ali" / "perceptron").exists()


def test_learner_page_says_not_graded_yet_and_dashboard_lists_it(faulty):
    course, gradebook, _, _ = faulty
    rows, gradings = views.load_rows(gradebook)
    for lang, not_yet, told in (("en", "Not graded yet.", "This is not a 0"), ("fa", "هنوز نمره‌دهی نشده است.",
                                                                             "این صفر نیست")):
        html, md = views.render_learner(course, views.learner_rows(rows, gradings)["ali"], lang)
        section = html.split('id="ex-perceptron"')[1].split("</section>")[0]
        for page in (section, md):  # (backprop is graded: only perceptron can say these)
            assert not_yet in page and told in page
            assert "could not start" not in page and "exit code" not in page
        assert "0 of 22" not in html and "0 / 22" not in html
        dashboard = views.render_dashboard(course, rows, gradings, lang)
        assert re.search(r"<code dir=\"ltr\">ali</code></td><td><code dir=\"ltr\">perceptron</code></td><td>failed "
                         r"<code dir=\"ltr\">grader_fault</code></td><td><div class=\"msg\" dir=\"ltr\">grader fault",
                         dashboard), dashboard


def test_dlgrade_grade_exits_3_and_says_it_is_not_a_grade(faulty, monkeypatch):
    course, _, _, root = faulty
    monkeypatch.chdir(course.root)
    run = CliRunner().invoke(cli_main, ["grade", "perceptron", str(root / "work" / "ali" / "perceptron"),
                                        "--device", "cpu"])
    assert run.exit_code == 3, run.output
    assert "not graded: grader fault" in run.output


def test_once_the_machine_is_fixed_the_next_autograde_grades_it(faulty):
    course, gradebook, _, _ = faulty
    _set_start_seconds(course, "perceptron", None)
    fixed = _invoke("autograde", "--course", course.root, "--workers", "1", "--device", "cpu")
    assert "graded 1, failed 0, cached 1" in fixed, fixed
    (row,) = [r for r in gradebook.grades() if r["exercise"] == "perceptron"]
    assert row["status"] == "graded" and row["score"] == row["max_score"] > 0 and row["fault"] is None


# --- one bad row never stops a batch ----------------------------------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'gradebook.sqlite'}"
    return fresh_database(request.getfixturevalue("postgres_url"), f"faults{next(_names)}")


FORGED = "FORGED-" + "<b>x</b>" * 40  # a device string of 327 characters: over the column's 200


def _refuse_forged_rows(gradebook: Gradebook) -> None:
    """PostgreSQL refuses the over-long value by itself ("value too long"); SQLite does not enforce
    VARCHAR lengths, so a trigger refuses it there the same way (and on PostgreSQL too, should the
    value ever be capped before it reaches the database)."""
    with gradebook.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("CREATE TRIGGER refuse_forged BEFORE INSERT ON gradings "
                              "WHEN NEW.device LIKE 'FORGED%' BEGIN "
                              "SELECT RAISE(ABORT, 'value too long for type character varying(200)'); END"))
        else:
            conn.execute(text("CREATE FUNCTION refuse_forged() RETURNS trigger AS $$ BEGIN "
                              "IF NEW.device LIKE 'FORGED%' THEN RAISE EXCEPTION "
                              "'value too long for type character varying(200)' USING ERRCODE = '22001'; "
                              "END IF; RETURN NEW; END $$ LANGUAGE plpgsql"))
            conn.execute(text("CREATE TRIGGER refuse_forged BEFORE INSERT OR UPDATE ON gradings "
                              "FOR EACH ROW EXECUTE FUNCTION refuse_forged()"))


def test_a_database_error_on_one_row_fails_that_row_only(db_url, tmp_path, monkeypatch):
    course, gradebook = _course_with(tmp_path, {"ali": {"perceptron": "correct"}, "bita": {"perceptron": "correct"},
                                                "cyrus": {"perceptron": "partial"}}, db=db_url)
    _refuse_forged_rows(gradebook)

    class ForgingPool(batch_module.LocalPool):  # bita's grading comes back with forged metadata
        def run(self, tasks):
            for task, response in super().run(tasks):
                if task.student == "bita" and "result" in response:
                    response["result"]["extra_data"]["device"] = FORGED
                yield task, response

    monkeypatch.setattr(batch_module, "LocalPool", ForgingPool)
    tasks, _ = batch_module.plan(course, gradebook)
    assert [t.student for t in tasks] == ["ali", "bita", "cyrus"]  # a learner is graded after the bad row
    summary = run_batch(course, gradebook, workers=1, device="cpu")
    assert summary.graded == 2 and summary.failed == 1, summary
    by = {r["student"]: r for r in gradebook.grades()}
    assert by["ali"]["status"] == by["cyrus"]["status"] == "graded" and by["ali"]["score"] == by["ali"]["max_score"]
    assert by["bita"]["status"] == "failed" and by["bita"]["fault"] == "database" and by["bita"]["score"] is None
    assert "value too long" in by["bita"]["error"] and "could not store this grading" in by["bita"]["error"]
    (row,) = [r for r in summary.rows if r["student"] == "bita"]
    assert row["fault"] == "database" and row["score"] is None

    monkeypatch.setattr(batch_module, "LocalPool", ForgingPool.__mro__[1])  # honest workers again
    rerun = run_batch(course, gradebook, workers=1, device="cpu")
    assert (rerun.graded, rerun.failed, rerun.cached) == (1, 0, 2), rerun
    assert {r["student"]: r["status"] for r in gradebook.grades()}["bita"] == "graded"
    gradebook.close()


def test_the_kind_comes_from_the_exception_never_its_text():
    from grader.grading.plugin import _died_kind, failure
    from grader.sandbox.errors import SandboxDied
    from grader.exercise.testing import Feedback, GraderFault, SubmissionRaised, SubmissionUnavailable

    def raised(type_name, mro=("Exception",), message=GRADER_SENTENCE):
        return SubmissionRaised("f", type_name, [type_name, *mro], message, "")
    assert failure(raised("RuntimeError"), 1024)[1] == Kind.RAISED
    assert failure(raised("NotImplementedError", ("RuntimeError", "Exception")), 1024)[1] == Kind.NOT_IMPLEMENTED
    assert failure(raised("MyOOM", ("MemoryError", "Exception")), 1024)[1] == Kind.MEMORY  # a subclass too
    assert failure(Feedback(GRADER_SENTENCE), 1024)[1] == Kind.WRONG_ANSWER
    assert failure(SubmissionUnavailable("took longer than 10 s", "timeout"), 1024)[:2] == ("timeout", Kind.TIMEOUT)
    for trusted_side in (GraderFault("held-out data missing"), KeyError("x"), ValueError("shapes"), None):
        status, kind, text = failure(trusted_side, 1024)
        assert (status, kind) == ("error", Kind.GRADER_FAULT) and "held-out" not in text and "not in your code" in text
    died = SandboxDied("was killed")
    assert _died_kind(died) == Kind.CRASHED
    died.oom = True  # the sandbox knows the kernel killed the grading's tree for memory
    assert _died_kind(died) == Kind.MEMORY


def test_a_worker_retries_a_grader_fault_from_a_fresh_zygote(tmp_path, monkeypatch):
    """A worker's zygote that cannot fork a sandbox is retired and the grading runs again from a new
    zygote; the answer is a grade, and the worker says it took two attempts."""
    import dataclasses

    from grader.batch import worker
    from grader.sandbox.zygote import ZygotePool

    ex = dataclasses.replace(find_exercise("perceptron"), preload=["numpy"])  # forked from a zygote
    monkeypatch.setattr("grader.exercise.spec.load_exercise", lambda *a, **k: ex)
    sub = _write(tmp_path / "ali", submission_source(ex, "correct"))
    events = []

    class FirstZygoteBroken(ZygotePool):
        def factory(self, preload, device, limits):
            events.append("factory")
            if events.count("factory") == 1:
                def broken(*args):
                    raise SandboxStartError("the grader's sandbox could not start on this machine", "zygote: EBADF")
                return broken
            return super().factory(preload, device, limits)

        def close(self):
            events.append("close")
            super().close()

    pool = FirstZygoteBroken(worker.BATCH_FIRST_SLOT - 1)
    monkeypatch.setattr(worker, "_zygotes", lambda slot: pool)
    try:
        answer = worker.run_task({"task_id": "t1", "exercise_dir": str(ex.directory), "solutions_dir": "",
                                  "submission_path": str(sub), "device": "cpu"}, slot=3)
    finally:
        pool.close()
    assert events[:3] == ["factory", "close", "factory"]  # the retry retired the zygotes, then a new one
    assert "fault" not in answer, answer.get("error")
    result = Result.from_json(answer["result"])
    assert result.full_marks and result.extra_data["attempts"] == 2
    assert result.extra_data["sandbox"]["started_by"] == "zygote"


def test_a_worker_forks_numpy_exercises_from_a_numpy_zygote_and_retires_a_dirty_one(tmp_path, monkeypatch):
    """An exercise that preloads nothing is graded by a worker from a zygote that preloaded numpy;
    a zygote whose wipe was not clean never serves the next learner."""
    from grader.batch import worker
    from grader.sandbox.zygote import DEFAULT_PRELOAD, ZygotePool

    ex = find_exercise("perceptron")
    assert not ex.preload
    sub = _write(tmp_path / "ali", submission_source(ex, "correct"))
    task = {"task_id": "t1", "exercise_dir": str(ex.directory), "solutions_dir": str(ex.solution_dir.parent),
            "submission_path": str(sub), "device": "cpu"}
    pool = ZygotePool(worker.BATCH_FIRST_SLOT - 1)
    monkeypatch.setattr(worker, "_zygotes", lambda slot: pool)
    try:
        first = worker.run_task(task, slot=3)
        assert [key[0] for key in pool.zygotes] == [tuple(DEFAULT_PRELOAD)] == [("numpy",)]
        zygote = next(iter(pool.zygotes.values()))
        zygote.dirty = True  # as when a wipe reports leftovers
        second = worker.run_task(task, slot=3)
        assert next(iter(pool.zygotes.values())) is not zygote and not zygote.alive()
    finally:
        pool.close()
    for answer in (first, second):
        assert "fault" not in answer, answer.get("error")
        result = Result.from_json(answer["result"])
        assert result.full_marks and result.extra_data["sandbox"]["started_by"] == "zygote"
        assert result.extra_data["attempts"] == 1


def test_a_worker_refuses_a_device_the_machine_lacks_as_a_fresh_sandbox_would(tmp_path):
    """The device is resolved by the engine, with or without a zygote: a GPU demanded where there is
    none is the same answer either way, and no zygote is started for it."""
    from grader.batch import worker
    from grader.sandbox.devices import gpu_devices
    if gpu_devices():
        pytest.skip("this machine has a GPU")
    ex = find_exercise("keras-mlp")
    sub = _write(tmp_path / "ali", ex.template.read_text(encoding="utf-8"), ex.entry)
    task = {"task_id": "t1", "exercise_dir": str(ex.directory), "solutions_dir": str(ex.solution_dir.parent),
            "submission_path": str(sub), "device": "gpu"}
    answers = [worker.run_task(task, slot=3, use_zygote=use) for use in (True, False)]
    assert answers[0] == answers[1]
    assert answers[0]["fault"] == "submission" and "no NVIDIA GPU" in answers[0]["error"]
    assert worker._pool is None or not worker._pool.zygotes
