"""The course loop as users run it: init, release, learners start/submit, collect, autograde,
grades, override, export; a resubmission regrades only itself; a killed coordinator resumes with
every submission graded exactly once; a worker that dies is retried; a real Dask cluster grades
a cohort."""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from grader.exercise.cohort import submission_source
from grader.gradebook.store import Gradebook
from grader.exercise.spec import find_exercise

NUMPY_EXERCISES = ("perceptron", "conv-arithmetic")


def dlgrade(*args, cwd, env=None, check=True, timeout=600):
    full_env = dict(os.environ, **(env or {}))
    proc = subprocess.run(["dlgrade", *map(str, args)], capture_output=True, text=True, cwd=cwd, env=full_env,
                          timeout=timeout)
    if check:
        assert proc.returncode == 0, f"dlgrade {' '.join(map(str, args))}: {proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture
def course(tmp_path):
    dlgrade("init", "course", cwd=tmp_path)
    root = tmp_path / "course"
    dlgrade("release", cwd=root)
    return root


def learner_submits(course: Path, student: str, exercise_id: str, kind: str, extra: str = "") -> None:
    """A learner in the released bundle: start, write their answer, submit."""
    bundle = course / "release"
    home = bundle / student
    if not (home / exercise_id).exists():
        dlgrade("start", exercise_id, "--dir", home, cwd=bundle)
    ex = find_exercise(exercise_id)
    (home / exercise_id / ex.entry).write_text(submission_source(ex, kind) + extra)
    dlgrade("submit", exercise_id, cwd=home, env={"DLGRADE_STUDENT": student})


def gradings(course: Path) -> list[dict]:
    with Gradebook.open(str(course / "gradebook.sqlite")) as gb:
        return gb.gradings()


def test_the_whole_loop(course, tmp_path):
    bundle = course / "release"
    assert (bundle / "course.toml").is_file() and not (bundle / "solutions").exists()
    learners = {"ali": "correct", "sara": "partial", "reza": "broken"}
    for student, kind in learners.items():
        for ex in NUMPY_EXERCISES:
            learner_submits(course, student, ex, kind)
    status = json.loads(dlgrade("status", "--all", "--json", cwd=bundle).stdout)
    assert len(status) == 6

    out = dlgrade("collect", cwd=course).stdout
    assert "Collected 6" in out
    run = dlgrade("autograde", "--workers", "2", cwd=course)
    assert "graded 6, failed 0, cached 0" in run.stdout

    rows = json.loads(dlgrade("grades", "--json", cwd=course).stdout)
    by = {(r["student"], r["exercise"]): r for r in rows}
    for ex in NUMPY_EXERCISES:
        assert by[("ali", ex)]["score"] == by[("ali", ex)]["max_score"] > 0
        assert 0 < by[("sara", ex)]["score"] < by[("sara", ex)]["max_score"]
        assert by[("reza", ex)]["score"] == 0

    dlgrade("override", "reza", "perceptron", "--score", "5", "--reason", "oral exam", cwd=course)
    rows = json.loads(dlgrade("grades", "--json", cwd=course).stdout)
    reza = next(r for r in rows if r["student"] == "reza" and r["exercise"] == "perceptron")
    assert reza["score"] == 5 and reza["overridden"] and reza["override_reason"] == "oral exam"

    dlgrade("export", "--format", "csv", "--out", tmp_path / "grades.csv", cwd=course)
    table = list(csv.DictReader((tmp_path / "grades.csv").open()))
    assert {r["student"] for r in table} == set(learners) and table[0].keys() >= set(NUMPY_EXERCISES)
    dlgrade("export", "--format", "canvas", "--out", tmp_path / "canvas.csv", cwd=course)
    lines = (tmp_path / "canvas.csv").read_text().splitlines()
    assert lines[0].startswith("Student,ID,SIS User ID,SIS Login ID,Section") and "Points Possible" in lines[1]
    dlgrade("export", "--format", "gradescope", "--out", tmp_path / "gs", cwd=course)
    result = json.loads((tmp_path / "gs" / "ali" / "perceptron" / "results.json").read_text())
    assert result["score"] == result["max_score"] and result["tests"]

    # sara fixes her perceptron and resubmits: only that submission is graded again
    learner_submits(course, "sara", "perceptron", "correct", extra="\n# fixed after feedback\n")
    dlgrade("collect", cwd=course)
    again = dlgrade("autograde", cwd=course)
    assert "graded 1, failed 0, cached 5" in again.stdout, again.stdout
    rows = json.loads(dlgrade("grades", "--json", cwd=course).stdout)
    sara = next(r for r in rows if r["student"] == "sara" and r["exercise"] == "perceptron")
    assert sara["score"] == sara["max_score"]
    # and a changed hidden test regrades exactly that exercise's submissions
    hidden = course / "solutions" / "conv-arithmetic" / "test_hidden.py"
    hidden.write_text(hidden.read_text() + "\n# reviewed\n")
    third = dlgrade("autograde", cwd=course)
    assert "graded 3, failed 0, cached 3" in third.stdout, third.stdout

    # feedback: reports written, released to the exchange, read by the learner, opened in Chromium
    dlgrade("report", "--lang", "fa", "--out", tmp_path / "reports", cwd=course)
    dlgrade("release-feedback", "--lang", "fa", cwd=course)
    seen = dlgrade("feedback", "perceptron", cwd=bundle / "sara", env={"DLGRADE_STUDENT": "sara"}).stdout
    assert "report.html" in seen
    from browser import Browser, unavailable
    assert unavailable() is None, unavailable()
    with Browser() as browser:
        for page in (tmp_path / "reports" / "sara" / "report.html", tmp_path / "reports" / "dashboard.html"):
            visit = browser.visit(page)
            assert visit.dir == "rtl" and visit.lang == "fa"
            assert visit.requests == [visit.url] and not visit.console_errors and not visit.page_errors


def _cohort(course: Path, n: int) -> None:
    for i in range(n):
        learner_submits(course, f"s{i:02d}", "perceptron", "slow" if i % 2 else "partial", extra=f"\n# {i}\n")
    dlgrade("collect", cwd=course)


def test_a_killed_coordinator_resumes_with_every_submission_graded_once(course):
    _cohort(course, 8)
    db = str(course / "gradebook.sqlite")
    for _ in range(2):  # kill -9 twice, each time just after a grading was recorded, mid-batch
        before = len(gradings(course))
        proc = subprocess.Popen(["dlgrade", "autograde", "--workers", "1"], cwd=course, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 120
        while len(gradings(course)) <= before and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)  # the coordinator only: its workers see their stdin close
        proc.wait()
    done_before = len(gradings(course))
    assert 0 < done_before < 8, f"{done_before} gradings before the resume: nothing left to resume"
    out = dlgrade("autograde", "--workers", "2", cwd=course).stdout
    rows = gradings(course)
    assert len(rows) == 8 and len({r["key"] for r in rows}) == 8
    assert all(r["status"] == "graded" for r in rows)
    assert f"cached {done_before}" in out and f"graded {8 - done_before}," in out
    with Gradebook.open(db) as gb:
        assert len(gb.grades()) == 8


def test_a_worker_that_dies_mid_grading_is_retried_once(course):
    from grader.batch.run import run_batch
    from grader.course.config import load_course
    _cohort(course, 2)
    me = os.getpid()
    killed = []

    def kill_a_busy_worker():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not killed:
            for status in Path("/proc").glob("[0-9]*/status"):
                try:
                    cmd = (status.parent / "cmdline").read_bytes()
                    ppid = int(next(l for l in status.read_text().splitlines() if l.startswith("PPid:")).split()[1])
                except (OSError, StopIteration, ValueError):
                    continue
                if b"grader.batch.worker" in cmd and ppid == me:
                    time.sleep(1.0)  # it is importing a slow submission now
                    os.kill(int(status.parent.name), signal.SIGKILL)
                    killed.append(status.parent.name)
                    break
            time.sleep(0.1)

    killer = threading.Thread(target=kill_a_busy_worker)
    killer.start()
    with Gradebook.open(str(course / "gradebook.sqlite")) as gb:
        summary = run_batch(load_course(course), gb, workers=1)
    killer.join()
    assert killed, "no worker was found to kill"
    assert summary.retried == 1 and summary.graded == 2 and summary.failed == 0
    assert all(r["status"] == "graded" for r in gradings(course))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_dask_cluster_on_loopback_grades_a_cohort(course):
    _cohort(course, 4)
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    bin_dir = Path(sys.executable).parent
    scheduler = subprocess.Popen([str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                  "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers = [subprocess.Popen([str(bin_dir / "dask"), "worker", address, "--nthreads", "1", "--no-dashboard",
                                 "--name", f"w{i}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for i in range(2)]
    try:
        from distributed import Client
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        out = dlgrade("autograde", "--scheduler", address, cwd=course).stdout
        assert "graded 4, failed 0, cached 0" in out, out
        rows = gradings(course)
        assert len(rows) == 4 and all(r["status"] == "graded" for r in rows)
    finally:
        for p in workers + [scheduler]:
            p.terminate()
        for p in workers + [scheduler]:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


@pytest.mark.parametrize("args, message", [
    (("override", "nobody", "perceptron", "--score", "1", "--reason", "x"), "nobody"),
    (("override", "ali", "no-such", "--score", "1", "--reason", "x"), "no-such"),
    (("autograde", "--exercise", "no-such"), "no-such"),
])
def test_bad_names_get_one_line_and_change_nothing(course, args, message):
    learner_submits(course, "ali", "perceptron", "correct")
    dlgrade("collect", cwd=course)
    db = course / "gradebook.sqlite"
    before = db.read_bytes()
    proc = dlgrade(*args, cwd=course, check=False)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert db.read_bytes() == before


def test_no_course_and_a_corrupt_gradebook_are_explained(tmp_path, course):
    proc = dlgrade("collect", cwd=tmp_path, check=False)
    assert proc.returncode == 2 and "course.toml" in proc.stderr and "dlgrade init" in proc.stderr
    db = course / "gradebook.sqlite"
    db.write_bytes(os.urandom(4096))
    before = db.read_bytes()
    proc = dlgrade("grades", cwd=course, check=False)
    assert proc.returncode == 2 and "gradebook.sqlite" in proc.stderr and "Traceback" not in proc.stderr
    assert db.read_bytes() == before


ATTACKER = '''
import os, signal, time
seen = set()
end = time.monotonic() + 4
while time.monotonic() < end:  # while the other learner's grading runs beside this one
    try:
        os.kill(-1, signal.SIGKILL)  # everything this uid may signal (never itself)
    except OSError:
        pass
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                seen.add(open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\\0", b" ").decode()[:300])
            except OSError:
                pass
    time.sleep(0.05)
print("SEEN", sorted(seen))
def step(z):
    raise NotImplementedError
predict = train_perceptron = logic_gate = step
'''


def test_parallel_gradings_cannot_reach_each_other(course):
    """Two workers grade at the same time under different uids and PID namespaces: a learner who
    kills every process it can and lists every process it sees cannot touch or see the other."""
    from grader.batch.run import run_batch
    from grader.course.config import load_course
    learner_submits(course, "victim", "perceptron", "slow")  # 1 s at import, then the reference
    bundle = course / "release"
    dlgrade("start", "perceptron", "--dir", bundle / "attacker", cwd=bundle)
    (bundle / "attacker" / "perceptron" / "perceptron.py").write_text(ATTACKER)
    dlgrade("submit", "perceptron", cwd=bundle / "attacker", env={"DLGRADE_STUDENT": "attacker"})
    dlgrade("collect", cwd=course)
    with Gradebook.open(str(course / "gradebook.sqlite")) as gb:
        summary = run_batch(load_course(course), gb, workers=2)
        rows = {g["student_id"]: g for g in gb.gradings()}
    assert summary.graded == 2 and summary.failed == 0
    victim, attacker = rows["victim"]["result_json"], rows["attacker"]["result_json"]
    assert victim["score"] == victim["max_score"] > 0
    assert attacker["score"] == 0
    seen = attacker["output"]
    assert "SEEN" in seen and "runner.py" in seen  # it does see its own process...
    assert seen.count("runner.py") == 1, seen  # ...and not the other grading's runner


CRASHING_WORKER = '''
import json, sys
print(json.dumps({"ready": True, "pid": 1, "slot": 100}), flush=True)
sys.stdin.readline()
print("loading the exercise", file=sys.stderr)
print("OSError: [Errno 24] Too many open files: '/tmp/x'", file=sys.stderr, flush=True)
sys.exit(70)
'''


def _fake_task(folder, i: int):
    """A task for a fake worker command: task id t<i>, paths under `folder` (never read)."""
    from grader.batch.plan import Task
    return Task(task_id=f"t{i}", student="ali", exercise_id="perceptron", submission_id=i, key=str(i) * 64,
                exercise_hash="h", exercise_dir=str(folder), solutions_dir="", submission_path=str(folder))


def test_a_crashed_worker_says_its_last_stderr_lines(tmp_path, monkeypatch):
    """A worker that dies tells the instructor why, in its own last words on stderr."""
    from grader.batch import local
    script = tmp_path / "crashing_worker.py"
    script.write_text(CRASHING_WORKER)
    monkeypatch.setattr(local._Worker, "command", (sys.executable, str(script)))
    (answer,) = [a for _, a in local.LocalPool(1).run([_fake_task(tmp_path, 1)])]
    assert answer["task_id"] == "t1" and "exited with code 70" in answer["crashed"]
    assert "Too many open files" in answer["crashed"] and "loading the exercise" in answer["crashed"]


SLOW_STARTING_WORKER = '''
import json, os, sys, time
log = sys.argv[1]
started = time.time()
time.sleep(0.5)  # a worker's imports
with open(os.path.join(log, str(os.getpid())), "w") as f:
    json.dump([started, time.time()], f)
print(json.dumps({"ready": True, "pid": os.getpid(), "slot": 100}), flush=True)
for line in sys.stdin:
    print(json.dumps({"task_id": json.loads(line)["task_id"], "result": {"score": 0}}), flush=True)
'''


def test_local_workers_start_side_by_side(tmp_path, monkeypatch):
    """The pool starts every worker before it waits for any to be ready: N workers cost one
    worker's start-up, not N of them."""
    from grader.batch import local
    script, log = tmp_path / "slow_worker.py", tmp_path / "log"
    script.write_text(SLOW_STARTING_WORKER)
    log.mkdir()
    monkeypatch.setattr(local._Worker, "command", (sys.executable, str(script), str(log)))
    answers = [a for _, a in local.LocalPool(2).run([_fake_task(tmp_path, i) for i in range(2)])]
    assert sorted(a["task_id"] for a in answers) == ["t0", "t1"]
    spans = [json.loads(f.read_text()) for f in log.iterdir()]
    assert len(spans) == 2
    assert max(start for start, _ in spans) < min(ready for _, ready in spans), spans


def test_an_early_started_pool_stops_the_workers_a_batch_does_not_need(tmp_path, monkeypatch):
    """`dlgrade autograde` starts its workers before it plans; a plan with fewer tasks than workers
    uses only as many (the others are stopped before they are ready), and a pool that gets no task
    at all ends at once, its workers gone."""
    from grader.batch import local
    script, log = tmp_path / "slow_worker.py", tmp_path / "log"
    script.write_text(SLOW_STARTING_WORKER)
    log.mkdir()
    monkeypatch.setattr(local._Worker, "command", (sys.executable, str(script), str(log)))
    pool = local.LocalPool(3).start()
    assert len(pool.workers) == 3
    answers = [a for _, a in pool.run([_fake_task(tmp_path, 0)])]
    assert [a["task_id"] for a in answers] == ["t0"]
    assert len(list(log.iterdir())) == 1  # the two unneeded workers never got as far as ready
    idle = local.LocalPool(2).start()
    procs = [w.proc for w in idle.workers.values()]
    idle.close()
    assert all(p.poll() is not None for p in procs) and not idle.workers


def test_worker_messages_are_validated_at_the_wire():
    from grader.batch.messages import MessageError, TaskMessage, parse_answer
    assert parse_answer('{"task_id": "t", "result": {"score": 1}}').result == {"score": 1}
    for bad in ('{"task_id": "t"}', '{"task_id": "t", "error": "x"}', '{"task_id": "t", "result": {}, "x": 1}',
                '{"task_id": "t", "error": "x", "fault": "mystery"}', "not json"):
        with pytest.raises(MessageError):
            parse_answer(bad)
    with pytest.raises(ValueError):
        TaskMessage(task_id="t", exercise_dir="e", submission_path="s", device="tpu")
    with pytest.raises(ValueError):  # no configuration rides along unnoticed
        TaskMessage.model_validate({"task_id": "t", "exercise_dir": "e", "submission_path": "s", "env": {}})
