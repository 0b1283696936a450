"""Reading the app's own files, with a titled error when one is not valid text, JSON or TOML;
and leaving the app dir as it was after a tool that writes there."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cnb_python.cnb.toml import TOMLDecodeError, loads_toml
from cnb_python.errors import UserError


def read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise UserError(
            f"Unable to read {path.name}",
            f"{path.name} is not valid UTF-8 text ({e.reason} at byte {e.start}).",
            f"Save {path.name} as plain UTF-8 text.",
        ) from e


def read_json(path: Path, fix: str) -> Any:
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as e:
        raise UserError(f"Invalid {path.name}", f"{path.name} is not valid JSON: {e}", fix) from e


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return loads_toml(read_text(path))
    except TOMLDecodeError as e:
        raise UserError(
            f"Invalid {path.name}",
            f"{path.name} is not valid TOML: {e}",
            f'Fix the syntax of {path.name}; `python -c "import tomllib; '
            f"tomllib.load(open('{path.name}', 'rb'))\"` shows the same error locally.",
        ) from e


def table(doc: Any, *keys: str) -> dict[str, Any]:
    """The table at `keys` in a parsed TOML or JSON document, or {} where a key is missing or
    a value is not a table: the app's files may hold any type anywhere."""
    for key in keys:
        doc = doc.get(key) if isinstance(doc, dict) else None
    return doc if isinstance(doc, dict) else {}


@contextmanager
def left_as_it_was(root: Path) -> Iterator[None]:
    """Remove afterwards what is new below `root`: pip and build backends build local projects
    in place (build/, *.egg-info)."""
    before = _paths(root)
    try:
        yield
    finally:
        for path in sorted(_paths(root) - before, key=lambda p: len(p.parts)):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            elif path.exists() or path.is_symlink():
                path.unlink()


def _paths(root: Path) -> set[Path]:
    found = set()
    for directory, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            found.add(Path(directory, name))
    return found
