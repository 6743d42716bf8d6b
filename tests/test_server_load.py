"""The server under load on loopback: 200 simulated learners submit at once (a small file each);
then a `kill -9` of `dlgrade serve` while a second wave uploads, and a restart. Every acknowledged
submission is there exactly once, with its files; no unacknowledged one is half there (no row
without its files, no half-written folder, no complete folder whose content is not its name); the
learners whose upload got no answer submit again and each has exactly its two submissions."""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import time
from pathlib import Path

import pytest

from grader.gradebook.store import Gradebook
from grader.server.uploads import INCOMING, content_hash
from pg import fresh_database
from pg import postgres_url  # noqa: F401
from server_course import Server, Upload, make_course, small_source, upload_all

LEARNERS = [f"l{n:03d}" for n in range(200)]
KILL_AFTER = 40  # the second wave's acknowledgements before the server is killed


@pytest.fixture(params=["sqlite", "postgresql"])
def crowd(request, tmp_path_factory):
    """200 learners with tokens, on a SQLite gradebook or a PostgreSQL one (a fresh database)."""
    url = None
    if request.param == "postgresql":
        url = fresh_database(request.getfixturevalue("postgres_url"), "load")
    root = tmp_path_factory.mktemp("load")
    course, tokens = make_course(root, LEARNERS, gradebook=url)
    return root, course, tokens


def stored(course: Path) -> list:
    """Every submission row of the course's gradebook."""
    from grader.course.config import load_course
    with Gradebook.open(load_course(course).gradebook_url) as gb:
        return gb.submission_rows()


def crowd_db(course: Path) -> str:
    from grader.course.config import load_course
    return load_course(course).gradebook_url.split(":", 1)[0]


def folder_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def check_storage(course: Path) -> tuple[list, int]:
    """Every row has its folder with exactly the content its sha256 names; no temporary upload
    folder is left; every content folder holds what its name says. Returns (rows, folders that no
    row names: complete, never acknowledged)."""
    rows = stored(course)
    uploads = course / "server" / "uploads"
    for row in rows:
        folder = Path(row.path)
        assert folder.is_dir() and folder.parent.parent == uploads, row
        assert content_hash(folder_files(folder)) == row.sha256 == folder.name, row
    assert not [p for p in uploads.iterdir() if p.name.startswith(INCOMING)], "a half-written upload was left"
    named = {Path(r.path) for r in rows}
    unnamed = 0
    for shard in uploads.iterdir():
        for folder in shard.iterdir():
            assert content_hash(folder_files(folder)) == folder.name, f"{folder} is half there"
            unnamed += folder not in named
    return rows, unnamed


def test_200_learners_at_once_then_a_kill_9_during_uploads_loses_and_doubles_nothing(crowd):
    root, course, tokens = crowd
    server = Server(course, root / "serve.log").start()
    try:
        # wave 1: 200 learners at once
        t0 = time.perf_counter()
        wave1 = asyncio.run(upload_all(server.url, [Upload(w, tokens[w], "perceptron", small_source(w, 1))
                                                     for w in LEARNERS]))
        took = time.perf_counter() - t0
        bad = [(u.learner, u.status, u.error) for u in wave1 if u.status != 201]
        assert not bad, bad[:5]
        assert len({u.receipt["submission_id"] for u in wave1}) == 200
        for u in wave1:
            assert u.receipt["student"] == u.learner and u.receipt["sha256"] == content_hash(u.files)
        latencies = sorted(u.seconds for u in wave1)
        print(f"\n200 uploads at once ({crowd_db(course)}): {took:.1f} s, {200 / took:.0f}/s, p50 {latencies[99] * 1000:.0f} ms, "
              f"p99 {latencies[197] * 1000:.0f} ms")
        assert took < 60

        # wave 2: new content from everyone; kill -9 once KILL_AFTER of them are acknowledged
        acked = []

        def on_answer(u: Upload) -> None:
            if u.acknowledged:
                acked.append(u)
                if len(acked) == KILL_AFTER and server.proc.poll() is None:
                    os.kill(server.proc.pid, signal.SIGKILL)
        wave2 = asyncio.run(upload_all(server.url, [Upload(w, tokens[w], "perceptron", small_source(w, 2))
                                                    for w in LEARNERS], on_answer=on_answer, timeout=30))
        server.kill9()
    finally:
        server.stop()
    answered = [u for u in wave2 if u.acknowledged]
    lost = [u for u in wave2 if not u.acknowledged]
    assert len(answered) >= KILL_AFTER and lost, "the kill came after every upload was answered"
    assert all(u.status is None for u in lost), [(u.status, u.error) for u in lost if u.status is not None][:5]

    # restart: the server cleans what the kill left; every acknowledged submission is there once
    server = Server(course, root / "serve2.log").start()
    try:
        rows, unnamed = check_storage(course)
        count = collections.Counter((r.student_id, r.exercise_id, r.sha256) for r in rows)
        by_id = {r.id: r for r in rows}
        for u in [*wave1, *answered]:
            r = by_id[u.receipt["submission_id"]]
            assert (r.student_id, r.sha256) == (u.learner, u.receipt["sha256"])
            assert count[(r.student_id, r.exercise_id, r.sha256)] == 1
        in_flight = len(rows) - 200 - len(answered)  # committed, but the answer died with the server
        print(f"kill -9 after {len(answered)} acknowledged of wave 2: {len(lost)} without an answer, "
              f"{in_flight} of those committed (their answer lost), {unnamed} complete folder(s) without a row")

        # the learners without an answer submit again: a new receipt, or the one the kill swallowed
        retry = asyncio.run(upload_all(server.url, [Upload(u.learner, u.token, u.exercise, u.files) for u in lost]))
        assert all(u.status in (200, 201) for u in retry), [(u.status, u.error) for u in retry][:5]
        assert sum(u.status == 200 and u.receipt["duplicate"] for u in retry) == in_flight
        rows, unnamed = check_storage(course)
        assert unnamed == 0  # every folder the kill left complete is now the one its retry names
        per_learner = collections.Counter(r.student_id for r in rows)
        assert set(per_learner) == set(LEARNERS) and set(per_learner.values()) == {2}
        assert len({(r.student_id, r.sha256) for r in rows}) == 400
    finally:
        server.stop()
