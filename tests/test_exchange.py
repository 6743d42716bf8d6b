"""The exchange: learners submit, see their submissions; the instructor collects."""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import tarfile
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from grader.course import identity, submit as submitting
from grader.course.config import CourseError, init_course, load_course
from grader.grading.files import submission_files
from grader.course.exchange import ExchangeError, collect, status, submit
from grader.exercise.spec import exercises_root, hash_files, solutions_root

UTC = timezone.utc
DEADLINE = datetime(2026, 12, 1, 23, 59, tzinfo=UTC)
AFTER_ALL = DEADLINE + timedelta(days=30)
COURSE_TOML = """[course]
id = "nn-2026"
title = "Neural networks"

[exercises.perceptron]
deadline = 2026-12-01T23:59:00Z

[exercises.backprop]

[late]
policy = "{policy}"
grace_minutes = 15
penalty_per_day = 0.1
max_days = 3
"""


@pytest.fixture(scope="module")
def base_course(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for ex_id in ("perceptron", "backprop"):
        shutil.copytree(exercises_root() / ex_id, src / "exercises" / ex_id)
        shutil.copytree(solutions_root() / ex_id, src / "solutions" / ex_id)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DLGRADE_EXERCISES", str(src / "exercises"))
        mp.setenv("DLGRADE_SOLUTIONS", str(src / "solutions"))
        root = tmp_path_factory.mktemp("base") / "course"
        init_course(root, course_id="nn-2026")
    (root / "course.toml").write_text(COURSE_TOML.format(policy="penalty"))
    return root


@pytest.fixture
def course(base_course, tmp_path):
    dst = tmp_path / "course"
    shutil.copytree(base_course, dst)
    return load_course(dst)


@pytest.fixture
def perceptron_ex(course):
    return course.exercise("perceptron")


def set_policy(course, policy: str):
    (course.root / "course.toml").write_text(COURSE_TOML.format(policy=policy))
    return load_course(course.root)


def work(tmp_path: Path, name: str, body: str = "", extra: dict[str, bytes | str] | None = None) -> Path:
    """A learner's folder as `dlgrade start` leaves it, with their perceptron.py."""
    folder = tmp_path / "work" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "perceptron.py").write_text(f"# {name}\nimport numpy as np\n{body}\n", encoding="utf-8")
    (folder / "README.md").write_text("# The perceptron\nپرسپترون\n", encoding="utf-8")
    for fname, content in (extra or {}).items():
        p = folder / fname
        p.write_bytes(content) if isinstance(content, bytes) else p.write_text(content)
    return folder


def snapshot(root: Path) -> dict:
    """Every path under root with its kind, mode and (for files) content and mtime."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            regular = stat.S_ISREG(st.st_mode)
            out[str(p.relative_to(root))] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode),
                                             p.read_bytes() if regular else None, st.st_mtime_ns if regular else None)
    return out


def one_line(err: pytest.ExceptionInfo) -> str:
    message = str(err.value)
    assert message and "\n" not in message, f"not a one-line message: {message!r}"
    return message


# --- submitting -------------------------------------------------------------------------------

def test_submit_writes_a_complete_record(course, perceptron_ex, tmp_path):
    folder = work(tmp_path, "alice", extra={"notes.ipynb": "{}", "helpers.py": "X = 1\n"})
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "perceptron.cpython-311.pyc").write_bytes(b"\x00\x01binary")
    at = datetime(2026, 11, 30, 12, 0, 0, 123456, tzinfo=UTC)
    record = submit(course.exchange_path, perceptron_ex, folder, "alice", now=at)
    where = Path(record["path"])
    assert where.parent == course.exchange_path / "inbound" / "alice" / "perceptron"
    assert record["id"] == where.name == f"20261130T120000Z-{record['sha256'][:12]}"
    assert sorted(p.name for p in where.iterdir()) == ["helpers.py", "perceptron.py", "submission.json"]
    assert record["files"] == ["helpers.py", "perceptron.py"]
    assert record["sizes"] == {n: (folder / n).stat().st_size for n in record["files"]}
    assert record["total_bytes"] == sum(record["sizes"].values())
    assert record["submitted_at"] == "2026-11-30T12:00:00.123456Z"
    assert record["student"] == "alice" and record["exercise"] == "perceptron" and record["entry"] == "perceptron.py"
    # the same hash a grading records for the submission
    assert record["sha256"] == hash_files(list(submission_files(perceptron_ex, folder).items()))
    assert set(record["not_submitted"]) == {"README.md (only .py files and perceptron.ipynb are graded)",
                                            "__pycache__/ (folder)",
                                            "notes.ipynb (only .py files and perceptron.ipynb are graded)"}
    on_disk = json.loads((where / "submission.json").read_text())
    assert on_disk == {k: v for k, v in record.items() if k not in ("id", "path")}
    assert status(course.exchange_path) == [record]
    assert not [p for p in where.parent.iterdir() if p.name.startswith(".")]  # no temporary folder left


def test_submit_a_single_file_and_the_default_student(course, perceptron_ex, tmp_path, monkeypatch):
    f = work(tmp_path, "x") / "perceptron.py"
    other = tmp_path / "my_answer.py"
    shutil.copyfile(f, other)
    monkeypatch.setenv("DLGRADE_STUDENT", "s-400123")
    record = submit(course.exchange_path, perceptron_ex, other, course=course)
    assert record["student"] == "s-400123" and record["files"] == ["perceptron.py"]
    assert (Path(record["path"]) / "perceptron.py").read_bytes() == other.read_bytes()
    monkeypatch.delenv("DLGRADE_STUDENT")
    monkeypatch.setattr(identity.getpass, "getuser", lambda: "os-user")
    assert submit(course.exchange_path, perceptron_ex, other)["student"] == "os-user"


def test_resubmission_keeps_the_earlier_one(course, perceptron_ex, tmp_path):
    first = submit(course.exchange_path, perceptron_ex, work(tmp_path, "v1"), "alice",
                   now=DEADLINE - timedelta(hours=5))
    before = snapshot(Path(first["path"]))
    second = submit(course.exchange_path, perceptron_ex, work(tmp_path, "v2", "x = 2"), "alice",
                    now=DEADLINE - timedelta(hours=1))
    assert first["path"] != second["path"] and snapshot(Path(first["path"])) == before
    assert [r["id"] for r in status(course.exchange_path, student="alice")] == [first["id"], second["id"]]


def test_two_submits_in_the_same_second_get_distinct_folders(course, perceptron_ex, tmp_path):
    folder = work(tmp_path, "same")
    at = datetime(2026, 1, 30, 8, 0, 0, tzinfo=UTC)
    a = submit(course.exchange_path, perceptron_ex, folder, "bob", now=at)
    b = submit(course.exchange_path, perceptron_ex, folder, "bob", now=at)
    c = submit(course.exchange_path, perceptron_ex, folder, "bob", now=at)
    assert b["id"] == a["id"] + "-2" and c["id"] == a["id"] + "-3"
    d = submit(course.exchange_path, perceptron_ex, folder, "bob")  # the real clock, twice in a row
    e = submit(course.exchange_path, perceptron_ex, folder, "bob")
    assert len({a["path"], b["path"], c["path"], d["path"], e["path"]}) == 5
    ids = [r["id"] for r in status(course.exchange_path, "bob", "perceptron")]
    assert ids[:3] == [a["id"], b["id"], c["id"]] and set(ids[3:]) == {d["id"], e["id"]}
    for r in (a, b, c, d, e):
        assert (Path(r["path"]) / "perceptron.py").read_bytes() == (folder / "perceptron.py").read_bytes()


def test_parallel_submits_of_one_learner_all_land(course, perceptron_ex, tmp_path):
    from concurrent.futures import ThreadPoolExecutor
    folder = work(tmp_path, "par")
    at = datetime(2026, 1, 30, 8, 0, 0, tzinfo=UTC)
    with ThreadPoolExecutor(8) as pool:
        records = list(pool.map(lambda _: submit(course.exchange_path, perceptron_ex, folder, "pat", now=at), range(8)))
    assert len({r["path"] for r in records}) == 8
    assert len(status(course.exchange_path, "pat")) == 8


def _zip_with_parent_paths(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("../../evil.py", "import os\n")
        z.writestr("/etc/cron.d/evil", "* * * * * root true\n")
        z.writestr("perceptron.py", "x = 1\n")
    return path


def _tar_with_parent_paths(path: Path) -> Path:
    with tarfile.open(path, "w:gz") as t:
        data = b"import os\n"
        info = tarfile.TarInfo("../evil.py")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("perceptron.py")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        t.addfile(link)
    return path


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Each bad submission: (path, words its message must hold)."""
    cases = {}
    many = work(tmp_path, "thousands")
    for i in range(3000):
        (many / f"f{i:04d}.txt").write_text("x")
    cases["thousands of files"] = (many, "more than 50 files")
    cases["a binary file in the folder"] = (work(tmp_path, "bin", extra={"weights.npy": b"\x93NUMPY\x01\x00v\x00"}),
                                            "weights.npy is a binary file")
    nul = work(tmp_path, "nul")
    (nul / "perceptron.py").write_bytes(b"x = 1\n\x00\x00\x00\n")
    cases["a .py with NUL bytes"] = (nul, "binary")
    latin = work(tmp_path, "latin")
    (latin / "perceptron.py").write_bytes("# Pers\u00e9e\n".encode("latin-1"))
    cases["a non-UTF-8 file"] = (latin, "UTF-8")
    cases["a non-UTF-8 single file"] = (latin / "perceptron.py", "not UTF-8")
    out = work(tmp_path, "symlink-out")
    (out / "secret.py").symlink_to("/etc/passwd")
    cases["a symlink out of the folder"] = (out, "outside the folder")
    up = work(tmp_path, "symlink-up")
    (up / "up").symlink_to("..")
    cases["a symlink to the parent folder"] = (up, "outside the folder")
    entry_link = work(tmp_path, "entry-link")
    (entry_link / "mine.py").write_text("x = 1\n")
    (entry_link / "perceptron.py").unlink()
    (entry_link / "perceptron.py").symlink_to("mine.py")
    cases["the entry file is a symlink"] = (entry_link, "symbolic link")
    link_itself = tmp_path / "link.py"
    link_itself.symlink_to(work(tmp_path, "target") / "perceptron.py")
    cases["the path is a symlink"] = (link_itself, "symbolic link")
    cases["a zip with ../ paths"] = (_zip_with_parent_paths(tmp_path / "hw.zip"), "archive")
    cases["a tar.gz with ../ paths and links"] = (_tar_with_parent_paths(tmp_path / "hw.tar.gz"), "archive")
    disguised = tmp_path / "perceptron.py.bak"
    shutil.copyfile(_zip_with_parent_paths(tmp_path / "x.zip"), disguised)
    cases["a zip under another name"] = (disguised, "archive")
    cases["an archive in the folder"] = (work(tmp_path, "inner-zip", extra={
        "old.zip": _zip_with_parent_paths(tmp_path / "inner.zip").read_bytes()}), "archive")
    big = work(tmp_path, "big")
    (big / "perceptron.py").write_text("#" * (1 << 20) + "\n")
    cases["an oversize file"] = (big, "limit")
    heavy = work(tmp_path, "heavy", extra={f"log{i}.txt": "a" * 900_000 for i in range(6)})
    cases["more than 5 MiB in all"] = (heavy, "MiB")
    cases["a .ipynb that is not a notebook"] = (work(tmp_path, "nb", extra={"hw.ipynb": "{}"}) / "hw.ipynb",
                                               "not a Jupyter notebook")
    cases["a text file"] = (work(tmp_path, "txt", extra={"hw.txt": "x = 1"}) / "hw.txt", "not a Python file")
    no_entry = work(tmp_path, "no-entry")
    (no_entry / "perceptron.py").rename(no_entry / "percepton.py")
    cases["no entry file"] = (no_entry, "has no perceptron.py")
    cases["a missing path"] = (tmp_path / "nowhere", "does not exist")
    return cases


def test_every_bad_submission_is_refused_in_one_line_and_changes_nothing(course, perceptron_ex, tmp_path):
    submit(course.exchange_path, perceptron_ex, work(tmp_path, "good"), "alice", now=DEADLINE - timedelta(days=1))
    before = snapshot(course.exchange_path)
    for label, (path, words) in _bad_inputs(tmp_path).items():
        for student in ("alice", "newcomer"):  # an existing learner's folder, and a learner's first submission
            with pytest.raises(ExchangeError) as err:
                submit(course.exchange_path, perceptron_ex, path, student)
            assert words in one_line(err), f"{label}: {err.value}"
            assert snapshot(course.exchange_path) == before, label


@pytest.mark.parametrize("student", ["", "../bob", "a/b", "..", ".hidden", "a..b", "x" * 65, "ali ce", "é"])
def test_bad_student_ids_are_refused(course, perceptron_ex, tmp_path, student):
    before = snapshot(course.exchange_path)
    with pytest.raises(ExchangeError) as err:
        submit(course.exchange_path, perceptron_ex, work(tmp_path, "w"), student)
    assert "not a valid id" in one_line(err)
    assert snapshot(course.exchange_path) == before


def test_a_bad_student_id_from_the_environment(course, perceptron_ex, tmp_path, monkeypatch):
    monkeypatch.setenv("DLGRADE_STUDENT", "../../root")
    with pytest.raises(ExchangeError) as err:
        submit(course.exchange_path, perceptron_ex, work(tmp_path, "w"))
    assert "DLGRADE_STUDENT" in one_line(err)


def test_an_unknown_exercise_is_refused(course, perceptron_ex, tmp_path):
    before = snapshot(course.exchange_path)
    with pytest.raises(CourseError) as err:
        course.exercise("perceptorn")
    assert "perceptron" in one_line(err)
    other = load_course(course.root)
    del other.deadlines["perceptron"]
    with pytest.raises(ExchangeError) as err:
        submit(course.exchange_path, perceptron_ex, work(tmp_path, "w"), "alice", course=other)
    assert "not an exercise of course nn-2026" in one_line(err)
    assert snapshot(course.exchange_path) == before


def test_a_missing_exchange_is_reported(course, perceptron_ex, tmp_path):
    with pytest.raises(ExchangeError) as err:
        submit(tmp_path / "no-exchange", perceptron_ex, work(tmp_path, "w"), "alice")
    assert "does not exist" in one_line(err) and not (tmp_path / "no-exchange").exists()
    bare = tmp_path / "bare"
    bare.mkdir()
    with pytest.raises(ExchangeError) as err:
        submit(bare, perceptron_ex, work(tmp_path, "w"), "alice")
    assert "inbound" in one_line(err) and list(bare.iterdir()) == []
    with pytest.raises(ExchangeError):
        status(tmp_path / "no-exchange")


def test_a_failed_write_leaves_no_half_submission(course, perceptron_ex, tmp_path, monkeypatch):
    before = snapshot(course.exchange_path)
    real = submitting.write_new_file
    calls = []

    def crash_on_second(path, data, mode):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(path, data, mode)

    monkeypatch.setattr(submitting, "write_new_file", crash_on_second)
    with pytest.raises(ExchangeError) as err:
        submit(course.exchange_path, perceptron_ex, work(tmp_path, "w", extra={"a.py": "A = 1\n"}), "carol")
    assert "No space left" in one_line(err) and "nothing was submitted" in str(err.value)
    assert snapshot(course.exchange_path) == before


def test_a_submission_killed_half_way_is_invisible(course, perceptron_ex, tmp_path):
    good = submit(course.exchange_path, perceptron_ex, work(tmp_path, "w"), "dan", now=DEADLINE - timedelta(days=1))
    half = Path(good["path"]).parent / ".incoming-k1ll3d"
    half.mkdir()
    (half / "perceptron.py").write_text("partial")
    assert [r["id"] for r in status(course.exchange_path)] == [good["id"]]
    records = collect(course, now=AFTER_ALL)
    assert [r["submission"] for r in records] == [good["id"]]


def test_status_filters_and_sorts(course, perceptron_ex, tmp_path):
    backprop = course.exercise("backprop")
    bp = tmp_path / "bp"
    bp.mkdir()
    (bp / "backprop.py").write_text("x = 1\n")
    t = DEADLINE - timedelta(days=3)
    submit(course.exchange_path, perceptron_ex, work(tmp_path, "w"), "zoe", now=t + timedelta(hours=2))
    submit(course.exchange_path, backprop, bp, "zoe", now=t + timedelta(hours=1))
    submit(course.exchange_path, perceptron_ex, work(tmp_path, "w"), "adam", now=t + timedelta(hours=3))
    every = status(course.exchange_path)
    assert [(r["student"], r["exercise"]) for r in every] == [("zoe", "backprop"), ("zoe", "perceptron"),
                                                              ("adam", "perceptron")]
    assert [r["exercise"] for r in status(course.exchange_path, student="zoe")] == ["backprop", "perceptron"]
    assert [r["student"] for r in status(course.exchange_path, exercise="perceptron")] == ["zoe", "adam"]
    assert status(course.exchange_path, student="nobody") == []
    with pytest.raises(ExchangeError):
        status(course.exchange_path, student="../zoe")


# --- collecting -------------------------------------------------------------------------------

def _class(course, ex, tmp_path) -> dict[str, list[dict]]:
    """Learners of every kind, with deadline 2026-12-01 23:59 UTC, penalty 10%/day, 15 min grace, 3 days max."""
    plan = {
        "alice": [-timedelta(days=1), timedelta(hours=1)],              # on time, then a late resubmission
        "bob": [timedelta(minutes=10)],                                   # late within the grace
        "carol": [timedelta(days=1, hours=12)],                           # 1.5 days late: 20% off
        "dave": [timedelta(days=5)],                                      # over max_days: rejected
        "erin": [timedelta(hours=2), timedelta(days=1, hours=1)],         # two late ones: the latest counts
        "frank": [-timedelta(days=2), -timedelta(days=1), timedelta(days=4)],  # two on time, one rejected
    }
    made = {}
    for student, offsets in plan.items():
        made[student] = [submit(course.exchange_path, ex, work(tmp_path, f"{student}{i}", f"v = {i}"), student,
                                now=DEADLINE + off) for i, off in enumerate(offsets)]
    return made


def test_collect_applies_the_late_rule_for_a_class(course, perceptron_ex, tmp_path):
    made = _class(course, perceptron_ex, tmp_path)
    records = collect(course, now=AFTER_ALL)
    by = {r["student"]: r for r in records}
    assert [r["student"] for r in records] == sorted(made)
    alice = by["alice"]
    assert alice["collected"] and alice["submission"] == made["alice"][0]["id"] and not alice["late"]
    assert alice["factor"] == 1.0 and "on-time submission (it counts)" in alice["ignored"][0]["reason"]
    assert (by["bob"]["late"], by["bob"]["factor"], by["bob"]["late_days"]) == (False, 1.0, 0.0)
    assert (by["carol"]["late"], by["carol"]["late_days"], by["carol"]["factor"]) == (True, 1.5, 0.8)
    assert by["dave"]["collected"] is False and by["dave"]["skipped"] is True
    assert "late policy rejects" in by["dave"]["reason"]
    assert all(r["skipped"] is not r["collected"] for r in records)
    assert by["erin"]["submission"] == made["erin"][1]["id"] and by["erin"]["factor"] == 0.8
    assert "earlier late submission" in by["erin"]["ignored"][0]["reason"]
    frank = by["frank"]
    assert frank["submission"] == made["frank"][1]["id"]
    assert [i["reason"].split(" (")[0] for i in frank["ignored"]] == [
        "an earlier on-time submission", "4.00 days late: the late policy rejects it"]
    submitted = course.submitted_dir
    assert sorted(p.name for p in submitted.iterdir() if not p.name.startswith(".")) == [
        "alice", "bob", "carol", "erin", "frank"]
    for student in ("alice", "bob", "carol", "erin", "frank"):
        folder = submitted / student / "perceptron"
        stored = json.loads((folder / "submission.json").read_text())
        assert stored["student"] == student and stored["deadline"] == "2026-12-01T23:59:00Z"
        assert {"late", "late_days", "factor", "accepted", "submission", "sha256"} <= set(stored)
        returned_only = ("collected", "skipped", "path", "source", "owner")
        assert stored == {k: v for k, v in by[student].items() if k not in returned_only}
        chosen = Path(by[student]["source"])
        assert (folder / "perceptron.py").read_bytes() == (chosen / "perceptron.py").read_bytes()
        # the collected folder is what a grading takes: the same files, the same hash
        ex = course.exercise("perceptron")
        assert hash_files(list(submission_files(ex, folder).items())) == stored["sha256"]


def test_collecting_twice_changes_nothing_and_a_new_submission_replaces_the_copy(course, perceptron_ex, tmp_path):
    made = _class(course, perceptron_ex, tmp_path)
    first = collect(course, now=AFTER_ALL)
    inbound_before, collected_before = snapshot(course.exchange_path), snapshot(course.submitted_dir)
    assert collect(course, now=AFTER_ALL) == first
    assert snapshot(course.submitted_dir) == collected_before
    assert snapshot(course.exchange_path) == inbound_before  # collect never writes to the exchange
    # carol submits a folder with one more module, still late: it replaces her collected copy
    newer = submit(course.exchange_path, perceptron_ex, work(tmp_path, "carol-again", extra={"util.py": "U = 1\n"}),
                   "carol", now=DEADLINE + timedelta(days=2, hours=1))
    again = {r["student"]: r for r in collect(course, now=AFTER_ALL)}
    assert again["carol"]["submission"] == newer["id"] and again["carol"]["factor"] == 0.7
    folder = course.submitted_dir / "carol" / "perceptron"
    assert sorted(p.name for p in folder.iterdir()) == ["perceptron.py", "submission.json", "util.py"]
    unchanged = {r["student"]: r for r in first if r["student"] != "carol"}
    assert {s: r for s, r in again.items() if s != "carol"} == unchanged
    # and once more without util.py: the collected copy loses the file that is gone
    newest = submit(course.exchange_path, perceptron_ex, work(tmp_path, "carol-3"), "carol",
                    now=DEADLINE + timedelta(days=2, hours=2))
    again = {r["student"]: r for r in collect(course, now=AFTER_ALL)}
    assert again["carol"]["submission"] == newest["id"]
    assert sorted(p.name for p in folder.iterdir()) == ["perceptron.py", "submission.json"]
    assert not [p for p in (course.submitted_dir / "carol").iterdir() if p.name.startswith(".")]
    assert len(status(course.exchange_path, "carol")) == 3  # every submission is still in the exchange
    assert made["carol"][0]["id"] in {i["submission"] for i in again["carol"]["ignored"]}


def test_collect_follows_a_policy_change(course, perceptron_ex, tmp_path):
    _class(course, perceptron_ex, tmp_path)
    collect(course, now=AFTER_ALL)
    strict = set_policy(course, "reject")
    by = {r["student"]: r for r in collect(strict, now=AFTER_ALL)}
    assert by["alice"]["collected"] and by["bob"]["collected"] and by["frank"]["collected"]  # on time / grace
    for student in ("carol", "erin", "dave"):
        assert not by[student]["collected"], student
        assert not (course.submitted_dir / student / "perceptron").exists()  # a stale copy is never graded
    lenient = set_policy(course, "accept")
    by = {r["student"]: r for r in collect(lenient, now=AFTER_ALL)}
    assert by["carol"]["factor"] == 1.0 and by["carol"]["late"] and by["erin"]["collected"]
    assert not by["dave"]["collected"]  # 5 days > max_days = 3, under every policy


def test_collect_skips_damaged_forged_future_and_unknown_entries(course, perceptron_ex, tmp_path):
    good = submit(course.exchange_path, perceptron_ex, work(tmp_path, "g1"), "gina", now=DEADLINE - timedelta(days=2))
    tampered = submit(course.exchange_path, perceptron_ex, work(tmp_path, "g2"), "gina",
                      now=DEADLINE - timedelta(days=1))
    (Path(tampered["path"]) / "perceptron.py").write_text("edited after submitting\n")
    future = submit(course.exchange_path, perceptron_ex, work(tmp_path, "g3"), "gina", now=AFTER_ALL + timedelta(1))
    # a forged record that points outside its folder
    forged = course.exchange_path / "inbound" / "gina" / "perceptron" / "20261101T000000Z-000000000000"
    forged.mkdir()
    (forged / "submission.json").write_text(json.dumps({
        "student": "gina", "exercise": "perceptron", "submitted_at": "2026-12-01T20:00:00Z",
        "files": ["../../../../../../etc/passwd"], "sha256": "0" * 64}))
    (course.exchange_path / "inbound" / "gina" / "lenet").mkdir()
    (course.exchange_path / "inbound" / "gina" / "lenet" / "x").mkdir()
    (course.exchange_path / "inbound" / "bad id").mkdir()
    (course.exchange_path / "inbound" / "bad id" / "perceptron").mkdir()
    records = collect(course, now=AFTER_ALL)
    by = {(r["student"], r["exercise"]): r for r in records}
    gina = by[("gina", "perceptron")]
    assert gina["collected"] and gina["submission"] == good["id"]
    reasons = {i["submission"]: i["reason"] for i in gina["ignored"]}
    assert reasons[tampered["id"]] == "damaged: the files do not match their sha256"
    assert reasons[forged.name].startswith("damaged: bad file name")
    assert reasons[future["id"]].startswith("stamped after the collection time")
    assert by[("gina", "lenet")]["collected"] is False and "not an exercise" in by[("gina", "lenet")]["reason"]
    assert by[("bad id", "perceptron")]["reason"] == "not a valid student id"
    assert sorted(p.name for p in (course.submitted_dir / "gina" / "perceptron").iterdir()) == [
        "perceptron.py", "submission.json"]


def test_an_empty_exchange_collects_nothing(course):
    assert collect(course) == []
    assert status(course.exchange_path) == []
