"""As root without bubblewrap, learner code never runs as root: util-linux namespaces, a new root
with only the interpreter, the runner and the sandbox's own folders, the slot's uid without
capabilities; where that cannot start, grading is refused with a message saying what to install."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.sandbox import private_mounts, probe as probe_mod
from grader.sandbox.errors import SandboxStartError
from grader.sandbox.limits import Limits
from grader.sandbox.process import Sandbox
from grader.sandbox.uids import FIRST_UID

REPO = Path(__file__).resolve().parents[1]
SLOT = 11

LOOK_AROUND = r'''
import json, os, sys
status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
def ls(p):
    try:
        return sorted(os.listdir(p))
    except OSError as err:
        return type(err).__name__
written = 0
try:
    with open("/tmp/fill.bin", "wb") as fh:
        for _ in range(8):
            fh.write(b"\0" * (1 << 20))
            written += 1
except OSError:
    pass
print(json.dumps({"uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups(),
                  "cap_eff": status["CapEff"].strip(), "cap_bnd": status["CapBnd"].strip(),
                  "no_new_privs": status["NoNewPrivs"].strip(), "root": ls("/"), "home": ls("/root"),
                  "solutions": ls(sys.argv[1]), "grader": ls(sys.argv[2]), "cwd": os.getcwd(),
                  "work": ls("."), "pids": [p for p in os.listdir("/proc") if p.isdigit()],
                  "written_mb": written}))
'''


def _run(tmp_path: Path, runner_is_pid_1: bool) -> dict:
    run = tmp_path / "run dir $(touch PWNED) 'q'"  # every path is quoted in the script
    (run / "work").mkdir(parents=True)
    (run / "work" / "mine.py").write_text("x = 1\n")
    stage = tmp_path / "stage"
    stage.mkdir(mode=0o700)
    solutions = REPO / "solutions"
    cmd = private_mounts.command(
        stage=str(stage), run_dir=str(run), uid=FIRST_UID + SLOT, cwd=str(run / "work"),
        runner=[sys.executable, "-I", "-c", LOOK_AROUND, str(solutions), str(REPO / "grader")],
        secret_dirs=[solutions], disk_bytes=4 << 20, runner_is_pid_1=runner_is_pid_1)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"},
                          cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert not any(p.name == "PWNED" for p in tmp_path.rglob("PWNED"))
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("runner_is_pid_1", [False, True])
def test_as_root_learner_code_runs_as_the_slot_uid_in_a_root_of_its_own(tmp_path, runner_is_pid_1):
    if os.geteuid() != 0:  # the mode exists for root only: an ordinary grader never chooses it
        assert not probe_mod.probe().private_mounts
        return
    seen = _run(tmp_path, runner_is_pid_1)
    uid = FIRST_UID + SLOT
    assert (seen["uid"], seen["gid"], seen["groups"]) == (uid, uid, [])
    assert int(seen["cap_eff"], 16) == 0 and int(seen["cap_bnd"], 16) == 0 and seen["no_new_privs"] == "1"
    # the system's folders, plus the top folder of each kept path (the interpreter, the runner's folder:
    # wherever this checkout lives, e.g. /work or /check) and of the run folder
    kept_tops = {Path(p).parts[1] for p in private_mounts.kept_paths([REPO / "solutions"])}
    allowed = {"usr", "lib", "lib64", "lib32", "bin", "sbin", "etc", "tmp", "dev", "proc"}
    assert set(seen["root"]) <= allowed | kept_tops | {tmp_path.parts[1]}, (seen["root"], kept_tops)
    assert "home" not in seen["root"] or "home" in kept_tops  # nothing of the host beyond what is kept
    exe = os.path.realpath(sys.executable)
    if exe.startswith("/root/"):  # the interpreter's own folder only, never the rest of /root
        assert seen["home"] == [exe.split("/")[2]]
    else:
        assert seen["home"] == "FileNotFoundError"
    assert seen["solutions"] in ("FileNotFoundError", [])  # the reference solutions are not there
    assert seen["grader"] in ("FileNotFoundError", ["sandbox"])  # only the runner's folder of the grader
    assert seen["work"] == ["mine.py"] and seen["cwd"].endswith("/work")
    assert len(seen["pids"]) <= 3  # its own PID namespace: the shell, the runner (and nothing else)
    assert seen["written_mb"] < 5  # /tmp is a tmpfs of the sandbox's disk size


def test_as_root_without_a_way_to_drop_the_uid_grading_is_refused(monkeypatch):
    sandbox = Sandbox({}, "mine.py", Limits(), slot=SLOT)  # probes this machine (cached) before the patches
    monkeypatch.setattr(probe_mod, "interpreter_reachable_unprivileged", lambda: False)
    monkeypatch.setattr(private_mounts, "missing_tools", lambda: ["unshare"])
    prot = probe_mod.Protections()
    probe_mod._probe_uid_without_namespaces(prot, is_root=True)
    assert not prot.runs_as_grader and not prot.unprivileged_uid and not prot.private_mounts
    assert "unshare" in prot.refusal and "install bubblewrap" in prot.refusal
    sandbox.protections = prot
    with pytest.raises(SandboxStartError) as err:
        sandbox.start()
    assert "install bubblewrap" in err.value.details
    assert sandbox.proc is None  # nothing was started
