"""Every sandbox mode grades correctly, and gradings are isolated from each other.

With bubblewrap (namespaces) and without it (rlimits-only: bwrap hidden from PATH in a child
process, since `sandbox.probe()` is decided once per process): the reference of every exercise gets
full marks, fresh and from a zygote; a learner who sabotages the next one (guessable work folders,
read-only leftovers, files in every writable place, SysV IPC, a setsid() process) changes nothing
for the next learner; a fork-and-allocate tree is held to the grading's memory bound as a whole and
reported as a memory failure; no share folder with learner code outlives its zygote or worker."""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
HOSTILE = TESTS / "hostile"
SLOT = 7  # conftest.HOSTILE_SLOT: hostile gradings run under their own uid
NUMPY_EXERCISES = ("perceptron", "backprop", "conv-arithmetic", "param-count", "conv-numpy", "x-vs-o",
                   "activations-losses", "gradient-descent", "knn", "preprocessing", "batchnorm-dropout",
                   "style-losses")
FRESH_TOO = ("perceptron", "backprop", "conv-arithmetic", "param-count", "augmentation")  # graded fresh as well
KERAS_EXERCISES = ("keras-mlp", "lenet", "vgg", "augmentation")


def _limits():
    from grader.sandbox.limits import Limits
    return Limits(wall_seconds=20, test_seconds=5, memory_mb=512, processes=32, disk_mb=32)


# -- rounds shared by the in-process (bubblewrap) tests and the child process without bubblewrap --
def sabotage_round(tmp: Path) -> dict:
    """Learner 1 sabotages, learner 2 (a correct perceptron that looks around) comes next on the
    same worker's zygote."""
    from grader.grading.engine import grade
    from grader.exercise.spec import find_exercise
    from grader.sandbox.zygote import ZygotePool
    ex = find_exercise("perceptron")
    spy = tmp / "spy" / "perceptron.py"
    spy.parent.mkdir(parents=True, exist_ok=True)
    spy.write_text(ex.solution.read_text() + "\n\n" + (HOSTILE / "next_learner_spy.py").read_text())
    pool = ZygotePool(SLOT)
    try:
        factory = pool.factory([], "cpu", _limits())
        r1 = grade(ex, HOSTILE / "next_learner_sabotage.py", "hidden", slot=SLOT, sandbox_factory=factory,
                   limits=_limits())
        first = next(iter(pool.zygotes.values()))
        retired = first.dirty
        r2 = grade(ex, spy, "hidden", slot=SLOT, sandbox_factory=factory, limits=_limits())
        zygote = next(iter(pool.zygotes.values()))
        share_base = zygote.base
        share_after = sorted(p.name for p in zygote.share.iterdir())
    finally:
        pool.close()
    found = next((line for line in r2.output.splitlines() if line.startswith("SPY-FOUND")), "SPY-FOUND missing")
    return {"r1_output": r1.output, "r2_score": r2.score, "r2_max": r2.max_score, "r2_full": r2.full_marks,
            "r2_failed": [(t.name, t.output[:200]) for t in r2.tests if t.status != "passed"],
            "spy_found": found, "r2_output": r2.output[-3000:], "retired": retired,
            "same_zygote": zygote is first, "share_after_fork": share_after,
            "share_base_left": share_base.exists()}


def fork_allocate_round(use_zygote: bool) -> dict:
    """tests/hostile/fork_and_allocate.py: eight children, each at the address-space limit."""
    from grader.grading.engine import grade
    from grader.sandbox.limits import Limits, tree_memory_mb_of
    from grader.sandbox.process import Sandbox
    from grader.exercise.spec import find_exercise
    from grader.sandbox.zygote import ZygotePool
    ex = find_exercise("perceptron")
    limits = Limits(wall_seconds=30, test_seconds=10, memory_mb=512, processes=32, disk_mb=32)
    made = []
    pool = ZygotePool(SLOT)
    zygote_factory = pool.factory([], "cpu", limits)

    def factory(files, entry, lim, device):
        if use_zygote:
            sb = zygote_factory(files, entry, lim, device)
        else:
            sb = Sandbox(files, entry, lim, slot=SLOT, device=device)
            sb.start()
        made.append(sb)
        return sb
    try:
        t0 = time.monotonic()
        result = grade(ex, HOSTILE / "fork_and_allocate.py", "hidden", slot=SLOT, sandbox_factory=factory,
                       limits=limits)
        seconds = time.monotonic() - t0
        baseline = next(iter(pool.zygotes.values())).baseline if use_zygote else 0
    finally:
        pool.close()
    peaks = [sb.memory_peak for sb in made if sb.memory_peak is not None]
    return {"peak_mb": max(peaks) / (1 << 20) if peaks else None, "memory_mb": limits.memory_mb,
            "bound_mb": tree_memory_mb_of(limits) + baseline / (1 << 20), "baseline_mb": baseline / (1 << 20),
            "messages": [t.output[:300] for t in result.tests if t.status != "passed"],
            "kinds": sorted({getattr(t, "kind", "") for t in result.tests if t.status != "passed"}),
            "output": result.output[-1500:], "seconds": seconds}


def worker_round(tmp: Path) -> dict:
    """A batch worker grades numpy exercises (they preload nothing) by forking from its numpy zygote:
    each grading's tests, scores and feedback equal a fresh sandbox's; a saboteur changes nothing
    for the next learner on the same worker."""
    from grader.batch import worker
    from grader.exercise.spec import find_exercise
    from grader.grading.engine import grade
    from grader.grading.result import Result
    perceptron, conv = find_exercise("perceptron"), find_exercise("conv-arithmetic")
    spy = tmp / "worker-spy" / "perceptron.py"
    spy.parent.mkdir(parents=True, exist_ok=True)
    spy.write_text(perceptron.solution.read_text() + "\n\n" + (HOSTILE / "next_learner_spy.py").read_text())
    subs = [("perceptron-template", perceptron, perceptron.template), ("perceptron-reference", perceptron,
            perceptron.solution), ("conv-template", conv, conv.template), ("conv-reference", conv, conv.solution),
            ("sabotage", perceptron, HOSTILE / "next_learner_sabotage.py"), ("spy", perceptron, spy)]

    def tests(r: Result) -> list:  # rlimits-only: every sandbox, fresh or zygote, has its own random host folder
        return [[t.name, t.score, t.max_score, str(t.status), str(t.kind),
                 re.sub(r"/dlgrade-run-[^/]+/", "/dlgrade-run-.../", t.output)] for t in r.tests]
    out = {"gradings": {}, "zygotes": []}
    try:
        for name, ex, path in subs:
            task = {"task_id": name, "exercise_dir": str(ex.directory), "solutions_dir": str(ex.solution_dir.parent),
                    "submission_path": str(path), "device": "cpu", "suite": "hidden"}
            answer = worker.run_task(task, slot=SLOT)
            assert "result" in answer, answer
            forked = Result.from_json(answer["result"])
            fresh = grade(ex, path, "hidden", slot=SLOT, device="cpu") if name not in ("sabotage", "spy") else forked
            out["gradings"][name] = {
                "started_by": forked.extra_data["sandbox"]["started_by"], "fault": answer.get("fault"),
                "score": forked.score, "full": forked.full_marks, "same_tests": tests(forked) == tests(fresh),
                "same_output": forked.output == fresh.output, "tests": tests(forked), "fresh_tests": tests(fresh),
                "spy_found": next((line for line in forked.output.splitlines() if line.startswith("SPY-FOUND")), "")}
        out["zygotes"] = [list(key[0]) for key in worker._pool.zygotes]
    finally:
        worker.close_zygotes()
    return out


def _without_bwrap_main(out: Path, tmp: Path) -> None:
    """Run in a child process whose PATH has no bwrap: every exercise fresh and from a zygote,
    the sabotage and fork-and-allocate rounds; JSON to `out`."""
    from grader.grading.engine import grade
    from grader.sandbox.probe import probe
    from grader.exercise.spec import find_exercise
    from grader.sandbox.zygote import ZygotePool
    report = {"protections": probe().as_dict(), "gradings": []}
    assert report["protections"]["mode"] == "rlimits-only", report["protections"]
    pool = ZygotePool(SLOT)
    try:
        for ex_id in NUMPY_EXERCISES + KERAS_EXERCISES:
            ex = find_exercise(ex_id)
            # fresh too: the first four numpy exercises and the cheapest Keras one (each Keras grading
            # costs 10-50 s); every exercise from a zygote
            ways = ["zygote"] + (["fresh"] if ex_id in FRESH_TOO else [])
            for way in ways:
                factory = pool.factory(ex.preload, "cpu", ex.limits) if way == "zygote" else None
                t0 = time.monotonic()
                r = grade(ex, ex.solution, "hidden", slot=SLOT, device="cpu", sandbox_factory=factory)
                report["gradings"].append({
                    "exercise": ex_id, "way": way, "score": r.score, "max": r.max_score, "full": r.full_marks,
                    "seconds": round(time.monotonic() - t0, 1),
                    "failed": [(t.name, t.output[:300]) for t in r.tests if t.status != "passed"],
                    "mode": r.extra_data["sandbox"]["mode"]})
    finally:
        pool.close()
    report["sabotage"] = sabotage_round(tmp)
    report["fork_allocate"] = fork_allocate_round(use_zygote=True)
    report["worker"] = worker_round(tmp)
    out.write_text(json.dumps(report, indent=1))


def _path_without_bwrap() -> str:
    """A PATH with the interpreter's folder and nothing that holds bwrap."""
    keep = [os.path.dirname(sys.executable)]
    return os.pathsep.join(p for p in keep if not os.path.exists(os.path.join(p, "bwrap")))


def _clean_host_litter() -> None:
    """Without namespaces and as root, learner 1 writes into the host's /tmp and /dev/shm (the
    recorded weaker guarantee): remove what the test's hostile learner left there."""
    for place in ("/tmp", "/dev/shm"):
        for p in glob.glob(f"{place}/dlgrade-sabotage*"):
            for root, dirs, _ in os.walk(p):
                for d in dirs:
                    os.chmod(os.path.join(root, d), 0o700)
            os.chmod(p, 0o700) if os.path.isdir(p) else None
            shutil.rmtree(p, ignore_errors=True) if os.path.isdir(p) else os.unlink(p)


@pytest.fixture(scope="module")
def without_bwrap(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("no-bwrap")
    out = tmp / "report.json"
    env = dict(os.environ, PATH=_path_without_bwrap(), PYTHONPATH=str(REPO))
    try:
        proc = subprocess.run([sys.executable, __file__, str(out), str(tmp)], env=env, cwd=str(REPO),
                              capture_output=True, text=True, timeout=420)
    finally:
        _clean_host_litter()
    assert proc.returncode == 0 and out.exists(), proc.stderr[-4000:]
    return json.loads(out.read_text())


# -- without bubblewrap -------------------------------------------------------------------------
def test_without_bubblewrap_every_reference_gets_full_marks_fresh_and_from_a_zygote(without_bwrap):
    gradings = without_bwrap["gradings"]
    assert {g["exercise"] for g in gradings} == set(NUMPY_EXERCISES + KERAS_EXERCISES)
    assert {g["way"] for g in gradings} == {"fresh", "zygote"}
    for g in gradings:
        assert g["mode"] == "rlimits-only"
        assert g["full"] and g["score"] == g["max"] > 0, g


def test_without_bubblewrap_the_protections_say_exactly_what_is_active(without_bwrap):
    from grader.sandbox.seccomp import SeccompUnavailable, seccomp_program
    prot = without_bwrap["protections"]
    assert prot["mode"] == "rlimits-only"
    from grader.sandbox.probe import interpreter_reachable_unprivileged
    if os.geteuid() == 0 and not interpreter_reachable_unprivileged():
        # as root with an interpreter others cannot run: util-linux namespaces, never learner code as root
        assert {"mount-namespace", "pid-namespace", "tmpfs-disk-cap",
                "unprivileged-uid-no-capabilities"} <= set(prot["active"]), prot
        assert "network-namespace" not in prot["active"]
    else:
        assert "mount-namespace" not in prot["active"] and "tmpfs-disk-cap" not in prot["active"]
    assert any("bubblewrap" in w for w in prot["warnings"])
    try:
        seccomp_program()
    except SeccompUnavailable:
        pass
    else:
        assert {"seccomp-no-sockets", "seccomp-no-sysv-ipc"} <= set(prot["active"])
    if os.geteuid() == 0 and "unprivileged-uid-no-capabilities" not in prot["active"]:
        assert any("runs as root" in w for w in prot["warnings"]), prot["warnings"]
    bound = prot["memory_bound"]
    assert bound["kind"] in ("cgroup-v1", "cgroup-v2", "rlimits", "per-process") and bound["text"]


def test_without_bubblewrap_sabotage_changes_nothing_for_the_next_learner(without_bwrap):
    s = without_bwrap["sabotage"]
    assert s["r2_full"], s["r2_failed"]
    found = json.loads(s["spy_found"].removeprefix("SPY-FOUND ").replace("'", '"'))
    # As root without namespaces the host's /tmp and /dev/shm are shared with the grader itself (the
    # recorded weaker guarantee); everything the zygote owns is wiped.
    own = [f for f in found if not f.startswith(("/tmp/dlgrade-sabotage", "/dev/shm/dlgrade-sabotage"))]
    assert own == [], s
    assert "SysV shm 0x5ab0" not in found and "SHMGET -1" in s["r1_output"], s["r1_output"]
    assert s["share_after_fork"] == [] and not s["share_base_left"]


def test_without_bubblewrap_a_fork_and_allocate_tree_is_held_to_the_bound(without_bwrap):
    f = without_bwrap["fork_allocate"]
    assert f["peak_mb"] is not None and f["peak_mb"] <= f["bound_mb"] + 1, f
    assert any("memory" in m for m in f["messages"]), f


def _check_worker_round(w: dict, namespaces: bool) -> None:
    assert w["zygotes"] == [["numpy"]], w["zygotes"]  # one numpy zygote served both exercises
    for name, g in w["gradings"].items():
        assert g["started_by"] == "zygote" and g["fault"] is None, (name, g)
        if name not in ("sabotage", "spy"):  # the same tests, scores and feedback as a fresh sandbox
            assert g["same_tests"], (name, g["tests"], g["fresh_tests"])
            assert g["same_output"], name
    assert w["gradings"]["perceptron-reference"]["full"] and w["gradings"]["conv-reference"]["full"]
    assert not w["gradings"]["perceptron-template"]["full"] and not w["gradings"]["conv-template"]["full"]
    spy = w["gradings"]["spy"]
    assert spy["full"], spy["tests"]
    found = json.loads(spy["spy_found"].removeprefix("SPY-FOUND ").replace("'", '"'))
    if not namespaces:  # as root without namespaces the host's /tmp and /dev/shm are shared (recorded)
        found = [f for f in found if not f.startswith(("/tmp/dlgrade-sabotage", "/dev/shm/dlgrade-sabotage"))]
    assert found == [], spy


def test_without_bubblewrap_a_worker_forks_numpy_gradings_like_fresh_sandboxes(without_bwrap):
    _check_worker_round(without_bwrap["worker"], namespaces=False)


# -- with bubblewrap ----------------------------------------------------------------------------
needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")


@needs_bwrap
def test_next_learner_sabotage_changes_nothing_with_namespaces(tmp_path):
    from grader.sandbox.probe import probe
    assert probe().namespaces
    s = sabotage_round(tmp_path)
    assert s["r2_full"], s["r2_failed"]
    assert s["spy_found"] == "SPY-FOUND []", s
    assert "SHMGET -1" in s["r1_output"], s["r1_output"]  # SysV IPC refused
    assert s["share_after_fork"] == [] and not s["share_base_left"]


@needs_bwrap
def test_a_worker_forks_numpy_gradings_like_fresh_sandboxes_with_namespaces(tmp_path):
    from grader.sandbox.probe import probe
    assert probe().namespaces
    _check_worker_round(worker_round(tmp_path), namespaces=True)


@needs_bwrap
def test_a_learner_who_kills_every_process_it_may_grades_as_in_a_fresh_sandbox(tmp_path):
    """kill(-1, SIGKILL) at import reaches neither the zygote (its namespace's init) nor anything
    else: the reference after it gets full marks, as fresh, and the same zygote serves the next one."""
    from grader.exercise.spec import find_exercise
    from grader.grading.engine import grade
    from grader.sandbox.zygote import ZygotePool
    ex = find_exercise("perceptron")
    killer = tmp_path / "perceptron.py"
    killer.write_text("import os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError:\n    pass\n"
                      + ex.solution.read_text())
    fresh = grade(ex, killer, "hidden", slot=SLOT, device="cpu", limits=_limits())
    pool = ZygotePool(SLOT)
    try:
        factory = pool.factory(["numpy"], "cpu", _limits())
        forked = grade(ex, killer, "hidden", slot=SLOT, device="cpu", sandbox_factory=factory, limits=_limits())
        zygote = next(iter(pool.zygotes.values()))
        after = grade(ex, ex.solution, "hidden", slot=SLOT, device="cpu", sandbox_factory=factory, limits=_limits())
        assert zygote.alive() and next(iter(pool.zygotes.values())) is zygote and zygote.forks == 2
    finally:
        pool.close()
    assert fresh.full_marks and forked.full_marks and after.full_marks
    assert [(t.name, t.status) for t in forked.tests] == [(t.name, t.status) for t in fresh.tests]


@needs_bwrap
def test_a_fork_and_allocate_tree_is_held_to_the_grading_bound_and_reported_as_memory():
    """A fresh sandbox here; a zygote's group (grading + the zygote's baseline) in the run without
    bubblewrap above."""
    from grader.sandbox.probe import probe
    if not probe().cgroup:
        pytest.skip("no cgroup here: the weaker per-process bound applies (see protections)")
    f = fork_allocate_round(use_zygote=False)
    # eight children at ~0.4 GB each would hold ~3.5 GB; the group holds the whole tree to its bound
    assert f["peak_mb"] is not None and f["peak_mb"] <= f["bound_mb"] + 1, f
    assert any("memory" in m for m in f["messages"]), f


def test_protections_record_the_memory_bound_that_applies():
    from grader.sandbox.limits import Limits
    from grader.sandbox.probe import Protections
    lim = Limits(memory_mb=1024, processes=64, disk_mb=64)
    assert Protections(cgroup="v1").as_dict(lim)["memory_bound"]["mb"] == 1024 + 64
    weaker = Protections(cgroup=None, unprivileged_uid=True).as_dict(lim)["memory_bound"]
    assert weaker["kind"] == "rlimits" and weaker["mb"] == 64 * 1024
    assert weaker["text"] == "memory bound: 64 processes x 1024 MB"
    assert Protections(cgroup=None).as_dict(lim)["memory_bound"]["mb"] is None


def test_sandbox_uids_come_from_their_documented_range():
    from grader.sandbox.uids import FIRST_UID, LAST_UID, SLOTS, uid_for_slot
    assert (FIRST_UID, LAST_UID) == (60000, 64999) and LAST_UID < 65534  # below nobody
    assert uid_for_slot(0) == FIRST_UID and uid_for_slot(SLOTS - 1) == LAST_UID
    for bad in (-1, SLOTS, 100000):
        with pytest.raises(ValueError, match="outside"):
            uid_for_slot(bad)


def test_a_sandbox_uid_inside_a_subordinate_id_range_stops_with_a_clear_error(tmp_path, monkeypatch):
    from grader.sandbox import uids
    from grader.sandbox.errors import SandboxStartError
    subuid = tmp_path / "subuid"
    subuid.write_text("# comment\nalice:100000:65536\nbob:60000:65536\n")
    monkeypatch.setattr(uids, "SUBID_FILES", (subuid,))
    with pytest.raises(SandboxStartError) as err:
        uids.uid_for_slot(SLOT)
    text = str(err.value)
    assert f"uid {60000 + SLOT}" in text and str(subuid) in text and "bob" in text and "alice" not in text
    assert "60000-64999" in text  # the range, so the instructor knows what to free
    subuid.write_text("alice:100000:65536\n")
    assert uids.uid_for_slot(SLOT) == 60000 + SLOT


def test_a_sandbox_uid_that_is_an_account_stops_with_a_clear_error(monkeypatch):
    import pwd
    from grader.sandbox import uids

    def getpwuid(uid):
        if uid == 60000 + SLOT:
            return pwd.struct_passwd(("carol", "x", uid, uid, "", "/home/carol", "/bin/sh"))
        raise KeyError(uid)
    monkeypatch.setattr(uids.pwd, "getpwuid", getpwuid)
    with pytest.raises(uids.SandboxUidError, match="account 'carol'"):
        uids.uid_for_slot(SLOT)
    assert uids.uid_for_slot(SLOT + 1) == 60000 + SLOT + 1


def test_each_process_claims_its_own_slot(tmp_path, monkeypatch):
    import tempfile
    from grader.sandbox.uids import claim_slot
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    a, b = claim_slot(), claim_slot()
    assert (a.slot, b.slot) == (0, 1)
    claim = "from grader.sandbox.uids import claim_slot; print(claim_slot().slot)"
    held = subprocess.run([sys.executable, "-c", claim],
                          env=dict(os.environ, TMPDIR=str(tmp_path)), cwd=str(REPO), capture_output=True, text=True)
    assert held.stdout.strip() == "2", held.stderr  # another process skips the slots this one holds
    a.release()
    assert claim_slot().slot == 0
    assert os.stat(tmp_path / f"dlgrade-slots-{os.geteuid()}").st_mode & 0o777 == 0o700


def test_a_seccomp_rule_that_cannot_be_added_is_recorded_and_reported(monkeypatch):
    import types
    from grader.sandbox import probe as probe_module
    from grader.sandbox import seccomp

    class Filter:
        def __init__(self, defaction):
            pass

        def add_rule(self, action, name):
            if name in ("socketpair", "msgget"):
                raise OSError(22, "Invalid argument")

        def export_bpf(self, fh):
            fh.write(b"\0" * 8)
    fake = types.SimpleNamespace(SyscallFilter=Filter, ALLOW=0, ERRNO=lambda e: e)
    monkeypatch.setitem(sys.modules, "pyseccomp", fake)
    program = seccomp.seccomp_program.__wrapped__()
    assert program.unblocked_names == ["socketpair", "msgget"] and "Invalid argument" in program.unblocked[0][1]
    monkeypatch.setattr(probe_module, "seccomp_program", lambda: program)
    prot = probe_module.probe.__wrapped__()
    assert prot.seccomp and prot.seccomp_unblocked == ["socketpair", "msgget"]
    report = prot.as_dict()
    assert report["seccomp_unblocked"] == ["socketpair", "msgget"]
    assert "seccomp-no-sockets" not in report["active"] and "seccomp-no-sysv-ipc" not in report["active"]
    assert any("socketpair" in w and "msgget" in w and "learner code may call them" in w for w in report["warnings"])


def test_staging_folders_are_private(tmp_path):
    from grader.sandbox.probe import sandbox_uid
    from grader.sandbox.staging import stage_private
    src = tmp_path / "perceptron.py"
    src.write_text("x = 1\n")
    src.chmod(0o644)
    stage, staged = stage_private({"perceptron.py": src}, SLOT)
    try:
        assert stage.stat().st_mode & 0o777 == 0o700
        st = staged["perceptron.py"].stat()
        assert st.st_mode & 0o777 == 0o400
        uid = sandbox_uid(SLOT)
        assert st.st_uid == (uid if uid is not None else os.geteuid())
    finally:
        shutil.rmtree(stage)


def test_a_sandbox_that_cannot_start_leaves_no_process_group_or_copy_behind(tmp_path):
    from grader.sandbox.errors import SandboxStartError
    from grader.sandbox.process import Sandbox
    src = tmp_path / "perceptron.py"
    src.write_text("x = 1\n")
    sb = Sandbox({"perceptron.py": src}, "perceptron.py", _limits(), slot=SLOT,
                 env={"DLGRADE_PRELOAD": "no_such_module_anywhere"})  # the runner dies before its hello
    with pytest.raises(SandboxStartError):
        sb.start()
    assert sb.cgroup is None and sb._fallback_dir is None and not sb.alive()


def test_a_worker_ended_by_sigterm_leaves_no_share_behind(tmp_path):
    """A Keras grading (the template: fails fast) in a real worker, then SIGTERM: its zygote's private
    folder is gone, and while it lived it was 0700 with an empty share."""
    from grader.exercise.spec import find_exercise
    ex = find_exercise("keras-mlp")
    sub = tmp_path / "sub"
    sub.mkdir()
    shutil.copyfile(ex.template, sub / ex.entry)
    worker = subprocess.Popen([sys.executable, "-m", "grader.batch.worker", "--slot", str(SLOT)], cwd=str(REPO),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert worker.stdout.readline().startswith("{")
        task = {"task_id": "t1", "exercise_dir": str(ex.directory), "solutions_dir": str(ex.solution_dir.parent),
                "submission_path": str(sub), "device": "cpu", "suite": "hidden"}
        worker.stdin.write(json.dumps(task) + "\n")
        worker.stdin.flush()
        answer = json.loads(worker.stdout.readline())
        assert answer["task_id"] == "t1"
        bases = glob.glob(f"/tmp/dlgrade-zygote{SLOT}-{worker.pid}-*")
        assert len(bases) == 1
        assert os.stat(bases[0]).st_mode & 0o777 == 0o700
        assert os.listdir(os.path.join(bases[0], "share")) == []  # emptied after the fork
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert not os.path.exists(bases[0])


if __name__ == "__main__":  # the child process of `without_bwrap`
    sys.path.insert(0, str(REPO))
    _without_bwrap_main(Path(sys.argv[1]), Path(sys.argv[2]))


def test_an_interpreter_installed_under_the_sandboxs_work_folder_stays_visible(monkeypatch):
    """A virtual environment in /work/... (the sandbox's own work folder is a tmpfs at /work) is
    bound after that tmpfs, without changing the work folder's mode; a real grading then runs with
    the work folder moved above this interpreter's prefix."""
    from grader.sandbox import commands
    from grader.sandbox.limits import Limits
    monkeypatch.setattr(commands, "python_paths", lambda secret: ["/opt/py", f"{commands.WORK_DIR}/envs/py"])
    args = commands.bwrap_command(Limits(), "cpu", [], {"mine.py": Path("/dev/null")}, {}, ["python"])
    tmpfs, late = args.index(commands.WORK_DIR, args.index("--tmpfs", args.index("/opt/py"))), args.index(
        f"{commands.WORK_DIR}/envs/py")
    assert args[tmpfs - 1] == "--tmpfs" and tmpfs < late  # after the tmpfs that would hide it
    assert args[late - 1] == "--ro-bind" and args[late - 3:late - 1] == ["--dir", f"{commands.WORK_DIR}/envs"]
    assert [args[i + 1] for i, a in enumerate(args) if a == "--dir"].count(commands.WORK_DIR) == 0
    monkeypatch.undo()
    prefix = os.path.realpath(sys.prefix)
    if prefix.startswith("/usr/") or not shutil.which("bwrap"):
        return  # an interpreter under /usr is bound with the system; without bwrap there is no /work tmpfs
    from grader.exercise.spec import find_exercise
    from grader.grading.engine import grade
    monkeypatch.setattr(commands, "WORK_DIR", os.path.dirname(prefix))  # the interpreter lies under it
    ex = find_exercise("perceptron")
    result = grade(ex, ex.solution, "public")
    assert result.full_marks, [(t.name, t.output[:300]) for t in result.tests]
