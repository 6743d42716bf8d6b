"""Time: the one parser of timestamps (ISO text or datetimes, always to aware UTC) and the one
formatter, so every stage reads and writes moments the same way. Standard library only."""

from __future__ import annotations

from datetime import datetime, timezone

UTC = timezone.utc


def as_utc(value: datetime | str) -> datetime:
    """An aware UTC datetime from a datetime (naive means UTC) or an ISO 8601 string ("Z" or an
    offset; none means UTC). ValueError for text that is not ISO 8601, TypeError for other types."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.strip())  # Python >= 3.11 reads "Z"
    if not isinstance(value, datetime):
        raise TypeError(f"{value!r} is not a date and time; give a datetime or an ISO 8601 string")
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def now_utc() -> datetime:
    """The current moment, aware, in UTC."""
    return datetime.now(UTC)


def iso(moment: datetime | str, *, micro: bool = True) -> str:
    """ISO 8601 text in UTC with a Z: `2026-12-01T23:59:00.000000Z` (seconds only without `micro`)."""
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ" if micro else "%Y-%m-%dT%H:%M:%SZ")


def stamp(moment: datetime | str) -> str:
    """A compact UTC stamp for file names: `20261201T235900Z`."""
    return as_utc(moment).strftime("%Y%m%dT%H%M%SZ")


__all__ = ["UTC", "as_utc", "now_utc", "iso", "stamp"]
