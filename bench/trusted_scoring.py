"""Cost of scoring held-out data on the trusted side: each Keras exercise's reference solution is
graded N times with its hidden tests, and the median grading time and median time of the
held-out accuracy test are printed.

Run on one code tree (the tree this file is in, or --tree):

    python bench/trusted_scoring.py --runs 3

Compare two trees in one run, gradings interleaved (old, new, old, new, ...) so that the load of
a shared machine falls on both alike; each grading runs in a fresh process whose `grader` package
comes from its tree (PYTHONPATH), on the public split (no Hoda folder unless DLGRADE_HODA_DIR is
set):

    git worktree add /tmp/oldmain d0c00a2
    python bench/trusted_scoring.py --runs 3 --compare /tmp/oldmain
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
EXERCISES = ("keras-mlp", "lenet", "vgg")
HELD_OUT_TESTS = ("test_held_out_accuracy", "test_small_vgg_learns_digits")

_ONE = r"""
import json, sys
from grader.grading.engine import grade
from grader.exercise.spec import find_exercise
import grader
ex = find_exercise(sys.argv[1])
result = grade(ex, ex.solution, "hidden", slot=int(sys.argv[2]))
held = [t for t in result.tests if t.name in %r]
print("@@" + json.dumps({"tree": grader.__file__, "seconds": result.execution_time,
                          "held_out_seconds": sum(t.duration for t in held),
                          "score": result.score, "max": result.max_score,
                          "failed": [t.name for t in result.tests if t.status != "passed"]}))
""" % (HELD_OUT_TESTS,)


def grade_once(tree: Path, exercise: str, slot: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree), TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("DLGRADE_SOLUTIONS", None)
    env.pop("DLGRADE_EXERCISES", None)
    proc = subprocess.run([sys.executable, "-c", _ONE, exercise, str(slot)], cwd=tree, env=env,
                          capture_output=True, text=True, timeout=900)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("@@")), None)
    if line is None:
        raise SystemExit(f"grading {exercise} in {tree} failed:\n{proc.stderr[-3000:]}")
    out = json.loads(line[2:])
    if not str(out["tree"]).startswith(str(tree)):
        raise SystemExit(f"{tree}: the grading imported grader from {out['tree']}; run without an install "
                         "that shadows PYTHONPATH")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tree", type=Path, default=HERE, help="the code tree to measure (default: this one)")
    parser.add_argument("--compare", type=Path, default=None, help="an older tree to measure in the same run")
    parser.add_argument("--exercise", action="append", choices=EXERCISES)
    args = parser.parse_args()
    trees = {"new": args.tree.resolve()}
    if args.compare:
        trees = {"old": args.compare.resolve(), **trees}
    rows = []
    for ex in args.exercise or EXERCISES:
        got = {name: [] for name in trees}
        for i in range(args.runs):
            for name, tree in trees.items():
                r = grade_once(tree, ex, slot=7)
                got[name].append(r)
                print(f"  {ex} {name} run {i + 1}: {r['seconds']:.1f} s (held-out test {r['held_out_seconds']:.1f} s), "
                      f"{r['score']:g}/{r['max']:g} {' '.join(r['failed'])}", flush=True)
        med = {name: (statistics.median(r["seconds"] for r in rs), statistics.median(r["held_out_seconds"] for r in rs))
               for name, rs in got.items()}
        rows.append((ex, med))
    print(f"\nmedian of {args.runs} gradings per exercise (seconds)")
    head = "exercise    " + "".join(f"{name + ' grading':>15}{name + ' held-out':>15}" for name in trees)
    if args.compare:
        head += f"{'added/grading':>15}{'added/test':>12}"
    print(head)
    for ex, med in rows:
        line = f"{ex:<12}" + "".join(f"{med[n][0]:>15.1f}{med[n][1]:>15.1f}" for n in trees)
        if args.compare:
            line += f"{med['new'][0] - med['old'][0]:>+15.1f}{med['new'][1] - med['old'][1]:>+12.1f}"
        print(line)


if __name__ == "__main__":
    main()
