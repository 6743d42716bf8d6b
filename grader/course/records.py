"""A submission's record (`submission.json`): what `submit` writes and the one check that
`status` and `collect` apply to what they read back (a learner may have edited it)."""

from __future__ import annotations

import hashlib
import json

from grader.clock import as_utc
from grader.course.folders import RECORD

RECORD_FORMAT = 1
MAX_RECORD_BYTES = 256 * 1024


class BadRecord(ValueError):
    """A submission.json that cannot be trusted; the message is the reason, in a few words."""


def parse_record(raw: bytes | str, student: str, exercise: str) -> dict:
    """The record from the text of a submission.json found in `<student>/<exercise>/`, checked:
    an object that names them, a valid submitted_at, a non-empty list of file names and a sha256.
    BadRecord otherwise."""
    try:
        record = json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BadRecord(f"unreadable {RECORD} ({type(err).__name__})") from None
    if not isinstance(record, dict):
        raise BadRecord(f"{RECORD} is not an object")
    if record.get("student") != student or record.get("exercise") != exercise:
        raise BadRecord(f"{RECORD} names another student or exercise")
    try:
        as_utc(record["submitted_at"])
    except (KeyError, TypeError, ValueError):
        raise BadRecord("no valid submitted_at") from None
    files = record.get("files")
    if not isinstance(files, list) or not files or not all(isinstance(f, str) for f in files) \
            or not isinstance(record.get("sha256"), str):
        raise BadRecord("no valid files/sha256")
    return record


def hash_contents(contents: dict[str, bytes]) -> str:
    """sha256 over (name, content) pairs in name order: the digest spec.hash_files gives for the
    same files on disk, over bytes already read."""
    h = hashlib.sha256()
    for name in sorted(contents):
        data = contents[name]
        h.update(name.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
    return h.hexdigest()


def sort_key(record: dict):
    """Oldest first; the same second: the shorter folder name (no -2 suffix) first."""
    return (as_utc(record["submitted_at"]), len(record["id"]), record["id"])


__all__ = ["RECORD", "RECORD_FORMAT", "MAX_RECORD_BYTES", "BadRecord", "parse_record", "hash_contents", "sort_key"]
