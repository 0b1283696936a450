"""The one place that runs subprocesses.

Commands are logged (redacted), their output is streamed indented under the current step (or
kept for DEBUG only), and a failure becomes a UserError carrying the tail of the output, so the
user sees what went wrong without a traceback.
"""

from __future__ import annotations

import shlex
import subprocess
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path

from cnb_python.errors import UserError
from cnb_python.log import Logger

TAIL_LINES = 40


def run(
    command: Sequence[str],
    *,
    env: Mapping[str, str],
    log: Logger,
    error_title: str,
    error_fix: str,
    cwd: Path | None = None,
    show: str | None = None,
    stream: bool = True,
    known_errors: Mapping[str, tuple[str, str]] | None = None,
) -> str:
    """Run `command`; return its combined output. `show` is what the log prints as the command
    (defaults to the command itself); `stream=False` prints the output only at DEBUG.
    `known_errors` maps text the tool prints to a more precise (title, fix) for its failure."""
    log.step(f"Running '{show or shlex.join(command)}'")
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    lines: list[str] = []
    try:
        proc = subprocess.Popen(
            list(command),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
    except OSError as e:
        raise UserError(error_title, f"Could not start {command[0]}: {e}", error_fix) from e
    assert proc.stdout is not None
    for line in proc.stdout:
        line = line.rstrip("\n")
        lines.append(line)
        tail.append(line)
        if stream:
            log.detail(line)
        else:
            log.debug(line)
    code = proc.wait()
    if code != 0:
        shown = show or shlex.join(command)
        detail = f"The command '{shown}' exited with status {code}."
        if tail:
            detail += "\n\nThe end of its output:\n" + "\n".join(f"  {line}" for line in tail)
        for needle, (title, fix) in (known_errors or {}).items():
            if any(needle in line for line in lines):
                error_title, error_fix = title, fix
                break
        raise UserError(error_title, log.redact(detail), error_fix)
    return "\n".join(lines)


def probe(command: Sequence[str], *, env: Mapping[str, str], timeout: float = 30) -> str | None:
    """The output of a quick query (`cc --version`), run quietly; None when the command cannot
    start, fails or hangs: a query's answer is optional, never a build error."""
    try:
        proc = subprocess.run(
            list(command),
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            timeout=timeout,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout if proc.returncode == 0 else None
