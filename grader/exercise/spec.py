"""Exercises: where they live, what `exercise.toml` says, and their content hashes."""

from __future__ import annotations

import hashlib
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from grader.exercise.modelsize import Caps
from grader.sandbox.limits import Limits

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # the grader package
GPU_MODES = ("no", "optional")  # [limits] gpu


class SpecError(Exception):
    """An exercise that cannot be found or whose definition is invalid (learner-facing text)."""


def exercises_root() -> Path:
    """The learner-facing exercises: `exercises/` next to the package in a checkout, or the
    copy installed with the package."""
    env = os.environ.get("DLGRADE_EXERCISES")
    if env:
        return Path(env)
    checkout = PACKAGE_DIR.parent / "exercises"
    if checkout.is_dir():
        return checkout
    return PACKAGE_DIR / "exercises"


def solutions_root() -> Path | None:
    """The instructor's solutions: `--solutions`/`DLGRADE_SOLUTIONS`, else `solutions/` of the
    checkout the package runs from. None when there are none (a learner's install)."""
    env = os.environ.get("DLGRADE_SOLUTIONS")
    candidates = [Path(env)] if env else [PACKAGE_DIR.parent / "solutions"]
    for c in candidates:
        if c.is_dir():
            return c
    return None


def hash_files(paths: list[tuple[str, Path]]) -> str:
    """sha256 over (name, content) pairs, in name order."""
    h = hashlib.sha256()
    for name, path in sorted(paths):
        data = path.read_bytes()
        h.update(name.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
    return h.hexdigest()


@dataclass
class Exercise:
    """One exercise: its learner folder, its (optional) solution folder and its settings."""

    id: str
    directory: Path
    solution_dir: Path | None
    entry: str
    functions: list[str]
    title: dict[str, str]
    points: dict[str, int]
    limits: Limits
    gpu: str = "no"
    seeds: list[str] = field(default_factory=list)
    preload: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    caps: Caps = field(default_factory=Caps)  # [caps]: what a learner's model may cost the trusted side

    @property
    def public_tests(self) -> Path:
        return self.directory / "test_public.py"

    @property
    def hidden_tests(self) -> Path | None:
        if self.solution_dir is None:
            return None
        p = self.solution_dir / "test_hidden.py"
        return p if p.is_file() else None

    @property
    def solution(self) -> Path | None:
        if self.solution_dir is None:
            return None
        p = self.solution_dir / "solution.py"
        return p if p.is_file() else None

    @property
    def template(self) -> Path:
        return self.directory / "template.py"

    def content_hash(self) -> str:
        """Hash of everything that decides a grade: the exercise files and, where present, the
        reference solution and hidden tests."""
        files = [(f"exercise/{p.name}", p) for p in sorted(self.directory.iterdir()) if p.is_file()]
        if self.solution_dir is not None:
            files += [(f"solution/{p.name}", p) for p in sorted(self.solution_dir.iterdir()) if p.is_file()]
        return hash_files(files)


# --- the schema of exercise.toml --------------------------------------------------------------

class LimitsTable(BaseModel):
    """[limits]: what one grading of the exercise may use (grader.sandbox.limits.Limits)."""

    model_config = ConfigDict(extra="forbid")
    wall_seconds: float = Field(60.0, gt=0)
    test_seconds: float = Field(10.0, gt=0)
    memory_mb: int = Field(1024, gt=0)
    processes: int = Field(64, gt=0)
    start_seconds: float = Field(60.0, gt=0)
    gpu: Literal["no", "optional"] = "no"

    def limits(self) -> Limits:
        return Limits(wall_seconds=self.wall_seconds, test_seconds=self.test_seconds, memory_mb=self.memory_mb,
                      processes=self.processes, start_seconds=self.start_seconds)


class ExerciseFile(BaseModel):
    """exercise.toml. Tables it does not name (e.g. [threshold]) are the exercise tests' own and
    are kept in `Exercise.extra`."""

    model_config = ConfigDict(extra="allow")
    id: str
    entry: str
    functions: list[str]
    title: dict[str, str] = Field(default_factory=dict)
    points: dict[str, int] = Field(default_factory=dict)
    limits: LimitsTable = Field(default_factory=LimitsTable)
    seeds: list[str] = Field(default_factory=list)
    preload: list[str] = Field(default_factory=list)
    caps: dict[str, Any] = Field(default_factory=dict)

    @field_validator("entry")
    @classmethod
    def _entry(cls, value: str) -> str:
        if not value.endswith(".py") or "/" in value or value.startswith("."):
            raise ValueError("must be a Python file name such as \"perceptron.py\"")
        return value


_FIXES = {
    "id": 'the exercise\'s folder name, e.g. id = "perceptron"',
    "entry": 'the learner\'s file, e.g. entry = "perceptron.py"',
    "functions": 'the functions the learner writes, e.g. functions = ["step", "predict"]',
    "title": 'a title per language, e.g. [title] en = "The perceptron"',
    "points": "whole points per test suite, e.g. [points] public = 10",
    "limits": "see the [limits] keys: " + ", ".join(LimitsTable.model_fields),
}


def _explain(error: dict) -> str:
    """One pydantic error as `[table] key: problem; fix`."""
    loc = [str(part) for part in error["loc"]]
    key = ".".join(loc) or "exercise.toml"
    if error["type"] == "missing":
        problem = f"missing `{key}`"
    elif error["type"] == "extra_forbidden":
        problem = f"unknown key `{key}`"
    else:
        problem = f"`{key}` {error['msg'][0].lower()}{error['msg'][1:]}"
    fix = _FIXES["limits"] if loc and loc[0] == "limits" else _FIXES.get(loc[0] if loc else "", "")
    return f"{problem}; {fix}" if fix else problem


def load_exercise(directory: Path, solutions: Path | None = None) -> Exercise:
    """Read `directory/exercise.toml`; pair it with `solutions/<id>/` when there is one. SpecError
    names the file, the key and the fix."""
    toml_path = directory / "exercise.toml"
    try:
        data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(f"{directory} has no exercise.toml") from None
    except UnicodeDecodeError:
        raise SpecError(f"{toml_path} is not UTF-8 text; save it as UTF-8") from None
    except tomllib.TOMLDecodeError as err:
        raise SpecError(f"{toml_path} is not valid TOML: {err}") from None
    try:
        spec = ExerciseFile.model_validate(data)
    except ValidationError as err:
        raise SpecError(f"{toml_path}: {_explain(err.errors()[0])}") from None
    if spec.id != directory.name:
        raise SpecError(f"{toml_path}: id {spec.id!r} differs from the folder name {directory.name!r}; "
                        "make them the same")
    sol_dir = None
    if solutions is not None and (solutions / spec.id).is_dir():
        sol_dir = solutions / spec.id
    try:
        caps = Caps.from_table(spec.caps, str(toml_path))
    except ValueError as err:
        raise SpecError(str(err)) from None
    return Exercise(id=spec.id, directory=directory, solution_dir=sol_dir, entry=spec.entry,
                    functions=list(spec.functions), title=dict(spec.title or {"en": spec.id}),
                    points=dict(spec.points), limits=spec.limits.limits(), gpu=spec.limits.gpu,
                    seeds=list(spec.seeds), preload=list(spec.preload), caps=caps,
                    extra=dict(spec.model_extra or {}))


def all_exercises(root: Path | None = None, solutions: Path | None | bool = True) -> list[Exercise]:
    """Every exercise under `root` (default: `exercises_root()`), sorted by id."""
    root = root or exercises_root()
    sol = solutions_root() if solutions is True else (solutions or None)
    return [load_exercise(d, sol) for d in sorted(root.iterdir()) if (d / "exercise.toml").is_file()]


def find_exercise(ex_id: str, root: Path | None = None, solutions: Path | None | bool = True) -> Exercise:
    """The exercise with this id, or SpecError listing the ones there are."""
    exercises = all_exercises(root, solutions)
    for ex in exercises:
        if ex.id == ex_id:
            return ex
    names = ", ".join(e.id for e in exercises) or "none"
    raise SpecError(f"unknown exercise {ex_id!r}; the exercises are: {names} (see `dlgrade list`)")
