"""The sandbox: one isolated process that runs `inside/runner.py` on the learner's files.

Where the machine allows it (Linux with bubblewrap), the process gets its own mount, PID, network,
IPC and UTS namespaces; sees only the system's `/usr`, the Python installation, the runner and the
submission; runs as an unprivileged uid with no capabilities and `no_new_privs` (when the grader
runs as root); and has `socket()`, `ptrace()` and friends blocked by seccomp. Everywhere it runs
under rlimits (CPU, address space, processes, file size, open files, no core dumps), a size-limited
tmpfs for its writable directories, a scrubbed environment and closed descriptors. Output is read
with a byte cap; every request has a deadline; on timeout the whole process tree is killed
(the PID namespace's init dies, taking every descendant with it, `setsid()` or not).

When bubblewrap is missing or cannot start, it falls back to rlimits only and says so: the
`protections` of every result record which protections were active (see probe.py).

`RunnerProcess` is what every sandboxed runner shares (start, limits, kill, close); `Sandbox` is
the one that serves one grading over two pipes; a zygote's is in zygote.py."""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import subprocess
import time
import warnings
from pathlib import Path

from grader.sandbox import cgroups, commands, private_mounts
from grader.sandbox.channel import Channel, OutputReader
from grader.sandbox.errors import START_FAILED, SandboxStartError
from grader.sandbox.limits import TREE_TASK_SLACK, Limits, MiB, cpu_seconds, tree_memory_mb_of
from grader.sandbox.probe import probe
from grader.sandbox.seccomp import SeccompLoader, seccomp_program
from grader.sandbox.staging import copy_private, private_dir, remove_owned, remove_tree


_OutputReader = OutputReader  # tests/test_untrusted_text.py

__all__ = ["RunnerProcess", "Sandbox"]


class RunnerProcess(Channel):
    """One sandboxed runner process: its protections, command, rlimits, cgroup and life cycle.

    Subclasses say how the trusted side talks to it: `_open_channel` (make the channel, keep the
    parent's ends, return the child's), `_runner_args`, `_hang_up` (EOF: the runner's loop ends)
    and `_close_channel`; and may add environment, mounts and other process limits."""

    def __init__(self, files: dict[str, Path], limits: Limits, *, slot: int,
                 secret_dirs: list[Path] | None = None, env: dict[str, str] | None = None,
                 device: str = "cpu", tree_memory_mb: int | None = None):
        self.files = files
        self.limits = limits
        self.slot = slot
        self.secret_dirs = [Path(p).resolve() for p in (secret_dirs or [])]
        self.extra_env = env or {}
        self.device = device
        self.protections = probe()
        self.tree_memory_mb = tree_memory_mb or tree_memory_mb_of(limits)  # the cgroup's memory limit
        self.uid = self.protections.uid_for(slot)  # None: the grader's uid (or a user namespace of it)
        self._drop_to = self.uid if not self.protections.namespaces else None  # bwrap's setpriv does it there
        self._stage_dir: Path | None = None  # private mounts: the empty folder the mount script works in
        self._prctl = None  # private mounts: libc's prctl, for the child's parent-death signal
        self.proc: subprocess.Popen | None = None
        self.output: OutputReader | None = None
        self.started_at = 0.0
        self.ready: dict = {}
        self._fallback_dir: Path | None = None  # rlimits-only: the private folder holding work/ and tmp/
        self.cgroup: cgroups.Cgroup | None = None
        self.memory_peak: int | None = None  # bytes: the cgroup's peak, read at close
        self._seccomp: SeccompLoader | None = None

    # -- what subclasses decide --------------------------------------------------------------------
    def _open_channel(self) -> list[int]:
        raise NotImplementedError

    def _runner_args(self, child_fds: list[int], work_dir: str) -> list[str]:
        raise NotImplementedError

    def _hang_up(self) -> None:
        raise NotImplementedError

    def _close_channel(self) -> None:
        raise NotImplementedError

    def _mode_env(self) -> dict[str, str]:
        return {}

    def _extra_bwrap_args(self) -> list[str]:
        """bubblewrap options and mounts this kind of runner adds (namespaces mode only)."""
        return []

    runner_is_pid_1 = False  # private mounts: the runner itself is its PID namespace's init

    def _kept_paths(self) -> list[str]:
        """Host folders this kind of runner must see read-only (private-mounts mode only)."""
        return []

    def _cpu_and_address_space(self) -> tuple[int, int]:
        # CUDA maps far more address space than it uses: on a GPU the memory limit cannot be an rlimit.
        lim = self.limits
        return cpu_seconds(lim), resource.RLIM_INFINITY if self.device == "gpu" else lim.memory_mb * MiB

    # -- command -----------------------------------------------------------------------------------
    def _env(self) -> dict[str, str]:
        env = commands.base_env(self.device)
        env.update(self.extra_env)
        if not self.protections.namespaces:
            env.update(commands.private_env(self._fallback_dir))
        env.update(self._mode_env())
        return env

    def _command(self, child_fds: list[int], seccomp_fd: int | None) -> list[str]:
        if not self.protections.namespaces:
            runner = commands.runner_command(inside=False) + self._runner_args(
                child_fds, str(self._fallback_dir / "work"))
            if not self.protections.private_mounts:
                return runner
            return private_mounts.command(
                stage=str(self._stage_dir), run_dir=str(self._fallback_dir), uid=self._drop_to,
                cwd=str(self._fallback_dir / "work"), runner=runner, secret_dirs=self.secret_dirs,
                disk_bytes=self.limits.disk_mb * MiB, extra_kept=self._kept_paths(), seccomp_fd=seccomp_fd,
                runner_is_pid_1=self.runner_is_pid_1, device=self.device)
        runner = commands.runner_command(inside=True) + self._runner_args(child_fds, commands.WORK_DIR)
        return commands.bwrap_command(self.limits, self.device, self.secret_dirs, self.files, self._env(), runner,
                                      extra_binds=self._extra_bwrap_args(), seccomp_fd=seccomp_fd, uid=self.uid)

    def _preexec(self):
        """In the child, before exec: limits, cgroup, uid, seccomp (nothing that allocates much)."""
        lim = self.limits
        cpu, address_space = self._cpu_and_address_space()
        for res, val in ((resource.RLIMIT_CPU, (cpu, cpu + 1)),
                         (resource.RLIMIT_AS, (address_space,) * 2),
                         (resource.RLIMIT_FSIZE, (lim.file_mb * MiB,) * 2),
                         (resource.RLIMIT_NOFILE, (lim.open_files,) * 2),
                         (resource.RLIMIT_NPROC, (lim.processes,) * 2),
                         (resource.RLIMIT_CORE, (0, 0))):
            resource.setrlimit(res, val)
        if self.cgroup is not None:  # before exec: every descendant is in the grading's group
            self.cgroup.join()
        if self._prctl is not None:  # private mounts: unshare dies with the grader (as bwrap --die-with-parent)
            self._prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        if self._drop_to is not None and not self.protections.private_mounts:  # rlimits-only as root
            os.setgroups([])
            os.setresgid(self._drop_to, self._drop_to, self._drop_to)
            os.setresuid(self._drop_to, self._drop_to, self._drop_to)
        if self._seccomp is not None:
            self._seccomp.load()

    def _make_private_dirs(self) -> None:
        """rlimits-only: a private host folder with work/ (the learner's files) and tmp/."""
        self._fallback_dir = private_dir("dlgrade-run-", self._drop_to)
        for sub in ("work", "tmp"):
            (self._fallback_dir / sub).mkdir(mode=0o700)
            if self._drop_to is not None:
                os.chown(self._fallback_dir / sub, self._drop_to, self._drop_to)
        copy_private(self.files, self._fallback_dir / "work", self._drop_to)

    # -- life cycle --------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the sandboxed runner and wait for its hello (it then waits for requests)."""
        child_fds = self._open_channel()
        out_r, out_w = os.pipe()
        to_close = [*child_fds, out_w]  # the child's ends: closed here once it has them
        try:
            seccomp_fd = None
            if self.protections.refusal:
                raise SandboxStartError(START_FAILED, self.protections.refusal)
            if self.protections.seccomp and (self.protections.namespaces or self.protections.private_mounts):
                seccomp_fd = os.memfd_create("dlgrade-seccomp", 0)
                to_close.append(seccomp_fd)
                os.write(seccomp_fd, seccomp_program().bpf)
                os.lseek(seccomp_fd, 0, os.SEEK_SET)
            if not self.protections.namespaces:
                self._make_private_dirs()
                if self.protections.private_mounts:
                    self._stage_dir = private_dir("dlgrade-stage-")
                    self._prctl = ctypes.CDLL(None, use_errno=True).prctl
                    self._prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                                            ctypes.c_ulong]
                elif self.protections.seccomp:
                    self._seccomp = SeccompLoader(seccomp_program().bpf)
            if self.protections.cgroup:
                try:
                    self.cgroup = cgroups.Cgroup.create(self.tree_memory_mb * MiB,
                                                        self.limits.processes + TREE_TASK_SLACK)
                except cgroups.CgroupError as err:
                    raise SandboxStartError(START_FAILED, f"cgroup: {err}") from None
                self._oom_seen = self.cgroup.oom_kills()
            self.proc = subprocess.Popen(
                self._command(child_fds, seccomp_fd), stdin=subprocess.DEVNULL, stdout=out_w, stderr=out_w,
                pass_fds=[*child_fds, *([seccomp_fd] if seccomp_fd is not None else [])], close_fds=True,
                start_new_session=True, preexec_fn=self._preexec,
                env=self._env() if not self.protections.namespaces else {},
                cwd=str(self._fallback_dir / "work") if self._fallback_dir else "/")
        except BaseException as err:
            os.close(out_r)
            self._close_channel()
            self._remove_private()
            if isinstance(err, (OSError, subprocess.SubprocessError)):
                raise SandboxStartError(START_FAILED, f"{type(err).__name__}: {err}") from None
            raise
        finally:
            for fd in to_close:
                os.close(fd)
        self.output = OutputReader(out_r, self.limits.output_bytes)
        self.output.start()
        self.started_at = time.monotonic()
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
        """Kill the whole sandbox process tree (its channel stays open until `close`)."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass  # gone already, or its group is gone: proc.kill() below still reaches it
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
                    self._hang_up()
                except OSError:
                    pass  # the runner is gone already: nothing to tell
                try:
                    self.proc.wait(timeout=1)
                except subprocess.TimeoutExpired:
                    pass  # killed below
            self.kill()
            self._close_channel()
        if self.output is not None:
            self.output.join(timeout=2)
        self._remove_private()
        return self.output.text() if self.output else ""

    def _remove_private(self) -> None:
        if self.cgroup is not None:
            self.memory_peak = self.cgroup.peak()
            self.cgroup.close()
            self.cgroup = None
        if self._stage_dir is not None:
            remove_tree(self._stage_dir)
            self._stage_dir = None
        if self._fallback_dir is not None:
            remove_tree(self._fallback_dir)
            self._fallback_dir = None
            if self._drop_to is not None and not self.protections.private_mounts:
                # rlimits-only with the slot's uid: what it left in shared folders (with private
                # mounts it saw only its own /tmp; the grading's staged copy, also the uid's, stays)
                remove_owned(self._drop_to)


def _close_fd(fd: int) -> int:
    """Close `fd` if open; returns -1 (the value a closed descriptor attribute holds)."""
    if fd >= 0:
        try:
            os.close(fd)
        except OSError:
            pass  # closed already
    return -1


class Sandbox(RunnerProcess):
    """One sandboxed runner process serving one grading's requests over two pipes.

    `files` maps a relative path inside the sandbox's working directory to a host file;
    `entry` is the relative path of the file to import; `slot` picks its uid (grader/sandbox/uids.py)."""

    def __init__(self, files: dict[str, Path], entry: str, limits: Limits, *, slot: int,
                 secret_dirs: list[Path] | None = None, env: dict[str, str] | None = None, device: str = "cpu"):
        super().__init__(files, limits, slot=slot, secret_dirs=secret_dirs, env=env, device=device)
        self.entry = entry
        self.req_fd = self.resp_fd = -1

    def _open_channel(self) -> list[int]:
        req_r, self.req_fd = os.pipe()
        self.resp_fd, resp_w = os.pipe()
        os.set_blocking(self.req_fd, False)  # writes go through select() with the request's deadline
        return [req_r, resp_w]

    def _runner_args(self, child_fds: list[int], work_dir: str) -> list[str]:
        req_r, resp_w = child_fds
        return [str(req_r), str(resp_w), f"{work_dir}/{self.entry}"]

    def _hang_up(self) -> None:
        self.req_fd = _close_fd(self.req_fd)

    def _close_channel(self) -> None:
        self.req_fd = _close_fd(self.req_fd)
        self.resp_fd = _close_fd(self.resp_fd)
