"""launch.toml: processes (API 0.9+ array commands, never via a shell) and labels."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnb_python.cnb.toml import write_toml

_PROCESS_TYPE = re.compile(r"^[A-Za-z0-9._-]+$")


@dataclass(frozen=True)
class Process:
    type: str
    command: tuple[str, ...]  # [0] is the executable (a path or a name on PATH); the rest is fixed
    args: tuple[str, ...] = ()  # defaults that user-supplied args replace
    default: bool = False
    working_dir: str | None = None

    def __post_init__(self) -> None:
        if not _PROCESS_TYPE.match(self.type):
            raise ValueError(f"invalid process type {self.type!r}")
        if not self.command:
            raise ValueError("a process needs a command")

    def to_toml(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"type": self.type, "command": list(self.command)}
        if self.args:
            doc["args"] = list(self.args)
        doc["default"] = self.default
        if self.working_dir:
            doc["working-dir"] = self.working_dir
        return doc


def write_launch_toml(
    layers_dir: Path, processes: Sequence[Process], labels: dict[str, str]
) -> None:
    if sum(p.default for p in processes) > 1:
        raise ValueError("at most one default process per buildpack")
    doc: dict[str, Any] = {}
    if labels:
        doc["labels"] = [{"key": k, "value": v} for k, v in sorted(labels.items())]
    if processes:
        doc["processes"] = [p.to_toml() for p in processes]
    path = layers_dir / "launch.toml"
    if doc:
        write_toml(path, doc)
    else:
        path.unlink(missing_ok=True)
