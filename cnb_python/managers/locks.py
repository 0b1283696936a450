"""A lock the build installs exactly, and the file it was made from, each read with a titled
error when the app lacks it: the build never locks by itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cnb_python.appfiles import read_toml
from cnb_python.errors import UserError


def read_lock(app: Path, lock: str, manager: str, display: str) -> dict[str, Any]:
    """`lock` (uv.lock, poetry.lock) of a project pyproject.toml's [tool.<manager>] makes one."""
    path = app / lock
    if not path.is_file():
        raise UserError(
            f"{lock} not found",
            f"The app is a {display} project (pyproject.toml has [tool.{manager}], or "
            f"BP_PYTHON_PACKAGE_MANAGER is {manager}), but it has no {lock}. The build installs "
            "exactly what a lock says and never locks by itself.",
            f"Run `{manager} lock` and commit {lock}.",
        )
    return read_toml(path)  # with the position of a syntax error


def read_lock_source(app: Path, name: str, lock: str, needed: str) -> dict[str, Any]:
    """The file `lock` was made from (pyproject.toml, Pipfile); `needed` says what needs it."""
    path = app / name
    if not path.is_file():
        raise UserError(
            f"{name} not found",
            f"The app has {lock} but no {name}, {needed}.",
            f"Commit the {name} that {lock} was made from.",
        )
    return read_toml(path)


def path_in_app(app: Path, path: str, lock: str, name: str, kind: str = "a directory") -> str:
    """`path` (as `lock` names it, relative to the app) as a POSIX path relative to the app,
    "." for the app itself: a titled error when it is not `kind` inside the app, which is all
    the build can see. The key then covers its content (fingerprint.path_sha256)."""
    try:
        resolved = (app / path).resolve()
        exists = resolved.is_dir() or (kind != "a directory" and resolved.is_file())
    except (OSError, ValueError):  # a NUL byte, a name too long: nothing the build can see
        resolved, exists = app.resolve().parent, False
    if not resolved.is_relative_to(app.resolve()) or not exists:
        raise UserError(
            f"{lock} installs a path outside the app",
            f"{lock} installs {name} from {path!r}, which is not {kind} inside the app, so the "
            "build cannot see it.",
            f"Move {name} into the app directory, or publish it and depend on a version.",
        )
    return resolved.relative_to(app.resolve()).as_posix() or "."
