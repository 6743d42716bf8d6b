"""The [server] table of course.toml: what `dlgrade serve` allows (upload size, file count, the rate
per learner and exercise, grading on submit, the public base URL, a slow client's timeout).

```toml
[server]
base_url = "https://grader.example.org"   # the address learners use (needed with --public)
max_upload_mb = 20                        # one upload's whole body
max_files = 20                            # files in one upload
rate_per_hour = 30                        # uploads per learner and exercise in any hour
grade_on_submit = "none"                  # "none" | "public" | "hidden"
upload_idle_s = 30                        # a client that sends nothing for this long is cut off (408)
```
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from grader.course.errors import CourseError

GRADE_ON_SUBMIT = ("none", "public", "hidden")
SERVER_FOLDER = "server"  # <course>/server/: uploads/ and the server's own files
UPLOADS = "uploads"


@dataclass(frozen=True)
class ServerSettings:
    """What the server allows; `ServerSettings()` is the default of a course without [server]."""

    base_url: str = ""
    max_upload_mb: float = 20.0
    max_files: int = 20
    rate_per_hour: int = 30
    grade_on_submit: str = "none"
    upload_idle_s: float = 30.0

    @property
    def max_upload_bytes(self) -> int:
        """The largest body an upload may have, in bytes."""
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def https(self) -> bool:
        """Whether learners reach the server over https (cookies are then `Secure`)."""
        return self.base_url.lower().startswith("https://")

    def with_values(self, **values: Any) -> "ServerSettings":
        """A copy with some values changed and checked (as course.toml's would be)."""
        return check_settings({**{f.name: getattr(self, f.name) for f in fields(self)}, **values}, "settings")


def _number(where: str, key: str, value: Any, low: float, high: float, integer: bool = False) -> float:
    bad = isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
        or not low <= value <= high or (integer and value != int(value))
    if bad:
        kind = "a whole number" if integer else "a number"
        raise CourseError(f"{where}: [server] `{key}` must be {kind} from {low:g} to {high:g}, not {value!r}")
    return int(value) if integer else float(value)


def check_base_url(value: Any, where: str = "[server] base_url") -> str:
    """A base URL as given (http(s)://host[:port][/path], no query), without its trailing '/'; else
    CourseError."""
    if not isinstance(value, str):
        raise CourseError(f"{where} must be a string such as \"https://grader.example.org\", not {value!r}")
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise CourseError(f"{where} {value!r} is not a base URL; give one such as \"https://grader.example.org\"")
    return value.rstrip("/")


def check_settings(table: dict, source: str) -> ServerSettings:
    """ServerSettings from a [server] table; CourseError naming the file, the key and the fix."""
    known = {f.name for f in fields(ServerSettings)}
    for key in table:
        if key not in known:
            raise CourseError(f"{source}: unknown key `{key}` in [server]; the keys are: {', '.join(sorted(known))}")
    s = ServerSettings()
    values: dict[str, Any] = {}
    if "base_url" in table:
        values["base_url"] = check_base_url(table["base_url"], f"{source}: [server] base_url")
    if "max_upload_mb" in table:
        values["max_upload_mb"] = _number(source, "max_upload_mb", table["max_upload_mb"], 0.001, 1024)
    if "max_files" in table:
        values["max_files"] = _number(source, "max_files", table["max_files"], 1, 1000, integer=True)
    if "rate_per_hour" in table:
        values["rate_per_hour"] = _number(source, "rate_per_hour", table["rate_per_hour"], 1, 100_000, integer=True)
    if "upload_idle_s" in table:
        values["upload_idle_s"] = _number(source, "upload_idle_s", table["upload_idle_s"], 0.1, 3600)
    if "grade_on_submit" in table:
        mode = table["grade_on_submit"]
        if mode not in GRADE_ON_SUBMIT:
            raise CourseError(f"{source}: [server] `grade_on_submit` must be one of "
                              f"{', '.join(repr(m) for m in GRADE_ON_SUBMIT)}, not {mode!r}")
        values["grade_on_submit"] = mode
    return replace(s, **values)


def load_settings(course) -> ServerSettings:
    """The [server] settings of a course (defaults where course.toml says nothing)."""
    path = Path(course.toml_path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise CourseError(f"cannot read {path}: {getattr(err, 'strerror', None) or err}") from None
    table = data.get("server", {})
    if not isinstance(table, dict):
        raise CourseError(f"{path}: `server` must be a table ([server])")
    return check_settings(table, str(path))


def uploads_root(course) -> Path:
    """Where the server stores uploaded files: `<course>/server/uploads`."""
    return Path(course.root) / SERVER_FOLDER / UPLOADS


__all__ = ["ServerSettings", "GRADE_ON_SUBMIT", "check_settings", "check_base_url", "load_settings", "uploads_root"]
