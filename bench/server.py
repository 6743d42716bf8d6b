"""Uploads to `dlgrade serve` on loopback: submissions per second and p50/p99 latency for 50 and
200 concurrent learners (figures, not pass/fail).

A course is made once (`dlgrade init`, a server roster of the largest crowd, tokens), served by
`dlgrade serve` in a subprocess (uvicorn, one process, SQLite gradebook, uploads fsynced and renamed
into place), then each crowd size runs `--rounds` waves: every learner of the crowd uploads a small
perceptron.py of its own at the same moment (asyncio + httpx, one connection per learner, as
separate machines would). Throughput is the wave's uploads over its wall time; latency is each
upload's, from the request to the receipt. Every upload must be answered 201.

    python bench/server.py [--crowds 50,200] [--rounds 3] [--grade-on-submit none|public] [--gradebook URL]

`--grade-on-submit public` runs the public tests of every upload in the background while the next
waves arrive (the grading workers compete with the server for the CPUs).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO / "tests") not in sys.path:
    sys.path.append(str(REPO / "tests"))  # last: tests/ lends its served course, shadows nothing
from server_course import Server, Upload, make_course, small_source, upload_all  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def wave(url: str, learners: list[str], tokens: dict[str, str], version: int) -> tuple[float, list[float]]:
    """One wave: every learner uploads at once; (wall seconds, each upload's latency)."""
    uploads = [Upload(w, tokens[w], "perceptron", small_source(w, version)) for w in learners]
    t0 = time.perf_counter()
    asyncio.run(upload_all(url, uploads))
    took = time.perf_counter() - t0
    bad = [(u.learner, u.status, u.error) for u in uploads if u.status != 201]
    if bad:
        raise SystemExit(f"{len(bad)} upload(s) were not accepted, e.g. {bad[:3]}")
    return took, [u.seconds for u in uploads]


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print one line per crowd size."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--crowds", default="50,200", help="concurrent learners per wave, comma-separated")
    parser.add_argument("--rounds", type=int, default=3, help="waves per crowd size (at most 25: the rate limit)")
    parser.add_argument("--grade-on-submit", choices=("none", "public"), default="none")
    parser.add_argument("--gradebook", default=None, metavar="URL", help="the gradebook (default: a SQLite file in "
                        "the course), e.g. postgresql+psycopg://user@127.0.0.1:5432/db (an empty database)")
    parser.add_argument("--keep", action="store_true", help="keep the course folder (its path is printed)")
    args = parser.parse_args(argv)
    crowds = [int(c) for c in args.crowds.split(",") if c.strip()]
    rounds = max(1, min(25, args.rounds))
    learners = [f"l{n:04d}" for n in range(max(crowds))]
    work = Path(tempfile.mkdtemp(prefix="dlgrade-bench-server-"))
    try:
        course, tokens = make_course(work, learners, server={"grade_on_submit": args.grade_on_submit,
                                                             "rate_per_hour": 1000}, gradebook=args.gradebook)
        database = args.gradebook.split(":", 1)[0] if args.gradebook else "SQLite"
        print(f"dlgrade serve on loopback, {database} gradebook, grade_on_submit = {args.grade_on_submit}, "
              f"{rounds} wave(s) per crowd, one small .py file per upload")
        version = 0
        with Server(course, work / "serve.log") as server:
            wave(server.url, learners[:10], tokens, version)  # warm up: imports, first connections
            for crowd in crowds:
                walls, latencies = [], []
                for _ in range(rounds):
                    version += 1
                    took, lat = wave(server.url, learners[:crowd], tokens, version)
                    walls.append(took)
                    latencies += lat
                total = crowd * rounds
                print(f"{crowd:4d} concurrent learners: {total / sum(walls):6.1f} submissions/s "
                      f"(best wave {crowd / min(walls):.1f}/s), latency p50 {percentile(latencies, 50) * 1000:6.0f} ms, "
                      f"p99 {percentile(latencies, 99) * 1000:6.0f} ms, mean {statistics.mean(latencies) * 1000:.0f} ms "
                      f"({total} uploads)")
    finally:
        if args.keep:
            print(f"course kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
