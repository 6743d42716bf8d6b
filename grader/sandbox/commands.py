"""How a sandbox is started: the bubblewrap command (mounts, namespaces, user switch), the runner's
environment, and the paths the sandboxed interpreter needs or must not see."""

from __future__ import annotations

import importlib.util
import os
import shutil
import site
import sys
from pathlib import Path

from grader.sandbox.devices import gpu_support_devices
from grader.sandbox.limits import MiB, Limits

INSIDE = Path(__file__).resolve().parent / "inside"  # runner.py and wire.py, the files the sandbox runs
RUNNER_FILES = ("runner.py", "wire.py")
INSIDE_DIR = "/opt/dlgrade"
WORK_DIR = "/work"
SHARE_DIR = "/submissions"  # a zygote's read-only view of the grading at hand


def host_mount_args() -> list[str]:
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


def python_paths(secret_dirs: list[Path]) -> list[str]:
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


def dir_chain_args(path: str) -> list[str]:
    """Create each ancestor of `path` world-traversable (a parent such as /root is 0700 on the host)."""
    args, cur = [], ""
    for part in Path(path).parts[1:-1]:
        cur += "/" + part
        args += ["--perms", "0755", "--dir", cur]
    return args


def bundled_data_dirs() -> list[str]:
    """Folders of data sets bundled with installed packages (scikit-learn's datasets/data and
    datasets/images: load_digits, load_sample_images ...) that the sandbox sees empty, so that no
    held-out input of a digits split is readable inside. Found without importing the package."""
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


def base_env(device: str) -> dict[str, str]:
    """The runner's whole environment (nothing else of the grader's is passed on)."""
    env = {"PATH": "/usr/bin:/bin", "HOME": WORK_DIR, "TMPDIR": "/tmp", "LANG": "C.UTF-8",
           "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg",
           "OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2", "TF_CPP_MIN_LOG_LEVEL": "2",
           "KERAS_HOME": "/tmp/.keras", "MPLCONFIGDIR": "/tmp/.mpl"}
    if device == "cpu":  # hide any GPU from every framework
        env.update({"CUDA_VISIBLE_DEVICES": "", "JAX_PLATFORMS": "cpu"})
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "KERAS_BACKEND"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def private_env(private: Path) -> dict[str, str]:
    """Without mounts, the private host folder stands in for /work and /tmp."""
    work, tmp = str(private / "work"), str(private / "tmp")
    return {"HOME": work, "TMPDIR": tmp, "KERAS_HOME": f"{tmp}/.keras", "MPLCONFIGDIR": f"{tmp}/.mpl"}


def runner_command(inside: bool) -> list[str]:
    """The interpreter and the runner, as the sandbox sees them (bound under INSIDE_DIR) or not."""
    runner = f"{INSIDE_DIR}/runner.py" if inside else str(INSIDE / "runner.py")
    return [sys.executable, "-I", "-u", runner]


def bwrap_command(limits: Limits, device: str, secret_dirs: list[Path], files: dict[str, Path],
                  env: dict[str, str], runner: list[str], extra_binds: list[str] = (),
                  seccomp_fd: int | None = None, uid: int | None = None) -> list[str]:
    """The bubblewrap command of one sandbox: fresh namespaces, only /usr, the interpreter, the
    runner and the learner's `files` (relative path -> host file) visible, size-capped tmpfs for
    every writable place, bundled data sets masked, then `uid` without capabilities (as root)."""
    size = str(limits.disk_mb * MiB)
    args = [shutil.which("bwrap"), "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session"]
    if os.geteuid() != 0:
        args += ["--unshare-user", "--cap-drop", "ALL"]
    args += host_mount_args()
    args += ["--proc", "/proc", "--dev", "/dev",
             "--perms", "01777", "--size", size, "--tmpfs", "/tmp",
             "--perms", "01777", "--size", size, "--tmpfs", "/dev/shm"]
    if device == "gpu":
        for dev in gpu_support_devices():
            if os.path.exists(dev):
                args += ["--dev-bind", dev, dev]
        args += ["--ro-bind", "/sys", "/sys"]
    interpreter = python_paths(secret_dirs)
    # an interpreter installed under WORK_DIR (a virtual environment in /work/...) is bound after the
    # sandbox's own tmpfs there, which would hide it
    late = [p for p in interpreter if p == WORK_DIR or p.startswith(WORK_DIR + "/")]
    for path in interpreter:
        if path not in late:
            args += dir_chain_args(path) + ["--ro-bind", path, path]
    for path in bundled_data_dirs():  # held-out data must not be readable inside: empty, read-only
        args += ["--perms", "0555", "--size", "4096", "--tmpfs", path, "--remount-ro", path]
    args += dir_chain_args(f"{INSIDE_DIR}/runner.py")
    for name in RUNNER_FILES:
        args += ["--ro-bind", str(INSIDE / name), f"{INSIDE_DIR}/{name}"]
    args += ["--perms", "01777", "--size", size, "--tmpfs", WORK_DIR]
    for rel, host in sorted(files.items()):
        args += ["--ro-bind", str(host), f"{WORK_DIR}/{rel}"]
    for path in late:  # the folders that lead there, below WORK_DIR (WORK_DIR itself keeps its mode)
        args += [a for step in zip(*[iter(dir_chain_args(path))] * 4) if step[3] != WORK_DIR for a in step]
        args += ["--ro-bind", path, path]
    args += list(extra_binds)
    args += ["--chdir", WORK_DIR, "--clearenv"]
    for k, v in env.items():
        args += ["--setenv", k, v]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    if uid is not None:
        args += ["/usr/bin/setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                 "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]
    return args + runner
