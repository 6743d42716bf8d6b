"""The rlimits-only sandbox of a grader running as root without bubblewrap: util-linux's `unshare`
gives it private mount and PID namespaces, a shell script (written here, trusted, every path
quoted) builds a new root from bind mounts, then `chroot` enters it, `setpriv` drops to the
sandbox uid without capabilities and a small loader installs the seccomp filter.

The new root shows what bubblewrap's would: the system's /usr (and /lib, /bin links), the
interpreter, its prefixes and site-packages and the runner, read-only at their host paths
(sys.prefix is derived from sys.executable's path, so a pyenv under /root, mode 0700, works);
fresh size-capped tmpfs on /tmp, /dev/shm and the sandbox's own folder (the learner's files copied
in); a minimal /dev; a /proc of the sandbox's own processes. Nothing else of the host (the
course, the reference solutions, /root, /etc, /work) exists there; bundled data sets are empty."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

from grader.sandbox.commands import INSIDE, bundled_data_dirs, python_paths
from grader.sandbox.devices import gpu_support_devices

TOOLS = ("unshare", "setpriv", "mount", "cp", "chroot", "env")
DEV_NODES = ("null", "zero", "full", "random", "urandom", "tty")

# Runs as the sandbox uid after setpriv: installs the seccomp program read from descriptor argv[1]
# (no_new_privs is set by setpriv), then becomes the runner (argv[2:]).
SECCOMP_LOADER = (
    "import ctypes,os,sys\n"
    "fd=int(sys.argv[1]);bpf=b''\n"
    "while True:\n"
    " c=os.read(fd,65536)\n"
    " if not c:break\n"
    " bpf+=c\n"
    "os.close(fd)\n"
    "class P(ctypes.Structure):_fields_=[('len',ctypes.c_ushort),('filter',ctypes.c_void_p)]\n"
    "b=ctypes.create_string_buffer(bpf,len(bpf));p=P(len(bpf)//8,ctypes.addressof(b))\n"
    "f=ctypes.CDLL(None,use_errno=True).prctl\n"
    "f.argtypes=[ctypes.c_int,ctypes.c_ulong,ctypes.c_ulong,ctypes.c_ulong,ctypes.c_ulong]\n"
    "if f(22,2,ctypes.addressof(p),0,0)!=0:sys.exit('dlgrade: the seccomp filter could not be loaded')\n"
    "os.execv(sys.executable,[sys.executable]+sys.argv[2:])\n")


def _tool(name: str) -> str | None:
    return shutil.which(name, path="/usr/bin:/bin:/usr/sbin:/sbin")


def missing_tools() -> list[str]:
    """The programs this mode needs (util-linux, coreutils) that are not installed."""
    return [t for t in TOOLS if _tool(t) is None]


def kept_paths(secret_dirs: list[Path], extra: list[str] = ()) -> list[str]:
    """What the sandbox must see, read-only, at its host path: the interpreter, its prefixes and
    site-packages, the runner's folder, and `extra` (a zygote's share)."""
    exe = os.path.realpath(sys.executable)
    paths = python_paths(secret_dirs) + [str(INSIDE), os.path.dirname(exe), os.path.dirname(sys.executable)]
    paths += [os.path.realpath(p) for p in extra]
    kept: list[str] = []
    for p in sorted(set(paths), key=len):
        if p == "/usr" or p.startswith("/usr/") or any(p == q or p.startswith(q + os.sep) for q in kept):
            continue
        kept.append(p)
    return kept


def _system_lines(root: str) -> list[str]:
    """Bind the system's /usr and its compatibility links (as bubblewrap's host_mount_args)."""
    q = shlex.quote
    lines = []
    for top in ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin"):
        if os.path.islink(top):
            lines += [f"ln -s {q(os.readlink(top))} {q(root + top)}"]
        elif os.path.isdir(top):
            lines += _bind_lines(top, root + top)
    if os.path.exists("/etc/ld.so.cache"):
        lines += [f"mkdir -p {q(root)}/etc", f": > {q(root)}/etc/ld.so.cache"]
        lines += _bind_lines("/etc/ld.so.cache", f"{root}/etc/ld.so.cache", make=False)
    return lines


def _bind_lines(src: str, dst: str, make: bool = True, writable: bool = False) -> list[str]:
    q = shlex.quote
    return ([f"mkdir -p {q(dst)}"] if make else []) + [
        f"mount --bind {q(src)} {q(dst)}",
        f"mount -o remount,bind,{'rw' if writable else 'ro'},nosuid,nodev {q(dst)}"]


def _dev_lines(root: str, disk_opts: str, device: str) -> list[str]:
    q = shlex.quote
    dev = f"{root}/dev"
    lines = [f"mkdir -p {q(dev)}", f"mount -t tmpfs -o size=65536,mode=0755,nosuid dlgrade-dev {q(dev)}"]
    for name in DEV_NODES:
        if os.path.exists(f"/dev/{name}"):
            lines += [f": > {q(dev)}/{name}", f"mount --bind /dev/{name} {q(dev)}/{name}"]
    for i, name in enumerate(("stdin", "stdout", "stderr")):
        lines += [f"ln -s /proc/self/fd/{i} {q(dev)}/{name}"]
    lines += [f"ln -s /proc/self/fd {q(dev)}/fd",
              f"mkdir {q(dev)}/shm", f"mount -t tmpfs -o {disk_opts},mode=1777 dlgrade-shm {q(dev)}/shm"]
    if device == "gpu":
        for node in gpu_support_devices():
            if os.path.exists(node) and node.startswith("/dev/"):
                lines += [f": > {q(root + node)}", f"mount --bind {q(node)} {q(root + node)}"]
        lines += _bind_lines("/sys", f"{root}/sys")
    return lines


def _script(root: str, run_dir: str | None, kept: list[str], hidden: list[str], disk_bytes: int,
            uid: int, cwd: str, command: list[str], exec_runner: bool, device: str) -> str:
    q = shlex.quote
    disk = f"size={disk_bytes},nosuid,nodev"
    lines = ["set -eu", "umask 022", f"mount -t tmpfs -o size=1m,mode=0755 dlgrade-root {q(root)}"]
    lines += _system_lines(root)
    lines += [f"mkdir -p {q(root)}/tmp", f"mount -t tmpfs -o {disk},mode=1777 dlgrade-tmp {q(root)}/tmp"]
    for p in kept:  # after /tmp: a zygote's share lies there
        lines += _bind_lines(p, root + p)
    lines += _dev_lines(root, disk, device)
    lines += [f"mkdir -p {q(root)}/proc", f"mount -t proc -o nosuid,nodev,noexec proc {q(root)}/proc"]
    if run_dir:
        r = q(root + run_dir)
        # root's, 0755: a zygote's wipe of what its uid owns in /tmp keeps it; work/ and tmp/ are the uid's
        lines += [f"mkdir -p {r}", f"mount -t tmpfs -o {disk},mode=0755 dlgrade-run {r}",
                  f"cp -a {q(run_dir)}/. {r}/", f"chown 0:0 {r}", f"chmod 0755 {r}"]
    for h in hidden:  # held-out data and reference solutions: empty wherever a bind brought them in
        lines += [f"if [ -d {q(root + h)} ]; then mount -t tmpfs -o size=4096,mode=0555,ro dlgrade-empty "
                  f"{q(root + h)}; fi"]
    lines += [f"mount -o remount,ro {q(root)}", "cd /"]
    enter = [_tool("chroot") or "chroot", root, "/usr/bin/env", "-C", cwd,
             "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
             "--bounding-set=-all", "--no-new-privs", "--pdeathsig", "KILL", "--"]  # dies with its parent
    run = " ".join(q(a) for a in enter + command)
    lines += [f"exec {run}" if exec_runner else run]
    return "\n".join(lines) + "\n"


def command(*, stage: str, run_dir: str | None, uid: int, cwd: str, runner: list[str], secret_dirs: list[Path],
            disk_bytes: int, extra_kept: list[str] = (), seccomp_fd: int | None = None,
            runner_is_pid_1: bool = False, device: str = "cpu") -> list[str]:
    """The whole command: unshare, the script that builds the new root in `stage` (an empty folder
    only root can enter), chroot, setpriv to `uid`, the seccomp loader (when `seccomp_fd` holds a
    program), then `runner` (interpreter first) in `cwd`. `run_dir`, the sandbox's private folder,
    is copied onto a fresh tmpfs at the same path."""
    if seccomp_fd is not None:
        runner = [runner[0], "-I", "-c", SECCOMP_LOADER, str(seccomp_fd), *runner[1:]]
    hidden = [str(p) for p in secret_dirs] + bundled_data_dirs()
    script = _script(stage, run_dir, kept_paths(secret_dirs, list(extra_kept)), hidden, disk_bytes, uid, cwd,
                     runner, exec_runner=runner_is_pid_1, device=device)
    return [_tool("unshare") or "unshare", "--mount", "--pid", "--fork", "--kill-child",
            "--propagation", "private", "/bin/sh", "-c", script, "dlgrade-sandbox"]
