"""The sandbox's seccomp filter: which system calls it refuses, the program built from them (with
every rule that could not be added recorded, never skipped silently), and its loader for the
rlimits-only mode."""

from __future__ import annotations

import errno
import functools
import tempfile
from dataclasses import dataclass

BLOCKED_SYSCALLS = (
    "socket", "socketpair", "ptrace", "process_vm_readv", "process_vm_writev", "keyctl", "add_key",
    "request_key", "bpf", "userfaultfd", "perf_event_open", "unshare", "setns", "mount", "umount2",
    "pivot_root", "chroot", "kexec_load", "init_module", "finit_module", "delete_module", "swapon",
    "swapoff", "reboot", "acct", "quotactl", "name_to_handle_at", "open_by_handle_at", "io_uring_setup",
    # SysV IPC outlives the processes that made it: refused, so one learner cannot leave any for the next
    "shmget", "semget", "msgget",
)
SOCKET_CALLS = frozenset({"socket", "socketpair"})
SYSV_IPC_CALLS = frozenset({"shmget", "semget", "msgget"})


class SeccompUnavailable(Exception):
    """No seccomp program can be built here; the message says why."""


@dataclass(frozen=True)
class SeccompProgram:
    """A compiled filter (classic BPF) and the calls it does NOT block, each with the reason."""

    bpf: bytes
    unblocked: tuple[tuple[str, str], ...] = ()

    @property
    def unblocked_names(self) -> list[str]:
        return [name for name, _ in self.unblocked]


@functools.lru_cache(maxsize=1)
def seccomp_program() -> SeccompProgram:
    """Build the filter once per process. Raises SeccompUnavailable when it cannot be built at all."""
    try:
        import pyseccomp as sc
    except Exception as err:  # not installed, or libseccomp missing
        raise SeccompUnavailable(f"pyseccomp cannot be imported: {type(err).__name__}: {err}") from None
    try:
        flt = sc.SyscallFilter(defaction=sc.ALLOW)
        unblocked = []
        for name in BLOCKED_SYSCALLS:
            try:
                flt.add_rule(sc.ERRNO(errno.EPERM), name)
            except Exception as err:  # e.g. not a system call on this architecture: recorded, reported
                unblocked.append((name, f"{type(err).__name__}: {err}"))
        with tempfile.TemporaryFile() as fh:
            flt.export_bpf(fh)
            fh.seek(0)
            return SeccompProgram(fh.read(), tuple(unblocked))
    except Exception as err:
        raise SeccompUnavailable(f"libseccomp could not build the filter: {type(err).__name__}: {err}") from None


class SeccompLoader:
    """Installs a seccomp program in `preexec_fn` (rlimits-only mode, where bubblewrap cannot):
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
