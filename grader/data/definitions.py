"""The course's data definitions (``datasets/*.toml``: which data, which split, which
preprocessing), found in the checkout or in the installed package."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from grader.data.errors import DataError

__all__ = ["definitions", "load_definition"]

def _definitions_dir() -> Path:
    package = Path(__file__).resolve().parent.parent  # the grader package
    checkout = package.parent / "datasets"
    if (checkout / "hoda.toml").is_file():
        return checkout
    installed = package / "course_data"
    if installed.is_dir():
        return installed
    raise DataError(
        f"the course's data definitions are missing (looked in {checkout} and {installed}):"
        " run from a checkout of dlgrade or reinstall it"
    )


def definitions() -> list[str]:
    """Names of the data definitions available (the TOML files in datasets/)."""
    return sorted(p.stem for p in _definitions_dir().glob("*.toml"))


def load_definition(name: str) -> dict:
    """One data definition (``datasets/<name>.toml``) as a dict, e.g. ``load_definition("hoda")``."""
    folder = _definitions_dir()
    available = sorted(p.stem for p in folder.glob("*.toml"))
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", name) or name not in available:
        raise DataError(f"unknown data definition {name!r}: use one of {', '.join(available)}")
    path = folder / f"{name}.toml"
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{path}: not valid TOML ({exc}); fix the file") from None
