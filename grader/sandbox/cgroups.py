"""One control group per sandbox (or zygote): the whole process tree of a grading is limited
together (memory and number of tasks), counted, and killed together.

cgroup v2 (`memory.max`, `pids.max`, `memory.events`) where the machine has a delegated memory
controller; cgroup v1 (`memory.limit_in_bytes` + `memory.memsw.limit_in_bytes`, `pids.max`,
`memory.oom_control`) where that is what the machine has. Only the trusted side (as root, or as a
user a cgroup was delegated to) creates, fills and removes them; the sandbox process joins its
group in `preexec` before exec, so every descendant is in it. Where none can be had, `available()`
says why and the sandbox falls back to per-process rlimits (a weaker bound: processes x address
space)."""

from __future__ import annotations

import functools
import os
import secrets
import signal
import time
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
PREFIX = "dlgrade-"


def _own_paths() -> dict[str, str]:
    """controller name ("" for v2) -> this process's cgroup path, from /proc/self/cgroup."""
    paths = {}
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for c in (controllers.split(",") if controllers else [""]):
                paths[c] = path
    except (OSError, ValueError):
        pass
    return paths


def _base_dirs() -> tuple[str, dict[str, Path]] | tuple[None, str]:
    """("v2"|"v1", {"memory": dir, "pids": dir}) under which a child group can be made, or
    (None, why not)."""
    own = _own_paths()
    v2_root = ROOT / "cgroup.controllers"
    if v2_root.exists():  # a unified hierarchy mounted at /sys/fs/cgroup
        base = ROOT / own.get("", "/").lstrip("/")
        try:
            ctrls = (base / "cgroup.controllers").read_text().split()
        except OSError as err:
            return None, f"cgroup v2 is not readable here ({err.strerror})"
        if "memory" not in ctrls:
            return None, "cgroup v2 here has no memory controller"
        return "v2", {"memory": base, "pids": base}
    mem, pids = ROOT / "memory", ROOT / "pids"
    if (mem / "memory.limit_in_bytes").exists() or (mem / "tasks").exists():
        dirs = {"memory": mem / own.get("memory", "/").lstrip("/")}
        if (pids / "tasks").exists():
            dirs["pids"] = pids / own.get("pids", "/").lstrip("/")
        if not dirs["memory"].is_dir():
            return None, "this process's cgroup v1 memory group is not visible under /sys/fs/cgroup/memory"
        return "v1", dirs
    return None, "no cgroup memory controller is mounted (neither v2 nor v1)"


@functools.lru_cache(maxsize=1)
def available() -> tuple[str | None, str]:
    """("v2"|"v1", "") when a per-sandbox group can be made here (tried once), else (None, why)."""
    kind, dirs = _base_dirs()
    if kind is None:
        return None, dirs
    try:
        group = Cgroup.create(64 << 20, 16)
    except CgroupError as err:
        return None, str(err)
    group.close()
    return kind, ""


class CgroupError(Exception):
    pass


class Cgroup:
    """A group for one sandbox's process tree: memory and task limits, OOM count, kill, remove."""

    def __init__(self, kind: str, dirs: dict[str, Path]):
        self.kind, self.dirs = kind, dirs
        self.memory_bytes = 0
        self._join_fds: list[int] = []
        self._events_fd: int | None = None  # kept open: the OOM count is read before every request

    @classmethod
    def create(cls, memory_bytes: int, tasks: int) -> "Cgroup":
        kind, bases = _base_dirs()
        if kind is None:
            raise CgroupError(bases)
        name = PREFIX + secrets.token_hex(6)
        dirs = {}
        group = cls(kind, dirs)
        try:
            for ctrl, base in bases.items():
                if base in dirs.values():  # v2: one directory holds both
                    dirs[ctrl] = base / name
                    continue
                (base / name).mkdir(mode=0o755)
                dirs[ctrl] = base / name
            if kind == "v2":
                ctrls = (dirs["memory"] / "cgroup.controllers").read_text().split()
                if "memory" not in ctrls:
                    raise CgroupError("cgroup v2 here does not delegate the memory controller to a child group")
            group.set_memory(memory_bytes)
            if "pids" in dirs and (dirs["pids"] / "pids.max").exists():
                (dirs["pids"] / "pids.max").write_text(str(int(tasks)))
            for d in {str(p) for p in dirs.values()}:
                group._join_fds.append(os.open(os.path.join(d, "cgroup.procs"), os.O_WRONLY | os.O_CLOEXEC))
        except OSError as err:
            group.close()
            raise CgroupError(f"a cgroup cannot be made here ({err.strerror}: {err.filename})") from None
        except CgroupError:
            group.close()
            raise
        return group

    # -- limits and counters -------------------------------------------------------------------
    @property
    def _mem(self) -> Path:
        return self.dirs["memory"]

    def set_memory(self, nbytes: int) -> None:
        """The memory limit of the whole group (no swap beyond it where swap is accounted)."""
        nbytes = int(nbytes)
        if self.kind == "v2":
            (self._mem / "memory.max").write_text(str(nbytes))
            if (self._mem / "memory.swap.max").exists():
                (self._mem / "memory.swap.max").write_text("0")
        else:
            memsw = self._mem / "memory.memsw.limit_in_bytes"
            limit = self._mem / "memory.limit_in_bytes"
            # memsw must stay >= the memory limit: raise memsw first, lower it last
            order = [limit, memsw]
            current = int(limit.read_text().strip() or 0)
            if nbytes > current:
                order.reverse()
            for f in order:
                if f.exists():
                    f.write_text(str(nbytes))
        self.memory_bytes = nbytes

    def _read(self, name: str) -> str:
        try:
            return (self._mem / name).read_text()
        except OSError:
            return ""

    def usage(self) -> int:
        text = self._read("memory.current" if self.kind == "v2" else "memory.usage_in_bytes").strip()
        return int(text) if text.isdigit() else 0

    def peak(self) -> int:
        """The highest memory use of the group since it was made (or since `reset_peak`)."""
        text = self._read("memory.peak" if self.kind == "v2" else "memory.max_usage_in_bytes").strip()
        return int(text) if text.isdigit() else 0

    def reset_peak(self) -> None:
        try:
            if self.kind == "v1":
                (self._mem / "memory.max_usage_in_bytes").write_text("0")
            elif (self._mem / "memory.peak").exists():
                (self._mem / "memory.peak").write_text("0")  # kernels >= 6.12; else the peak is lifelong
        except OSError:
            pass

    def oom_kills(self) -> int:
        """How many processes of the group the kernel killed for memory so far."""
        text = ""
        try:
            if self._events_fd is None and self.dirs:
                name = "memory.events" if self.kind == "v2" else "memory.oom_control"
                self._events_fd = os.open(self._mem / name, os.O_RDONLY | os.O_CLOEXEC)
            if self._events_fd is not None:
                text = os.pread(self._events_fd, 4096, 0).decode("ascii", "replace")
        except OSError:
            pass
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit():
                return int(value)
        return 0

    def join(self) -> None:
        """Put the calling process in the group (call in `preexec_fn`, before exec)."""
        pid = str(os.getpid()).encode()
        for fd in self._join_fds:
            os.write(fd, pid)

    def procs(self) -> list[int]:
        found = set()
        for d in self.dirs.values():
            try:
                found.update(int(x) for x in (d / "cgroup.procs").read_text().split())
            except (OSError, ValueError):
                pass
        return sorted(found)

    def kill_all(self, timeout: float = 5.0) -> list[int]:
        """SIGKILL every process in the group until none is left; returns those still there."""
        if not all(p.name.startswith(PREFIX) for p in self.dirs.values()):
            raise CgroupError(f"refusing to kill the processes of a group dlgrade did not make: {self.dirs}")
        if self.kind == "v2" and (self._mem / "cgroup.kill").exists():
            try:
                (self._mem / "cgroup.kill").write_text("1")
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        while True:
            left = self.procs()
            if not left or time.monotonic() > deadline:
                return left
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.02)

    def close(self) -> None:
        """Kill what is left in the group and remove it."""
        for fd in self._join_fds + ([self._events_fd] if self._events_fd is not None else []):
            try:
                os.close(fd)
            except OSError:
                pass
        self._join_fds, self._events_fd = [], None
        if not self.dirs:
            return
        self.kill_all()
        for d in {str(p) for p in self.dirs.values()}:
            for _ in range(50):
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)  # the last processes are still being torn down
        self.dirs = {}
