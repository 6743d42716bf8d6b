"""A worker's zygote: one sandbox that imported the heavy modules, a fresh child per grading, and
nothing of one learner's grading left for the next."""

from __future__ import annotations

import pytest

from conftest import HOSTILE_SLOT, wait_for_no_sandbox_processes
from grader.grading.engine import grade
from grader.sandbox.limits import Limits
from grader.sandbox.zygote import ZygotePool

LEARNER_A = '''
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        while True:
            time.sleep(0.05)
    os._exit(0)
for place in ("/tmp/secret-of-a", "secret-of-a", "/dev/shm/secret-of-a", "/work/secret-of-a"):
    try:
        open(place, "w").write("A's answers")
    except OSError:
        pass
def step(z):
    raise NotImplementedError
predict = train_perceptron = logic_gate = step
'''

LEARNER_B = '''
import os
seen = []
for folder in ("/tmp", "/dev/shm", ".", "/work", "/submissions"):
    try:
        seen += [f"{folder}/{n}" for n in os.listdir(folder)]
    except OSError as err:
        seen.append(f"{folder}: {type(err).__name__}")
procs = []
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            procs.append(open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\\0", b" ").decode()[:60])
        except OSError:
            pass
try:
    open(f"/proc/{os.getppid()}/mem", "rb").read(1)
    mem = "zygote memory READ"
except OSError as err:
    mem = f"zygote memory refused ({type(err).__name__})"
print("SEEN", seen)
print("PROCS", procs)
print("MEM", mem)
def step(z):
    raise NotImplementedError
predict = train_perceptron = logic_gate = step
'''


@pytest.fixture
def pool():
    p = ZygotePool(HOSTILE_SLOT)
    yield p
    p.close()
    assert wait_for_no_sandbox_processes() == []


def limits():
    return Limits(wall_seconds=20, test_seconds=3, memory_mb=512, processes=32)


def test_a_zygote_grades_like_a_fresh_sandbox(perceptron, pool):
    fresh = grade(perceptron, perceptron.solution, "hidden", slot=HOSTILE_SLOT)
    factory = pool.factory([], "cpu", limits())
    forked = [grade(perceptron, perceptron.solution, "hidden", slot=HOSTILE_SLOT, sandbox_factory=factory)
              for _ in range(2)]
    for r in forked:
        assert r.full_marks and r.extra_data["sandbox"]["started_by"] == "zygote"
        assert [(t.name, t.status) for t in r.tests] == [(t.name, t.status) for t in fresh.tests]
    zygote = next(iter(pool.zygotes.values()))
    assert zygote.forks == 2 and zygote.alive()


def test_nothing_of_one_learner_reaches_the_next(perceptron, pool, tmp_path):
    factory = pool.factory([], "cpu", limits())
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text(LEARNER_A)
    b.write_text(LEARNER_B)
    result_a = grade(perceptron, a, "hidden", slot=HOSTILE_SLOT, sandbox_factory=factory, limits=limits())
    assert result_a.score == 0
    result_b = grade(perceptron, b, "hidden", slot=HOSTILE_SLOT, sandbox_factory=factory, limits=limits())
    out = result_b.output
    assert "SEEN" in out and "PROCS" in out
    assert "secret-of-a" not in out, out
    assert "time.sleep" not in out and out.count("runner.py") <= 2, out  # only the zygote and B itself
    assert "zygote memory refused" in out, out


def test_a_timeout_kills_only_the_child_and_the_zygote_goes_on(perceptron, pool):
    from pathlib import Path
    factory = pool.factory([], "cpu", limits())
    hang = Path(__file__).parent / "hostile" / "infinite_loop.py"
    result = grade(perceptron, hang, "hidden", slot=HOSTILE_SLOT, sandbox_factory=factory, limits=limits())
    assert result.score == 0 and any(t.status == "timeout" for t in result.tests)
    after = grade(perceptron, perceptron.solution, "hidden", slot=HOSTILE_SLOT, sandbox_factory=factory)
    assert after.full_marks


WHERE_AM_I = '''
import os
print("WORKDIR", os.getcwd())
def step(z):
    raise NotImplementedError
predict = train_perceptron = logic_gate = step
'''


def test_work_folders_have_names_no_learner_can_prepare(perceptron, pool, tmp_path):
    factory = pool.factory([], "cpu", limits())
    sub = tmp_path / "where.py"
    sub.write_text(WHERE_AM_I)
    seen = []
    for _ in range(2):
        out = grade(perceptron, sub, "hidden", slot=HOSTILE_SLOT, sandbox_factory=factory, limits=limits()).output
        seen.append(next(line.split()[1] for line in out.splitlines() if line.startswith("WORKDIR")))
    assert seen[0] != seen[1]
    for folder in seen:
        name = folder.rsplit("/", 1)[1]
        assert name.startswith("g-") and len(name) == 26, folder  # 96 random bits, never /work/g1, g2


def test_a_zygote_whose_wipe_left_something_is_retired_and_the_next_learner_is_graded(perceptron, pool):
    factory = pool.factory([], "cpu", limits())
    assert grade(perceptron, perceptron.solution, "hidden", slot=HOSTILE_SLOT, sandbox_factory=factory).full_marks
    first = next(iter(pool.zygotes.values()))
    first.dirty = True  # what Zygote.finish sets when the zygote reports a folder it could not empty
    after = grade(perceptron, perceptron.solution, "hidden", slot=HOSTILE_SLOT, sandbox_factory=factory)
    assert after.full_marks
    second = next(iter(pool.zygotes.values()))
    assert second is not first and not first.alive() and not first.base.exists()


def test_the_wipe_restores_permissions_and_empties_read_only_leftovers(tmp_path):
    import os
    from grader.sandbox.inside.runner import _wipe
    folder = tmp_path / "work"
    (folder / "ro" / "deeper").mkdir(parents=True)
    (folder / "ro" / "deeper" / "answers.txt").write_text("x")
    (folder / "locked.txt").write_text("x")
    os.symlink("/etc/passwd", folder / "link")
    os.chmod(folder / "locked.txt", 0)
    os.chmod(folder / "ro" / "deeper", 0o500)
    os.chmod(folder / "ro", 0)
    assert _wipe(str(folder)) is True
    assert os.listdir(folder) == [] and os.path.exists("/etc/passwd")


def test_the_wipe_keeps_mount_points_such_as_a_python_installation_under_tmp(tmp_path):
    """A virtual environment under /tmp is bound read-only into the sandbox's /tmp: the wipe must
    neither walk it (tens of thousands of files) nor call the zygote dirty for it (which retired the
    zygote after every grading), while still removing what a learner left beside it."""
    import os
    from grader.sandbox.inside.runner import _mount_points, _wipe
    folder = tmp_path / "tmp"
    venv = folder / "home" / "venv"
    (venv / "lib").mkdir(parents=True)
    (venv / "lib" / "numpy.py").write_text("installed")
    (folder / "home" / "left-by-learner.txt").write_text("x")
    (folder / "leftover").mkdir()
    (folder / "leftover" / "answers.txt").write_text("x")
    assert _wipe(str(folder), frozenset({str(venv)})) is True
    assert sorted(os.listdir(folder)) == ["home"] and os.listdir(folder / "home") == ["venv"]
    assert (venv / "lib" / "numpy.py").read_text() == "installed"
    (folder / "home" / "again.txt").write_text("x")
    os.chmod(folder / "home", 0o500)  # a learner's file in a folder on the way, made read-only
    assert _wipe(str(folder), frozenset({str(venv)})) is True
    assert os.listdir(folder / "home") == ["venv"]
    assert "/proc" in _mount_points()


def test_the_share_is_private_and_emptied_once_the_child_has_its_copy(perceptron, pool):
    import os
    factory = pool.factory([], "cpu", limits())
    assert grade(perceptron, perceptron.solution, "hidden", slot=HOSTILE_SLOT, sandbox_factory=factory).full_marks
    zygote = next(iter(pool.zygotes.values()))
    assert os.stat(zygote.base).st_mode & 0o777 == 0o700
    assert os.stat(zygote.share).st_mode & 0o777 == 0o700
    assert list(zygote.share.iterdir()) == []
    pool.close()
    assert not zygote.base.exists()


WIPE_IN_A_BOX = r'''
import os, shutil, sys, time
sys.path.insert(0, sys.argv[1])
import runner
box, venv = sys.argv[2], sys.argv[3]
recorded = runner._mount_points(read_only=True)
assert venv in recorded, sorted(recorded)
walked = []
for name in ("listdir", "scandir", "unlink", "rmdir", "chmod"):
    def spy(path=".", *args, _real=getattr(os, name), **kwargs):
        walked.append(str(path))
        return _real(path, *args, **kwargs)
    setattr(os, name, spy)
real_rmtree = shutil.rmtree
shutil.rmtree = lambda path, *a, **k: (walked.append(str(path)), real_rmtree(path, *a, **k))[1]
# what a learner leaves: beside the installation, on the way to it, and in a folder of its own
open(os.path.join(box, "ci", "left-by-learner.txt"), "w").write("x")
os.makedirs(os.path.join(box, "leftover", "deeper"))
open(os.path.join(box, "leftover", "deeper", "answers.txt"), "w").write("x")
t0 = time.perf_counter()
clean = runner._wipe(box, runner._kept_mounts(recorded))
seconds = time.perf_counter() - t0
print("FIRST", clean, sorted(os.listdir(box)), sorted(os.listdir(os.path.join(box, "ci"))),
      [p for p in walked if p.startswith(venv)], len(os.listdir(venv)), f"{seconds:.4f}")
# sabotage: move the folder that leads to the installation, and put a look-alike at the old path
os.rename(os.path.join(box, "ci"), os.path.join(box, "moved"))
os.makedirs(os.path.join(box, "ci", "venv"))
open(os.path.join(box, "ci", "venv", "hidden-answers.txt"), "w").write("x")
clean = runner._wipe(box, runner._kept_mounts(recorded))
print("SABOTAGE", clean, os.path.exists(os.path.join(box, "ci", "venv", "hidden-answers.txt")))
'''


def test_a_python_installation_under_tmp_is_kept_unwalked_and_leftovers_beside_it_are_wiped(tmp_path):
    """A read-only installation bound under a wiped folder costs the wipe nothing (no call on any
    path inside it), what a learner left beside it goes, and a look-alike of its path made by a
    learner (after moving the real one away) is wiped and the wipe reported unclean."""
    import shutil
    import subprocess
    import sys
    from grader.sandbox.commands import INSIDE
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        pytest.skip("bubblewrap is not installed")
    installed = tmp_path / "installed"
    for i in range(200):
        (installed / f"pkg{i % 10}").mkdir(parents=True, exist_ok=True)
        (installed / f"pkg{i % 10}" / f"mod{i}.py").write_text("x = 1\n")
    box = tmp_path / "box"
    box.mkdir()
    venv = box / "ci" / "venv"
    cmd = [bwrap, "--dev-bind", "/", "/", "--tmpfs", str(box), "--dir", str(venv.parent),
           "--ro-bind", str(installed), str(venv), "--", sys.executable, "-I", "-c", WIPE_IN_A_BOX,
           str(INSIDE), str(box), str(venv)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if done.returncode != 0 and "bwrap" in done.stderr:
        pytest.skip(f"bubblewrap cannot mount here: {done.stderr.strip()[:200]}")
    assert done.returncode == 0, done.stderr
    first = next(line for line in done.stdout.splitlines() if line.startswith("FIRST"))
    assert first.startswith("FIRST True ['ci'] ['venv'] [] 10 "), first
    sabotage = next(line for line in done.stdout.splitlines() if line.startswith("SABOTAGE"))
    assert sabotage == "SABOTAGE False False", sabotage


def test_removing_a_staging_folder_never_changes_its_parent(tmp_path):
    """remove_tree restores permissions inside the folder it removes only: a folder that is already
    gone, or one a learner made read-only, never leaves its parent (for staging folders: /tmp)
    with other permissions (a grader as root once turned /tmp into 0700 this way)."""
    import os
    import stat
    from grader.sandbox.staging import remove_tree
    parent = tmp_path / "shared"
    parent.mkdir()
    os.chmod(parent, 0o1777)
    remove_tree(parent / "gone-already")
    assert stat.S_IMODE(parent.stat().st_mode) == 0o1777
    folder = parent / "stage"
    (folder / "ro").mkdir(parents=True)
    (folder / "ro" / "f").write_text("x")
    os.chmod(folder / "ro", 0o500)
    os.chmod(folder, 0o500)
    remove_tree(folder)
    assert not folder.exists() and stat.S_IMODE(parent.stat().st_mode) == 0o1777
