"""Start-up paid once per worker: a zygote sandbox imports the heavy modules (Keras) once, runs
nothing with them, and forks a fresh child for each grading.

Isolation is kept: the zygote is a normal sandbox (namespaces, the worker's own uid, seccomp,
rlimits); each child imports only its learner's files (copied into the zygote's read-only share
just before the fork), sets its own CPU and memory limits, and answers on fresh pipes. When a
grading ends, the zygote kills every other process of its uid in its PID namespace and wipes the
writable folders before the next learner's files exist, so no learner's process outlives its
grading or sees another's files. The zygote is not dumpable: a child cannot read its memory or
descriptors. Concurrent gradings are in other workers: other uids, other namespaces."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from pathlib import Path

from . import wire
from .sandbox import Channel, Limits, Sandbox, SandboxStartError, _OutputReader, cpu_seconds

FINISH_SECONDS = 15.0


class Zygote:
    """One zygote sandbox for one worker slot and one set of preloaded modules."""

    def __init__(self, slot: int, limits: Limits, preload: list[str], device: str = "cpu",
                 secret_dirs: list[Path] | None = None):
        self.share = Path(tempfile.mkdtemp(prefix=f"dlgrade-zygote{slot}-"))
        os.chmod(self.share, 0o755)
        self.limits = limits
        env = {"DLGRADE_PRELOAD": ",".join(preload)}
        self.sandbox = Sandbox({}, "", limits, slot=slot, secret_dirs=secret_dirs, env=env, device=device,
                               zygote_share=self.share)
        self.sandbox.start()
        self.ready = self.sandbox.ready
        self.forks = 0

    def alive(self) -> bool:
        return self.sandbox.alive()

    def _stage(self, files: dict[str, Path]) -> None:
        for p in self.share.iterdir():
            p.unlink()
        for name, src in files.items():
            dst = self.share / name
            shutil.copyfile(src, dst)
            os.chmod(dst, 0o644)

    def fork(self, files: dict[str, Path], entry: str, limits: Limits) -> "ForkedSandbox":
        """A fresh child for one grading of the learner's `files`."""
        self._stage(files)
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
            raise SandboxStartError("the grader's sandbox could not start on this machine",
                                    f"zygote fork failed: {type(err).__name__}") from None
        finally:
            for fd in (req_r, resp_w, out_w):
                os.close(fd)
        if header.get("status") != "forked":
            self.sandbox.kill()
            raise SandboxStartError("the grader's sandbox could not start on this machine",
                                    f"zygote answered {header!r}")
        self.forks += 1
        return ForkedSandbox(self, req_w, resp_r, out_r, limits)

    def finish(self, kill: bool) -> dict:
        """Wait for the zygote's report that the current child and all it started are gone
        (asking it to kill them first when `kill`). A zygote that does not answer is killed."""
        try:
            if kill:
                wire.write_frame(self.sandbox.control.fileno(), wire.encode({"op": "kill"}))
            header, _ = wire.decode(wire.read_frame(self.sandbox.control.fileno(), 1 << 20,
                                                    time.monotonic() + FINISH_SECONDS))
            return header
        except (OSError, TimeoutError, EOFError, wire.WireError):
            self.sandbox.kill()
            return {"status": "done", "exit": None, "killed": True}

    def close(self) -> None:
        self.sandbox.close()
        shutil.rmtree(self.share, ignore_errors=True)


class ForkedSandbox(Channel):
    """The sandbox side of one grading, as a child of a zygote (same interface as `Sandbox`)."""

    def __init__(self, zygote: Zygote, req_fd: int, resp_fd: int, out_fd: int, limits: Limits):
        import fcntl
        self.zygote, self.limits = zygote, limits
        self.req_fd, self.resp_fd = req_fd, resp_fd
        fcntl.fcntl(req_fd, fcntl.F_SETFL, fcntl.fcntl(req_fd, fcntl.F_GETFL) | os.O_NONBLOCK)
        self.output = _OutputReader(out_fd, limits.output_bytes)
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
        return self.output.text()


class ZygotePool:
    """A worker's zygotes, one per (preloaded modules, device), restarted when one dies."""

    def __init__(self, slot: int, secret_dirs: list[Path] | None = None):
        self.slot = slot
        self.secret_dirs = secret_dirs
        self.zygotes: dict[tuple, Zygote] = {}

    def factory(self, preload: list[str], device: str, limits: Limits):
        """A `sandbox_factory` for `engine.grade` that forks from this pool's zygote."""
        key = (tuple(preload), device)

        def make(files: dict[str, Path], entry: str, grading_limits: Limits, _device: str) -> ForkedSandbox:
            zygote = self.zygotes.get(key)
            if zygote is None or not zygote.alive():
                if zygote is not None:
                    zygote.close()
                zygote = self.zygotes[key] = Zygote(self.slot, limits, list(preload), device, self.secret_dirs)
            return zygote.fork(files, entry, grading_limits)
        return make

    def close(self) -> None:
        for z in self.zygotes.values():
            z.close()
        self.zygotes.clear()
