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
from dataclasses import dataclass, field
from pathlib import Path

from grader.sandbox import cgroups
from grader.sandbox.commands import INSIDE, RUNNER_FILES, host_mount_args, python_paths
from grader.sandbox.limits import TREE_TASK_SLACK, Limits, tree_memory_mb_of
from grader.sandbox.seccomp import SOCKET_CALLS, SYSV_IPC_CALLS, SeccompUnavailable, seccomp_program
from grader.sandbox.uids import uid_for_slot


@dataclass
class Protections:
    """Which isolation mechanisms a sandbox on this machine gets."""

    namespaces: bool = False
    unprivileged_uid: bool = False
    seccomp: bool = False
    rlimits: bool = True
    cgroup: str | None = None  # "v2"/"v1": the grading's whole process tree is limited together
    runs_as_grader: bool = False  # rlimits-only with the grader's own uid (no uid could be dropped to)
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
        active = ["rlimits", "tmpfs-disk-cap" if self.namespaces else None, "scrubbed-env", "close-fds",
                  "output-cap", "deadline-kill", "private-staging"]
        if self.namespaces:
            active += ["mount-namespace", "pid-namespace", "network-namespace", "ipc-namespace"]
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


def _probe_uid_without_namespaces(prot: Protections, is_root: bool) -> None:
    prot.warnings.append("without namespaces learner code can read the data sets bundled with scikit-learn "
                         "(the digits of the Keras exercises' held-out split when Hoda is not installed) and "
                         "any Hoda folder the grader can read; install bubblewrap")
    if is_root and interpreter_reachable_unprivileged():
        prot.unprivileged_uid = True
        return
    prot.runs_as_grader = True
    who = "root" if is_root else "the grader's own user"
    why = (" (the Python interpreter or its packages are not readable by an unprivileged user, "
           "e.g. a pyenv Python under /root)" if is_root else "")
    prot.warnings.append(f"without namespaces the sandbox runs as {who}{why}: learner code can read "
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
