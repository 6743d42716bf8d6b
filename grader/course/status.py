"""What a learner (or the instructor) sees of the exchange: the submissions there, oldest first."""

from __future__ import annotations

from pathlib import Path

from grader.course.errors import ExchangeError
from grader.course.folders import INBOUND, RECORD, subdirs
from grader.course.identity import _id
from grader.course.records import BadRecord, parse_record, sort_key


def _load_record(folder: Path, student: str, exercise: str) -> tuple[dict | None, str | None]:
    """(record, None) or (None, why it is damaged)."""
    meta = folder / RECORD
    try:
        if meta.is_symlink():
            return None, f"{RECORD} is a symbolic link"
        raw = meta.read_bytes()
    except FileNotFoundError:
        return None, f"no {RECORD}"
    except OSError as err:
        return None, f"unreadable {RECORD} ({type(err).__name__})"
    try:
        record = parse_record(raw, student, exercise)
    except BadRecord as err:
        return None, str(err)
    return {**record, "id": folder.name, "path": str(folder)}, None


def status(exchange_root: Path | str, student: str | None = None, exercise: str | None = None) -> list[dict]:
    """The submissions in the exchange (of one student and/or one exercise), oldest first. Each is
    its submission.json plus `id` (the folder name) and `path`; damaged ones are left out."""
    root = Path(exchange_root).expanduser()
    if not root.is_dir():
        raise ExchangeError(f"the exchange folder {root} does not exist; check [exchange] path in course.toml")
    inbound = root / INBOUND
    students = [inbound / _id(student, "student id")] if student is not None else subdirs(inbound)
    records = []
    for sdir in students:
        if sdir.is_symlink():
            continue
        exdirs = [sdir / _id(exercise, "exercise id")] if exercise is not None else subdirs(sdir)
        for edir in exdirs:
            if edir.is_symlink():
                continue
            for sub in subdirs(edir):
                record, _ = _load_record(sub, sdir.name, edir.name)
                if record is not None:
                    records.append(record)
    return sorted(records, key=sort_key)


__all__ = ["status"]
