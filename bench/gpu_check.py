"""Grade the Keras exercises' references with their hidden tests on each device and print what ran:
device, backend and versions, wall time, score and the held-out metric.

    python bench/gpu_check.py [--device gpu --device cpu] [--runs 3] [--exercise lenet ...] [--hoda-dir DIR]

On a machine with a GPU, `--device gpu` must report device=gpu (the sandbox sees the GPU); it
fails loudly when it does not. Use KERAS_BACKEND=jax where TensorFlow has no GPU build.
"""

from __future__ import annotations

import argparse
import statistics
import sys

from grader.grading.engine import SubmissionError, grade
from grader.sandbox.probe import probe
from grader.exercise.spec import all_exercises


def metric_of(result) -> str:
    """Every held-out metric the grading recorded: name, value, data set and threshold."""
    found = []
    for artifacts in result.extra_data.get("artifacts", {}).values():
        metric = artifacts.get("metric")
        if isinstance(metric, dict):
            value = metric.get("accuracy", metric.get("value"))
            if isinstance(value, (int, float)):
                bound = "<=" if metric.get("lower_is_better") else ">="
                found.append(f"{metric.get('name', 'accuracy')} {value:.3f} on {metric.get('dataset', '?')} "
                             f"({bound} {metric.get('threshold', '?')})")
    return "; ".join(found) or "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", action="append", choices=["cpu", "gpu", "auto"])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--exercise", action="append")
    parser.add_argument("--hoda-dir", help="the course's Hoda folder (default: scikit-learn's digits)")
    args = parser.parse_args()
    devices = args.device or ["gpu", "cpu"]
    keras_exercises = [e for e in all_exercises() if "keras" in e.preload
                       and (not args.exercise or e.id in args.exercise)]
    print(f"sandbox: {probe().as_dict()}", flush=True)
    failures = 0
    print(f"{'exercise':14} {'asked':5} {'ran':4} {'backend':11} {'score':>9} {'median s':>9} {'runs (s)':22} metric")
    for ex in keras_exercises:
        for device in devices:
            times, result = [], None
            try:
                for _ in range(args.runs):
                    result = grade(ex, ex.solution, "hidden", device=device, hoda_dir=args.hoda_dir)
                    times.append(result.execution_time)
            except SubmissionError as err:
                print(f"{ex.id:14} {device:5} refused: {err}")
                failures += 1
                continue
            v = result.extra_data.get("versions", {})
            ran = result.extra_data.get("device", "?")
            backend = f"{v.get('backend', '?')} {v.get(v.get('backend', ''), '')}"
            print(f"{ex.id:14} {device:5} {ran:4} {backend:11} {result.score:4g}/{result.max_score:<4g} "
                  f"{statistics.median(times):9.2f} {' '.join(f'{t:.1f}' for t in times):22} {metric_of(result)}",
                  flush=True)
            if (device == "gpu" and ran != "gpu") or not result.full_marks:
                failures += 1
                for t in result.tests:
                    if t.status != "passed":
                        print(f"    {t.name}: {t.output[:300]}")
                for err in result.extra_data.get("internal_errors", []):
                    print(f"    internal: {err[:500]}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
