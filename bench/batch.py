"""Batch autograding of a simulated cohort: wall time with 1 and 2 local workers, with a 2-worker
Dask cluster on loopback, and the regrade of the unchanged cohort (everything cached); median of
N runs each, all in this one run. With --zygote, also the per-grading time of a Keras exercise
in one worker with and without the worker's zygote (Keras imported once per worker).

    python bench/batch.py --learners 100 --runs 3 [--exercise perceptron --exercise conv-arithmetic]
    python bench/batch.py --zygote --zygote-gradings 6
    python bench/batch.py --scale --learners 1000 [--exercise perceptron]

--scale: one 2-worker batch of the cohort on the local pool (gradings/s, the coordinator's peak RSS
and its RSS as the batch goes on: flat means nothing accumulates per result), the same on a 2-worker
Dask cluster on loopback (the local/Dask ratio, measured in this one run), then a `kill -9` of a
`dlgrade autograde` coordinator a third of the way through and a resume: nothing recorded is lost
or graded again.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cohort import make_cohort  # noqa: E402

from grader.batch.run import run_batch  # noqa: E402
from grader.course.config import load_course  # noqa: E402
from grader.gradebook.store import Gradebook  # noqa: E402


def fresh_copy(template: Path, where: Path) -> Path:
    if where.exists():
        shutil.rmtree(where)
    shutil.copytree(template, where, symlinks=True)
    return where


def timed_batch(course_root: Path, **options) -> tuple[float, object]:
    course = load_course(course_root)
    with Gradebook.open(course.gradebook_url) as gb:
        t0 = time.perf_counter()
        summary = run_batch(course, gb, **options)
        return time.perf_counter() - t0, summary


class DaskCluster:
    """A scheduler and two single-threaded workers on 127.0.0.1."""

    def __enter__(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.address = f"tcp://127.0.0.1:{port}"
        dask = str(Path(sys.executable).parent / "dask")
        self.procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                        "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
        self.procs += [subprocess.Popen([dask, "worker", self.address, "--nthreads", "1", "--no-dashboard"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
        from distributed import Client
        with Client(self.address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            p.wait(timeout=30)


def render_reports(course_root: Path, lang: str) -> float:
    """Seconds to write every learner's report and the dashboard from the gradebook."""
    from grader.report.views import write_reports
    course = load_course(course_root)
    with Gradebook.open(course.gradebook_url) as gb:
        t0 = time.perf_counter()
        written = write_reports(course, gb, course_root / "reports" / lang, lang)
        seconds = time.perf_counter() - t0
    assert len(written["learners"]) > 0
    return seconds


def cohort_bench(args) -> None:
    base = Path(args.out)
    t0 = time.perf_counter()
    template = make_cohort(base / "template", args.learners, args.exercise)
    n = len(load_course(template).exercise_ids) if not args.exercise else len(args.exercise)
    print(f"cohort: {args.learners} learners x {n} exercises, made in {time.perf_counter() - t0:.1f} s", flush=True)
    results: dict[str, list[float]] = {"1 local worker": [], "2 local workers": [], "2-worker Dask (loopback)": [],
                                       "regrade, unchanged cohort (2 local workers)": []}
    graded = None
    with DaskCluster() as cluster:
        for run in range(args.runs):
            for label, options in (("1 local worker", {"workers": 1}), ("2 local workers", {"workers": 2}),
                                   ("2-worker Dask (loopback)", {"scheduler": cluster.address})):
                root = fresh_copy(template, base / "run")
                seconds, summary = timed_batch(root, **options)
                assert summary.failed == 0, summary.rows[:3]
                graded = summary.graded
                results[label].append(seconds)
                print(f"run {run + 1}: {label}: {seconds:.1f} s ({summary.graded} graded)", flush=True)
                if label == "2 local workers":
                    seconds, summary = timed_batch(root, workers=2)
                    assert summary.graded == 0 and summary.cached == graded
                    results["regrade, unchanged cohort (2 local workers)"].append(seconds)
                    for lang in ("fa", "en"):
                        seconds = render_reports(root, lang)
                        results.setdefault(f"reports for the cohort ({lang}: pages + dashboard)", []).append(seconds)
    print(f"\n{'configuration':48} {'median (s)':>10} {'gradings/s':>11}  runs")
    for label, times in results.items():
        med = statistics.median(times)
        rate = f"{graded / med:11.2f}" if label[0].isdigit() else f"{'-':>11}"
        print(f"{label:48} {med:10.2f} {rate}  {' '.join(f'{t:.1f}' for t in times)}")
    ratio = statistics.median(results["2-worker Dask (loopback)"]) / statistics.median(results["2 local workers"])
    print(f"Dask / local pool (2 workers each, medians of this run): {ratio:.2f} (goal: at most 1.10)")


def rss_mib() -> float:
    """This process's resident memory now (MiB), from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measured_batch(root: Path, **options) -> tuple[float, object, list[tuple[int, float]]]:
    """A batch with its RSS sampled every 5% of the gradings: [(gradings done, MiB)]."""
    from grader.cli.progress import BatchProgress
    course = load_course(root)
    samples: list[tuple[int, float]] = []
    with Gradebook.open(course.gradebook_url) as gb, BatchProgress(stream=sys.stderr, terminal=False) as progress:
        every = [1]

        def on_plan(n_tasks, n_cached):
            every[0] = max(1, n_tasks // 20)
            progress.on_plan(n_tasks, n_cached)
            samples.append((0, rss_mib()))

        def on_result(status, task, result):
            progress.on_result(status, task, result)
            if progress.finished % every[0] == 0:
                samples.append((progress.finished, rss_mib()))
        t0 = time.perf_counter()
        summary = run_batch(course, gb, on_plan=on_plan, on_result=on_result, **options)
        return time.perf_counter() - t0, summary, samples


def kill_and_resume(template: Path, base: Path, expected: int) -> None:
    """kill -9 the coordinator of `dlgrade autograde --workers 2` a third of the way, then resume."""
    import os
    import signal
    root = fresh_copy(template, base / "killed")
    db = root / "gradebook.sqlite"

    def recorded() -> dict[str, int]:
        with Gradebook.open(str(db)) as gb:
            return {r.key: r.attempts for r in gb.grading_rows()}
    dlgrade = str(Path(sys.executable).parent / "dlgrade")
    proc = subprocess.Popen([dlgrade, "autograde", "--workers", "2"], cwd=root, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    while proc.poll() is None and len(recorded()) < expected // 3:
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = recorded()
    seconds, summary = timed_batch(root, workers=2)
    after = recorded()
    lost = [k for k in before if k not in after]
    repeated = [k for k, n in after.items() if n > 1]
    ok = (not lost and not repeated and len(after) == expected and summary.cached == len(before)
          and summary.graded == expected - len(before))
    print(f"kill -9 + resume: {len(before)} recorded before the kill, resume graded {summary.graded} and "
          f"found {summary.cached} cached in {seconds:.1f} s; {len(after)}/{expected} recorded, lost {len(lost)}, "
          f"graded twice {len(repeated)}: {'OK' if ok else 'FAILED'}", flush=True)
    assert ok


def scale_bench(args) -> None:
    base = Path(args.out)
    t0 = time.perf_counter()
    template = make_cohort(base / "template", args.learners, args.exercise)
    print(f"cohort: {args.learners} learners x {len(args.exercise)} exercises, made in "
          f"{time.perf_counter() - t0:.1f} s", flush=True)
    walls = {}
    with DaskCluster() as cluster:
        for label, options in (("2 local workers", {"workers": 2}),
                               ("2-worker Dask (loopback)", {"scheduler": cluster.address})):
            root = fresh_copy(template, base / "run")
            seconds, summary, samples = measured_batch(root, **options)
            assert summary.failed == 0, summary.rows[:3]
            walls[label] = seconds
            mid = [mib for n, mib in samples if n >= summary.graded // 4]
            print(f"{label}: {summary.graded} gradings in {seconds:.1f} s = {summary.graded / seconds:.2f} gradings/s;"
                  f" coordinator RSS {samples[0][1]:.0f} MiB at start, {min(mid):.0f}-{max(mid):.0f} MiB from a "
                  f"quarter of the way to the end, peak (whole process) {peak_rss_mib():.0f} MiB", flush=True)
            print("  RSS (gradings done: MiB): " + ", ".join(f"{n}: {mib:.0f}" for n, mib in samples), flush=True)
    ratio = walls["2-worker Dask (loopback)"] / walls["2 local workers"]
    print(f"Dask / local pool wall time: {ratio:.2f} (goal: at most 1.10)", flush=True)
    kill_and_resume(template, base, summary.graded)


def zygote_bench(args) -> None:
    """Per-grading time of one Keras exercise's reference, one worker, with and without the zygote."""
    from grader.exercise.spec import find_exercise
    from grader.batch.worker import run_task
    ex = find_exercise(args.keras_exercise)
    task = {"task_id": "z", "exercise_dir": str(ex.directory), "solutions_dir": str(ex.solution_dir.parent),
            "submission_path": str(ex.solution), "device": "cpu", "hoda_dir": ""}
    rows = {}
    for label, use in (("fresh sandbox per grading", False), ("fork from the worker's zygote", True)):
        times = []
        for _ in range(args.zygote_gradings):
            t0 = time.perf_counter()
            out = run_task(task, slot=9, use_zygote=use)
            times.append(time.perf_counter() - t0)
            assert "result" in out and out["result"]["score"] == out["result"]["max_score"], out.get("error")
        rows[label] = times
        print(f"{label}: " + " ".join(f"{t:.2f}" for t in times), flush=True)
    fresh = statistics.median(rows["fresh sandbox per grading"][1:])
    forked = statistics.median(rows["fork from the worker's zygote"][1:])
    print(f"\n{ex.id}: median per grading (first grading of each left out): fresh {fresh:.2f} s, "
          f"zygote {forked:.2f} s, saved {fresh - forked:.2f} s per grading ({fresh / forked:.2f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--exercise", action="append", help="default: perceptron and conv-arithmetic")
    parser.add_argument("--out", default="/tmp/dlgrade-batch-bench")
    parser.add_argument("--zygote", action="store_true", help="run the zygote comparison instead")
    parser.add_argument("--scale", action="store_true", help="run the scale check instead (see above)")
    parser.add_argument("--keras-exercise", default="keras-mlp")
    parser.add_argument("--zygote-gradings", type=int, default=6)
    args = parser.parse_args()
    if args.zygote:
        zygote_bench(args)
        return
    args.exercise = args.exercise or ["perceptron", "conv-arithmetic"]
    if args.scale:
        scale_bench(args)
        return
    cohort_bench(args)


if __name__ == "__main__":
    main()
