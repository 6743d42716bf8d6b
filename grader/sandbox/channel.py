"""Talking to a runner: requests and answers in the one-way wire format, each with a deadline, and
its captured output read with a byte cap; how a silent or dead runner becomes a SandboxError."""

from __future__ import annotations

import os
import select
import signal
import threading
import time

from grader.sandbox import cgroups
from grader.sandbox.errors import START_FAILED, SandboxDied, SandboxStartError, SandboxTimeout
from grader.sandbox.inside import wire
from grader.sandbox.limits import MiB, Limits


class OutputReader(threading.Thread):
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
            pass  # the pipe broke: what was read so far is the output
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


def write_with_deadline(fd: int, data: bytes, deadline: float) -> None:
    """Write all of `data` to a non-blocking `fd`, or raise TimeoutError at `deadline`."""
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
    Subclasses provide `alive()`, `kill()` and `_wait_exit()`."""

    limits: Limits
    req_fd: int
    resp_fd: int
    output: OutputReader | None
    cgroup: cgroups.Cgroup | None = None
    _oom_seen: int = 0  # the group's OOM-kill count when this grading began

    def alive(self) -> bool:
        raise NotImplementedError

    def kill(self) -> None:
        raise NotImplementedError

    def _wait_exit(self) -> int | None:
        """Wait (briefly) for the runner to end; its exit code, or None when unknown."""
        raise NotImplementedError

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
        raise SandboxStartError(START_FAILED, f"{problem}; exit code {code}; output: "
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
            write_with_deadline(self.req_fd, wire.encode(header, value, rng_type=rng_type), deadline)
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
