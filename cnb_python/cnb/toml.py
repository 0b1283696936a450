"""TOML reading and deterministic writing."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import tomli_w

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10 interpreters
    import tomli as tomllib

TOMLDecodeError = tomllib.TOMLDecodeError


def load_toml(path: Path) -> dict[str, Any]:
    with path.open("rb") as f:
        return tomllib.load(f)


def loads_toml(text: str) -> dict[str, Any]:
    return tomllib.loads(text)


def dump_toml(data: dict[str, Any]) -> str:
    return tomli_w.dumps(data)


def write_toml(path: Path, data: dict[str, Any]) -> None:
    """Write atomically, so a crash never leaves a half-written TOML the lifecycle would read."""
    write_bytes_atomic(path, dump_toml(data).encode())


def write_bytes_atomic(path: Path, content: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)
