"""The sandbox side of a grading: imports the learner's submission and answers requests.

Started by `grader.sandbox.process` as `python -I runner.py REQUEST_FD RESPONSE_FD ENTRY` inside the
sandbox's limits, with only this file, `wire.py` and the submission visible. It receives inputs
and returns data (see `wire.py`); it never receives a test, an expected value, a reference
solution or a held-out label. Whatever the submission does to this process (monkeypatching,
printing, exiting) only changes the answers it gives, which the trusted side checks.

One module of ~700 lines on purpose: the sandbox sees this file and `wire.py` alone, bound by path
and imported as top-level modules; every extra file is one more name a learner's module could
shadow and one more path the sandbox's mounts must list.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import sys
import traceback

# Python runs with -I (no script directory on sys.path); wire.py is bound next to this file.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wire  # noqa: E402

MAX_TEXT = 4000
MAX_EXPORTED_PARAMS = 5_000_000  # larger models travel as config only (VGG16: 138M params = 553 MB)


def _learner_traceback(exc: BaseException, entry_dir: str) -> str:
    """The traceback lines that belong to the learner's files, and the exception line."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if os.path.abspath(f.filename).startswith(entry_dir + os.sep)]
    lines = traceback.format_list(frames)
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines)[-MAX_TEXT:]


def _describe_exception(exc: BaseException, entry_dir: str) -> dict:
    return {
        "type": type(exc).__name__,
        "mro": [c.__name__ for c in type(exc).__mro__],
        "message": str(exc)[:MAX_TEXT],
        "traceback": _learner_traceback(exc, entry_dir),
    }


def _versions() -> dict:
    import numpy
    versions = {"python": platform.python_version(), "numpy": numpy.__version__}
    keras = sys.modules.get("keras")
    if keras is not None:
        versions["keras"] = keras.__version__
        versions["backend"] = keras.backend.backend()
        framework = sys.modules.get({"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}.get(
            versions["backend"], ""))
        if framework is not None:
            versions[versions["backend"]] = getattr(framework, "__version__", "?")
    return versions


def _device() -> str:
    """"gpu" when the Keras backend in use sees a GPU, else "cpu"."""
    keras = sys.modules.get("keras")
    if keras is None:
        return "cpu"
    backend = keras.backend.backend()
    try:
        if backend == "tensorflow":
            import tensorflow as tf
            return "gpu" if tf.config.list_physical_devices("GPU") else "cpu"
        if backend == "jax":
            import jax
            return "gpu" if jax.default_backend() == "gpu" else "cpu"
        if backend == "torch":
            import torch
            return "gpu" if torch.cuda.is_available() else "cpu"
    except Exception:
        pass
    return "cpu"


def _hello() -> dict:
    """The runner's first message, sent before any learner code runs: the trusted side takes the
    device and the versions from here only."""
    return {"status": "ready", "device": _device(), "versions": _versions()}


def _seed(seed: int) -> None:
    """Seed every generator a learner's code may draw from."""
    import random

    import numpy as np
    random.seed(seed)
    np.random.seed(seed)
    keras = sys.modules.get("keras")
    if keras is not None:
        keras.utils.set_random_seed(seed)


class _WeightlessScope:
    """While open, every Keras variable created gets a shape and an initializer but no value
    (`keras.StatelessScope(initialize_variables=False)`): a model built here has its config, its
    layers' output shapes and its parameter count, in ~20 ms for a VGG16 instead of ~0.5 s and
    0.5 GB. Optimizers are made outside the scope (their few scalar variables come from values,
    which the scope refuses), so `compile` and `keras.optimizers.Adam(...)` work in it. On leaving,
    the variables it deferred are taken off Keras's list of variables to initialize (no later scope
    of Keras's allocates them in the learner's time) and kept as weak references in `deferred`: one
    that the learner's code kept (a cached model) is given its value before its next ordinary use
    (`Session.allocate_kept`). None of this when Keras is not loaded, or when its internals are not
    the expected ones (`usable`). The trusted side's copy: grader/exercise/weightless.py (this
    file imports nothing of the grader's)."""

    def __init__(self):
        self.keras = sys.modules.get("keras")
        self.scope = self.pending = None
        self.deferred: list = []
        try:
            from keras.src.backend.common import global_state
            from keras.src.optimizers.base_optimizer import BaseOptimizer
            self.global_state, self.optimizer = global_state, BaseOptimizer
            self.usable = self.keras is not None and "__init__" in BaseOptimizer.__dict__ and isinstance(
                global_state.get_global_attribute("uninitialized_variables", [], set_to_default=True), list)
        except Exception:
            self.usable = False

    def __enter__(self):
        self.pending = self.global_state.get_global_attribute("uninitialized_variables")
        self.before = len(self.pending)
        global_state, own_init = self.global_state, self.optimizer.__dict__["__init__"]
        self.own_init = own_init

        def init_outside_the_scope(optimizer, *args, **kwargs):
            scope = global_state.get_global_attribute("stateless_scope")
            global_state.set_global_attribute("stateless_scope", None)
            try:
                return own_init(optimizer, *args, **kwargs)
            finally:
                global_state.set_global_attribute("stateless_scope", scope)
        self.optimizer.__init__ = init_outside_the_scope
        self.scope = self.keras.StatelessScope(initialize_variables=False)
        self.scope.__enter__()
        return self

    def __exit__(self, *exc):
        import weakref
        self.scope.__exit__(*exc)
        self.optimizer.__init__ = self.own_init
        now = self.global_state.get_global_attribute("uninitialized_variables")
        if now is self.pending:
            ours = now[self.before:]
            del now[self.before:]
        else:  # Keras initialised the earlier ones and started a new list: all ours
            ours = list(now) if isinstance(now, list) else []
            if isinstance(now, list):
                now.clear()
        for variable in ours:
            try:
                self.deferred.append(weakref.ref(variable))
            except TypeError:
                pass
        return False


def _rows(x) -> int:
    """How many examples a model input holds (an array, or a list of one array per model input);
    0 when it is not one of those."""
    first = x[0] if type(x) in (list, tuple) and x else x
    shape = getattr(first, "shape", None)
    return int(shape[0]) if shape else 0


def _float32(x):
    """float64 arrays (alone or in a list) as float32, as predict()'s data adapter passes them."""
    import numpy as np
    if type(x) in (list, tuple):
        return type(x)(_float32(v) for v in x)
    return x.astype(np.float32) if isinstance(x, np.ndarray) and x.dtype == np.float64 else x


def _to_list(values) -> list:
    import numpy as np
    return [float(v) for v in np.asarray(values, dtype=float).ravel()]


class _NotAModel(Exception):
    """A call's Keras tensor that cannot become a model (the message is the learner's)."""


class Session:
    """The request loop of one sandbox process."""

    def __init__(self, req_fd: int, resp_fd: int, entry: str):
        self.req_fd = req_fd
        self.resp_fd = resp_fd
        self.entry = os.path.abspath(entry)
        self.entry_dir = os.path.dirname(self.entry)
        self.module = None
        self.handles: dict[int, object] = {}
        self.call_inputs: list = []  # the keras.Input tensors the request being served brought
        self.deferred: list = []  # weak references to variables an architecture call left without values
        self.handlers = {"import": self.do_import, "call": self.do_call, "predict": self.do_predict,
                         "describe": self.do_describe, "value": self.do_value}

    def send(self, header: dict, value=None) -> None:
        try:
            data = wire.encode(header, self.export(value))
        except wire.Unsendable as err:
            data = wire.encode({"status": "unsendable", "message": str(err)})
        except Exception as exc:  # a learner object that breaks while being described
            data = wire.encode({"status": "raised", "error": _describe_exception(exc, self.entry_dir)})
        wire.write_frame(self.resp_fd, data)

    def export(self, value, depth: int = 0, architecture: bool = False):
        """Turn Keras models into handles + descriptions and training histories into dicts;
        everything else is left for the wire format to accept or refuse. `architecture`: models
        travel as config alone, under handle 0 (kept by nobody here)."""
        keras = sys.modules.get("keras")
        if keras is None or depth > wire.MAX_DEPTH:
            return value
        if isinstance(value, keras.Model):
            compile_config = value.get_compile_config() if value.compiled else None
            import json
            compile_json = None if compile_config is None else json.dumps(compile_config, default=str)
            if architecture:
                return wire.ModelExport(0, value.name, value.to_json(), compile_json, [])
            handle = next((h for h, m in self.handles.items() if m is value), len(self.handles) + 1)
            self.handles[handle] = value
            weights = value.get_weights() if value.count_params() <= MAX_EXPORTED_PARAMS else []
            return wire.ModelExport(handle, value.name, value.to_json(), compile_json, weights)
        if isinstance(value, keras.callbacks.History):
            return {str(k): _to_list(v) for k, v in value.history.items()}
        if type(value) in (list, tuple):
            return type(value)(self.export(v, depth + 1, architecture) for v in value)
        if type(value) is dict:
            return {k: self.export(v, depth + 1, architecture) for k, v in value.items()}
        return value

    def resolve(self, handle: int):
        if handle not in self.handles:
            raise wire.WireError(f"no model with handle {handle}")
        return self.handles[handle]

    def do_import(self, request, _value):
        name = os.path.splitext(os.path.basename(self.entry))[0]
        sys.path.insert(0, self.entry_dir)
        spec = importlib.util.spec_from_file_location(name, self.entry)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException as exc:  # SyntaxError, ImportError, SystemExit, anything
            if isinstance(exc, KeyboardInterrupt):
                raise
            return {"status": "raised", "error": _describe_exception(exc, self.entry_dir)}, None
        self.module = module
        names = sorted(n for n in dir(module) if callable(getattr(module, n, None)) and not n.startswith("_"))
        return {"status": "ok"}, names  # device and versions went in the hello, before the learner's code

    def do_call(self, request, value):
        fn_name = request.get("function")
        if self.module is None:
            return {"status": "error", "message": "the submission is not imported"}, None
        fn = getattr(self.module, fn_name, None) if isinstance(fn_name, str) else None
        if fn is None or not callable(fn):
            return {"status": "missing", "function": fn_name}, None
        args, kwargs = value if isinstance(value, (list, tuple)) and len(value) == 2 else ((), {})
        if request.get("architecture"):
            answer = self.call_without_weights(fn, fn_name, args, kwargs, int(request.get("seed", 0)))
            if answer is not None:
                return answer
        else:
            self.allocate_kept()
        try:
            _seed(int(request.get("seed", 0)))
            result = fn(*args, **kwargs)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            return {"status": "raised", "error": _describe_exception(exc, self.entry_dir)}, None
        try:
            result = self.tensors_to_models(result, fn_name)
        except _NotAModel as err:
            return {"status": "raised", "error": {"type": "ValueError", "mro": ["ValueError", "Exception",
                                                                                 "BaseException", "object"],
                                                  "message": str(err), "traceback": ""}}, None
        if request.get("architecture"):  # built the usual way, still described as architecture alone
            try:
                result = self.export(result, architecture=True)
            except Exception as exc:  # a learner object that breaks while being described
                return {"status": "raised", "error": _describe_exception(exc, self.entry_dir)}, None
        return {"status": "ok"}, result

    def call_without_weights(self, fn, fn_name: str, args, kwargs, seed: int):
        """The answer to a call whose models the trusted side reads only as architecture: `fn` runs
        in a `_WeightlessScope` and its models travel as config alone, kept under no handle (so
        nothing holds them here). None, for an ordinary call instead, when that cannot be: Keras is
        not loaded, or `fn` needed a variable's value while building (it raised; the ordinary call
        says what the learner's code does without the scope)."""
        scope = _WeightlessScope()
        if not scope.usable:
            return None
        try:
            _seed(seed)
            with scope:
                result = self.tensors_to_models(fn(*args, **kwargs), fn_name)
                exported = self.export(result, architecture=True)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            return None
        finally:
            self.deferred = [r for r in self.deferred if r() is not None] + scope.deferred
        return {"status": "ok"}, exported

    def allocate_kept(self) -> None:
        """Give its value to every variable an architecture call left without one and the learner's
        code still holds (a cached model, a module-level layer), before an ordinary call or a
        prediction uses it: as if it had been built the ordinary way."""
        kept, self.deferred = self.deferred, []
        if not any(ref() is not None for ref in kept):
            return
        import gc
        gc.collect()  # a model nobody keeps is still alive until its reference cycles are collected
        for ref in kept:
            variable = ref()
            if variable is not None and getattr(variable, "_value", 0) is None:
                try:
                    variable._deferred_initialize()
                except Exception:
                    pass

    def make_input(self, shape: tuple):
        """What a KerasInput becomes: `keras.Input(shape=shape)` (Keras imported quietly when the
        first one arrives), remembered as one of the inputs of the request being served."""
        try:
            if "keras" not in sys.modules:
                _quiet_import(["keras"])
            import keras
        except Exception as err:  # not installed, or over the sandbox's memory (an exercise without preload)
            raise wire.WireError(f"the sandbox could not import Keras, which a Keras input needs "
                                 f"({type(err).__name__})") from None
        tensor = keras.Input(shape=shape)
        self.call_inputs.append(tensor)
        return tensor

    def tensors_to_models(self, value, function: str, depth: int = 0):
        """Each symbolic Keras tensor in a call's result (itself, or in its lists, tuples and dicts)
        becomes `keras.Model(inputs=<the call's Keras inputs, in order>, outputs=tensor)`."""
        keras = sys.modules.get("keras")
        if keras is None or depth > wire.MAX_DEPTH:
            return value
        if isinstance(value, keras.KerasTensor):
            if not self.call_inputs:
                raise _NotAModel(f"`{function}` returned a Keras tensor, but it was given no Keras input "
                                 "to build it on")
            inputs = self.call_inputs[0] if len(self.call_inputs) == 1 else list(self.call_inputs)
            try:
                return keras.Model(inputs=inputs, outputs=value, name=function)
            except Exception:
                raise _NotAModel(f"`{function}` returned a Keras tensor that is not computed from the input "
                                 "tensor it was given; build the layers on that tensor (not on a new "
                                 "keras.Input) and return the last layer's output") from None
        if type(value) in (list, tuple):
            return type(value)(self.tensors_to_models(v, function, depth + 1) for v in value)
        if type(value) is dict:
            return {k: self.tensors_to_models(v, function, depth + 1) for k, v in value.items()}
        return value

    def do_value(self, request, _value):
        """A top-level value of the submission (a notebook's `total = ...`), sent as data like a
        call's result (the wire refuses what is not data); a callable or a private name is missing."""
        name = request.get("name")
        if self.module is None:
            return {"status": "error", "message": "the submission is not imported"}, None
        if not isinstance(name, str) or name.startswith("_"):
            return {"status": "missing", "function": name}, None
        try:
            value = getattr(self.module, name)
        except AttributeError:
            return {"status": "missing", "function": name}, None
        except BaseException as exc:  # a module-level __getattr__ of the learner's
            if isinstance(exc, KeyboardInterrupt):
                raise
            return {"status": "raised", "error": _describe_exception(exc, self.entry_dir)}, None
        if callable(value):
            return {"status": "missing", "function": name}, None
        return {"status": "ok"}, value

    def do_describe(self, request, _value):
        """The live model of a handle, described again: config and its current (trained) weights."""
        self.allocate_kept()
        model = self.handles.get(request.get("handle"))
        if model is None:
            return {"status": "error", "message": "no such model"}, None
        return {"status": "ok"}, model

    def do_predict(self, request, value):
        model = self.handles.get(request.get("handle"))
        if model is None:
            return {"status": "error", "message": "no such model"}, None
        batch_size = int(request.get("batch_size", 256))
        self.allocate_kept()
        try:
            _seed(int(request.get("seed", 0)))
            keras = sys.modules.get("keras")
            if 0 < _rows(value) <= batch_size and keras is not None and type(model).predict is keras.Model.predict:
                # one batch: the same predict_step without predict()'s per-call set-up (~20 ms, not
                # 60-250 ms); float64 inputs cast to float32 as predict()'s data adapter does
                out = model.predict_on_batch(_float32(value))
            else:
                out = model.predict(value, batch_size=batch_size, verbose=0)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            return {"status": "raised", "error": _describe_exception(exc, self.entry_dir)}, None
        return {"status": "ok"}, out

    def serve(self) -> None:
        import numpy as np
        while True:
            try:
                frame = wire.read_frame(self.req_fd, max_bytes=1 << 31)
            except EOFError:
                return
            self.call_inputs = []
            try:
                header, value = wire.decode(frame, make_rng=np.random.default_rng, resolve_handle=self.resolve,
                                            make_input=self.make_input)
            except wire.WireError as err:
                self.send({"status": "error", "message": str(err)})
                continue
            handler = self.handlers.get(header.get("op"))
            if handler is None:
                return
            response, result = handler(header, value)
            sys.stdout.flush()
            sys.stderr.flush()
            self.send(response, result)


def _mount_points(read_only: bool = False) -> frozenset[str]:
    """Where something is mounted in this process's view (a Python installation under /tmp, bound
    read-only, is one); with `read_only`, only the mounts nobody can write to."""
    points = set()
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                fields = line.split()
                if len(fields) > 5 and (not read_only or "ro" in fields[5].split(",")):
                    # the mount point, with spaces and the like written in octal
                    points.add(fields[4].encode("latin-1", "replace").decode("unicode_escape"))
    except OSError:
        pass
    return frozenset(points)


def _kept_mounts(recorded: frozenset[str]) -> frozenset[str]:
    """The mount points a wipe keeps: read-only ones recorded before any learner code ran that are
    still mount points now. A path is kept only while the kernel says it is a mount: a learner who
    moves the folder that leads to one and makes a look-alike folder at its old path gains nothing
    (the look-alike is wiped; the moved mount is not a kept path, so the wipe reports it)."""
    return recorded & _mount_points(read_only=True)


def _wipe(path: str, mounts: frozenset[str] = frozenset()) -> bool:
    """Empty `path` of a grading's leftovers, whatever their permissions: give this uid back write
    access to every folder it owns, remove everything, and say whether `path` is empty now.
    Mount points below `path` (and the folders that lead to them) are not leftovers: they are kept,
    never walked into, and do not count as left over."""
    import shutil
    import stat
    base = path.rstrip("/")
    inner = {m for m in mounts if m.startswith(base + "/")}
    leading = {os.path.join(base, m[len(base) + 1:].split("/", 1)[0]) for m in inner}

    def fix(func, target, _exc):  # a read-only folder (or file in one): restore and retry once
        for d in (os.path.dirname(target), target):
            try:
                st = os.lstat(d)
                if stat.S_ISDIR(st.st_mode):
                    os.chmod(d, 0o700)
            except OSError:
                pass
        try:
            func(target)
        except FileNotFoundError:
            pass
        except OSError:
            pass
    try:
        names = os.listdir(path)
    except OSError:
        return False
    clean = True
    for name in names:
        full = os.path.join(base, name)
        if full in inner:
            continue  # a mount point: not the learner's
        if full in leading and not os.path.islink(full):  # a folder on the way to a mount point: empty it, keep it
            clean = _wipe(full, mounts) and clean
            continue
        try:
            if os.path.isdir(full) and not os.path.islink(full):
                try:
                    os.chmod(full, 0o700)
                except OSError:
                    pass
                shutil.rmtree(full, onerror=fix)
            else:
                os.unlink(full)
        except OSError:
            pass
    try:
        return clean and all(os.path.join(base, n) in inner | leading for n in os.listdir(path))
    except OSError:
        return False


def _wipe_owned(path: str) -> bool:
    """In a folder shared with the host (rlimits-only mode: /tmp, /dev/shm), remove what this
    (unprivileged, per-slot) uid owns; say whether nothing of it is left. Never as root."""
    uid = os.getuid()
    if uid == 0:
        return True  # root owns everyone's files here: nothing can be told apart (recorded as a warning)

    def owned() -> list[str]:
        found = []
        try:
            for name in os.listdir(path):
                full = os.path.join(path, name)
                try:
                    if os.lstat(full).st_uid == uid:
                        found.append(full)
                except OSError:
                    pass
        except OSError:
            pass
        return found
    for full in owned():
        try:
            if os.path.isdir(full) and not os.path.islink(full):
                os.chmod(full, 0o700)
                _wipe(full)
                os.rmdir(full)
            else:
                os.unlink(full)
        except OSError:
            pass
    return not owned()


def _descendants(me: int) -> list[int]:
    """Every live process whose chain of parents leads to `me` (this process is a child subreaper,
    so orphans and setsid() escapers re-parent to it and stay in the chain)."""
    parent = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
            parent[int(name)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
    found, frontier = set(), {me}
    while frontier:
        frontier = {pid for pid, ppid in parent.items() if ppid in frontier and pid not in found}
        found |= frontier
    return sorted(found)


def _kill_descendants() -> None:
    """SIGKILL every descendant until none is left, reaping as they die. Never kill(-1): outside a
    PID namespace (rlimits-only mode) that would reach every process of this uid on the machine."""
    import signal
    import time
    me = os.getpid()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        pids = _descendants(me)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        while True:  # reap what has died (zombies re-parented here included)
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
        if not pids:
            return
        time.sleep(0.005)


def _remove_sysv_ipc() -> None:
    """Remove every SysV IPC object of this (private) IPC namespace. The seccomp filter refuses
    shmget/semget/msgget already; this covers a machine without seccomp."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    for kind, rm in (("shm", lambda i: libc.shmctl(i, 0, None)), ("sem", lambda i: libc.semctl(i, 0, 0)),
                     ("msg", lambda i: libc.msgctl(i, 0, None))):
        try:
            lines = open(f"/proc/sysvipc/{kind}").read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            try:
                rm(int(line.split()[1]))  # IPC_RMID = 0
            except (IndexError, ValueError):
                pass


def zygote(ctl_fd: int) -> None:
    """Serve gradings by fork: this process has imported the heavy modules (and run nothing with
    them); for each grading it forks a child that imports the learner's files from the share and
    answers on the pipes the trusted side sent with the request. When the child is done (or the
    trusted side says kill), every other process of this uid in the sandbox is killed and the
    writable folders are wiped, before the next grading's files exist."""
    import ctypes
    import resource
    import secrets
    import select
    import shutil
    import socket
    import struct
    folders = [f for f in os.environ.get("DLGRADE_ZYGOTE_DIRS", "").split(":") if f]
    # read-only mounts below the wiped folders (a Python installation under /tmp, a checkout under
    # /work): recorded before any learner code runs; each wipe keeps those still mounted there
    recorded_mounts = _mount_points(read_only=True)
    share = os.environ.get("DLGRADE_SHARE", "")
    if not folders or not share:  # never guess which folders a wipe may empty
        print("zygote: DLGRADE_ZYGOTE_DIRS and DLGRADE_SHARE must be set", file=sys.stderr)
        return
    work_root = folders[0]
    shared = [f for f in os.environ.get("DLGRADE_ZYGOTE_SHARED_DIRS", "").split(":") if f]
    private_ipc = os.environ.get("DLGRADE_IPC_PRIVATE") == "1"
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(4, 0, 0, 0, 0)   # PR_SET_DUMPABLE = 0: a child cannot read this process's memory or fds
    libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: orphans come back here to be reaped
    ctl = socket.socket(fileno=ctl_fd)
    wire.write_frame(ctl_fd, wire.encode({"status": "ready", "versions": _versions()}))
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(ctl, 1 << 16, 3)
        except OSError:
            return
        if not data:
            return
        try:
            (length,) = struct.unpack(">Q", data[:8])
            header, _ = wire.decode(data[8:8 + length])
        except (struct.error, wire.WireError):
            header = {}
        if header.get("op") != "fork" or len(fds) != 3:
            for fd in fds:
                os.close(fd)
            continue  # a late "kill" for a child that had already finished
        while True:  # a name no learner can guess or prepare
            workdir = os.path.join(work_root, "g-" + secrets.token_hex(12))
            try:
                os.mkdir(workdir, 0o700)
                break
            except FileExistsError:
                continue
        for name in os.listdir(share):
            shutil.copyfile(os.path.join(share, name), os.path.join(workdir, name))
        req_fd, resp_fd, out_fd = fds
        pid = os.fork()
        if pid == 0:  # the learner's side from here on
            try:
                ctl.close()
                libc.prctl(4, 1, 0, 0, 0)  # dumpable for a moment: /proc/self is ours to write
                try:  # in the grading's cgroup the kernel's OOM killer picks the learner's processes first
                    with open("/proc/self/oom_score_adj", "w") as fh:
                        fh.write("1000")
                except OSError:
                    pass
                libc.prctl(4, 0, 0, 0, 0)
                os.dup2(out_fd, 1)
                os.dup2(out_fd, 2)
                os.close(out_fd)
                limits = header.get("limits", {})
                cpu = int(limits.get("cpu_seconds", 60))
                resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
                if limits.get("memory_mb"):
                    size = int(limits["memory_mb"]) << 20
                    resource.setrlimit(resource.RLIMIT_AS, (size, size))
                os.chdir(workdir)
                session = Session(req_fd, resp_fd, os.path.join(workdir, str(header.get("entry"))))
                session.send(_hello())  # after the fork, before the learner's import
                session.serve()
            finally:
                os._exit(0)
        for fd in fds:
            os.close(fd)
        wire.write_frame(ctl_fd, wire.encode({"status": "forked"}))
        pidfd = os.pidfd_open(pid)
        code, killed, closing = None, False, False
        while True:
            ready, _, _ = select.select([ctl, pidfd], [], [])
            if pidfd in ready:
                _, status = os.waitpid(pid, 0)
                code = os.waitstatus_to_exitcode(status)
                break
            if ctl in ready:
                killed = True
                closing = not ctl.recv(1 << 16)
                break
        os.close(pidfd)
        _kill_descendants()  # the child and everything it started, setsid() or not
        if private_ipc:
            _remove_sysv_ipc()
        mounts = _kept_mounts(recorded_mounts)
        clean = all([_wipe(folder, mounts) for folder in folders] + [_wipe_owned(folder) for folder in shared])
        wire.write_frame(ctl_fd, wire.encode({"status": "done", "exit": code, "killed": killed, "clean": clean}))
        if closing:
            return


def _preload() -> None:
    """Import the exercise's heavy modules (e.g. keras) before any learner code runs, so the cost
    is paid before any test's clock; then move the objects they made out of the cyclic garbage
    collector's sight (`gc.freeze`, inherited by every fork of a zygote). Keras on TensorFlow leaves
    ~350,000 of them, and each full collection that walks them costs ~0.2 s in the middle of a
    learner's test (a `build_lenet` call took 0.3 s instead of 0.05 s)."""
    names = [n for n in os.environ.get("DLGRADE_PRELOAD", "").split(",") if n]
    if names:
        _quiet_import(names)
        import gc
        gc.freeze()


def _quiet_import(names: list[str]) -> None:
    """Import modules with stderr silenced: a framework's start-up chatter is not the learner's output."""
    saved = os.dup(2)
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 2)
    try:
        for name in names:
            importlib.import_module(name)
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(quiet)


def main(argv: list[str]) -> None:
    _preload()
    if argv[1] == "--zygote":
        sys.dont_write_bytecode = True
        zygote(int(argv[2]))
        return
    req_fd, resp_fd, entry = int(argv[1]), int(argv[2]), argv[3]
    for fd in (req_fd, resp_fd):
        os.set_inheritable(fd, False)  # the learner's subprocesses do not get the pipes
    sys.dont_write_bytecode = True
    session = Session(req_fd, resp_fd, entry)
    session.send(_hello())  # before any learner code runs
    session.serve()


if __name__ == "__main__":
    main(sys.argv)
