"""What this machine allows a sandbox: bubblewrap namespaces, an unprivileged uid, seccomp, a
cgroup. `probe()` finds out once per process; `Protections` records it, with a warning for every
protection that is missing or weakened, for the instructor to see in every result."""

from __future__ import annotations

import functools
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from grader.sandbox import cgroups, private_mounts
from grader.sandbox.commands import INSIDE, RUNNER_FILES, host_mount_args, python_paths
from grader.sandbox.limits import TREE_TASK_SLACK, Limits, tree_memory_mb_of
from grader.sandbox.seccomp import SOCKET_CALLS, SYSV_IPC_CALLS, SeccompUnavailable, seccomp_program
from grader.sandbox.uids import LAST_UID, uid_for_slot


@dataclass
class Protections:
    """Which isolation mechanisms a sandbox on this machine gets."""

    namespaces: bool = False
    unprivileged_uid: bool = False
    seccomp: bool = False
    rlimits: bool = True
    cgroup: str | None = None  # "v2"/"v1": the grading's whole process tree is limited together
    runs_as_grader: bool = False  # rlimits-only with the grader's own uid (no uid could be dropped to)
    private_mounts: bool = False  # rlimits-only as root: util-linux mount/PID namespaces, then the slot's uid
    refusal: str | None = None  # why no sandbox may start here (root that cannot drop to a sandbox uid)
    seccomp_unblocked: list[str] = field(default_factory=list)  # calls the filter could not refuse here
    warnings: list[str] = field(default_factory=list)

    @property
    def mode(self) -> str:
        return "namespaces" if self.namespaces else "rlimits-only"

    def uid_for(self, slot: int) -> int | None:
        """The uid a sandbox of `slot` runs as, or None when it runs as the grader's own uid (or in
        a user namespace of the grader's uid)."""
        return uid_for_slot(slot) if self.unprivileged_uid else None

    def memory_bound(self, limits: Limits | None = None) -> dict:
        """How the memory of a grading's whole process tree is bounded here, and the number for
        `limits` (without them, the rule in words: each exercise has its own limits)."""
        if limits is None:
            kind = f"cgroup-{self.cgroup}" if self.cgroup else "rlimits" if self.unprivileged_uid else "per-process"
            text = {"rlimits": "memory bound of a grading: processes x memory_mb of its exercise",
                    "per-process": "memory bound: memory_mb of the exercise per process; the number of processes "
                                   "is not bounded (the sandbox runs as the grader's uid, no cgroup)"}.get(
                kind, "memory bound of a grading: all its processes together, memory_mb + disk_mb of its exercise")
            return {"kind": kind, "mb": None, "text": text}
        if self.cgroup:
            return {"kind": f"cgroup-{self.cgroup}", "mb": tree_memory_mb_of(limits),
                    "text": f"all processes together: {tree_memory_mb_of(limits)} MB (memory_mb + disk_mb; "
                            f"a zygote's group adds its own baseline), at most "
                            f"{limits.processes + TREE_TASK_SLACK} tasks"}
        if self.unprivileged_uid:
            mb = limits.processes * limits.memory_mb
            return {"kind": "rlimits", "mb": mb,
                    "text": f"memory bound: {limits.processes} processes x {limits.memory_mb} MB"}
        return {"kind": "per-process", "mb": None,
                "text": f"{limits.memory_mb} MB per process; the number of processes is not bounded "
                        "(the sandbox runs as the grader's uid, no cgroup)"}

    def as_dict(self, limits: Limits | None = None) -> dict:
        """The report of every result: the mode, the active protections, the memory bound, warnings."""
        unblocked = set(self.seccomp_unblocked)
        active = ["rlimits", "tmpfs-disk-cap" if self.namespaces or self.private_mounts else None, "scrubbed-env", "close-fds",
                  "output-cap", "deadline-kill", "private-staging"]
        if self.namespaces:
            active += ["mount-namespace", "pid-namespace", "network-namespace", "ipc-namespace"]
        elif self.private_mounts:
            active += ["mount-namespace", "pid-namespace"]
        if self.unprivileged_uid:
            active.append("unprivileged-uid-no-capabilities")
        if self.seccomp:  # a family is claimed only when every call of it is refused
            active += ["seccomp-no-sockets" if not unblocked & SOCKET_CALLS else None,
                       "seccomp-no-sysv-ipc" if not unblocked & SYSV_IPC_CALLS else None]
        if self.cgroup:
            active.append(f"cgroup-{self.cgroup}-memory-pids")
        return {"mode": self.mode, "active": [a for a in active if a], "memory_bound": self.memory_bound(limits),
                "seccomp_unblocked": list(self.seccomp_unblocked), "warnings": list(self.warnings)}


def others_can_reach(path: str) -> bool:
    """Whether a uid other than the owner can read `path` (every ancestor traversable by others)."""
    real = os.path.realpath(path)
    cur = "/"
    for part in Path(real).parts[1:]:
        try:
            mode = os.stat(cur).st_mode
        except OSError:
            return False
        if not mode & stat.S_IXOTH:
            return False
        cur = os.path.join(cur, part)
    try:
        return bool(os.stat(real).st_mode & stat.S_IROTH)
    except OSError:
        return False


def interpreter_reachable_unprivileged() -> bool:
    """Whether an unprivileged uid could run this interpreter, its packages and the runner outside a
    mount namespace (a pyenv Python under /root, mode 0700, cannot be)."""
    paths = [sys.executable] + [str(INSIDE / name) for name in RUNNER_FILES] + python_paths([])
    return all(others_can_reach(p) for p in paths)


def _probe_namespaces(prot: Protections, is_root: bool) -> None:
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        prot.warnings.append("bubblewrap (bwrap) is not installed: the sandbox runs with rlimits only, "
                             "without namespaces; install it (Debian: apt-get install bubblewrap)")
        return
    cmd = [bwrap, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--die-with-parent",
           *(["--unshare-user"] if not is_root else []), *host_mount_args(), "--proc", "/proc",
           "--dev", "/dev", "/usr/bin/true"]
    try:
        ok = subprocess.run(cmd, capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    if not ok:
        prot.warnings.append("bubblewrap cannot create namespaces here (user namespaces disabled?): "
                             "the sandbox runs with rlimits only")
    elif is_root and not shutil.which("setpriv"):
        prot.warnings.append("setpriv (util-linux) is missing: the sandbox would keep root; "
                             "install util-linux")
    else:
        prot.namespaces = True
        prot.unprivileged_uid = is_root


def _private_mounts_problem() -> str | None:
    """Why util-linux's unshare and setpriv cannot start a sandbox here as a sandbox uid (None: they can)."""
    missing = private_mounts.missing_tools()
    if missing:
        return f"{', '.join(missing)} (util-linux) not installed"
    base = Path(tempfile.mkdtemp(prefix="dlgrade-probe-"))
    try:
        stage, run = base / "stage", base / "run"
        stage.mkdir(mode=0o700)
        (run / "work").mkdir(parents=True, mode=0o700)
        cmd = private_mounts.command(stage=str(stage), run_dir=str(run), uid=LAST_UID, cwd=str(run / "work"),
                                     runner=[sys.executable, "-I", "-c", "import numpy"], secret_dirs=[],
                                     disk_bytes=1 << 20)
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=30, env={"PATH": "/usr/bin:/bin"})
        except (OSError, subprocess.TimeoutExpired) as err:
            return f"{type(err).__name__}: {err}"
        if proc.returncode != 0:
            last = (proc.stderr.decode(errors="replace").strip().splitlines() or ["no message"])[-1][:200]
            return f"unshare/mount failed (exit {proc.returncode}: {last!r})"
        return None
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _probe_uid_without_namespaces(prot: Protections, is_root: bool) -> None:
    prot.warnings.append("without namespaces learner code can read the data sets bundled with scikit-learn "
                         "(the digits of the Keras exercises' held-out split when Hoda is not installed) and "
                         "any Hoda folder the grader can read; install bubblewrap")
    if is_root and interpreter_reachable_unprivileged():
        prot.unprivileged_uid = True
        return
    if is_root:  # never run learner code as root: private mounts make the interpreter reachable, or refuse
        problem = _private_mounts_problem()
        if problem is None:
            prot.unprivileged_uid = prot.private_mounts = True
            prot.warnings[-1] = ("without bubblewrap the sandbox has no network or IPC namespace; it runs in "
                                 "util-linux mount and PID namespaces as an unprivileged uid, the interpreter "
                                 "bound read-only, the reference solutions and bundled data sets hidden; "
                                 "install bubblewrap")
            return
        prot.refusal = (f"the grader runs as root without bubblewrap and cannot run learner code as an "
                        f"unprivileged user ({problem}; the Python interpreter is not readable by other users, "
                        "e.g. a pyenv Python under /root): install bubblewrap (Debian: apt-get install "
                        "bubblewrap), or util-linux with mount namespaces allowed, or run the grader as "
                        "an ordinary user")
        prot.warnings.append(prot.refusal)
        return
    prot.runs_as_grader = True
    prot.warnings.append("without namespaces the sandbox runs as the grader's own user: learner code can read "
                         "and write whatever the grader can; install bubblewrap")


def _probe_seccomp(prot: Protections) -> None:
    try:
        program = seccomp_program()
    except SeccompUnavailable as err:
        prot.warnings.append(f"seccomp is unavailable (pip install pyseccomp; needs libseccomp2; {err}): "
                             + ("sockets are blocked by the network namespace only" if prot.namespaces
                                else "the sandbox can open network sockets"))
        return
    prot.seccomp = True
    prot.seccomp_unblocked = program.unblocked_names
    if program.unblocked:
        calls = "; ".join(f"{name} ({why})" for name, why in program.unblocked)
        prot.warnings.append(f"seccomp could not refuse {len(program.unblocked)} system call(s) here, so learner "
                             f"code may call them: {calls}; update libseccomp and pyseccomp")


@functools.lru_cache(maxsize=1)
def probe() -> Protections:
    """Find out once per process which protections this machine gives a sandbox."""
    prot = Protections()
    if not sys.platform.startswith("linux"):
        prot.warnings.append("not Linux: the sandbox runs with rlimits only")
        prot.runs_as_grader = True
        return prot
    is_root = os.geteuid() == 0
    _probe_namespaces(prot, is_root)
    if not prot.namespaces:  # rlimits-only: what can still be had without namespaces
        _probe_uid_without_namespaces(prot, is_root)
    _probe_seccomp(prot)
    kind, why = cgroups.available()  # root, or a user a cgroup subtree was delegated to
    prot.cgroup = kind
    if kind is None:
        bound = prot.memory_bound()
        prot.warnings.append(f"no cgroup for the sandbox ({why}): a grading's processes are not limited "
                             f"together; weaker bound: {bound['text']}")
    return prot


def sandbox_uid(slot: int) -> int | None:
    """The uid a sandbox of this slot runs as on this machine, or None (the grader's own uid)."""
    return probe().uid_for(slot)
