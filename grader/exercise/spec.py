"""Exercises: where they live, what `exercise.toml` says, and their content hashes."""

from __future__ import annotations

import hashlib
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from grader.exercise.modelsize import Caps
from grader.sandbox.process import Limits

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # the grader package
GPU_MODES = ("no", "optional")


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


def _require(data: dict, key: str, kind, where: Path):
    if key not in data:
        raise SpecError(f"{where}: missing `{key}`")
    if not isinstance(data[key], kind):
        raise SpecError(f"{where}: `{key}` should be a {kind.__name__}")
    return data[key]


def load_exercise(directory: Path, solutions: Path | None = None) -> Exercise:
    """Read `directory/exercise.toml`; pair it with `solutions/<id>/` when there is one."""
    toml_path = directory / "exercise.toml"
    try:
        data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(f"{directory} has no exercise.toml") from None
    except tomllib.TOMLDecodeError as err:
        raise SpecError(f"{toml_path} is not valid TOML: {err}") from None
    ex_id = _require(data, "id", str, toml_path)
    if ex_id != directory.name:
        raise SpecError(f"{toml_path}: id {ex_id!r} differs from the folder name {directory.name!r}")
    lim = data.get("limits", {})
    gpu = lim.get("gpu", "no")
    if gpu not in GPU_MODES:
        raise SpecError(f"{toml_path}: limits.gpu must be one of {', '.join(GPU_MODES)}")
    limits = Limits(wall_seconds=float(lim.get("wall_seconds", 60)),
                    test_seconds=float(lim.get("test_seconds", 10)),
                    memory_mb=int(lim.get("memory_mb", 1024)),
                    processes=int(lim.get("processes", 64)),
                    start_seconds=float(lim.get("start_seconds", 60)))
    sol_dir = None
    if solutions is not None and (solutions / ex_id).is_dir():
        sol_dir = solutions / ex_id
    try:
        caps = Caps.from_table(data.get("caps", {}), str(toml_path))
    except ValueError as err:
        raise SpecError(str(err)) from None
    known = {"id", "entry", "functions", "title", "points", "limits", "seeds", "preload", "caps"}
    return Exercise(id=ex_id, directory=directory, solution_dir=sol_dir,
                    entry=_require(data, "entry", str, toml_path),
                    functions=list(_require(data, "functions", list, toml_path)),
                    title=dict(data.get("title", {"en": ex_id})),
                    points=dict(data.get("points", {})), limits=limits, gpu=gpu,
                    seeds=list(data.get("seeds", [])), preload=list(data.get("preload", [])), caps=caps,
                    extra={k: v for k, v in data.items() if k not in known})


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
