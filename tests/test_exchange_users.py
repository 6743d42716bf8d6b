"""The exchange on a shared server: real OS users (made here, removed at teardown) forge, squat,
backdate and read each other; the roster and the file system stop them, and the normal course
loop still works for each of them.

Acting as another user: /root is 0700 and the interpreter lives under it, so a learner cannot
exec it. Each learner's action runs in a forked child of this process that drops to the user
(setgroups/setgid/setuid) and runs the CLI in-process (click's CliRunner) or the exchange
functions; every module those need is imported before the fork."""

from __future__ import annotations

import csv
import io
import json
import os
import pwd
import secrets
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import traceback
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console
from rich.markdown import Markdown
from rich.table import Table

from grader.cli import main as cli_main
import grader.report.views  # noqa: F401  (imported before the fork: the learner cannot read the interpreter's files)
import grader.cli.reports  # noqa: F401
import grader.sandbox.inside.wire  # noqa: F401
from grader.course import exchange
from grader.course import roster
from grader.course.config import init_course, load_course
from grader.course.bundle import build_bundle
from grader.exercise.spec import exercises_root, hash_files, solutions_root

UTC = timezone.utc
pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("useradd") is None,
                                reason="needs root and useradd to create the learners' OS users")


# --- users and acting as them -----------------------------------------------------------------

@pytest.fixture(scope="module")
def users():
    tag = secrets.token_hex(3)
    names = {role: f"dlg{role[:3]}{tag}" for role in ("carol", "bob", "mallory")}
    made = []
    try:
        for name in names.values():
            subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True,
                           capture_output=True)
            made.append(name)
        yield names
    finally:
        for name in made:
            subprocess.run(["userdel", name], capture_output=True)


def as_user(user: str, fn, *args, timeout: float = 60.0, **kwargs):
    """fn(*args, **kwargs) in a forked child running as `user`; its JSON-able result, or
    {"exception": type, "message": ...} when it raised."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 0
        try:
            os.close(r)
            pw = pwd.getpwnam(user)
            os.setgroups([])
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)
            for key in ("USER", "LOGNAME"):
                os.environ[key] = user
            os.environ.pop("DLGRADE_STUDENT", None)
            os.environ.pop("DLGRADE_COURSE", None)
            try:
                out = {"value": fn(*args, **kwargs)}
            except Exception as err:  # noqa: BLE001  (reported to the parent)
                out = {"exception": type(err).__name__, "message": str(err),
                       "errno": getattr(err, "errno", None)}
            data = json.dumps(out, default=str).encode()
        except BaseException:  # noqa: BLE001
            data = json.dumps({"exception": "child", "message": traceback.format_exc()}).encode()
            code = 1
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(w, view):]
        finally:
            os._exit(code)
    os.close(w)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while True:
            chunk = os.read(r, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
            if time.monotonic() > deadline:
                break
    finally:
        os.close(r)
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)  # only our own child, by its pid
            os.waitpid(pid, 0)
            pytest.fail(f"the child acting as {user} hung")
        time.sleep(0.01)
    out = json.loads(b"".join(chunks) or b'{"exception": "child", "message": "no answer"}')
    assert out.get("exception") != "child", out["message"]
    return out


def run_cli(*args, env: dict | None = None) -> dict:
    """The dlgrade CLI in this process; {"code", "output"}."""
    result = CliRunner().invoke(cli_main, list(args), env=env, catch_exceptions=True)
    output = result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        output += "".join(traceback.format_exception(result.exception))
    return {"code": result.exit_code, "output": output}


def try_read(path) -> str:
    """'ok' when `path` (a file or a folder) could be read, else the errno name."""
    import errno
    try:
        if Path(path).is_dir():
            os.listdir(path)
        else:
            Path(path).read_bytes()
        return "ok"
    except OSError as err:
        return errno.errorcode.get(err.errno, str(err.errno))


def try_mkdir(path) -> str:
    import errno
    try:
        os.mkdir(path)
        return "ok"
    except OSError as err:
        return errno.errorcode.get(err.errno, str(err.errno))


def _warm_up():
    """Load what the CLI loads lazily (rich's tables and markdown), before any fork."""
    console = Console(file=io.StringIO(), force_terminal=False)
    table = Table("a", "b")
    table.add_row("x", "ي")
    console.print(table)
    console.print(Markdown("# t\n\n* a\n\n`x`\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```\nplain\n```\n\n"
                           "```python\nx = 1\n```\n\n```text\nt\n```\n"))
    run_cli("status", "--help")


# --- a course on a shared server --------------------------------------------------------------

COURSE_TOML = """[course]
id = "nn-shared"
title = "Neural networks"

[exercises.perceptron]
deadline = {deadline}

[late]
policy = "penalty"
grace_minutes = 15
penalty_per_day = 0.1
max_days = 7
"""


@pytest.fixture(scope="module")
def shared(users, tmp_path_factory):
    """A course in a folder every user can reach (pytest's tmp is 0700), its learner bundle, and
    a work folder per learner (theirs)."""
    _warm_up()
    base = Path(tempfile.mkdtemp(prefix="dlgrade-shared-", dir="/tmp"))
    os.chmod(base, 0o711)
    src = tmp_path_factory.mktemp("src")
    shutil.copytree(exercises_root() / "perceptron", src / "exercises" / "perceptron")
    shutil.copytree(solutions_root() / "perceptron", src / "solutions" / "perceptron")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DLGRADE_EXERCISES", str(src / "exercises"))
        mp.setenv("DLGRADE_SOLUTIONS", str(src / "solutions"))
        init_course(base / "course", course_id="nn-shared")
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def course(shared, users):
    """A fresh course (no roster yet) with perceptron due in a week, and its learner bundle."""
    root = shared / f"c{secrets.token_hex(3)}"
    shutil.copytree(shared / "course", root, symlinks=True)
    deadline = (datetime.now(UTC) + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    (root / "course.toml").write_text(COURSE_TOML.format(deadline=deadline))
    os.chmod(root / "course.toml", 0o600)
    os.chmod(root, 0o711)
    course = load_course(root)
    bundle = build_bundle(course, shared / f"{root.name}-bundle")
    for p in [bundle, *bundle.rglob("*")]:
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    course.bundle = bundle
    return course


def work(shared: Path, user: str, body: str | None = None) -> Path:
    """The learner's own folder with their perceptron.py (the reference solution by default)."""
    folder = shared / f"work-{user}-{secrets.token_hex(2)}" / "perceptron"
    folder.mkdir(parents=True)
    text = body if body is not None else (solutions_root() / "perceptron" / "solution.py").read_text()
    (folder / "perceptron.py").write_text(text)
    pw = pwd.getpwnam(user)
    for p in (folder.parent, folder, folder / "perceptron.py"):
        os.chown(p, pw.pw_uid, pw.pw_gid)
    return folder


def enrol(course, users, *roles):
    for role in roles:
        out = run_cli("roster", "add", role, "--user", users[role], "--course", str(course.root))
        assert out["code"] == 0, out["output"]


def owner(path) -> str:
    return pwd.getpwuid(Path(path).lstat().st_uid).pw_name


def mode(path) -> int:
    return stat.S_IMODE(Path(path).lstat().st_mode)


def submission_dirs(course, student) -> list[Path]:
    folder = Path(course.exchange_path) / "inbound" / student / "perceptron"
    return sorted(p for p in folder.iterdir() if not p.name.startswith(".")) if folder.is_dir() else []


# --- the roster -------------------------------------------------------------------------------

def test_roster_add_import_list_and_bad_rows(course, users, shared, tmp_path):
    root = str(course.root)
    ex = Path(course.exchange_path)
    enrol(course, users, "carol")
    assert mode(ex / "inbound") == 0o711 and mode(ex / "feedback") == 0o711 and mode(ex / "users") == 0o711
    for kind in ("inbound", "feedback"):
        assert owner(ex / kind / "carol") == users["carol"] and mode(ex / kind / "carol") == 0o700
    assert (ex / "users" / users["carol"]).read_text() == "carol\n" and owner(ex / "users" / users["carol"]) == "root"
    assert mode(course.root / "roster.csv") == 0o600

    bad = tmp_path / "roster.csv"
    bad.write_text("id,user,name,email,section\n"
                   f"bob,{users['bob']},Bob,bob@example.org,A\n"
                   "ghost,no-such-user-xyz,,,\n"
                   f"bob,{users['mallory']},,,\n"
                   f"../x,{users['mallory']},,,\n"
                   f"carol2,{users['carol']},,,\n")
    out = run_cli("roster", "import", str(bad), "--course", root)
    assert out["code"] == 2
    lines = [l for l in out["output"].splitlines() if l.startswith("Error:")]
    assert any("row 3" in l and "no OS user 'no-such-user-xyz'" in l for l in lines), out["output"]
    assert any("row 4" in l and "duplicate id bob" in l for l in lines), out["output"]
    assert any("row 5" in l and "not a valid id" in l for l in lines), out["output"]
    assert any("row 6" in l and "already on the roster as id carol" in l for l in lines), out["output"]
    assert "nothing was" in out["output"]
    assert not (ex / "inbound" / "bob").exists()  # nothing changed
    assert [r["id"] for r in csv.DictReader(open(course.root / "roster.csv"))] == ["carol"]

    for header in ("name,email\nx,y\n", "id,user,shoe\nbob,root,9\n"):
        bad.write_text(header)
        out = run_cli("roster", "import", str(bad), "--course", root)
        assert out["code"] == 2 and "row 1 (header)" in out["output"], out["output"]

    good = tmp_path / "good.csv"
    good.write_text(f"id,user,name,section\nbob,{users['bob']},Bob B,A\nmallory,{users['mallory']},,B\n")
    out = run_cli("roster", "import", str(good), "--course", root)
    assert out["code"] == 0 and "Imported 2 learner(s)" in out["output"], out["output"]
    assert owner(ex / "inbound" / "bob") == users["bob"]
    listed = json.loads(run_cli("roster", "list", "--json", "--course", root)["output"])
    assert [(r["id"], r["user"], r["inbound"]) for r in listed] == [
        ("bob", users["bob"], "ok"), ("carol", users["carol"], "ok"), ("mallory", users["mallory"], "ok")]
    assert listed[0]["name"] == "Bob B" and listed[0]["section"] == "A"
    out = run_cli("roster", "add", "carol", "--user", users["bob"], "--course", root)
    assert out["code"] == 2 and "duplicate id carol" in out["output"]


def test_squatting_a_learners_folder(course, users):
    ex = Path(course.exchange_path)
    enrol(course, users, "mallory")
    # a learner cannot create anyone's folder in inbound/, nor list it
    assert as_user(users["mallory"], try_mkdir, str(ex / "inbound" / "carol"))["value"] == "EACCES"
    assert as_user(users["mallory"], try_read, str(ex / "inbound"))["value"] == "EACCES"
    # a folder squatted before the roster (an old exchange) is not handed to the learner
    squat = ex / "inbound" / "carol"
    squat.mkdir()
    os.chown(squat, pwd.getpwnam(users["mallory"]).pw_uid, -1)
    out = run_cli("roster", "add", "carol", "--user", users["carol"], "--course", str(course.root))
    assert out["code"] == 2 and f"belongs to user {users['mallory']}, not {users['carol']}" in out["output"]
    assert owner(squat) == users["mallory"]  # nothing removed or changed
    assert "carol" not in roster.load_roster(course)
    # and collect refuses it (the roster maps carol to carol's user)
    shutil.move(str(squat), str(ex / "squatted"))
    enrol(course, users, "carol")
    shutil.rmtree(ex / "inbound" / "carol")
    shutil.move(str(ex / "squatted"), str(squat))
    (squat / "perceptron").mkdir()
    out = run_cli("collect", "--course", str(course.root))
    assert out["code"] == 0, out["output"]
    assert f"inbound/carol/ is owned by {users['mallory']}, not {users['carol']}" in out["output"]
    assert owner(squat) == users["mallory"] and (squat / "perceptron").is_dir()  # reported, not removed
    # a folder of an id that is not on the roster is reported and left alone
    (ex / "inbound" / "zed" / "perceptron").mkdir(parents=True)
    out = run_cli("collect", "--course", str(course.root))
    assert out["code"] == 0 and "skipped zed/perceptron: zed is not on the course's roster" in out["output"]


# --- submitting as someone else -------------------------------------------------------------

def test_a_learner_cannot_submit_as_another(course, users, shared):
    enrol(course, users, "carol", "mallory")
    bundle = str(course.bundle)
    mine = str(work(shared, users["mallory"], "def predict(x):\n    return 0\n"))
    out = as_user(users["mallory"], run_cli, "submit", "perceptron", mine, "--student", "carol", "--course", bundle)
    assert out["value"]["code"] == 2 and "'carol' is refused: you are mallory" in out["value"]["output"]
    out = as_user(users["mallory"], run_cli, "submit", "perceptron", mine, "--course", bundle,
                  env={"DLGRADE_STUDENT": "carol"})
    assert out["value"]["code"] == 2 and "is refused" in out["value"]["output"]
    # past the CLI: the exchange refuses, and the file system too
    ex_obj = course.exercise("perceptron")
    out = as_user(users["mallory"], lambda: exchange.submit(course.exchange_path, ex_obj, mine, "carol"))
    assert out["exception"] == "ExchangeError" and "not yours" in out["message"]
    inbound_carol = Path(course.exchange_path) / "inbound" / "carol"
    assert as_user(users["mallory"], try_mkdir, str(inbound_carol / "perceptron"))["value"] == "EACCES"
    assert submission_dirs(course, "carol") == []
    # mallory submits as herself (no --student needed); carol's own submit still works
    out = as_user(users["mallory"], run_cli, "submit", "perceptron", mine, "--course", bundle)
    assert out["value"]["code"] == 0 and "for mallory" in out["value"]["output"], out
    theirs = str(work(shared, users["carol"]))
    out = as_user(users["carol"], run_cli, "submit", "perceptron", theirs, "--course", bundle)
    assert out["value"]["code"] == 0 and "for carol" in out["value"]["output"], out
    [sub] = submission_dirs(course, "carol")
    assert owner(sub) == users["carol"] and mode(sub) == 0o700 and mode(sub / "perceptron.py") == 0o600
    # a learner sees only their own status
    out = as_user(users["carol"], run_cli, "status", "--all", "--course", bundle)
    assert out["value"]["code"] == 2 and "--all is for instructors" in out["value"]["output"]
    out = as_user(users["carol"], run_cli, "status", "--student", "mallory", "--course", bundle)
    assert out["value"]["code"] == 2 and "is refused" in out["value"]["output"]
    out = as_user(users["carol"], run_cli, "status", "--json", "--course", bundle)
    assert [r["student"] for r in json.loads(out["value"]["output"].split("\ncourse with a roster")[0])] == ["carol"]
    # the instructor may submit for a learner: the submission is the learner's
    out = run_cli("submit", "perceptron", theirs, "--student", "carol", "--course", str(course.root))
    assert out["code"] == 0, out["output"]
    assert all(owner(p) == users["carol"] for p in submission_dirs(course, "carol"))
    collected = {r["student"]: r for r in exchange.collect(course)}
    assert collected["carol"]["collected"] and collected["mallory"]["collected"]
    assert collected["carol"]["owner"] == users["carol"]


def test_a_submission_forged_in_carols_folder_is_refused_at_collect(course, users, shared):
    enrol(course, users, "carol", "mallory")
    ex_obj = course.exercise("perceptron")
    honest = exchange.submit(course.exchange_path, ex_obj, work(shared, users["carol"]), "carol",
                             now=datetime.now(UTC) - timedelta(hours=2))
    forged = exchange.submit(course.exchange_path, ex_obj, work(shared, users["mallory"], "x = 1\n"), "carol")
    m = pwd.getpwnam(users["mallory"])
    for p in [Path(forged["path"]), *Path(forged["path"]).iterdir()]:
        os.chown(p, m.pw_uid, m.pw_gid)  # as if mallory had written it into carol's folder
    before = {p.name: p.read_bytes() for p in Path(forged["path"]).iterdir()}
    out = run_cli("collect", "--course", str(course.root))
    assert out["code"] == 0, out["output"]
    assert (f"refused carol/perceptron/{forged['id']}: the folder is owned by {users['mallory']}, "
            f"not {users['carol']} (the roster's user for carol)") in out["output"], out["output"]
    copy = json.loads((course.submitted_dir / "carol" / "perceptron" / "submission.json").read_text())
    assert copy["submission"] == honest["id"]  # the honest (earlier) one counts, the forged one does not
    assert {p.name: p.read_bytes() for p in Path(forged["path"]).iterdir()} == before  # nothing lost
    # one forged file in an otherwise honest folder is refused as well
    os.chown(forged["path"], pwd.getpwnam(users["carol"]).pw_uid, -1)
    rec = next(r for r in exchange.collect(course) if r["student"] == "carol")
    [why] = [i["reason"] for i in rec["ignored"] if i["submission"] == forged["id"]]
    assert why.startswith(f"refused: submission.json is owned by {users['mallory']}")


# --- times and limits -------------------------------------------------------------------------

def test_a_backdated_submission_counts_from_its_ctime(course, users, shared):
    deadline = datetime.now(UTC) - timedelta(days=2, hours=1)
    text = (course.root / "course.toml").read_text().replace(
        next(l for l in (course.root / "course.toml").read_text().splitlines() if l.startswith("deadline")),
        f"deadline = {deadline:%Y-%m-%dT%H:%M:%SZ}")
    (course.root / "course.toml").write_text(text)
    course = load_course(course.root)
    enrol(course, users, "carol")
    ex_obj = course.exercise("perceptron")
    mine = work(shared, users["carol"])
    claimed = deadline - timedelta(hours=3)
    out = as_user(users["carol"], lambda: exchange.submit(course.exchange_path, ex_obj, mine, "carol", now=claimed))
    assert out["value"]["submitted_at"].startswith(claimed.strftime("%Y-%m-%dT%H:%M"))  # the record lies
    [rec] = exchange.collect(course)
    assert rec["collected"] and rec["late"] and rec["counted_from"] == "ctime"
    assert rec["declared_at"].startswith(claimed.strftime("%Y-%m-%dT%H:%M"))
    assert 2.0 < rec["late_days"] < 2.1 and rec["factor"] == pytest.approx(0.7)  # 3 started days late
    # editing the record afterwards (to an earlier time) changes nothing either: ctime moves on
    meta = Path(rec["source"]) / "submission.json"
    as_user(users["carol"], lambda: meta.write_text(meta.read_text().replace(
        rec["declared_at"][:4], str(int(rec["declared_at"][:4]) - 1), 1)) and None)
    [again] = exchange.collect(course)
    assert again["late"] and again["late_days"] >= rec["late_days"]


def _hand_placed(course, student: str, uid: int, gid: int, files: dict[str, bytes], listed=None) -> Path:
    """A submission written by hand (record and sha256 right) into a learner's folder."""
    edir = Path(course.exchange_path) / "inbound" / student / "perceptron"
    edir.mkdir(exist_ok=True)
    os.chown(edir, uid, gid)
    sub = edir / f"20260101T000000Z-{secrets.token_hex(6)}"
    sub.mkdir()
    for name, data in files.items():
        (sub / name).write_bytes(data)
    names = sorted(listed if listed is not None else files)
    record = {"format": 1, "student": student, "exercise": "perceptron",
              "submitted_at": datetime.now(UTC).isoformat(), "entry": "perceptron.py", "files": names,
              "sha256": hash_files([(n, sub / n) for n in names])}
    (sub / "submission.json").write_text(json.dumps(record))
    for p in [sub, *sub.iterdir()]:
        os.chown(p, uid, gid)
    return sub


@pytest.mark.parametrize("files, listed, says", [
    ({"perceptron.py": b"x = 1\n" + b"#" * (1 << 20)}, None, "over the 1024 KiB limit for a source file"),
    ({"perceptron.py": b"x = 1\n", **{f"m{i}.py": b"y = 2\n" for i in range(60)}}, None,
     "61 files, over the limit of 50"),
    ({"perceptron.py": b"x = 1\n", "data.zip": b"PK\x03\x04rest"}, None, "data.zip is not a .py file"),
    ({"perceptron.py": b"x = 1\n", "blob.py": b"\x00\x01\x02"}, None, "blob.py is a binary file"),
    ({"other.py": b"x = 1\n"}, None, "no perceptron.py"),
])
def test_an_over_limit_submission_placed_by_hand_is_refused_at_collect(course, users, files, listed, says):
    enrol(course, users, "carol")
    pw = pwd.getpwnam(users["carol"])
    sub = _hand_placed(course, "carol", pw.pw_uid, pw.pw_gid, files, listed)
    before = sorted((p.name, p.stat().st_size) for p in sub.iterdir())
    out = run_cli("collect", "--course", str(course.root))
    assert out["code"] == 0, out["output"]
    [line] = [l for l in out["output"].splitlines() if l.startswith(f"  refused carol/perceptron/{sub.name}: ")]
    assert says in line and line.endswith("it stays in the exchange"), out["output"]
    assert "skipped carol/perceptron: no usable submission (1 refused;" in out["output"]
    assert sorted((p.name, p.stat().st_size) for p in sub.iterdir()) == before  # nothing lost
    assert not (course.submitted_dir / "carol" / "perceptron").exists()


# --- the whole loop, and what a learner cannot read ----------------------------------------

def test_each_learner_submits_and_reads_only_their_own_feedback(course, users, shared):
    root, bundle = str(course.root), str(course.bundle)
    enrol(course, users, "carol", "bob")
    for role, body in (("carol", None), ("bob", "def predict(x):\n    return 0\n")):
        out = as_user(users[role], run_cli, "submit", "perceptron", str(work(shared, users[role], body)),
                      "--course", bundle)
        assert out["value"]["code"] == 0, out
    out = run_cli("collect", "--course", root)
    assert out["code"] == 0 and "Collected 2 submission(s)" in out["output"], out["output"]
    out = run_cli("autograde", "--course", root, "--workers", "1")
    assert out["code"] == 0, out["output"]
    ex = Path(course.exchange_path)
    # carol plants a link where her feedback will go, hoping root writes through it
    victim = shared / f"victim-{secrets.token_hex(2)}"
    victim.mkdir()
    out = as_user(users["carol"], os.symlink, str(victim), str(ex / "feedback" / "carol" / "perceptron"))
    assert "exception" not in out, out
    out = run_cli("release-feedback", "--course", root, "--lang", "en")
    assert out["code"] == 0 and "Released 2 feedback report(s) for 2 learner(s)" in out["output"], out["output"]
    assert list(victim.iterdir()) == [] and not (ex / "feedback" / "carol" / "perceptron").is_symlink()
    assert [p.name for p in (ex / "feedback" / "carol").iterdir()] == ["perceptron"]  # the link is gone
    out = run_cli("release-feedback", "--course", root, "--lang", "en")  # a second release replaces the first
    assert out["code"] == 0, out["output"]
    out = run_cli("report", "--course", root, "--lang", "en")
    assert out["code"] == 0, out["output"]
    for role in ("carol", "bob"):
        folder = ex / "feedback" / role / "perceptron"
        assert owner(ex / "feedback" / role) == users[role] and mode(ex / "feedback" / role) == 0o700
        assert owner(folder) == users[role] and mode(folder) == 0o700
        for page in folder.iterdir():
            assert owner(page) == users[role] and mode(page) == 0o600
    grades = {r["student"]: r for r in json.loads(run_cli("grades", "--json", "--course", root)["output"])}
    assert grades["carol"]["score"] == grades["carol"]["max_score"] > grades["bob"]["score"]

    # each reads their own, with no option
    out = as_user(users["carol"], run_cli, "feedback", "perceptron", "--raw", "--course", bundle)
    assert out["value"]["code"] == 0 and "Feedback for carol" in out["value"]["output"], out
    out = as_user(users["bob"], run_cli, "feedback", "perceptron", "--course", bundle)
    assert out["value"]["code"] == 0 and "bob" in out["value"]["output"], out
    # and nobody else's: no option, no path
    out = as_user(users["bob"], run_cli, "feedback", "perceptron", "--student", "carol", "--raw", "--course", bundle)
    assert out["value"]["code"] == 2 and "'carol' is refused: you are bob" in out["value"]["output"]
    out = as_user(users["bob"], run_cli, "feedback", "perceptron", "--raw", "--course", bundle,
                  env={"DLGRADE_STUDENT": "carol"})
    assert out["value"]["code"] == 2 and "Feedback for carol" not in out["value"]["output"]
    bob = users["bob"]
    course_root = Path(root)
    for path in (ex / "feedback" / "carol" / "perceptron" / "report.md", ex / "feedback" / "carol",
                 ex / "feedback", ex / "inbound", ex / "inbound" / "carol", ex / "users",
                 course_root, course_root / "gradebook.sqlite", course_root / "roster.csv",
                 course_root / "course.toml", course_root / "reports", course_root / "reports" / "carol" / "report.md",
                 course_root / "reports" / "dashboard.html", course_root / "submitted",
                 course_root / "submitted" / "carol" / "perceptron" / "perceptron.py", course_root / "solutions"):
        assert as_user(bob, try_read, str(path))["value"] == "EACCES", path
    for path in (course_root / "gradebook.sqlite", course_root / "roster.csv", course_root / "course.toml"):
        assert mode(path) == 0o600, path
    for path in (course_root / "reports", course_root / "submitted", course_root / "solutions",
                 course_root / "exercises"):
        assert mode(path) == 0o700, path
    # what a learner may read: the exchange's folder and their own roster entry
    assert as_user(bob, try_read, str(ex / "users" / bob))["value"] == "ok"


def test_a_course_without_a_roster_is_single_user(course, users, shared):
    """No roster: ids as given, the caller owns everything, `status` says so."""
    ex_obj = course.exercise("perceptron")
    rec = exchange.submit(course.exchange_path, ex_obj, work(shared, "root"), "sara")
    assert owner(rec["path"]) == "root" and mode(rec["path"]) == 0o700
    out = run_cli("status", "--student", "sara", "--course", str(course.root))
    assert out["code"] == 0 and "single-user course (no roster)" in out["output"], out["output"]
    [collected] = exchange.collect(course)
    assert collected["collected"] and "counted_from" not in collected  # the caller's own: declared time
    # a learner without a roster has no way in: inbound/ is the instructor's
    mine = str(work(shared, users["mallory"]))
    out = as_user(users["mallory"], run_cli, "submit", "perceptron", mine, "--course", str(course.bundle))
    assert out["value"]["code"] == 2 and "nothing was submitted" in out["value"]["output"], out
