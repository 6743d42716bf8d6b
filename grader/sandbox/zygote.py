"""Start-up paid once per worker: a zygote sandbox imports the heavy modules (Keras) once, runs
nothing with them, and forks a fresh child for each grading.

Isolation is kept: the zygote is a normal sandbox (namespaces, the worker's own uid, seccomp,
rlimits); each child imports only its learner's files (copied into the zygote's read-only share
just before the fork), sets its own CPU and memory limits, and answers on fresh pipes. When a
grading ends, the zygote (a child subreaper) kills every descendant, setsid() or not, and wipes the
writable folders (restoring permissions first) before the next learner's files exist; a wipe that
leaves anything retires the zygote, and the next grading gets a fresh one. Work folders have random
names. The zygote is not dumpable: a child cannot read its memory or descriptors. The zygote and
its current child share one cgroup sized as the grading's memory plus the zygote's own baseline
(measured once it is ready). The share is a private folder (0700, files readable by the sandbox's
uid only), emptied as soon as the child has its copy, removed with the zygote. The same holds in
rlimits-only mode, where the zygote's folders are private host folders instead of tmpfs mounts.
Concurrent gradings are in other workers: other uids, other namespaces.

`ZygoteSandbox` is the zygote's own sandboxed process (a `RunnerProcess`, like a grading's
`Sandbox`); `Zygote` drives it; `ForkedSandbox` is one grading's child; `ZygotePool` keeps a
worker's zygotes: one per preload set, device, the limits a zygote fixes for all its children and
the secret folders it hides, so a fork gets exactly what a fresh sandbox of that grading would.
Exercises that preload nothing fork from a numpy zygote (`DEFAULT_PRELOAD`)."""

from __future__ import annotations

import os
import re
import resource
import socket
import time
from pathlib import Path

from grader.sandbox.channel import Channel, OutputReader
from grader.sandbox.commands import SHARE_DIR, WORK_DIR
from grader.sandbox.errors import START_FAILED, SandboxStartError
from grader.sandbox.inside import wire
from grader.sandbox.limits import ZYGOTE_START_MB, Limits, MiB, cpu_seconds, tree_memory_mb_of
from grader.sandbox.process import RunnerProcess
from grader.sandbox.staging import copy_private, empty_folder, private_dir, remove_tree

FINISH_SECONDS = 15.0
# What a zygote imports for an exercise that preloads nothing: every runner imports numpy anyway
# (its hello reports numpy's version), so a child forked from it starts as a fresh sandbox would.
DEFAULT_PRELOAD = ("numpy",)
# The random folder a child works in (`<work>/g-<24 hex>`, named by the zygote): a fresh sandbox's
# learner files lie in `<work>/` itself, so feedback names them the same way either way.
_CHILD_FOLDER = re.compile(r"/g-[0-9a-f]{24}(?=/)")


class ZygoteSandbox(RunnerProcess):
    """The zygote's own sandboxed runner: it imports the `preload` modules, then serves fork
    requests on a Unix socket (its control), each grading's learner files arriving in `share`.
    It lives across gradings, so its process limits are the children's to set."""

    def __init__(self, share: Path, limits: Limits, *, slot: int, preload: list[str],
                 secret_dirs: list[Path] | None = None, device: str = "cpu"):
        super().__init__({}, limits, slot=slot, secret_dirs=secret_dirs, env={"DLGRADE_PRELOAD": ",".join(preload)},
                         device=device, tree_memory_mb=tree_memory_mb_of(limits) + ZYGOTE_START_MB)
        self.share = share
        self.control: socket.socket | None = None
        self.req_fd = self.resp_fd = -1

    def _open_channel(self) -> list[int]:
        self.control, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.req_fd = self.resp_fd = self.control.fileno()
        return [child.detach()]

    def _runner_args(self, child_fds: list[int], work_dir: str) -> list[str]:
        return ["--zygote", str(child_fds[0])]

    def _hang_up(self) -> None:
        self.control.shutdown(socket.SHUT_RDWR)  # EOF: the zygote's loop ends

    def _close_channel(self) -> None:
        if self.control is not None:
            self.control.close()
        self.req_fd = self.resp_fd = -1

    def _mode_env(self) -> dict[str, str]:
        """Where the learner's files arrive, and the only folders the zygote's wipe may touch."""
        if self.protections.namespaces:
            return {"DLGRADE_SHARE": SHARE_DIR, "DLGRADE_ZYGOTE_DIRS": f"{WORK_DIR}:/tmp:/dev/shm",
                    "DLGRADE_IPC_PRIVATE": "1"}
        work, tmp = self._fallback_dir / "work", self._fallback_dir / "tmp"
        return {"DLGRADE_SHARE": str(self.share), "DLGRADE_ZYGOTE_DIRS": f"{work}:{tmp}", "DLGRADE_IPC_PRIVATE": "0",
                "DLGRADE_ZYGOTE_SHARED_DIRS": "/tmp:/dev/shm"}  # there: only what its own uid owns

    def _extra_bwrap_args(self) -> list[str]:
        # The zygote is its PID namespace's init: the kernel never delivers a SIGKILL from inside the
        # namespace to it, and kill(-1) skips it, so a child that kills every process it may signal
        # (as it may in a fresh sandbox) ends nothing but its own tree, as in a fresh sandbox.
        return ["--as-pid-1", "--ro-bind", str(self.share), SHARE_DIR]

    runner_is_pid_1 = True  # as with bwrap's --as-pid-1 (see _extra_bwrap_args)

    def _kept_paths(self) -> list[str]:
        return [str(self.share)]  # private-mounts mode: the learner's files arrive here, read-only

    def _cpu_and_address_space(self) -> tuple[int, int]:
        return resource.RLIM_INFINITY - 1, resource.RLIM_INFINITY  # each child sets its own


class Zygote:
    """One zygote sandbox for one worker slot and one set of preloaded modules."""

    def __init__(self, slot: int, limits: Limits, preload: list[str], device: str = "cpu",
                 secret_dirs: list[Path] | None = None):
        self.base = private_dir(f"dlgrade-zygote{slot}-{os.getpid()}-")  # 0700, the grader's: nobody else enters
        self.share = self.base / "share"
        self.limits = limits
        self.dirty = False  # a wipe left something: retire before the next grading
        try:
            self.share.mkdir(mode=0o700)
            self.sandbox = ZygoteSandbox(self.share, limits, slot=slot, preload=preload, secret_dirs=secret_dirs,
                                         device=device)
        except BaseException:
            remove_tree(self.base)
            raise
        self.uid = self.sandbox.uid  # the share's files are readable by this uid only
        try:
            if self.uid is not None:
                os.chown(self.share, self.uid, self.uid)
            self.sandbox.start()
        except BaseException:
            self.sandbox.close()
            remove_tree(self.base)
            raise
        self.ready = self.sandbox.ready
        self.cgroup = self.sandbox.cgroup
        self.baseline = self.cgroup.usage() if self.cgroup is not None else 0  # bytes, modules imported
        self.forks = 0

    def alive(self) -> bool:
        return self.sandbox.alive()

    def _stage(self, files: dict[str, Path]) -> None:
        empty_folder(self.share)
        copy_private(files, self.share, self.uid)

    def fork(self, files: dict[str, Path], entry: str, limits: Limits) -> "ForkedSandbox":
        """A fresh child for one grading of the learner's `files`."""
        self._stage(files)
        oom_seen = 0
        if self.cgroup is not None:  # this grading's memory, plus what the zygote itself holds
            try:
                self.cgroup.set_memory(self.baseline + tree_memory_mb_of(limits) * MiB)
            except OSError as err:  # e.g. EBUSY: more in use than the new limit and nothing to reclaim
                self.sandbox.kill()
                raise SandboxStartError(START_FAILED, f"zygote cgroup limit: {err}") from None
            self.cgroup.reset_peak()
            oom_seen = self.cgroup.oom_kills()
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        out_r, out_w = os.pipe()
        frame = wire.encode({"op": "fork", "entry": entry,
                             "limits": {"cpu_seconds": cpu_seconds(limits),
                                        "memory_mb": None if self.sandbox.device == "gpu" else limits.memory_mb}})
        try:
            socket.send_fds(self.sandbox.control, [frame], [req_r, resp_w, out_w])
            header, _ = wire.decode(wire.read_frame(self.sandbox.control.fileno(), 1 << 20,
                                                    time.monotonic() + FINISH_SECONDS))
        except (OSError, TimeoutError, EOFError, wire.WireError) as err:
            for fd in (req_w, resp_r, out_r):
                os.close(fd)
            self.sandbox.kill()
            raise SandboxStartError(START_FAILED, f"zygote fork failed: {type(err).__name__}") from None
        finally:
            for fd in (req_r, resp_w, out_w):
                os.close(fd)
            empty_folder(self.share)  # the child has its own copy (or there is no child)
        if header.get("status") != "forked":
            for fd in (req_w, resp_r, out_r):
                os.close(fd)
            self.sandbox.kill()
            raise SandboxStartError(START_FAILED, f"zygote answered {header!r}")
        self.forks += 1
        return ForkedSandbox(self, req_w, resp_r, out_r, limits, oom_seen)

    def finish(self, kill: bool) -> dict:
        """Wait for the zygote's report that the current child and all it started are gone
        (asking it to kill them first when `kill`). A zygote that does not answer is killed."""
        try:
            if kill:
                wire.write_frame(self.sandbox.control.fileno(), wire.encode({"op": "kill"}))
            header, _ = wire.decode(wire.read_frame(self.sandbox.control.fileno(), 1 << 20,
                                                    time.monotonic() + FINISH_SECONDS))
            if header.get("clean") is not True:
                self.dirty = True  # the next grading gets a fresh zygote, never these leftovers
            return header
        except (OSError, TimeoutError, EOFError, wire.WireError):
            self.sandbox.kill()
            return {"status": "done", "exit": None, "killed": True}

    def close(self) -> None:
        self.sandbox.close()
        remove_tree(self.base)


class ForkedSandbox(Channel):
    """The sandbox side of one grading, as a child of a zygote (same interface as `Sandbox`)."""

    def __init__(self, zygote: Zygote, req_fd: int, resp_fd: int, out_fd: int, limits: Limits,
                 oom_seen: int = 0):
        self.zygote, self.limits = zygote, limits
        self.cgroup, self._oom_seen = zygote.cgroup, oom_seen
        self.memory_peak: int | None = None
        self.req_fd, self.resp_fd = req_fd, resp_fd
        os.set_blocking(req_fd, False)  # writes go through select() with the request's deadline
        self.output = OutputReader(out_fd, limits.output_bytes)
        self.output.start()
        self.done: dict | None = None
        self.protections = zygote.sandbox.protections
        self.device = zygote.sandbox.device
        try:
            self.ready = self._await_ready()
        except SandboxStartError:
            self._close_fds()
            raise

    def alive(self) -> bool:
        return self.done is None and self.zygote.alive()

    def request(self, header: dict, value=None, timeout: float | None = None, rng_type=None):
        """As `Channel.request`; a learner's exception names its files as a fresh sandbox would."""
        answer, payload = super().request(header, value, timeout, rng_type)
        error = answer.get("error") if isinstance(answer, dict) else None
        if isinstance(error, dict):
            for field in ("traceback", "message"):
                if isinstance(error.get(field), str):
                    error[field] = _CHILD_FOLDER.sub("", error[field])
        return answer, payload

    def kill(self) -> None:
        if self.done is None:
            self.done = self.zygote.finish(kill=True)

    def _wait_exit(self) -> int | None:
        if self.done is None:
            self.done = self.zygote.finish(kill=False)
        return self.done.get("exit")

    def _close_fds(self) -> None:
        for fd in (self.req_fd, self.resp_fd):
            try:
                os.close(fd)
            except OSError:
                pass

    def close(self) -> str:
        """End the grading (EOF to the child, then the zygote's cleanup); returns its output."""
        try:
            os.close(self.req_fd)
        except OSError:
            pass
        if self.done is None:
            self.done = self.zygote.finish(kill=False)
        try:
            os.close(self.resp_fd)
        except OSError:
            pass
        self.output.join(timeout=2)
        if self.cgroup is not None:
            self.memory_peak = self.cgroup.peak()  # the zygote and this grading's tree together
        return self.output.text()


class ZygotePool:
    """A worker's zygotes, one per (preloaded modules, device, fixed limits, secret folders),
    restarted when one dies or was left dirty."""

    def __init__(self, slot: int, secret_dirs: list[Path] | None = None):
        self.slot = slot
        self.secret_dirs = [Path(p).resolve() for p in (secret_dirs or [])]
        self.zygotes: dict[tuple, Zygote] = {}

    def hide(self, secret_dirs: list[Path]) -> None:
        """The folders the next factories' zygotes keep out of the sandbox (the reference solutions),
        as `engine.grade` passes them to a fresh sandbox; zygotes made for other folders are kept
        under their own key."""
        self.secret_dirs = [Path(p).resolve() for p in secret_dirs]

    def factory(self, preload: list[str], device: str, limits: Limits):
        """A `sandbox_factory` for `engine.grade` that forks from this pool's zygote."""
        secret_dirs = list(self.secret_dirs)
        key = (tuple(preload), device, fixed_limits(limits), tuple(secret_dirs))

        def make(files: dict[str, Path], entry: str, grading_limits: Limits, _device: str) -> ForkedSandbox:
            zygote = self.zygotes.get(key)
            if zygote is not None and zygote.alive() and not zygote.dirty:
                try:
                    return zygote.fork(files, entry, grading_limits)
                except SandboxStartError:
                    pass  # whatever an earlier grading left broken is never this learner's failure
            if zygote is not None:
                zygote.close()
            zygote = self.zygotes[key] = Zygote(self.slot, limits, list(preload), device, secret_dirs)
            return zygote.fork(files, entry, grading_limits)
        return make

    def close(self) -> None:
        for z in self.zygotes.values():
            z.close()
        self.zygotes.clear()


def fixed_limits(limits: Limits) -> tuple:
    """The limits a zygote sets once for every child it forks (its mounts' sizes, its rlimits on
    processes, file size and open files; its cgroup's task count) and the start limit its own start
    is held to (the first grading waits for it): two exercises share a zygote only when these agree.
    Time, memory, output and message limits are each grading's own."""
    return (limits.processes, limits.file_mb, limits.disk_mb, limits.open_files, limits.start_seconds)
