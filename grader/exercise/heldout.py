"""The trusted held-out predictor: a learner's trained model predicts the held-out inputs here,
on the trusted side, never in the sandbox.

The sandbox trains on the training split and returns the trained model as data (JSON config +
weights as .npy, `wire.ModelRef`). `predict(ref, x, caps)` checks the config against the
exercise's caps (`grader.exercise.modelsize`, nothing allocated), then starts a fresh
`python -m grader.exercise.heldout FOLDER` child with its own address-space, CPU and wall-clock limits,
which rebuilds the model in Keras's safe mode, loads the weights and predicts `x`. Requests and
answers travel through a private (0700) temporary folder as .npy and JSON, read with
`allow_pickle=False`; nothing is pickled. A child, not the pytest process, so a model that makes
Keras allocate or hang costs the child, and no fork of a process that ran TensorFlow is needed.

The child's start (Python, then TensorFlow and Keras: most of its cost) can be paid while the
sandbox trains: `warm_up()` starts this thread's next child at once, waiting for its request;
`predict` takes it (or starts one), and `discard_warm()` ends an unused one when the grading ends.

Whose problem is what: a config over the caps, one Keras refuses, or weights that do not fit are
the learner's (`Feedback`, with what to do); a child that dies, runs out of its memory or time, or
answers nonsense after the caps were passed is the grader's (`HeldOutPredictorFault`, a
`testing.GraderFault`), because a model within the caps fits the predictor's limits.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from grader.exercise.frameworks import quiet_env
from grader.exercise.modelsize import Caps, ModelRefused, check_caps
from grader.exercise.rebuild import rebuild
from grader.exercise.testing import Feedback, GraderFault
from grader.sandbox.inside.wire import ModelRef

#: weights travel only for models up to this size (runner.MAX_EXPORTED_PARAMS)
MAX_SCORED_PARAMS = 5_000_000
#: multiply-adds one held-out prediction may take in all (the course's models need a few billion)
MAX_PREDICT_MACS = 200_000_000_000
#: the part of the predictor's memory that one batch's activations may fill (TensorFlow keeps the rest)
_BATCH_MEMORY_SHARE = 4
_OUTPUT_CAP = 8000


class HeldOutPredictorFault(GraderFault):
    """The trusted held-out predictor failed for a reason that is not the learner's model (it died,
    ran out of its memory or time, or answered nonsense). Never a grade: a grader fault."""


def _package_parent() -> str:
    return str(Path(__file__).resolve().parents[2])


class _Child:
    """A predictor child started in its private folder, waiting for "go" on its stdin."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="dlgrade-heldout-"))  # 0700, private to the grader
        os.chmod(self.folder, 0o700)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "DLGRADE_"))}
        env.update({"PYTHONPATH": _package_parent(), "PYTHONDONTWRITEBYTECODE": "1",
                    "CUDA_VISIBLE_DEVICES": "", "JAX_PLATFORMS": "cpu", "KERAS_HOME": str(self.folder / ".keras")})
        env = quiet_env(env)  # the child's log goes into a grader fault's message, never the terminal
        self.log = open(self.folder / "log.txt", "wb")
        try:
            self.proc = subprocess.Popen([sys.executable, "-s", "-m", "grader.exercise.heldout", "--wait", str(self.folder)],
                                         cwd=self.folder, env=env, stdin=subprocess.PIPE, stdout=self.log,
                                         stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
        except OSError:
            self.close()
            raise

    def go(self) -> None:
        """Tell the child its request is in the folder."""
        try:
            self.proc.stdin.write(b"go\n")
            self.proc.stdin.close()
        except OSError:
            pass  # it died already: the missing answer says so

    def close(self) -> None:
        proc = getattr(self, "proc", None)
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc is not None and proc.stdin is not None:
            try:
                proc.stdin.close()
            except OSError:
                pass
        self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)


_warm = threading.local()  # one grading runs in one thread (local pool worker or Dask thread)


def warm_up() -> None:
    """Start this thread's next predictor child now, so that it imports Keras while the sandbox
    trains; `predict` uses it. Harmless if it is never used: `discard_warm()` ends it."""
    if getattr(_warm, "child", None) is None:
        try:
            _warm.child = _Child()
        except OSError:
            _warm.child = None  # `predict` starts one itself and reports its failure


def discard_warm() -> None:
    """End this thread's warmed-up child if no prediction used it (the end of a grading)."""
    child, _warm.child = getattr(_warm, "child", None), None
    if child is not None:
        child.close()


def _take_child() -> _Child:
    child, _warm.child = getattr(_warm, "child", None), None
    if child is not None and child.proc.poll() is None:
        return child
    if child is not None:
        child.close()
    try:
        return _Child()
    except OSError as err:
        raise HeldOutPredictorFault(f"the held-out predictor could not start: {err}") from None


def predict(ref, x: np.ndarray, caps: Caps | None = None, what: str = "your trained model",
            batch_size: int = 256, outputs: int | None = None) -> np.ndarray:
    """The outputs of the learner's trained model `ref` (a ModelRef with weights) on inputs `x`,
    computed in a limited child process on the trusted side. `outputs`: the number of outputs per
    example the task needs. A model within the caps never makes the predictor fail: its output
    shape and total work are checked here, and its batch is sized to the predictor's memory."""
    caps = caps or Caps()
    try:
        size = check_caps(ref.config, caps, what)
    except ModelRefused as err:
        raise Feedback(str(err)) from None
    if outputs is not None and tuple(size.output_shape) != (outputs,):
        raise Feedback(f"{what} outputs shape {tuple(size.output_shape)} for each example; it should output "
                       f"{outputs} numbers (one per class), e.g. a final Dense({outputs}, activation='softmax')")
    if size.macs * len(x) > MAX_PREDICT_MACS:
        raise Feedback(f"{what} needs {size.macs:,} multiply-adds for each example, too many to predict "
                       f"{len(x):,} held-out examples; build the model the exercise asks for")
    per_example = max(1, size.activations) * 4 * 4  # float32, and room for the framework's temporaries
    batch_size = int(max(1, min(batch_size, (caps.predict_memory_mb << 20) // _BATCH_MEMORY_SHARE // per_example)))
    if not ref.weights:
        raise Feedback(f"{what} came back without its weights: it has {size.params:,} parameters and only models "
                       f"up to {MAX_SCORED_PARAMS:,} parameters can be scored; build the model the exercise asks for")
    count = sum(int(np.asarray(w).size) for w in ref.weights)
    if count != size.params:
        raise Feedback(f"{what}: its {count:,} weights do not match the {size.params:,} parameters of its layers")
    child = _take_child()
    folder = child.folder
    try:
        (folder / "config.json").write_text(ref.config, encoding="utf-8")
        for i, w in enumerate(ref.weights):
            np.save(folder / f"w{i:04d}.npy", np.asarray(w), allow_pickle=False)
        np.save(folder / "x.npy", np.ascontiguousarray(x), allow_pickle=False)
        (folder / "request.json").write_text(json.dumps({
            "weights": len(ref.weights), "caps": caps.as_dict(), "batch_size": int(batch_size), "what": what}),
            encoding="utf-8")
        return _run_child(child, caps, len(x))
    finally:
        child.close()


def _run_child(child: _Child, caps: Caps, n: int) -> np.ndarray:
    folder, proc = child.folder, child.proc
    t0 = time.monotonic()
    child.go()
    try:
        rc = proc.wait(timeout=caps.predict_seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        child.log.flush()
        raise HeldOutPredictorFault(f"the held-out predictor ran past its {caps.predict_seconds:g} s and was "
                                    f"stopped; {_tail(folder)}") from None
    child.log.flush()
    seconds = time.monotonic() - t0
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
    if out.ndim != 2 or out.shape[0] != n or out.dtype.kind != "f":  # the learner's model's output
        raise Feedback(f"your trained model answered an array of shape {out.shape} and dtype {out.dtype} for "
                       f"{n} held-out inputs; it should give one row of class scores per input")
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


def child(folder: Path) -> int:
    request = json.loads((folder / "request.json").read_text(encoding="utf-8"))
    caps = Caps(**request["caps"])
    size = caps.predict_memory_mb << 20
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
    x = np.load(folder / "x.npy", allow_pickle=False)
    try:
        model = rebuild(ModelRef(0, "model", config, None, weights), what, caps)
    except Feedback as err:
        _answer(folder, status="refused", message=str(err))
        return 0
    try:
        out = _predict_eagerly(model, x, int(request.get("batch_size", 256)))
    except MemoryError:
        raise
    except Exception as err:  # the learner's model cannot take these inputs (its input shape, a layer)
        _answer(folder, status="refused", message=f"{what} could not predict the held-out inputs "
                f"(shape {tuple(x.shape[1:])} per example): {type(err).__name__}: {str(err)[:300]}")
        return 0
    np.save(folder / "out.npy", np.asarray(out, dtype=np.float32), allow_pickle=False)
    _answer(folder, status="ok")
    return 0


def _predict_eagerly(model, x: np.ndarray, batch_size: int) -> np.ndarray:
    """The model's inference output on `x`, batch by batch (`training=False`, as `predict` calls
    it), without `predict`'s compiled function: tracing it costs a fresh process 0.2-0.3 s, more
    than a course model's whole held-out prediction."""
    import keras
    batch_size = max(1, batch_size)
    parts = [np.asarray(keras.ops.convert_to_numpy(model(x[i:i + batch_size], training=False)))
             for i in range(0, len(x), batch_size)]
    return np.concatenate(parts) if parts else np.zeros((0,), dtype=np.float32)


def _wait_for_go() -> bool:
    """Import what the prediction needs, then wait for the trusted side's "go" (EOF: not needed)."""
    import keras  # noqa: F401  (the start-up that warm_up() pays ahead of time)
    return sys.stdin.readline().strip() == "go"


def main(argv: list[str]) -> int:
    if argv[1] == "--wait":
        folder = Path(argv[2])
        try:
            if not _wait_for_go():
                return 0
        except BaseException as err:  # the import failed: a grader problem, reported after "go"
            sys.stdin.readline()
            _answer(folder, status="error", message=f"the predictor could not import Keras: {err!r}"[:4000])
            return 2
    else:
        folder = Path(argv[1])
    try:
        return child(folder)
    except MemoryError:
        _answer(folder, status="memory", message="the predictor ran out of its memory")
        return 3
    except BaseException as err:  # a grader problem: reported, never a grade
        import traceback
        _answer(folder, status="error", message="".join(traceback.format_exception(err))[-4000:])
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
