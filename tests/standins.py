"""What the manager tests stand on: an app's files, stand-in tools (shell scripts that print what
the real tool prints, or record what they are given) and a logger that keeps its output."""

from __future__ import annotations

import io
import shlex
from collections.abc import Mapping
from pathlib import Path

from cnb_python.log import Logger
from cnb_python.managers.base import Installer, ToolRun
from cnb_python.tools import Tool


def app_with(root: Path, files: Mapping[str, str]) -> Path:
    """`root`, made if need be, with `files` (paths relative to it) written, their directories
    made."""
    root.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(content)
    return root


def stand_in_tool(home: Path, name: str, script: str, version: str = "0") -> Tool:
    """Tool `name` whose executable, home/bin/name, runs the shell `script`."""
    executable = home / "bin" / name
    executable.parent.mkdir(parents=True, exist_ok=True)
    executable.write_text(f"#!/bin/sh\n{script}")
    executable.chmod(0o755)
    return Tool(name, version, home, executable=executable)


def tool_saying(home: Path, name: str, says: str, version: str = "0") -> Tool:
    """A stand-in that prints `says` (the real tool's messages, a line or several) and fails,
    or, when `says` is empty, succeeds silently."""
    script = f"echo {shlex.quote(says)}\nexit 1\n" if says else "exit 0\n"
    return stand_in_tool(home, name, script, version)


def quiet_logger() -> Logger:
    return Logger(io.StringIO())


def install_with(
    installer: Installer, prefix: Path, tools: Mapping[str, Tool], env: Mapping[str, str]
) -> None:
    """`installer.install` on `prefix` with the stand-in `tools`, logging nowhere."""
    with ToolRun(prefix, tools, env, quiet_logger()) as run:
        installer.install(run)
