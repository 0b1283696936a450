"""Options every manager reads the same way: lists in variables, and the vendor directory."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

VENDOR_VARIABLE = "BP_PIP_DEST_PATH"
DEFAULT_VENDOR = "vendor"


def listed(env: Mapping[str, str], variable: str) -> tuple[str, ...]:
    """The names in a variable, separated by commas, spaces or both."""
    return tuple(env.get(variable, "").replace(",", " ").split())


def vendor_dir(app: Path, env: Mapping[str, str]) -> Path | None:
    """The app's packages for an offline install, for every manager: the directory
    BP_PIP_DEST_PATH names (relative to the app), else vendor/, when it exists."""
    path = app / (env.get(VENDOR_VARIABLE, "").strip() or DEFAULT_VENDOR)
    return path if path.is_dir() else None
