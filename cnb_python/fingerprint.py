"""Content fingerprints for reuse keys: files, directory trees and secret-bearing values, and
the digests of what a package manager declares its install depends on."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Union

# How an install input is declared: a file or directory (its content), a selection such as
# dependency groups (its text), or name=value pairs such as a binding's values. Each becomes a
# digest: the key and its inputs hold no value that could be a secret.
KeyInput = Union[Path, str, Mapping[str, str]]

# Never part of an install's inputs (nor is what is_foreign_dir names).
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


def path_sha256(path: Path) -> str:
    """A directory's tree digest, a file's digest, or "missing"."""
    if path.is_dir():
        return tree_sha256(path)
    return file_sha256(path) if path.is_file() else "missing"


def values_sha256(values: Mapping[str, str]) -> str:
    """One digest over name=value pairs, so values (which may hold credentials) are not kept."""
    return hashlib.sha256(json.dumps(sorted(values.items())).encode()).hexdigest()


def key_sha256(material: Mapping[str, object]) -> str:
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def env_with_prefixes(env: Mapping[str, str], prefixes: Iterable[str]) -> dict[str, str]:
    prefixes = tuple(prefixes)
    return {k: v for k, v in env.items() if k.startswith(prefixes)}


def digest_inputs(
    declared: Mapping[str, KeyInput], env: Mapping[str, str], env_prefixes: Iterable[str]
) -> dict[str, str]:
    """One digest per declared input, and "env": one over the variables with `env_prefixes`."""
    digests = {}
    for name, value in declared.items():
        if isinstance(value, Path):
            digests[name] = path_sha256(value)
        elif isinstance(value, str):
            digests[name] = hashlib.sha256(value.encode()).hexdigest()
        else:
            digests[name] = values_sha256(value)
    digests["env"] = values_sha256(env_with_prefixes(env, env_prefixes))
    return digests


def is_foreign_dir(path: Path) -> bool:
    """A directory that a developer's tools wrote, never an input of the build: bytecode, or a
    virtual environment (a `venv` only when it is one: it may be an app's own package)."""
    if path.name == "__pycache__" or path.name == ".venv":
        return path.is_dir()
    return path.is_dir() and (path / "pyvenv.cfg").is_file()
