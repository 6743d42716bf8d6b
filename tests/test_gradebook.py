"""The gradebook on SQLite and on a real PostgreSQL server (started by tests/pg.py)."""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from pg import fresh_database
from pg import postgres_url  # noqa: F401
from sqlalchemy import create_engine, event, inspect, text

from grader import gradebook as gradebook_module
from grader.gradebook.rows import GradeRow, GradingFault, GradingRow, GradingState, SubmissionRow
from grader.gradebook.models import Base
from grader.gradebook.store import Gradebook
from grader.gradebook import database as database_module
from grader.gradebook.database import GradebookError, alembic_config
from grader.grading.result import Result
from grader.grading.result import TestResult as OneTest

TABLES = {"students", "exercises", "submissions", "gradings", "overrides", "alembic_version",
          "people", "tokens", "releases"}  # the last three: the server's (revision 0004)
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
_names = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """An empty database: a SQLite file, or a fresh database on the session's PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'gradebook.sqlite'}"
    return fresh_database(request.getfixturevalue("postgres_url"), f"t{next(_names)}")


@pytest.fixture
def gb(db_url):
    book = Gradebook(db_url)
    yield book
    book.close()


def result_json(score: float, max_score: float = 10.0) -> dict:
    tests = [OneTest("test_a", score, max_score, "passed" if score == max_score else "failed", "hint")]
    return Result("perceptron", "hidden", tests, 1.5, "", {"grader_version": "0.1.0", "device": "cpu"}).to_json()


def seed(gb: Gradebook) -> None:
    for student in ("alice", "bob", "carol"):
        gb.add_student(student, student.title())
    gb.upsert_exercise("perceptron", "Perceptron", "ex-hash-1")
    gb.upsert_exercise("backprop", "Backprop", "ex-hash-2")


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_migrations_from_empty(db_url):
    gb = Gradebook.open(db_url)
    try:
        assert gb.revision() == head_revision()
        with gb.engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) == TABLES
        gb.add_student("alice")
    finally:
        gb.close()
    again = Gradebook(db_url)  # open runs upgrade again: a no-op that keeps the data
    try:
        assert again.revision() == head_revision()
        assert [s["id"] for s in again.students()] == ["alice"]
    finally:
        again.close()
    assert "create_all" not in Path(gradebook_module.__file__).read_text()


def test_models_match_migrated_schema(gb):
    with gb.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_students_exercises_submissions_are_idempotent(gb):
    seed(gb)
    gb.add_student("alice")
    gb.add_student("alice", "Alice A.")
    assert [(s["id"], s["name"]) for s in gb.students()] == [("alice", "Alice A."), ("bob", "Bob"), ("carol", "Carol")]
    gb.upsert_exercise("perceptron", "Perceptron", "ex-hash-1b")
    assert {e["id"]: e["content_hash"] for e in gb.exercises()}["perceptron"] == "ex-hash-1b"

    first = gb.add_submission("alice", "perceptron", "a" * 64, T0, "/x/alice/perceptron.py")
    assert gb.add_submission("alice", "perceptron", "a" * 64, T0, "/elsewhere.py", late=True) == first
    assert gb.add_submission("alice", "perceptron", "a" * 64, T0.isoformat(), "/x") == first
    later = gb.add_submission("alice", "perceptron", "b" * 64, T0 + timedelta(days=2), "/x/2", late=True, late_days=1.5)
    assert later != first
    subs = gb.submissions(student_id="alice")
    assert [s["id"] for s in subs] == [first, later]
    assert subs[0]["submitted_at"] == T0 and subs[0]["submitted_at"].tzinfo is not None
    assert subs[0]["path"] == "/x/alice/perceptron.py" and subs[0]["late"] is False
    latest = gb.latest_submission("alice", "perceptron")
    assert latest["id"] == later and latest["late"] is True and latest["late_days"] == 1.5
    assert gb.latest_submission("bob", "perceptron") is None
    with pytest.raises(GradebookError, match="unknown student 'zed'"):
        gb.add_submission("zed", "perceptron", "c" * 64, T0, "/x")


def test_record_grading_is_exactly_once(gb):
    seed(gb)
    sub = gb.add_submission("alice", "perceptron", "a" * 64, T0, "/x")
    key = Gradebook.grading_key("a" * 64, "ex-hash-1", "0.1.0")
    assert key == f"{'a' * 64}:ex-hash-1:0.1.0"
    crashed = gb.record_grading(sub, key, "ex-hash-1", "0.1.0", None, "crashed", "cpu", "", 3.0,
                                error="the grading worker died (signal 9)")
    assert gb.find_grading(key) is None  # a crash is no cached result
    graded = gb.record_grading(sub, key, "ex-hash-1", "0.1.0", result_json(7), "graded", "cpu", "tensorflow", 2.5)
    assert graded == crashed
    rows = gb.gradings()
    assert len(rows) == 1
    row = rows[0]
    assert row["attempts"] == 2 and row["status"] == "graded" and row["error"] is None
    assert (row["score"], row["max_score"]) == (7.0, 10.0)
    assert row["result"].score == 7.0 and row["result_json"]["tests"][0]["name"] == "test_a"
    found = gb.find_grading(key)
    assert found["id"] == graded and found["result_json"]["score"] == 7.0 and found["backend"] == "tensorflow"
    with gb.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM gradings")).scalar() == 1


def test_a_failed_grading_keeps_its_fault_and_never_a_score(gb):
    seed(gb)
    sub = gb.add_submission("alice", "perceptron", "a" * 64, T0, "/x")
    key = Gradebook.grading_key("a" * 64, "ex-hash-1", "0.1.0")
    gb.record_grading(sub, key, "ex-hash-1", "0.1.0", result_json(0), "failed", "cpu", "", 2.0,
                      error="grader fault in 1 of 1 tests (test_a): the sandbox could not start", fault="grader_fault")
    assert gb.find_grading(key) is None  # never cached: the next autograde grades it again
    (row,) = gb.grades()
    assert row["status"] == "failed" and row["score"] is None and row["auto_score"] is None
    assert row["fault"] == "grader_fault" and "could not start" in row["error"] and row["max_score"] == 10.0
    assert gb.grades_matrix()["alice"]["perceptron"] is None  # missing, not 0
    (typed,) = gb.grade_rows()
    assert (typed.status, typed.fault, typed.score, typed.counts) == (GradingState.FAILED, GradingFault.GRADER_FAULT,
                                                                      None, False)
    with pytest.raises(GradebookError, match="grading fault 'oops' is not one of grader_fault, submission"):
        gb.record_grading(sub, key, "ex-hash-1", "0.1.0", None, "failed", None, None, None, fault="oops")
    with pytest.raises(GradebookError, match="a graded grading has no fault"):
        gb.record_grading(sub, key, "ex-hash-1", "0.1.0", result_json(3), "graded", None, None, None,
                          fault="grader_fault")
    gb.record_grading(sub, key, "ex-hash-1", "0.1.0", result_json(9), "graded", "cpu", "", 2.0)
    (row,) = gb.grades()
    assert (row["status"], row["score"], row["fault"], row["error"]) == ("graded", 9.0, None, None)


def test_a_gradebook_of_the_first_schema_is_migrated_with_its_rows(db_url):
    from alembic import command
    from sqlalchemy import create_engine
    engine = create_engine(db_url)
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(text("INSERT INTO students (id, created_at) VALUES ('alice', '2025-03-01 12:00:00')"))
        conn.execute(text("INSERT INTO exercises (id, title, content_hash, updated_at) "
                          "VALUES ('perceptron', 'P', 'h', '2025-03-01 12:00:00')"))
        conn.execute(text("INSERT INTO submissions (student_id, exercise_id, sha256, submitted_at, collected_at, "
                          "late, late_days, path) VALUES ('alice', 'perceptron', 'a', '2025-03-01 12:00:00', "
                          "'2025-03-01 12:00:00', false, 0, '/x')"))
        conn.execute(text("INSERT INTO gradings (submission_id, key, exercise_hash, grader_version, status, score, "
                          "max_score, attempts, created_at) VALUES (1, 'k', 'h', '0.1.0', 'graded', 4, 10, 1, "
                          "'2025-03-01 12:00:00')"))
    engine.dispose()
    with Gradebook(db_url) as gb:
        assert gb.revision() == head_revision()
        (row,) = gb.grades()
        assert (row["status"], row["score"], row["fault"]) == ("graded", 4.0, None)


def test_the_head_revision_read_from_the_files_is_alembics():
    """`open` skips Alembic for a gradebook at the head it reads off the migration files: that
    reading must be Alembic's own head, or a gradebook one migration behind would not be migrated."""
    assert database_module.head_revision() == head_revision()


def test_an_up_to_date_gradebook_opens_without_loading_alembic(db_url):
    Gradebook(db_url).close()  # made and migrated
    probe = ("import sys; from grader.gradebook.store import Gradebook; gb = Gradebook(sys.argv[1]); "
             "gb.add_student('alice'); print(gb.students()[0]['id'], 'alembic' in sys.modules); gb.close()")
    done = subprocess.run([sys.executable, "-c", probe, db_url], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["alice", "False"]


def test_a_gradebook_of_a_newer_dlgrade_is_refused_untouched(db_url):
    Gradebook(db_url).close()
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(GradebookError, match="migrated by a newer dlgrade"):
        Gradebook(db_url)
    engine = create_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == ["9999"]
    engine.dispose()


def test_a_transaction_that_fails_midway_leaves_nothing(gb):
    seed(gb)
    sub = gb.add_submission("alice", "perceptron", "a" * 64, T0, "/x")
    key = Gradebook.grading_key("a" * 64, "ex-hash-1", "0.1.0")
    with pytest.raises(RuntimeError, match="killed"):
        with gb.transaction():
            gb.record_grading(sub, key, "ex-hash-1", "0.1.0", result_json(5), "graded", "cpu", "tf", 1.0)
            gb.override("alice", "perceptron", 9, "regrade", "ta")
            raise RuntimeError("coordinator killed half way")
    assert gb.gradings() == [] and gb.overrides() == [] and gb.find_grading(key) is None

    def boom(session):  # the process dies after the INSERT, before COMMIT
        raise RuntimeError("killed before commit")

    event.listen(gb._Session, "before_commit", boom)
    try:
        with pytest.raises(RuntimeError, match="killed before commit"):
            gb.record_grading(sub, key, "ex-hash-1", "0.1.0", result_json(5), "graded", "cpu", "tf", 1.0)
    finally:
        event.remove(gb._Session, "before_commit", boom)
    assert gb.gradings() == []
    gb.record_grading(sub, key, "ex-hash-1", "0.1.0", result_json(5), "graded", "cpu", "tf", 1.0)
    assert [g["attempts"] for g in gb.gradings()] == [1]


def test_overrides_latest_counts_history_kept(gb):
    seed(gb)
    sub = gb.add_submission("bob", "perceptron", "b" * 64, T0, "/x")
    gb.record_grading(sub, Gradebook.grading_key("b" * 64, "ex-hash-1", "0.1.0"), "ex-hash-1", "0.1.0",
                      result_json(4), "graded", "cpu", "tf", 1.0)
    gb.override("bob", "perceptron", 6, "partial credit for the plot", "ta1")
    gb.override("bob", "perceptron", 8.5, "appeal accepted", "prof")
    history = gb.overrides("bob", "perceptron")
    assert [(o["score"], o["who"]) for o in history] == [(6.0, "ta1"), (8.5, "prof")]
    (row,) = gb.grades()
    assert row["score"] == 8.5 and row["auto_score"] == 4.0 and row["overridden"] is True
    assert row["override_reason"] == "appeal accepted"

    with pytest.raises(GradebookError, match="unknown student 'zed'.*alice, bob, carol") as err:
        gb.override("zed", "perceptron", 5, "typo", "ta1")
    assert "\n" not in str(err.value)
    with pytest.raises(GradebookError, match="unknown exercise 'cnn'.*backprop, perceptron"):
        gb.override("bob", "cnn", 5, "typo", "ta1")
    with pytest.raises(GradebookError, match=">= 0"):
        gb.override("bob", "perceptron", -1, "typo", "ta1")
    assert len(gb.overrides()) == 2 and gb.grades()[0]["score"] == 8.5


def test_grades_rows(gb):
    seed(gb)
    ver = "0.1.0"
    old = gb.add_submission("alice", "perceptron", "a1" * 32, T0, "/a/1")
    new = gb.add_submission("alice", "perceptron", "a2" * 32, T0 + timedelta(days=1), "/a/2", late=True, late_days=0.5)
    gb.record_grading(old, Gradebook.grading_key("a1" * 32, "ex-hash-1", ver), "ex-hash-1", ver, result_json(10),
                      "graded", "cpu", "tf", 1.0)
    gb.record_grading(new, Gradebook.grading_key("a2" * 32, "ex-hash-1", ver), "ex-hash-1", ver, result_json(6),
                      "graded", "gpu", "jax", 1.0)
    # carol hands in exactly alice's newest files: the same key, one grading row serves both
    carol = gb.add_submission("carol", "perceptron", "a2" * 32, T0, "/c/1")
    bob = gb.add_submission("bob", "perceptron", "b" * 64, T0, "/b/1")
    gb.record_grading(bob, Gradebook.grading_key("b" * 64, "ex-hash-1", ver), "ex-hash-1", ver, None,
                      "failed", "cpu", "tf", 0.2, error="the submission cannot be graded: SyntaxError")
    gb.add_submission("bob", "backprop", "c" * 64, T0, "/b/2")  # not graded yet

    rows = {(r["student"], r["exercise"]): r for r in gb.grades()}
    assert sorted(rows) == [("alice", "perceptron"), ("bob", "backprop"), ("bob", "perceptron"),
                            ("carol", "perceptron")]
    alice = rows["alice", "perceptron"]
    assert (alice["score"], alice["max_score"], alice["status"]) == (6.0, 10.0, "graded")
    assert alice["late"] is True and alice["late_days"] == 0.5 and alice["overridden"] is False
    assert alice["override_reason"] is None and alice["submission_id"] == new
    assert isinstance(alice["graded_at"], datetime) and alice["graded_at"].tzinfo is not None
    assert rows["carol", "perceptron"]["score"] == 6.0 and rows["carol", "perceptron"]["submission_id"] == carol
    assert rows["bob", "perceptron"]["status"] == "failed" and rows["bob", "perceptron"]["score"] is None
    assert rows["bob", "backprop"]["status"] == "pending" and rows["bob", "backprop"]["graded_at"] is None

    assert gb.grades_matrix() == {"alice": {"backprop": None, "perceptron": 6.0},
                                  "bob": {"backprop": None, "perceptron": None},
                                  "carol": {"backprop": None, "perceptron": 6.0}}
    alice_rows = gb.gradings(student_id="alice", exercise_id="perceptron")
    assert [(g["submission_id"], g["score"]) for g in alice_rows] == [(old, 10.0), (new, 6.0)]
    assert isinstance(alice_rows[1]["result"], Result) and alice_rows[1]["backend"] == "jax"
    (carol_row,) = gb.gradings(student_id="carol")
    assert carol_row["grading_id"] == alice_rows[1]["grading_id"] and carol_row["submission_id"] == carol
    (bob_row,) = gb.gradings(student_id="bob")
    assert bob_row["result"] is None and "SyntaxError" in bob_row["error"]


def test_typed_rows_apply_the_stored_late_factor_once(gb):
    seed(gb)
    ver = "0.1.0"
    on_time = gb.add_submission("alice", "perceptron", "a" * 64, T0, "/a/1")
    late = gb.add_submission("bob", "perceptron", "b" * 64, T0, "/b/1", late=True, late_days=1.2, late_factor=0.8)
    for sub, sha in ((on_time, "a" * 64), (late, "b" * 64)):
        gb.record_grading(sub, Gradebook.grading_key(sha, "ex-hash-1", ver), "ex-hash-1", ver, result_json(5),
                          "graded", "cpu", "tf", 1.0)
    gb.add_submission("carol", "perceptron", "c" * 64, T0, "/c/1", late=True, late_days=3.0, late_factor=0.5)
    gb.override("carol", "perceptron", 7, "oral exam", "ta")  # an override is never penalized
    rows = {r.student: r for r in gb.grade_rows()}
    assert all(isinstance(r, GradeRow) for r in rows.values())
    assert (rows["alice"].score, rows["alice"].late_factor, rows["alice"].status) == (5.0, 1.0, GradingState.GRADED)
    bob = rows["bob"]
    assert (bob.score, bob.auto_score, bob.late_factor, bob.late_days) == (4.0, 5.0, 0.8, 1.2) and bob.counts
    assert bob.grading_id == gb.grading_rows(student="bob")[0].grading_id
    carol = rows["carol"]
    assert (carol.score, carol.overridden, carol.status, carol.late_factor) == (7.0, True, GradingState.PENDING, 0.5)
    assert gb.grades_matrix()["bob"]["perceptron"] == 4.0
    # the JSON view is the same rows: the factor is applied once, in the gradebook, for every reader
    assert {r["student"]: r["score"] for r in gb.grades()} == {"alice": 5.0, "bob": 4.0, "carol": 7.0}
    (grading,) = gb.grading_rows(student="bob")
    assert isinstance(grading, GradingRow) and grading.status == "graded" and grading.status is GradingState.GRADED
    with pytest.raises(GradebookError, match="a late factor is a number from 0 to 1"):
        gb.add_submission("alice", "backprop", "d" * 64, T0, "/a/2", late=True, late_factor=1.5)


def test_the_counting_submission_is_decided_in_one_place(gb):
    seed(gb)
    first = gb.add_submission("alice", "perceptron", "a1" * 32, T0, "/a/1")
    second = gb.add_submission("alice", "perceptron", "a2" * 32, T0 - timedelta(days=1), "/a/2")  # collected last
    gb.add_submission("bob", "perceptron", "b" * 64, T0, "/b/1")
    counting = gb.counting_submissions()
    assert all(isinstance(r, SubmissionRow) for r in counting)
    assert [(r.student_id, r.exercise_id, r.id) for r in counting] == [("alice", "perceptron", second),
                                                                       ("bob", "perceptron", counting[1].id)]
    assert [r.id for r in gb.counting_submissions(student="alice")] == [second] != [first]
    assert gb.counting_submissions(exercise="backprop") == []
    assert gb.latest_submission("alice", "perceptron")["id"] == second
    assert {r.submission_id for r in gb.grade_rows() if r.student == "alice"} == {second}


def test_late_rows_of_a_gradebook_before_0003_get_their_factor_at_the_next_collect(db_url):
    from alembic import command
    from sqlalchemy import create_engine
    engine = create_engine(db_url)
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
        conn.execute(text("INSERT INTO students (id, created_at) VALUES ('alice', '2025-03-01 12:00:00'), "
                          "('bob', '2025-03-01 12:00:00')"))
        conn.execute(text("INSERT INTO exercises (id, title, content_hash, updated_at) "
                          "VALUES ('perceptron', 'P', 'h', '2025-03-01 12:00:00')"))
        for sid, student, late, days in ((1, "alice", "false", 0), (2, "bob", "true", 1.5)):
            conn.execute(text("INSERT INTO submissions (student_id, exercise_id, sha256, submitted_at, "
                              f"collected_at, late, late_days, path) VALUES ('{student}', 'perceptron', '{sid}', "
                              f"'2025-03-01 12:00:00.000000', '2025-03-01 12:00:00', {late}, {days}, '/x')"))  # as SQLAlchemy writes it
            conn.execute(text("INSERT INTO gradings (submission_id, key, exercise_hash, grader_version, status, "
                              f"score, max_score, attempts, created_at) VALUES ({sid}, 'k{sid}', 'h', '0.1.0', "
                              "'graded', 4, 10, 1, '2025-03-01 12:00:00')"))
    engine.dispose()
    with Gradebook(db_url) as gb:
        rows = {r.student: r for r in gb.grade_rows()}
        assert (rows["alice"].score, rows["alice"].late_factor) == (4.0, 1.0)
        assert (rows["bob"].score, rows["bob"].late_factor) == (4.0, None)  # not recorded: none applied
        again = gb.add_submission("bob", "perceptron", "2", datetime(2025, 3, 1, 12, 0), "/x", late=True,
                                  late_days=1.5, late_factor=0.8)
        assert again == 2
        assert {r.student: r.score for r in gb.grade_rows()} == {"alice": 4.0, "bob": 3.2}
        gb.add_submission("bob", "perceptron", "2", datetime(2025, 3, 1, 12, 0), "/x", late=True, late_factor=0.5)
        assert {r.student: r.late_factor for r in gb.grade_rows()}["bob"] == 0.8  # recorded once, kept


def test_corrupt_sqlite_file_is_refused_untouched(tmp_path):
    path = tmp_path / "x.sqlite"
    junk = os.urandom(4096)
    path.write_bytes(junk)
    for where in (str(path), f"sqlite:///{path}"):
        with pytest.raises(GradebookError, match="is not a dlgrade gradebook") as err:
            Gradebook(where)
        message = str(err.value)
        assert str(path) in message and "backup" in message and "\n" not in message
    assert path.read_bytes() == junk
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.sqlite"]  # no -wal / -shm either

    other = tmp_path / "other.sqlite"  # a SQLite database, but someone else's
    import sqlite3
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.close()
    before = other.read_bytes()
    with pytest.raises(GradebookError, match="other tables"):
        Gradebook(other)
    assert other.read_bytes() == before


def test_a_plain_path_is_a_sqlite_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    gb = Gradebook("book.sqlite")
    try:
        assert gb.url.get_backend_name() == "sqlite" and gb.url.database == str(tmp_path / "book.sqlite")
        gb.add_student("alice")
        with gb.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0
    finally:
        gb.close()
    assert (tmp_path / "book.sqlite").is_file()
    with pytest.raises(GradebookError, match="does not exist"):
        Gradebook(tmp_path / "no" / "such" / "dir" / "book.sqlite")


def test_unreachable_postgresql_fails_fast():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql+psycopg://grader:s3cret@127.0.0.1:{port}/dlgrade"
    t0 = time.monotonic()
    with pytest.raises(GradebookError, match="cannot be reached") as err:
        Gradebook(url)
    assert time.monotonic() - t0 < 10
    message = str(err.value)
    assert f"127.0.0.1:{port}" in message and "s3cret" not in message and "\n" not in message


def test_record_gradings_writes_a_group_in_one_transaction_or_nothing(tmp_path):
    from grader.gradebook.store import GradingRecord
    gb = Gradebook(tmp_path / "g.sqlite")
    gb.add_student("ali")
    gb.upsert_exercise("perceptron", "Perceptron", "h")
    subs = [gb.add_submission("ali", "perceptron", f"sha{i}", f"2024-01-0{i + 1}T00:00:00+00:00", "p")
            for i in range(3)]
    result = {"score": 2.0, "max_score": 4.0, "tests": []}
    ids = gb.record_gradings([GradingRecord(s, f"k{s}", "h", "v", result, "graded") for s in subs])
    assert len(set(ids)) == 3 and {r["key"] for r in gb.gradings()} == {f"k{s}" for s in subs}
    with pytest.raises(GradebookError, match="no submission 999"):  # one bad record: nothing of the group
        gb.record_gradings([GradingRecord(subs[0], "new", "h", "v", result, "graded"),
                            GradingRecord(999, "bad", "h", "v", result, "graded")])
    assert gb.find_grading("new") is None
    gb.record_gradings([GradingRecord(subs[0], f"k{subs[0]}", "h", "v", result, "graded")])  # again: attempts + 1
    (row,) = [r for r in gb.gradings() if r["key"] == f"k{subs[0]}"]
    assert row["attempts"] == 2 and row["score"] == 2.0
    gb.close()
