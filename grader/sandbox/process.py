"""The sandbox: one isolated process per grading that runs `runner.py` on the learner's files.

Where the machine allows it (Linux with bubblewrap), the process gets its own mount, PID, network,
IPC and UTS namespaces; sees only the system's `/usr`, the Python installation, the runner and the
submission; runs as an unprivileged uid with no capabilities and `no_new_privs` (when the grader
runs as root); and has `socket()`, `ptrace()` and friends blocked by seccomp. Everywhere it runs
under rlimits (CPU, address space, processes, file size, open files, no core dumps), a size-limited
tmpfs for its writable directories, a scrubbed environment and closed descriptors. Output is read
with a byte cap; every request has a deadline; on timeout the whole process tree is killed
(the PID namespace's init dies, taking every descendant with it, `setsid()` or not).

When bubblewrap is missing or cannot start, it falls back to rlimits only and says so: the
`protections` of every result record which protections were active.
"""

from __future__ import annotations

import errno
import fcntl
import functools
import glob
import os
import resource
import select
import shutil
import signal
import site
import stat
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from grader.sandbox import cgroups

from grader.sandbox.inside import wire

HERE = Path(__file__).resolve().parent / "inside"  # runner.py and wire.py, the files the sandbox runs
INSIDE_DIR = "/opt/dlgrade"
WORK_DIR = "/work"
SHARE_DIR = "/submissions"  # a zygote's read-only view of the grading at hand
BASE_SANDBOX_UID = 60000
MiB = 1 << 20

BLOCKED_SYSCALLS = (
    "socket", "socketpair", "ptrace", "process_vm_readv", "process_vm_writev", "keyctl", "add_key",
    "request_key", "bpf", "userfaultfd", "perf_event_open", "unshare", "setns", "mount", "umount2",
    "pivot_root", "chroot", "kexec_load", "init_module", "finit_module", "delete_module", "swapon",
    "swapoff", "reboot", "acct", "quotactl", "name_to_handle_at", "open_by_handle_at", "io_uring_setup",
    # SysV IPC outlives the processes that made it: refused, so one learner cannot leave any for the next
    "shmget", "semget", "msgget",
)
TREE_TASK_SLACK = 16  # bwrap, setpriv and the zygote besides the grading's own `processes`
ZYGOTE_START_MB = 3072  # what a zygote may use while it imports the heavy modules (then: measured)


@dataclass
class Limits:
    """What one sandbox may use."""

    wall_seconds: float = 60.0
    test_seconds: float = 10.0
    memory_mb: int = 1024
    processes: int = 64
    file_mb: int = 16
    disk_mb: int = 64
    open_files: int = 256
    output_bytes: int = 64 * 1024
    message_mb: int = 256
    start_seconds: float = 60.0


@dataclass
class Protections:
    """Which isolation mechanisms a sandbox on this machine gets."""

    namespaces: bool = False
    unprivileged_uid: bool = False
    seccomp: bool = False
    rlimits: bool = True
    cgroup: str | None = None  # "v2"/"v1": the grading's whole process tree is limited together
    runs_as_grader: bool = False  # rlimits-only with the grader's own uid (no uid could be dropped to)
    warnings: list[str] = field(default_factory=list)

    @property
    def mode(self) -> str:
        return "namespaces" if self.namespaces else "rlimits-only"

    def memory_bound(self, limits: "Limits | None" = None) -> dict:
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

    def as_dict(self, limits: "Limits | None" = None) -> dict:
        active = ["rlimits", "tmpfs-disk-cap" if self.namespaces else None, "scrubbed-env", "close-fds",
                  "output-cap", "deadline-kill", "private-staging"]
        if self.namespaces:
            active += ["mount-namespace", "pid-namespace", "network-namespace", "ipc-namespace"]
        if self.unprivileged_uid:
            active.append("unprivileged-uid-no-capabilities")
        if self.seccomp:
            active += ["seccomp-no-sockets", "seccomp-no-sysv-ipc"]
        if self.cgroup:
            active.append(f"cgroup-{self.cgroup}-memory-pids")
        return {"mode": self.mode, "active": [a for a in active if a], "memory_bound": self.memory_bound(limits),
                "warnings": list(self.warnings)}


def tree_memory_mb_of(limits: "Limits") -> int:
    """The memory limit of a sandbox's cgroup: the grading's memory plus its writable tmpfs."""
    return int(limits.memory_mb) + int(limits.disk_mb)


class SandboxError(Exception):
    """The sandbox could not answer. `message` is written for the learner."""


class SandboxTimeout(SandboxError):
    pass


class SandboxDied(SandboxError):
    """The sandbox died or was stopped. `cause` is "memory" when the kernel killed a process of the
    grading's cgroup for memory (the whole tree went over its bound), else None."""

    def __init__(self, message: str, cause: str | None = None):
        super().__init__(message)
        self.cause = cause
        self.oom = cause == "memory"


class SandboxStartError(SandboxError):
    """The sandbox itself did not start (a problem of the grader's machine, not of the learner's
    code). `details` holds what the failed start printed, for the instructor."""

    def __init__(self, message: str, details: str = ""):
        super().__init__(message)
        self.details = details


def _seccomp_program() -> bytes | None:
    try:
        import pyseccomp as sc
    except Exception:  # not installed, or libseccomp missing
        return None
    try:
        flt = sc.SyscallFilter(defaction=sc.ALLOW)
        for name in BLOCKED_SYSCALLS:
            try:
                flt.add_rule(sc.ERRNO(errno.EPERM), name)
            except Exception:
                pass  # not a syscall on this architecture
        with tempfile.TemporaryFile() as fh:
            flt.export_bpf(fh)
            fh.seek(0)
            return fh.read()
    except Exception:
        return None


def _host_mount_args() -> list[str]:
    """Bind the system's /usr and its compatibility links, read-only."""
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/lib", "/lib64", "/lib32", "/bin", "/sbin"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    if os.path.exists("/etc/ld.so.cache"):
        args += ["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    return args


def _python_paths(secret_dirs: list[Path]) -> list[str]:
    """The directories the sandboxed interpreter needs: its prefixes and site-packages; never one
    that is, holds or lies inside a secret directory (the reference solutions)."""
    candidates = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    for p in site.getsitepackages() + [site.getusersitepackages()] + sys.path:
        if p and ("site-packages" in p or "dist-packages" in p):
            candidates.add(p)
    paths = []
    for p in sorted(candidates, key=len):
        real = os.path.realpath(p)
        if not os.path.isdir(real) or real.startswith("/usr/") or real == "/usr":
            continue
        if any(Path(real) == sec or sec in Path(real).parents or Path(real) in sec.parents for sec in secret_dirs):
            continue
        if any(real == q or real.startswith(q + os.sep) for q in paths):
            continue
        paths.append(real)
    return paths


def _dir_chain_args(path: str) -> list[str]:
    """Create each ancestor of `path` world-traversable (a parent such as /root is 0700 on the host)."""
    args, cur = [], ""
    for part in Path(path).parts[1:-1]:
        cur += "/" + part
        args += ["--perms", "0755", "--dir", cur]
    return args


def cpu_seconds(limits: Limits) -> int:
    """The CPU-time rlimit of a sandbox: its wall limit on every core (frameworks train on all of
    them), plus a little; the wall-clock deadline is the limit that decides."""
    return int(limits.wall_seconds * max(1, os.cpu_count() or 1)) + 2


def gpu_devices() -> list[str]:
    """The NVIDIA device files of this machine (empty when no GPU is visible)."""
    return sorted(glob.glob("/dev/nvidia[0-9]*"))


def resolve_device(requested: str, allowed: str = "optional") -> str:
    """"cpu" or "gpu" for a request of auto/cpu/gpu; `allowed` is the exercise's gpu setting.
    Raises ValueError with a user-facing message when a GPU is demanded but not there."""
    if requested not in ("auto", "cpu", "gpu"):
        raise ValueError(f"device must be auto, cpu or gpu, not {requested!r}")
    if requested == "cpu" or allowed == "no":
        return "cpu"
    if gpu_devices():
        return "gpu"
    if requested == "gpu":
        raise ValueError("--device gpu was asked for, but no NVIDIA GPU is visible on this machine "
                         "(no /dev/nvidia*); use --device auto or cpu")
    return "cpu"


def _others_can_reach(path: str) -> bool:
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


def _interpreter_reachable_unprivileged() -> bool:
    """Whether an unprivileged uid could run this interpreter, its packages and the runner outside a
    mount namespace (a pyenv Python under /root, mode 0700, cannot be)."""
    paths = [sys.executable, str(HERE / "runner.py"), str(HERE / "wire.py")] + _python_paths([])
    return all(_others_can_reach(p) for p in paths)


def bundled_data_dirs() -> list[str]:
    """Folders of data sets bundled with installed packages (scikit-learn's datasets/data and
    datasets/images: load_digits, load_sample_images ...) that the sandbox sees empty, so that no
    held-out input of a digits split is readable inside. Found without importing the package."""
    import importlib.util
    try:
        spec = importlib.util.find_spec("sklearn")
    except (ImportError, ValueError):
        return []
    found = []
    for root in (spec.submodule_search_locations or []) if spec else []:
        for sub in ("data", "images"):
            path = os.path.realpath(os.path.join(root, "datasets", sub))
            if os.path.isdir(path) and path not in found:
                found.append(path)
    return found


@functools.lru_cache(maxsize=1)
def probe() -> Protections:
    """Find out once per process which protections this machine gives a sandbox."""
    prot = Protections()
    if not sys.platform.startswith("linux"):
        prot.warnings.append("not Linux: the sandbox runs with rlimits only")
        prot.runs_as_grader = True
        return prot
    is_root = os.geteuid() == 0
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        prot.warnings.append("bubblewrap (bwrap) is not installed: the sandbox runs with rlimits only, "
                             "without namespaces; install it (Debian: apt-get install bubblewrap)")
    else:
        cmd = [bwrap, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--die-with-parent",
               *(["--unshare-user"] if not is_root else []), *_host_mount_args(), "--proc", "/proc",
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
    if not prot.namespaces:  # rlimits-only: what can still be had without namespaces
        prot.warnings.append("without namespaces learner code can read the data sets bundled with scikit-learn "
                             "(the digits of the Keras exercises' held-out split when Hoda is not installed) and "
                             "any Hoda folder the grader can read; install bubblewrap")
        if is_root and _interpreter_reachable_unprivileged():
            prot.unprivileged_uid = True
        else:
            prot.runs_as_grader = True
            who = "root" if is_root else "the grader's own user"
            why = (" (the Python interpreter or its packages are not readable by an unprivileged user, "
                   "e.g. a pyenv Python under /root)" if is_root else "")
            prot.warnings.append(f"without namespaces the sandbox runs as {who}{why}: learner code can read "
                                 "and write whatever the grader can; install bubblewrap")
    prot.seccomp = _seccomp_program() is not None
    if not prot.seccomp:
        prot.warnings.append("seccomp is unavailable (pip install pyseccomp; needs libseccomp2): "
                             + ("sockets are blocked by the network namespace only" if prot.namespaces
                                else "the sandbox can open network sockets"))
    kind, why = cgroups.available()  # root, or a user a cgroup subtree was delegated to
    prot.cgroup = kind
    if kind is None:
        bound = prot.memory_bound()
        prot.warnings.append(f"no cgroup for the sandbox ({why}): a grading's processes are not limited "
                             f"together; weaker bound: {bound['text']}")
    return prot


class _SeccompLoader:
    """Installs the seccomp program in `preexec_fn` (rlimits-only mode, where bubblewrap cannot):
    everything is prepared in the parent, the child only makes two prctl calls."""

    def __init__(self, program: bytes):
        import ctypes

        class SockFprog(ctypes.Structure):
            _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
        self._buf = ctypes.create_string_buffer(program, len(program))
        self._prog = SockFprog(len(program) // 8, ctypes.addressof(self._buf))
        self._addr = ctypes.addressof(self._prog)
        self._prctl = ctypes.CDLL(None, use_errno=True).prctl
        self._prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]

    def load(self) -> None:
        if self._prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
            raise OSError("PR_SET_NO_NEW_PRIVS failed")
        if self._prctl(22, 2, self._addr, 0, 0) != 0:  # PR_SET_SECCOMP, SECCOMP_MODE_FILTER
            raise OSError("seccomp filter could not be loaded")


def sandbox_uid(slot: int) -> int | None:
    """The uid a sandbox of this slot runs as, or None when it runs as the grader's own uid."""
    return BASE_SANDBOX_UID + slot if probe().unprivileged_uid else None


def private_dir(prefix: str, uid: int | None = None) -> Path:
    """A fresh folder only the grader (and the sandbox's `uid`) can enter: 0700."""
    d = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(d, 0o700)
    if uid is not None:
        os.chown(d, uid, uid)
    return d


def copy_private(files: dict[str, Path], dest: Path, uid: int | None = None) -> dict[str, Path]:
    """Copy `files` (name -> host path) into `dest`: each 0400, owned by the sandbox's `uid` where
    the grader is root, so no other local user can read them."""
    staged = {}
    for name, src in files.items():
        dst = dest / name
        dst.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o400)
        with os.fdopen(fd, "wb") as out, open(src, "rb") as inp:
            shutil.copyfileobj(inp, out)
        if uid is not None:
            os.chown(dst, uid, uid)
        staged[name] = dst
    return staged


def stage_private(files: dict[str, Path], slot: int, prefix: str = "dlgrade-sub-") -> tuple[Path, dict[str, Path]]:
    """A private staging folder (0700) with copies of `files` readable by the sandbox's uid only."""
    uid = sandbox_uid(slot)
    stage = private_dir(prefix, uid)
    return stage, copy_private(files, stage, uid)


class _OutputReader(threading.Thread):
    """Drains the sandbox's stdout+stderr, keeping at most `cap` bytes."""

    def __init__(self, fd: int, cap: int):
        super().__init__(daemon=True)
        self.fd, self.cap = fd, cap
        self.kept = bytearray()
        self.total = 0

    def run(self):
        try:
            while True:
                chunk = os.read(self.fd, 1 << 16)
                if not chunk:
                    break
                self.total += len(chunk)
                room = self.cap - len(self.kept)
                if room > 0:
                    self.kept += chunk[:room]
        except OSError:
            pass
        finally:
            try:
                os.close(self.fd)
            except OSError:
                pass

    def text(self) -> str:
        """The kept output as text, cleaned like every string from the sandbox (wire.clean_text:
        no control sequence, no lone surrogate, capped)."""
        out = wire.clean_text(self.kept.decode("utf-8", "replace"), wire.MAX_OUTPUT)
        if self.total > len(self.kept):
            out += f"\n[... {self.total - len(self.kept)} more bytes of output were dropped]"
        return out


def _write_with_deadline(fd: int, data: bytes, deadline: float) -> None:
    view = memoryview(data)
    while view:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        _, ready, _ = select.select([], [fd], [], left)
        if not ready:
            raise TimeoutError
        try:
            n = os.write(fd, view[: 1 << 16])
        except BlockingIOError:
            continue
        view = view[n:]


class Channel:
    """The request/response pipes of one runner session (a sandbox, or a child forked in one).
    Subclasses provide `kill()`, `_wait_exit()` and `_death_message()`."""

    limits: Limits
    req_fd: int
    resp_fd: int
    output: "_OutputReader | None"
    cgroup: "cgroups.Cgroup | None" = None
    _oom_seen: int = 0  # the group's OOM-kill count when this grading began

    def memory_exceeded(self) -> bool:
        """Whether the kernel killed a process of this grading's cgroup for memory."""
        return self.cgroup is not None and self.cgroup.oom_kills() > self._oom_seen

    def _memory_died(self) -> SandboxDied:
        bound = self.cgroup.memory_bytes // MiB if self.cgroup is not None else self.limits.memory_mb
        return SandboxDied(f"used more memory than the limit ({bound} MB for all its processes together) "
                           "and was stopped", cause="memory")

    def _await_ready(self) -> dict:
        """Wait for the runner's hello, which it sends before any learner code runs."""
        deadline = time.monotonic() + self.limits.start_seconds
        try:
            header, _ = wire.decode(wire.read_frame(self.resp_fd, 1 << 20, deadline))
            if header.get("status") == "ready":
                return header
            problem = f"unexpected first message {header!r}"
        except (TimeoutError, EOFError, OSError, wire.WireError) as err:
            problem = type(err).__name__
        code = self._wait_exit()
        if self.output is not None:
            self.output.join(timeout=2)
        raise SandboxStartError("the grader's sandbox could not start on this machine",
                                f"{problem}; exit code {code}; output: "
                                f"{self.output.text()[-2000:] if self.output else ''}")

    def request(self, header: dict, value=None, timeout: float | None = None, rng_type=None):
        """Send one request and wait for its answer; returns (header, value).
        Raises SandboxTimeout or SandboxDied (and kills the sandbox) when no valid answer comes."""
        if self.memory_exceeded():  # a process of the grading's tree was killed for memory
            self.kill()
            raise self._memory_died()
        if not self.alive():
            raise SandboxDied("the sandbox is not running")
        timeout = self.limits.test_seconds if timeout is None else timeout
        deadline = time.monotonic() + max(timeout, 0.01)
        try:
            _write_with_deadline(self.req_fd, wire.encode(header, value, rng_type=rng_type), deadline)
            frame = wire.read_frame(self.resp_fd, self.limits.message_mb * MiB, deadline)
            return wire.decode(frame)
        except TimeoutError:
            self.kill()
            raise SandboxTimeout(f"took longer than {timeout:.0f} s (the time limit); look for an "
                                 "infinite loop or work that is far too slow") from None
        except (EOFError, BrokenPipeError, OSError):
            code = self._wait_exit()
            if self.memory_exceeded():
                raise self._memory_died() from None
            raise SandboxDied(self._death_message(code)) from None
        except wire.WireError as err:
            self.kill()
            raise SandboxDied(f"sent back data the grader cannot read: {err}") from None

    @staticmethod
    def _death_message(code: int | None) -> str:
        if code is not None and code < 0:
            sig = -code
            if sig == signal.SIGXCPU:
                return "used more CPU time than the limit and was stopped"
            if sig == signal.SIGKILL:
                return "was killed (it ran out of memory or time)"
            name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
            return f"crashed with signal {name}"
        return f"exited (exit code {code}) before answering; do not call exit() or os._exit() in your file"


class Sandbox(Channel):
    """One sandboxed runner process serving one grading's requests.

    `files` maps a relative path inside the sandbox's working directory to a host file;
    `entry` is the relative path of the file to import."""

    def __init__(self, files: dict[str, Path], entry: str, limits: Limits, slot: int = 0,
                 secret_dirs: list[Path] | None = None, env: dict[str, str] | None = None,
                 device: str = "cpu", zygote_share: Path | None = None, tree_memory_mb: int | None = None):
        self.zygote_share = zygote_share  # a zygote sandbox: learner files arrive here, per grading
        self.tree_memory_mb = tree_memory_mb or tree_memory_mb_of(limits)  # the cgroup's memory limit
        self.files = files
        self.entry = entry
        self.limits = limits
        self.slot = slot
        self.secret_dirs = [Path(p).resolve() for p in (secret_dirs or [])]
        self.extra_env = env or {}
        self.device = device
        self.protections = probe()
        self.proc: subprocess.Popen | None = None
        self.output: _OutputReader | None = None
        self.started_at = 0.0
        self._fallback_dir: Path | None = None  # rlimits-only: the private folder holding work/ and tmp/
        self.cgroup: cgroups.Cgroup | None = None
        self.memory_peak: int | None = None  # bytes: the cgroup's peak, read at close
        self._uid = sandbox_uid(slot) if not self.protections.namespaces else None
        self._seccomp: _SeccompLoader | None = None

    # -- command -----------------------------------------------------------------------------
    def _env(self) -> dict[str, str]:
        env = {"PATH": "/usr/bin:/bin", "HOME": WORK_DIR, "TMPDIR": "/tmp", "LANG": "C.UTF-8",
               "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg",
               "OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2", "TF_CPP_MIN_LOG_LEVEL": "2",
               "KERAS_HOME": "/tmp/.keras", "MPLCONFIGDIR": "/tmp/.mpl"}
        if self.device == "cpu":  # hide any GPU from every framework
            env.update({"CUDA_VISIBLE_DEVICES": "", "JAX_PLATFORMS": "cpu"})
        for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "KERAS_BACKEND"):
            if name in os.environ:
                env[name] = os.environ[name]
        env.update(self.extra_env)
        if self.zygote_share is not None:  # the only folders its wipe may touch
            env["DLGRADE_SHARE"] = SHARE_DIR
            env["DLGRADE_ZYGOTE_DIRS"] = f"{WORK_DIR}:/tmp:/dev/shm"
            env["DLGRADE_IPC_PRIVATE"] = "1" if self.protections.namespaces else "0"
        if not self.protections.namespaces:  # no mounts: the private folder stands in for /work and /tmp
            work, tmp = str(self._fallback_dir / "work"), str(self._fallback_dir / "tmp")
            env.update({"HOME": work, "TMPDIR": tmp, "KERAS_HOME": f"{tmp}/.keras", "MPLCONFIGDIR": f"{tmp}/.mpl"})
            if self.zygote_share is not None:
                env["DLGRADE_SHARE"] = str(self.zygote_share)
                env["DLGRADE_ZYGOTE_DIRS"] = f"{work}:{tmp}"
                env["DLGRADE_ZYGOTE_SHARED_DIRS"] = "/tmp:/dev/shm"  # only what its own uid owns there
        return env

    def _command(self, req_r: int, resp_w: int, seccomp_fd: int | None) -> list[str]:
        if self.zygote_share is not None:  # req_r is the control socket then
            runner_args = [sys.executable, "-I", "-u", f"{INSIDE_DIR}/runner.py", "--zygote", str(req_r)]
        else:
            runner_args = [sys.executable, "-I", "-u", f"{INSIDE_DIR}/runner.py", str(req_r), str(resp_w),
                           f"{WORK_DIR}/{self.entry}"]
        if not self.protections.namespaces:
            if self.zygote_share is not None:
                return [sys.executable, "-I", "-u", str(HERE / "runner.py"), "--zygote", str(req_r)]
            return [sys.executable, "-I", "-u", str(HERE / "runner.py"), str(req_r), str(resp_w),
                    str(self._fallback_dir / "work" / self.entry)]
        lim = self.limits
        args = [shutil.which("bwrap"), "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                "--unshare-cgroup-try", "--die-with-parent", "--new-session"]
        if os.geteuid() != 0:
            args += ["--unshare-user", "--cap-drop", "ALL"]
        args += _host_mount_args()
        args += ["--proc", "/proc", "--dev", "/dev",
                 "--perms", "01777", "--size", str(lim.disk_mb * MiB), "--tmpfs", "/tmp",
                 "--perms", "01777", "--size", str(lim.disk_mb * MiB), "--tmpfs", "/dev/shm"]
        if self.device == "gpu":
            for dev in gpu_devices() + sorted(glob.glob("/dev/nvidia-*")) + ["/dev/nvidiactl"]:
                if os.path.exists(dev):
                    args += ["--dev-bind", dev, dev]
            args += ["--ro-bind", "/sys", "/sys"]
        for path in _python_paths(self.secret_dirs):
            args += _dir_chain_args(path) + ["--ro-bind", path, path]
        for path in bundled_data_dirs():  # held-out data must not be readable inside: empty, read-only
            args += ["--perms", "0555", "--size", "4096", "--tmpfs", path, "--remount-ro", path]
        args += _dir_chain_args(f"{INSIDE_DIR}/runner.py")
        args += ["--ro-bind", str(HERE / "runner.py"), f"{INSIDE_DIR}/runner.py",
                 "--ro-bind", str(HERE / "wire.py"), f"{INSIDE_DIR}/wire.py",
                 "--perms", "01777", "--size", str(lim.disk_mb * MiB), "--tmpfs", WORK_DIR]
        for rel, host in sorted(self.files.items()):
            args += ["--ro-bind", str(host), f"{WORK_DIR}/{rel}"]
        if self.zygote_share is not None:
            args += ["--ro-bind", str(self.zygote_share), SHARE_DIR]
        args += ["--chdir", WORK_DIR, "--clearenv"]
        for k, v in self._env().items():
            args += ["--setenv", k, v]
        if seccomp_fd is not None:
            args += ["--seccomp", str(seccomp_fd)]
        if self.protections.unprivileged_uid:
            uid = str(BASE_SANDBOX_UID + self.slot)
            args += ["/usr/bin/setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                     "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]
        return args + runner_args

    def _preexec(self):
        lim = self.limits
        cpu = cpu_seconds(lim)
        # CUDA maps far more address space than it uses: on a GPU the memory limit cannot be an rlimit.
        address_space = resource.RLIM_INFINITY if self.device == "gpu" else lim.memory_mb * MiB
        if self.zygote_share is not None:  # a zygote lives across gradings; each child sets its own
            cpu, address_space = resource.RLIM_INFINITY - 1, resource.RLIM_INFINITY
        for res, val in ((resource.RLIMIT_CPU, (cpu, cpu + 1)),
                         (resource.RLIMIT_AS, (address_space,) * 2),
                         (resource.RLIMIT_FSIZE, (lim.file_mb * MiB,) * 2),
                         (resource.RLIMIT_NOFILE, (lim.open_files,) * 2),
                         (resource.RLIMIT_NPROC, (lim.processes,) * 2),
                         (resource.RLIMIT_CORE, (0, 0))):
            resource.setrlimit(res, val)
        if self.cgroup is not None:  # before exec: every descendant is in the grading's group
            self.cgroup.join()
        if self._uid is not None:  # rlimits-only as root, with an interpreter others can run
            os.setgroups([])
            os.setresgid(self._uid, self._uid, self._uid)
            os.setresuid(self._uid, self._uid, self._uid)
        if self._seccomp is not None:
            self._seccomp.load()

    # -- life cycle --------------------------------------------------------------------------
    def start(self) -> None:
        """Start the sandboxed runner (it waits for requests)."""
        if self.zygote_share is not None:
            import socket
            parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            self.control = parent
            req_r, req_w = child.detach(), -1
            resp_r, resp_w = -1, -1
        else:
            req_r, req_w = os.pipe()
            resp_r, resp_w = os.pipe()
        out_r, out_w = os.pipe()
        seccomp_fd = None
        pass_fds = [fd for fd in (req_r, resp_w) if fd >= 0]
        if self.protections.namespaces and self.protections.seccomp:
            seccomp_fd = os.memfd_create("dlgrade-seccomp", 0)
            os.write(seccomp_fd, _seccomp_program())
            os.lseek(seccomp_fd, 0, os.SEEK_SET)
            pass_fds.append(seccomp_fd)
        if not self.protections.namespaces:
            self._fallback_dir = private_dir("dlgrade-run-", self._uid)
            for sub in ("work", "tmp"):
                (self._fallback_dir / sub).mkdir(mode=0o700)
                if self._uid is not None:
                    os.chown(self._fallback_dir / sub, self._uid, self._uid)
            copy_private(self.files, self._fallback_dir / "work", self._uid)
            if self.protections.seccomp:
                self._seccomp = _SeccompLoader(_seccomp_program())
        if self.protections.cgroup:
            try:
                self.cgroup = cgroups.Cgroup.create(self.tree_memory_mb * MiB,
                                                    self.limits.processes + TREE_TASK_SLACK)
            except cgroups.CgroupError as err:
                for fd in (req_r, req_w, resp_r, resp_w, out_r, out_w) + ((seccomp_fd,) if seccomp_fd else ()):
                    if fd is not None and fd >= 0:
                        os.close(fd)
                raise SandboxStartError("the grader's sandbox could not start on this machine",
                                        f"cgroup: {err}") from None
            self._oom_seen = self.cgroup.oom_kills()
        env = self._env() if not self.protections.namespaces else {}
        try:
            self.proc = subprocess.Popen(
                self._command(req_r, resp_w, seccomp_fd), stdin=subprocess.DEVNULL, stdout=out_w,
                stderr=out_w, pass_fds=pass_fds, close_fds=True, start_new_session=True,
                preexec_fn=self._preexec, env=env,
                cwd=str(self._fallback_dir / "work") if self._fallback_dir else "/")
        except (OSError, subprocess.SubprocessError) as err:
            for fd in (req_w, resp_r, out_r):
                if fd >= 0:
                    os.close(fd)
            if self.zygote_share is not None:
                self.control.close()
            self._remove_private()
            raise SandboxStartError("the grader's sandbox could not start on this machine",
                                    f"{type(err).__name__}: {err}") from None
        finally:
            for fd in (req_r, resp_w, out_w) + ((seccomp_fd,) if seccomp_fd is not None else ()):
                if fd >= 0:
                    os.close(fd)
        self.output = _OutputReader(out_r, self.limits.output_bytes)
        self.output.start()
        self.started_at = time.monotonic()
        if self.zygote_share is not None:
            self.req_fd = self.resp_fd = self.control.fileno()
        else:
            self.req_fd, self.resp_fd = req_w, resp_r
            fcntl.fcntl(req_w, fcntl.F_SETFL, fcntl.fcntl(req_w, fcntl.F_GETFL) | os.O_NONBLOCK)
        try:
            self.ready = self._await_ready()
        except SandboxStartError:
            self.close()  # its processes, cgroup and private copy of the learner's files go too
            raise

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _wait_exit(self) -> int | None:
        if self.proc is None:
            return None
        try:
            return self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.proc.returncode

    def kill(self) -> None:
        """Kill the whole sandbox process tree and close its channels."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.proc.kill()
            except ProcessLookupError:
                pass
        if self.cgroup is not None:  # setsid() escapers too: everything in the group is this sandbox's
            self.cgroup.kill_all()
        if self.proc is not None:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                warnings.warn("a sandbox process did not exit after SIGKILL")

    def close(self) -> str:
        """Stop the sandbox (politely, then by force) and return its captured output."""
        if self.proc is not None:
            if self.proc.poll() is None:
                try:
                    if self.zygote_share is not None:
                        self.control.shutdown(2)  # EOF: the zygote's loop ends
                    else:
                        os.close(self.req_fd)  # EOF: the runner's loop ends
                except OSError:
                    pass
                try:
                    self.proc.wait(timeout=1)
                except subprocess.TimeoutExpired:
                    pass
            self.kill()
            if self.zygote_share is not None:
                self.control.close()
            else:
                for fd in (self.req_fd, self.resp_fd):
                    try:
                        os.close(fd)
                    except OSError:
                        pass
        if self.output is not None:
            self.output.join(timeout=2)
        self._remove_private()
        return self.output.text() if self.output else ""

    def _remove_private(self) -> None:
        if self.cgroup is not None:
            self.memory_peak = self.cgroup.peak()
            self.cgroup.close()
            self.cgroup = None
        if self._fallback_dir is not None:
            _remove_tree(self._fallback_dir)
            self._fallback_dir = None
            if self._uid is not None:  # rlimits-only with the slot's uid: what it left in shared folders
                for shared in ("/tmp", "/dev/shm"):
                    for p in Path(shared).iterdir() if os.path.isdir(shared) else ():
                        try:
                            if p.lstat().st_uid == self._uid:
                                _remove_tree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
                        except OSError:
                            pass


def _remove_tree(path: Path) -> None:
    """Remove a folder even where a learner made parts of it read-only."""
    def fix(func, p, _exc):
        try:
            os.chmod(os.path.dirname(p), 0o700)
            if os.path.isdir(p) and not os.path.islink(p):
                os.chmod(p, 0o700)
            func(p)
        except OSError:
            pass
    shutil.rmtree(path, onerror=fix)
    if os.path.exists(path):
        shutil.rmtree(path, ignore_errors=True)
