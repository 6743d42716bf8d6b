"""A Keras grading against the reference's own train + predict, in one run, interleaved, median of N.

For each Keras exercise (keras-mlp, lenet, vgg), on the digits its hidden tests use (the bundled
digits unless DLGRADE_HODA_DIR names a Hoda folder):

- own, warm: the reference's build + train on the training split and predict on the held-out split,
  in a process that has Keras imported: what the grading's work costs with no sandbox, no tests;
- batch: a grading of the reference with the hidden tests (trusted-side scoring included) as a
  batch worker does it (batch.worker.run_task: the worker's zygote, its kept pytest session),
  in this same warm process; ratio batch / own warm;
- own, one-off: the same train + predict in a fresh Python process (its Keras import included);
- one-off: `dlgrade grade EXERCISE solution.py` in a fresh process; ratio one-off / own one-off.

    python bench/keras_grading.py [--runs 3] [--exercise keras-mlp ...]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

EXERCISES = {  # exercise: (preset, build call, train call) as its hidden tests make them
    "keras-mlp": ("mlp-5x5", "build_mlp(input_dim=x.shape[1], num_classes=k)", "train_mlp(model, x, y)"),
    "lenet": ("lenet-32", "build_lenet(input_shape=x.shape[1:], num_classes=k)", "train_lenet(model, x, y)"),
    "vgg": ("vgg-32", "build_vgg_small(x.shape[1:], 10, widths=(16, 32))", "train_vgg_small(model, x, y)"),
}


def own_train_predict(exercise_id: str) -> float:
    """Seconds for the reference's build + train + held-out predict in this process."""
    from grader.data import digit_task
    from grader.exercise.spec import find_exercise
    preset, build, train = EXERCISES[exercise_id]
    exercise = find_exercise(exercise_id)
    spec = importlib.util.spec_from_file_location("bench_reference", exercise.solution)
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    task = digit_task(preset, heldout_seed=1)
    t0 = time.perf_counter()
    scope = {"x": task.x_train, "y": task.y_train_onehot, "k": task.num_classes}
    model = eval(build, vars(ref), scope)
    scope["model"] = model
    eval(train, vars(ref), scope)
    model.predict(task.x_test, verbose=0)
    return time.perf_counter() - t0


def batch_grading(exercise_id: str, task_id: int) -> float:
    """Seconds for one grading of the reference through a batch worker's path, in this process."""
    from grader.batch.worker import run_task
    from grader.exercise.spec import find_exercise
    exercise = find_exercise(exercise_id)
    t0 = time.perf_counter()
    answer = run_task({"task_id": str(task_id), "exercise_dir": str(exercise.directory),
                       "solutions_dir": str(exercise.solution_dir.parent), "submission_path": str(exercise.solution),
                       "suite": "hidden", "device": "cpu", "heldout_seed": 1,
                       "hoda_dir": os.environ.get("DLGRADE_HODA_DIR", "")})
    elapsed = time.perf_counter() - t0
    result = json.loads(answer["result"]) if isinstance(answer.get("result"), str) else answer.get("result")
    if not result or result["score"] != result["max_score"]:
        raise SystemExit(f"{exercise_id}: the reference lost points in the batch path: {answer.get('error') or result}")
    return elapsed


def _fresh(command: list[str]) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"`{' '.join(command)}` failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return elapsed


def one_off_own(exercise_id: str) -> float:
    """Wall seconds of a fresh process that imports Keras and does the reference's train + predict."""
    return _fresh([sys.executable, __file__, "--own-once", exercise_id])


def one_off_grade(exercise_id: str) -> float:
    """Wall seconds of `dlgrade grade EXERCISE solution.py` (hidden tests) in a fresh process."""
    from grader.exercise.spec import find_exercise
    exercise = find_exercise(exercise_id)
    return _fresh([sys.executable, "-c", "from grader.cli import main; main()", "grade", exercise_id,
                   str(exercise.solution), "--device", "cpu", "--json"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--exercise", action="append", choices=sorted(EXERCISES))
    parser.add_argument("--own-once", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.own_once:
        from grader.exercise.frameworks import import_keras_quietly
        import_keras_quietly()
        own_train_predict(args.own_once)
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from grader.batch.worker import prepare_grading_process
    from grader.exercise.frameworks import import_keras_quietly
    import_keras_quietly()
    prepare_grading_process()
    exercises = args.exercise or ["keras-mlp"]
    print("| exercise | own, warm | batch grading | batch / own | own, one-off | `dlgrade grade` | one-off / own |\n"
          "| --- | --- | --- | --- | --- | --- | --- |")
    for ex in exercises:
        own_train_predict(ex), batch_grading(ex, 0)  # warm-up: data cached, zygote and pytest session made
        times: dict[str, list[float]] = {"own": [], "batch": [], "own1": [], "grade1": []}
        for run in range(args.runs):  # interleaved: the machine's drift falls on every column alike
            times["own"].append(own_train_predict(ex))
            times["batch"].append(batch_grading(ex, run + 1))
            times["own1"].append(one_off_own(ex))
            times["grade1"].append(one_off_grade(ex))
        m = {k: statistics.median(v) for k, v in times.items()}
        print(f"| {ex} | {m['own']:.2f} s | {m['batch']:.2f} s | {m['batch'] / m['own']:.2f}x | {m['own1']:.2f} s "
              f"| {m['grade1']:.2f} s | {m['grade1'] / m['own1']:.2f}x |", flush=True)
        print(f"  (runs: " + "; ".join(f"{k} {' '.join(f'{t:.2f}' for t in v)}" for k, v in times.items()) + ")",
              flush=True)


if __name__ == "__main__":
    main()
