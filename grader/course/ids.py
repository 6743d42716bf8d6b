"""The one id rule: student, course and exercise ids are also folder names in the exchange, the
course and the reports, so they must be safe as one path component on every file system."""

from __future__ import annotations

import re

ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")


def check_id(value: object, what: str) -> str:
    """`value` when it is a valid id (1-64 of A-Z a-z 0-9 . _ -, not starting with '.', no '..');
    else ValueError naming `what` and the rule."""
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value) or value.startswith(".") or ".." in value:
        raise ValueError(f"{what} {value!r} is not a valid id: use 1-64 letters, digits, '.', '_' or '-' "
                         "(not starting with '.', no '..')")
    return value


def is_id(value: object) -> bool:
    """Whether `value` passes check_id."""
    try:
        check_id(value, "id")
    except ValueError:
        return False
    return True


def id_from_name(name: str, fallback: str = "course") -> str:
    """An id made from a free name (a folder's): other characters become '-' (check it with check_id:
    a name with '..' stays invalid)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-")[:64] or fallback


__all__ = ["ID_PATTERN", "check_id", "is_id", "id_from_name"]
