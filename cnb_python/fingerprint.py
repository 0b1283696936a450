"""Content fingerprints for reuse keys: files, directory trees and secret-bearing values."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from cnb_python.lookalikes import is_foreign_dir

# Never part of an install's inputs (nor is what lookalikes.is_foreign_dir names).
_SKIP_DIRS = frozenset({".git", ".hg", ".svn"})


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def tree_sha256(root: Path) -> str:
    """Names, exec bits, symlink targets and contents of every file below `root`, in order."""
    digest = hashlib.sha256()
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d for d in dirnames if d not in _SKIP_DIRS and not is_foreign_dir(Path(directory, d))
        )
        for name in sorted(filenames) + [d for d in dirnames if Path(directory, d).is_symlink()]:
            path = Path(directory, name)
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                digest.update(f"L {rel} -> {os.readlink(path)}\0".encode())
            elif path.is_file():
                executable = os.access(path, os.X_OK)
                digest.update(f"F {rel} {int(executable)} {file_sha256(path)}\0".encode())
    return digest.hexdigest()


def values_sha256(values: Mapping[str, str]) -> str:
    """One digest over name=value pairs, so values (which may hold credentials) are not kept."""
    return hashlib.sha256(json.dumps(sorted(values.items())).encode()).hexdigest()


def key_sha256(material: Mapping[str, object]) -> str:
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def env_with_prefixes(env: Mapping[str, str], prefixes: Iterable[str]) -> dict[str, str]:
    prefixes = tuple(prefixes)
    return {k: v for k, v in env.items() if k.startswith(prefixes)}
