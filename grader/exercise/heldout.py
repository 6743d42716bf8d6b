"""The trusted held-out predictor: a learner's trained model predicts the held-out inputs here,
on the trusted side, never in the sandbox.

The sandbox trains on the training split and returns the trained model as data (JSON config +
weights as .npy, `wire.ModelRef`). `predict(ref, x, caps)` checks the config against the
exercise's caps (`grader.exercise.modelsize`, nothing allocated), then has a fresh child process
with its own address-space, CPU and wall-clock limits rebuild the model in Keras's safe mode, load
the weights and predict `x`. Requests and answers travel through a private (0700) temporary folder
as .npy and JSON, read with `allow_pickle=False`; nothing is pickled. A child, not the pytest
process, so a model that makes Keras allocate or hang costs the child.

The children are forked by a predictor server, one per grading thread, that has Keras imported
and never runs a Keras op itself, so a prediction pays no Keras import (seconds on a small
machine). The engine forks the server from the trusted process right after that process's own
Keras import and before its first op (`fork_server`); otherwise `warm_up()` spawns one (`python -m
grader.exercise.heldout --serve`) while the sandbox trains. The server outlives the grading and
serves the thread's next ones; one that dies is replaced at the next prediction.

Whose problem is what: a config over the caps, one Keras refuses, or weights that do not fit are
the learner's (`Feedback`, with what to do); a child that dies, runs out of its memory or time, or
answers nonsense after the caps were passed is the grader's (`HeldOutPredictorFault`, a
`testing.GraderFault`), because a model within the caps fits the predictor's limits.

One module of ~530 lines on purpose: the trusted side's request, the server and the child that
answers it are the two ends of one protocol (the request folder's files, the pipes' lines), and
they change together.
"""

from __future__ import annotations

import json
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from grader.exercise.frameworks import quiet_env
from grader.exercise.modelsize import Caps, ModelRefused, check_caps
from grader.exercise.rebuild import load_weights, rebuild_structure
from grader.exercise.testing import Feedback, GraderFault

#: weights travel only for models up to this size (runner.MAX_EXPORTED_PARAMS)
MAX_SCORED_PARAMS = 5_000_000
#: multiply-adds one held-out prediction may take in all (the course's models need a few billion)
MAX_PREDICT_MACS = 200_000_000_000
#: the part of the predictor's memory that one batch's activations may fill (TensorFlow keeps the rest)
_BATCH_MEMORY_SHARE = 4
#: a warm-up line longer than this carries no config (the model is rebuilt at the prediction): it
#: stays within a pipe's buffer, so writing it never waits for a server that is still starting
MAX_WARM_LINE = 60_000
_OUTPUT_CAP = 8000


class HeldOutPredictorFault(GraderFault):
    """The trusted held-out predictor failed for a reason that is not the learner's model (it died,
    ran out of its memory or time, or answered nonsense). Never a grade: a grader fault."""


def _package_parent() -> str:
    return str(Path(__file__).resolve().parents[2])


def _child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "DLGRADE_"))}
    env.update({"PYTHONPATH": _package_parent(), "PYTHONDONTWRITEBYTECODE": "1",
                "CUDA_VISIBLE_DEVICES": "", "JAX_PLATFORMS": "cpu"})
    return quiet_env(env)  # the predictor's log goes into a grader fault's message, never the terminal


class _Server:
    """A predictor server: a process with Keras imported (and no TensorFlow op run) that forks one
    fresh child per prediction. Requests and answers are lines on two private pipes: the trusted
    side sends a request folder, the server answers "pid N" when the child starts and "rc N" when
    it ends. Made by `_Server.fork()` (a fork of this process right after its Keras import) or
    `_Server.spawn()` (a fresh `python -m grader.exercise.heldout --serve`)."""

    def __init__(self, pid: int, req: int, ans: int, proc: subprocess.Popen | None = None):
        self.pid, self.req, self.ans, self.proc = pid, req, ans, proc
        self.owner = os.getpid()  # a forked copy of this process must not share the server
        self._buffer = b""

    @classmethod
    def spawn(cls) -> "_Server":
        """A fresh server process (it imports Keras first: seconds)."""
        req_r, req_w = os.pipe()
        ans_r, ans_w = os.pipe()
        try:
            proc = subprocess.Popen([sys.executable, "-s", "-m", "grader.exercise.heldout", "--serve", str(req_r),
                                     str(ans_w)], env=_child_env(), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=(req_r, ans_w),
                                    cwd=tempfile.gettempdir(), start_new_session=True, close_fds=True)
        except OSError:
            for fd in (req_r, req_w, ans_r, ans_w):
                os.close(fd)
            raise
        os.close(req_r)
        os.close(ans_w)
        return cls(proc.pid, req_w, ans_r, proc)

    @classmethod
    def fork(cls) -> "_Server":
        """A server forked from this process, which must have imported Keras and run no op yet."""
        req_r, req_w = os.pipe()
        ans_r, ans_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the server: nothing of the trusted process's files, signals or terminal
            code = 0
            try:
                os.setsid()
                for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
                    signal.signal(sig, signal.SIG_DFL)
                signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # a dead child's pipe is an OSError
                null = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(null, fd)
                keep = sorted({0, 1, 2, req_r, ans_w})
                for low, high in zip(keep, keep[1:] + [_max_fd()]):
                    os.closerange(low + 1, high)
                os.environ.update(_child_env())
                _serve(req_r, ans_w)
            except BaseException:  # noqa: BLE001  (the trusted side sees the server gone)
                code = 2
            finally:
                os._exit(code)
        os.close(req_r)
        os.close(ans_w)
        return cls(pid, req_w, ans_r)

    def warm(self, config: str | None = None, caps: Caps | None = None) -> None:
        """Have the server fork its next child now: it starts the Keras runtime while waiting and,
        given the JSON config of the model being trained (and the exercise's caps), rebuilds that
        model's structure."""
        line = b"warm\n"
        if isinstance(config, str):
            ahead = b"warm " + json.dumps({"config": config, "caps": (caps or Caps()).as_dict()}).encode("ascii") + b"\n"
            line = ahead if len(ahead) <= MAX_WARM_LINE else line
        view = memoryview(line)
        while view:
            view = view[os.write(self.req, view):]

    def alive(self) -> bool:
        if self.owner != os.getpid():
            return False
        if self.proc is not None:
            return self.proc.poll() is None
        try:
            return os.waitpid(self.pid, os.WNOHANG) == (0, 0)
        except ChildProcessError:
            return False

    def _line(self, deadline: float) -> str | None:
        """The server's next answer line; None if it did not come by `deadline` (monotonic)."""
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.ans], [], [], left)[0]:
                return None
            chunk = os.read(self.ans, 4096)
            if not chunk:
                raise EOFError("the held-out predictor server ended")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode("ascii", "replace")

    def run(self, folder: Path, seconds: float) -> tuple[int | None, float]:
        """Predict the request in `folder` in a fresh child; (its exit code, or None if it ran past
        `seconds` and was killed; the seconds it took). EOFError/OSError: the server is gone."""
        os.write(self.req, str(folder).encode() + b"\n")
        t0 = time.monotonic()
        started = self._line(t0 + 60)
        if started is None or not started.startswith("pid "):
            raise EOFError(f"the held-out predictor server did not start a child ({started!r})")
        child_pid = int(started[4:])
        ended = self._line(t0 + seconds)
        timed_out = ended is None
        if timed_out:
            try:
                os.kill(child_pid, signal.SIGKILL)  # not yet reaped by the server: the pid is still its child's
            except ProcessLookupError:
                pass
            ended = self._line(time.monotonic() + 30)
        if ended is None or not ended.startswith("rc "):
            raise EOFError(f"the held-out predictor server gave no exit code ({ended!r})")
        return (None if timed_out else int(ended[3:])), time.monotonic() - t0

    def close(self) -> None:
        """End the server (it ends by itself when this process does: its request pipe closes)."""
        for fd in (self.req, self.ans):
            try:
                os.close(fd)
            except OSError:
                pass
        if self.owner != os.getpid():
            return
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if self.proc is not None:
            self.proc.wait()
        else:
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass


def _max_fd() -> int:
    try:
        return int(os.sysconf("SC_OPEN_MAX"))
    except (ValueError, OSError):
        return 65536


_local = threading.local()  # one grading runs in one thread (local pool worker or Dask thread): one server each


def _server(start: bool = True) -> _Server | None:
    server = getattr(_local, "server", None)
    if server is not None and not server.alive():
        server.close()
        server = _local.server = None
    if server is None and start:
        try:
            server = _local.server = _Server.spawn()
        except OSError as err:
            raise HeldOutPredictorFault(f"the held-out predictor could not start: {err}") from None
    return server


def fork_server() -> None:
    """Fork this thread's predictor server from this process now. Call it only right after this
    process imported Keras and before it runs any Keras op (as the engine does on its first Keras
    grading): the server then costs no import of its own. Without it, `warm_up` starts one."""
    if _server(start=False) is None:
        try:
            _local.server = _Server.fork()
        except OSError:
            _local.server = None  # `warm_up` or `predict` spawns one and reports its failure


def warm_up(config: str | None = None, caps: Caps | None = None) -> None:
    """Make sure this thread's predictor server runs, so that a fresh one imports Keras while the
    sandbox trains; `predict` uses it. It stays for the next gradings of this thread. `config`: the
    JSON config of the learner's model being trained; its next child rebuilds the structure now
    (`caps`, the exercise's, checked first) and only loads the trained weights at the prediction,
    when the config it is sent is the same."""
    try:
        _server().warm(config, caps)
    except (HeldOutPredictorFault, OSError):
        pass  # `predict` tries again and reports it


def discard_warm() -> None:
    """The end of a grading: a predictor server that broke is ended (the next grading starts one);
    a working one stays."""
    _server(start=False)


def close_server() -> None:
    """End this thread's predictor server (tests; a process ends its own at exit)."""
    server, _local.server = getattr(_local, "server", None), None
    if server is not None:
        server.close()


def predict(ref, x, caps: Caps | None = None, what: str = "your trained model", batch_size: int = 256,
            outputs: int | None = None, output_shape: tuple | None = None) -> np.ndarray:
    """The outputs of the learner's trained model `ref` (a ModelRef with weights) on inputs `x`,
    computed in a limited child process on the trusted side: an array of shape (n, *output shape).
    `x` is one array, or a list of arrays for a model with several inputs, in the model's input
    order (`modelsize.input_shapes`). `output_shape`: the shape of one example's output the task
    needs, e.g. (1,) or (28, 28, 1); `outputs=k` means (k,), class scores. A model within the caps
    never makes the predictor fail: its shapes and total work are checked here, and its batch is
    sized to the predictor's memory."""
    caps = caps or Caps()
    try:
        size = check_caps(ref.config, caps, what)
    except ModelRefused as err:
        raise Feedback(str(err)) from None
    xs = [np.asarray(a) for a in x] if isinstance(x, (list, tuple)) else [np.asarray(x)]
    n = len(xs[0])
    _check_inputs(size, xs, what)
    if len(size.output_shapes) != 1:
        raise Feedback(f"{what} has {len(size.output_shapes)} outputs; it should have one")
    got = tuple(size.output_shapes[0])
    if outputs is not None and got != (outputs,):
        raise Feedback(f"{what} outputs shape {got} for each example; it should output "
                       f"{outputs} numbers (one per class), e.g. a final Dense({outputs}, activation='softmax')")
    if output_shape is not None and got != tuple(output_shape):
        raise Feedback(f"{what} outputs shape {got} for each example; it should output shape {tuple(output_shape)}")
    if size.macs * n > MAX_PREDICT_MACS:
        raise Feedback(f"{what} needs {size.macs:,} multiply-adds for each example, too many to predict "
                       f"{n:,} held-out examples; build the model the exercise asks for")
    per_example = max(1, size.activations) * 4 * 4  # float32, and room for the framework's temporaries
    batch_size = int(max(1, min(batch_size, (caps.predict_memory_mb << 20) // _BATCH_MEMORY_SHARE // per_example)))
    if not ref.weights:
        raise Feedback(f"{what} came back without its weights: it has {size.params:,} parameters and only models "
                       f"up to {MAX_SCORED_PARAMS:,} parameters can be scored; build the model the exercise asks for")
    count = sum(int(np.asarray(w).size) for w in ref.weights)
    if count != size.params:
        raise Feedback(f"{what}: its {count:,} weights do not match the {size.params:,} parameters of its layers")
    server = _server()
    folder = Path(tempfile.mkdtemp(prefix="dlgrade-heldout-"))  # 0700, private to the grader
    try:
        (folder / "config.json").write_text(ref.config, encoding="utf-8")
        for i, w in enumerate(ref.weights):
            np.save(folder / f"w{i:04d}.npy", np.asarray(w), allow_pickle=False)
        for i, a in enumerate(xs):
            np.save(folder / f"x{i:02d}.npy", np.ascontiguousarray(a), allow_pickle=False)
        (folder / "request.json").write_text(json.dumps({
            "weights": len(ref.weights), "inputs": len(xs), "caps": caps.as_dict(), "batch_size": int(batch_size),
            "what": what}), encoding="utf-8")
        return _run_request(server, folder, caps, n, got)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _check_inputs(size, xs: list[np.ndarray], what: str) -> None:
    """The held-out arrays fit the model's inputs (the grader's own arrays: a mismatch is the learner's
    model taking other inputs than the task's)."""
    want = [tuple(s) for s in size.input_shapes]
    got = [tuple(a.shape[1:]) for a in xs]
    if len({len(a) for a in xs}) != 1:
        raise ValueError("the held-out inputs must have the same number of examples")  # a test's own bug
    if got != want:
        raise Feedback(f"{what} takes inputs of shape {', '.join(map(str, want))} for each example; the held-out "
                       f"inputs have shape {', '.join(map(str, got))}")


def _run_request(server: _Server, folder: Path, caps: Caps, n: int, shape: tuple) -> np.ndarray:
    try:
        rc, seconds = server.run(folder, caps.predict_seconds)
    except (EOFError, OSError) as err:  # the server itself died: the next prediction starts a new one
        close_server()
        raise HeldOutPredictorFault(f"the held-out predictor failed: {err}; {_tail(folder)}") from None
    if rc is None:
        raise HeldOutPredictorFault(f"the held-out predictor ran past its {caps.predict_seconds:g} s and was "
                                    f"stopped; {_tail(folder)}") from None
    try:
        answer = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        answer = None
    if not isinstance(answer, dict):
        how = f"was killed by signal {-rc}" if rc < 0 else f"exited with {rc}"
        raise HeldOutPredictorFault(f"the held-out predictor {how} after {seconds:.1f} s without an answer "
                                    f"(memory limit {caps.predict_memory_mb} MB); {_tail(folder)}")
    status = answer.get("status")
    if status == "refused":  # the learner's model: over a cap, or not rebuildable
        raise Feedback(str(answer.get("message", "your model could not be rebuilt"))[:2000])
    if status != "ok" or rc != 0:
        raise HeldOutPredictorFault(f"the held-out predictor failed ({status}) within its limits (memory limit "
                                    f"{caps.predict_memory_mb} MB, {caps.predict_seconds:g} s): "
                                    f"{str(answer.get('message', ''))[-2000:]}; {_tail(folder)}")
    try:
        out = np.load(folder / "out.npy", allow_pickle=False)
    except Exception as err:
        raise HeldOutPredictorFault(f"the held-out predictor's answer cannot be read ({type(err).__name__})") from None
    if out.shape != (n, *shape) or out.dtype.kind != "f":  # the learner's model's output
        raise Feedback(f"your trained model answered an array of shape {out.shape} and dtype {out.dtype} for "
                       f"{n} held-out inputs; it should give one output of shape {shape} per input")
    return out


def _tail(folder: Path) -> str:
    try:
        text = (folder / "log.txt").read_bytes()[-_OUTPUT_CAP:].decode("utf-8", "replace")
    except OSError:
        text = ""
    return f"its output ends: {text.strip()[-2000:]}" if text.strip() else "it printed nothing"


# ------------------------------------------------------------------------------------------------
# the child
# ------------------------------------------------------------------------------------------------


def _answer(folder: Path, **fields) -> None:
    tmp = folder / "result.json.tmp"
    tmp.write_text(json.dumps(fields, ensure_ascii=True), encoding="utf-8")
    os.replace(tmp, folder / "result.json")


def _address_space() -> int:
    """This process's mapped address space in bytes (0 where /proc cannot tell)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def child(folder: Path) -> int:
    request = json.loads((folder / "request.json").read_text(encoding="utf-8"))
    caps = Caps(**request["caps"])
    # the child's own budget on top of what it inherited: a server forked from a process that
    # imported Keras on torch already maps ~5 GB of address space before any prediction
    size = _address_space() + (caps.predict_memory_mb << 20)
    resource.setrlimit(resource.RLIMIT_AS, (size, size))
    cpu = int(caps.predict_seconds * max(1, os.cpu_count() or 1)) + 2
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    what = str(request.get("what", "your trained model"))
    config = (folder / "config.json").read_text(encoding="utf-8")
    try:
        check_caps(config, caps, what)  # again, before Keras allocates anything
    except ModelRefused as err:
        _answer(folder, status="refused", message=str(err))
        return 0
    weights = [np.load(folder / f"w{i:04d}.npy", allow_pickle=False) for i in range(int(request["weights"]))]
    xs = [np.load(folder / f"x{i:02d}.npy", allow_pickle=False) for i in range(int(request.get("inputs", 1)))]
    prebuilt = _prebuilt is not None and _prebuilt[0] == config
    try:
        model = _prebuilt[1] if prebuilt else rebuild_structure(config, what, caps)
        load_weights(model, weights, what)
    except Feedback as err:
        _answer(folder, status="refused", message=str(err))
        return 0
    try:
        out = _predict_eagerly(model, xs, int(request.get("batch_size", 256)))
    except MemoryError:
        raise
    except Exception as err:  # the learner's model cannot take these inputs (its input shape, a layer)
        _answer(folder, status="refused", message=f"{what} could not predict the held-out inputs "
                f"(shape {', '.join(str(tuple(x.shape[1:])) for x in xs)} per example): {type(err).__name__}: "
                f"{str(err)[:300]}")
        return 0
    np.save(folder / "out.npy", np.asarray(out, dtype=np.float32), allow_pickle=False)
    _answer(folder, status="ok", prebuilt=prebuilt)
    return 0


def _predict_eagerly(model, xs: list[np.ndarray], batch_size: int) -> np.ndarray:
    """The model's inference output on the inputs `xs` (one array per model input), batch by batch
    (`training=False`, as `predict` calls it), without `predict`'s compiled function: tracing it
    costs a fresh process 0.2-0.3 s, more than a course model's whole held-out prediction."""
    import keras
    batch_size = max(1, batch_size)
    n = len(xs[0])

    def batch(i):
        part = [x[i:i + batch_size] for x in xs]
        return part[0] if len(part) == 1 else part
    parts = [np.asarray(keras.ops.convert_to_numpy(model(batch(i), training=False))) for i in range(0, n, batch_size)]
    return np.concatenate(parts) if parts else np.zeros((0,), dtype=np.float32)


def _serve(req: int, ans: int) -> None:
    """The predictor server's loop. A request folder read from `req` is predicted by a fresh
    child (the warm one if there is one, else one forked now); the server answers "pid N", then
    "rc N" when the child ends. "warm" forks the next child ahead of time: it starts the Keras
    runtime (its first op) and waits for its folder, so a prediction does not pay that start.
    Returns at the end of `req`."""
    buffer = b""
    warm: tuple[int, int] | None = None  # (pid, the pipe its folder comes on)
    while True:
        while b"\n" not in buffer:
            chunk = os.read(req, 4096)
            if not chunk:
                return
            buffer += chunk
        line, buffer = buffer.split(b"\n", 1)
        if line == b"warm" or line.startswith(b"warm "):
            config = line[5:] or None
            if warm is not None and config:  # a child warmed for another model (a grading that never predicted)
                os.kill(warm[0], signal.SIGKILL)
                os.waitpid(warm[0], 0)
                os.close(warm[1])
                warm = None
            if warm is None:
                warm = _fork_warm(req, ans, config)
            continue
        pid = None
        if warm is not None:
            pid, pipe = warm
            warm = None
            try:
                os.write(pipe, line + b"\n")
            except OSError:  # it died: reap it and fork a fresh one
                os.waitpid(pid, 0)
                pid = None
            finally:
                os.close(pipe)
        if pid is None:
            pid = os.fork()
            if pid == 0:
                _child_main(req, ans, line)
        os.write(ans, f"pid {pid}\n".encode())
        _, status = os.waitpid(pid, 0)
        os.write(ans, f"rc {os.waitstatus_to_exitcode(status)}\n".encode())


def _fork_warm(req: int, ans: int, ahead: bytes | None) -> tuple[int, int]:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(w)
        line = b""
        try:
            import keras
            keras.ops.convert_to_numpy(keras.ops.zeros((1,)))  # the runtime's start, before any request
            from grader.exercise import rebuild  # noqa: F401
            if ahead:
                _prebuild(ahead)
            with os.fdopen(r, "rb") as pipe:
                line = pipe.readline().rstrip(b"\n")
        except BaseException:  # noqa: BLE001  (no folder: the server forks a fresh child)
            os._exit(2)
        if not line:
            os._exit(0)
        _child_main(req, ans, line)
    os.close(r)
    return pid, w


#: in a warm child: (the config it was sent, the model rebuilt from it without trained weights)
_prebuilt: tuple[str, object] | None = None


def _prebuild(ahead: bytes) -> None:
    """In a warm child, while the sandbox trains: rebuild the structure of the model being trained
    (`ahead`: JSON {"config", "caps"}; the exercise's caps checked first, no core file, and soft
    limits on memory and CPU until the request's caps set the hard ones) and run it once on zeros,
    so the prediction only loads the trained weights. A config that cannot be rebuilt here, or runs
    out of memory, is left to the prediction, which rebuilds it and reports what is wrong."""
    global _prebuilt
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        data = json.loads(ahead)
        config, caps = str(data["config"]), Caps(**data["caps"])
    except (ValueError, KeyError, TypeError):
        return
    for limit, value in ((resource.RLIMIT_AS, _address_space() + (caps.predict_memory_mb << 20)),
                         (resource.RLIMIT_CPU, int(caps.predict_seconds * max(1, os.cpu_count() or 1)) + 2)):
        hard = resource.getrlimit(limit)[1]
        resource.setrlimit(limit, (value if hard == resource.RLIM_INFINITY else min(value, hard), hard))
    try:
        shapes = check_caps(config, caps).input_shapes
        model = rebuild_structure(config, "the model", caps)
        _predict_eagerly(model, [np.zeros((1, *s), dtype=np.float32) for s in shapes], 1)
    except Exception:  # noqa: BLE001  (MemoryError too: the prediction rebuilds it and says what is wrong)
        import gc
        gc.collect()
        return
    _prebuilt = (config, model)


def _child_main(req: int, ans: int, line: bytes) -> None:
    """A child's life: its output to the request folder's log.txt, the prediction, exit."""
    code = 2
    try:
        folder = Path(line.decode("utf-8", "surrogateescape"))
        os.close(req)
        os.close(ans)
        log = os.open(folder / "log.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.chdir(folder)
        code = _predict_request(folder)
    finally:
        os._exit(code)


def _predict_request(folder: Path) -> int:
    """A child's work: predict the request in `folder`, every failure answered in result.json."""
    try:
        return child(folder)
    except MemoryError:
        _answer(folder, status="memory", message="the predictor ran out of its memory")
        return 3
    except BaseException as err:  # a grader problem: reported, never a grade
        import traceback
        _answer(folder, status="error", message="".join(traceback.format_exception(err))[-4000:])
        return 2


def main(argv: list[str]) -> int:
    """`--serve REQ_FD ANS_FD`: a spawned predictor server (Keras imported first); `FOLDER`: one
    prediction in this process."""
    if argv[1] == "--serve":
        import gc

        from grader.exercise.frameworks import import_keras_quietly
        import_keras_quietly()
        gc.freeze()  # the children's collections walk their own objects, not Keras's (~0.2 s each)
        _serve(int(argv[2]), int(argv[3]))
        return 0
    return _predict_request(Path(argv[1]))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
