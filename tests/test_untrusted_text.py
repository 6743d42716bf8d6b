"""Everything from the sandbox is untrusted data, cleaned once at the wire (issue 8, E; findings 6
and 8): device and versions come from the runner's hello only, a learner's text never reaches a
terminal as a control sequence or Rich markup, JSON is printed ASCII-only, no gradebook column can
be overflowed, and a 0-d array keeps its shape. Real gradings of the submissions in tests/hostile."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from itertools import count

import pytest

from conftest import HOSTILE_DIR, REPO
from pg import fresh_database
from pg import postgres_url  # noqa: F401
from grader.sandbox.inside import wire
from grader.grading.engine import grade
from grader.gradebook.store import Gradebook
from grader.sandbox.channel import OutputReader as _OutputReader

SLOT = 13  # a uid of its own: these gradings never meet another test's processes
TERMINAL_BYTES = (b"\x1b", b"\x9b", b"\x07", b"\xc2\x9b", b"\xe2\x80\xae")  # ESC, CSI, BEL, C1 CSI, RLO


def assert_terminal_safe(data: bytes, where: str) -> None:
    for bad in TERMINAL_BYTES:
        assert bad not in data, f"{where} holds {bad!r}: {data[max(data.find(bad) - 60, 0):data.find(bad) + 60]!r}"


@pytest.fixture(scope="module")
def hello_versions(perceptron):
    """The device and versions a plain correct grading records on this machine."""
    result = grade(perceptron, perceptron.solution, "hidden", slot=SLOT)
    assert result.full_marks
    return result.extra_data["device"], result.extra_data["versions"]


def test_forged_device_and_versions_are_ignored(perceptron, hello_versions):
    """The learner replaces the runner's `_device`/`_versions` and adds 20 MB of HTML as device and
    versions to every answer: the grade is untouched and device/versions are the hello's."""
    result = grade(perceptron, HOSTILE_DIR / "forged_metadata.py", "hidden", slot=SLOT)
    assert result.full_marks, [(t.name, t.output) for t in result.tests if t.status != "passed"]
    assert (result.extra_data["device"], result.extra_data["versions"]) == hello_versions
    assert result.extra_data["device"] in ("cpu", "gpu")
    text = result.dumps()
    assert len(text) < 100_000 and "<script>" not in text and "<b>" not in text and "xxxxxxxxxx" not in text
    assert "device: GPU [bold]H100[/bold]" in result.output  # its own print is its output, nothing more


def test_a_zero_d_step_gets_full_marks(perceptron):
    """`step` with np.where returns a 0-d array for a single number (the README allows it)."""
    result = grade(perceptron, HOSTILE_DIR / "step_zero_d.py", "hidden", slot=SLOT)
    assert result.full_marks, [(t.name, t.output) for t in result.tests if t.status != "passed"]


def test_hostile_text_is_cleaned_in_the_result(perceptron):
    result = grade(perceptron, HOSTILE_DIR / "hostile_text.py", "hidden", slot=SLOT)
    failed = [t for t in result.tests if t.status != "passed"]
    assert failed and all("logic_gate" in t.output for t in failed)
    assert result.score > 0  # the correct functions still earn their points
    assert "[bold red]markup[/bold red]" in result.output and "red on stderr" in result.output
    for text in [result.output] + [t.output for t in result.tests]:
        assert_terminal_safe(text.encode("utf-8"), "the result")  # encodes: no lone surrogate
    assert "lone \ufffd surrogates" in failed[0].output


def dlgrade(*args, cwd) -> subprocess.CompletedProcess:
    env = dict(os.environ, COLUMNS="200", TERM="xterm-256color")
    return subprocess.run(["dlgrade", *map(str, args)], capture_output=True, cwd=cwd, env=env, timeout=300)


def test_grade_json_is_ascii_and_valid_with_lone_surrogates(tmp_path):
    proc = dlgrade("grade", "perceptron", HOSTILE_DIR / "hostile_text.py", "--json", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr.decode(errors="replace")[-2000:]
    assert proc.stdout.isascii() and b"Traceback" not in proc.stderr
    data = json.loads(proc.stdout)
    assert 0 < data["score"] < data["max_score"]
    assert any("lone \ufffd surrogates" in t["output"] for t in data["tests"])
    assert_terminal_safe(json.dumps(data, ensure_ascii=False).encode(), "the decoded JSON")


@pytest.mark.parametrize("command, name, code", [("grade", "hostile_text.py", 1), ("check", "hostile_text.py", 1),
                                                 ("grade", "forged_metadata.py", 0)])
def test_the_terminal_gets_no_control_sequence_and_no_markup(tmp_path, command, name, code):
    proc = dlgrade(command, "perceptron", HOSTILE_DIR / name, cwd=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == code and b"Traceback" not in out, out.decode(errors="replace")[-3000:]
    assert_terminal_safe(out, f"dlgrade {command}")
    if name == "hostile_text.py":
        # Rich markup is shown as the learner wrote it, never applied
        assert b"[bold red]markup[/bold red]" in proc.stdout and b"red on stderr" in proc.stdout
    else:
        assert b"on CPU" in proc.stdout or b"on GPU" in proc.stdout
        assert b"<script>" not in out and b"xxxxxxxxxx" not in out


def test_captured_output_is_cleaned_and_capped():
    r, w = os.pipe()
    reader = _OutputReader(r, 4 << 20)
    reader.start()
    os.write(w, b"\x1b]52;c;cHduZWQ=\x07copied? \xed\xa0\x80\x1b[2J" + b"y" * (2 << 20))
    os.close(w)
    reader.join(5)
    text = reader.text()
    assert text.startswith("copied? \ufffd\ufffd\ufffdyyy") and len(text) <= wire.MAX_OUTPUT
    assert "more characters were cut" in text


_names = count()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "gradebook.sqlite")
    return fresh_database(request.getfixturevalue("postgres_url"), f"untrusted{next(_names)}")


def test_no_gradebook_column_can_be_overflowed(db_url):
    """A value too long for its column is cut and cleaned before the insert (PostgreSQL would
    refuse it: 'value too long', or a NUL byte)."""
    with Gradebook(db_url) as gb:
        gb.add_student("ana", "Ana \x1b[2J" + "a" * 1000)
        gb.upsert_exercise("perceptron", "T" * 1000, "h" * 64)
        sub = gb.add_submission("ana", "perceptron", "a" * 64, "2026-01-01T00:00:00+00:00", "/x")
        gb.record_grading(sub, "k1", "h" * 64, "0", None, "failed", "<b>gpu</b>\x00" * 10_000,
                          "[bold]" * 10_000, 1.0, error="e\x00\udc80" * 100_000)
        row, = gb.gradings()
        assert len(row["device"]) <= 200 and len(row["backend"]) <= 200 and "\x00" not in row["device"]
        assert len(row["error"]) <= 20_000 and "\udc80" not in row["error"]
        assert len(gb.students()[0]["name"]) <= 400 and "\x1b" not in gb.students()[0]["name"]
        assert len(gb.exercises()[0]["title"]) <= 400
        gb.override("ana", "perceptron", 1.0, "r\x00" * 50_000, "w" * 1000)
        assert len(gb.overrides()[0]["who"]) <= 200


def test_autograde_with_a_forged_metadata_learner_grades_everyone(db_url, tmp_path, hello_versions):
    """One learner forges device and versions (20 MB, HTML); the batch records every learner, on
    SQLite and on PostgreSQL, and the forger's row holds the hello's device."""
    from grader.batch.run import run_batch
    from grader.course.config import load_course
    subprocess.run(["dlgrade", "init", "course"], cwd=tmp_path, check=True, capture_output=True, timeout=120)
    course = load_course(tmp_path / "course")
    learners = {"ana": REPO / "solutions" / "perceptron" / "solution.py", "mallory": HOSTILE_DIR / "forged_metadata.py",
                "zoe": HOSTILE_DIR / "step_zero_d.py"}
    with Gradebook(db_url) as gb:
        ex = course.exercise("perceptron")
        gb.upsert_exercise(ex.id, ex.title.get("en", ex.id), ex.content_hash())
        for student, source in learners.items():
            folder = tmp_path / "submitted" / student
            folder.mkdir(parents=True)
            path = folder / "perceptron.py"
            path.write_bytes(source.read_bytes())
            gb.add_student(student)
            gb.add_submission(student, ex.id, hashlib.sha256(path.read_bytes()).hexdigest(),
                              "2026-01-01T00:00:00+00:00", str(path))
        summary = run_batch(course, gb, workers=2)
        assert (summary.graded, summary.failed) == (3, 0), summary.rows
        rows = {r["student_id"]: r for r in gb.gradings()}
        assert set(rows) == set(learners)
        for student, row in rows.items():
            assert row["status"] == "graded" and row["score"] == row["max_score"] > 0, (student, row["error"])
            assert row["device"] == hello_versions[0] and len(row["backend"] or "") <= 20
            assert row["result_json"]["extra_data"]["versions"] == hello_versions[1]
