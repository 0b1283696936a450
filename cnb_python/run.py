"""The one place that runs subprocesses, and stops them.

Commands are logged (redacted), their output is streamed indented under the current step (or
kept for DEBUG only), and a failure becomes a UserError carrying the tail of the output, so the
user sees what went wrong without a traceback. A command with a deadline is stopped, with
everything it started, when the deadline passes.

Nothing the build starts outlives it: `stop_on_interrupt` makes SIGTERM and SIGINT stop every
process below the build (the build is their subreaper, so orphans stay below it) and end the
build at once, before it writes anything more, so no layer metadata claims a half-made layer.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cnb_python.errors import UserError
from cnb_python.log import Logger

TAIL_LINES = 40
# How long stopped processes get to exit after SIGTERM before SIGKILL.
STOP_GRACE = 2.0
_PR_SET_CHILD_SUBREAPER = 36
_PF_EXITING = 0x4  # /proc/<pid>/stat flags


@dataclass(frozen=True)
class Deadline:
    """When the step a command belongs to must end (time.monotonic), how long the step was
    given, and the titled error when a command runs past it."""

    ends: float
    seconds: float
    title: str
    fix: str


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
    deadline: Deadline | None = None,
) -> str:
    """Run `command`; return its combined output. `show` is what the log prints as the command
    (defaults to the command itself); `stream=False` prints the output only at DEBUG.
    `known_errors` maps text the tool prints to a more precise (title, fix) for its failure.
    Past `deadline`, the command and what it started are stopped: its titled error."""
    shown = show or shlex.join(command)
    log.step(f"Running '{shown}'")
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
    expired = threading.Event()
    timer = None
    if deadline is not None:
        left = max(deadline.ends - time.monotonic(), 0.0)
        pipe = os.fstat(proc.stdout.fileno()).st_ino
        timer = threading.Timer(left, _expire, (proc.pid, pipe, expired))
        timer.daemon = True
        timer.start()
    try:
        for line in proc.stdout:
            line = line.rstrip("\n")
            lines.append(line)
            tail.append(line)
            if stream:
                log.detail(line)
            else:
                log.debug(line)
        code = proc.wait()
    finally:
        if timer is not None:
            timer.cancel()
    if expired.is_set() and code != 0:  # not one that ended just in time
        assert deadline is not None
        detail = (
            f"The command '{shown}' was stopped: the step's deadline of {deadline.seconds:g} "
            "seconds passed."
        )
        raise UserError(deadline.title, log.redact(detail + output_tail(tail)), deadline.fix)
    if code != 0:
        detail = f"The command '{shown}' exited with status {code}."
        if code < 0:
            error_title, detail, error_fix = _killed(-code, shown, error_title)
        else:
            for needle, (title, fix) in (known_errors or {}).items():
                if any(needle in line for line in lines):
                    error_title, error_fix = title, fix
                    break
        detail += output_tail(tail)
        raise UserError(error_title, log.redact(detail), error_fix)
    return "\n".join(lines)


def _killed(number: int, shown: str, error_title: str) -> tuple[str, str, str]:
    """(title, detail, fix) for a command that a signal ended: a crash or a kill from outside,
    never a problem with the app's files, so the tool's own error texts do not apply."""
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    detail = f"The command '{shown}' was killed by {name} ({signal.strsignal(number)})."
    if number == signal.SIGKILL:
        fix = (
            "SIGKILL usually means the build ran out of memory (the kernel's OOM killer) or was "
            "stopped from outside. Give the build container more memory, or build fewer "
            "packages from source at once."
        )
    else:
        fix = (
            "The tool crashed: this is a bug in the tool or the buildpack, not in the app. "
            "Please report it with the build log."
        )
    return f"{error_title}: killed by {name}", detail, fix


def output_tail(tail: Sequence[str]) -> str:
    """The end of a command's output, for an error's detail."""
    return "\n\nThe end of its output:\n" + "\n".join(f"  {line}" for line in tail) if tail else ""


def _expire(pid: int, pipe: int, expired: threading.Event) -> None:
    """Stop the command, what it started, and whatever still holds its output pipe open (an
    orphan of it would keep the output from ending)."""
    expired.set()
    _stop(lambda: [pid, *descendants(pid), *pipe_writers(pipe)])


def descendants(pid: int) -> list[int]:
    """Every live process below `pid`, parents before their children (Linux /proc)."""
    found: list[int] = []
    pending = [pid]
    while pending:
        parent = pending.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children") as f:
                    children = [int(child) for child in f.read().split()]
            except OSError:
                continue
            found += children
            pending += children
    return found


def pipe_writers(inode: int) -> list[int]:
    """Other processes with the pipe `inode` open (those this user may see: Linux /proc)."""
    link = f"pipe:[{inode}]"
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            fds = os.listdir(f"/proc/{entry}/fd")
            if any(os.readlink(f"/proc/{entry}/fd/{fd}") == link for fd in fds):
                found.append(int(entry))
        except OSError:
            continue
    return found


def stop_tree(pid: int, grace: float = STOP_GRACE, *, including: bool = True) -> None:
    """SIGTERM every process below `pid` (and `pid` itself if `including`), SIGKILL whatever
    is left after `grace`."""
    _stop(lambda: [pid, *descendants(pid)] if including else descendants(pid), grace)


def _stop(targets: Callable[[], list[int]], grace: float = STOP_GRACE) -> None:
    # SIGKILL is delivered asynchronously too: wait for the targets to be gone.
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 1.0)):
        pids = targets()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        end = time.monotonic() + wait
        while time.monotonic() < end and any(alive(pid) for pid in pids):
            time.sleep(0.02)


def alive(pid: int) -> bool:
    """Still running: not a zombie (it has ended; only its parent's wait is left) and not
    exiting (killed: it runs no more code, and the kernel is tearing it down)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        return False
    return fields[0] not in ("Z", "X") and not int(fields[6]) & _PF_EXITING


def stop_on_interrupt() -> None:
    """From now on, SIGTERM or SIGINT stops every process below this one, then ends this one
    with status 128 + the signal, without running anything else of the build."""
    _become_subreaper()

    def interrupted(signum: int, _frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        # os.write: the handler may have interrupted a print to the same stream.
        name = signal.Signals(signum).name
        os.write(2, f"\nBuild interrupted ({name}): stopping the processes it started\n".encode())
        started = time.monotonic()
        stop_tree(os.getpid(), including=False)
        took = time.monotonic() - started
        os.write(2, f"Stopped them in {took:.1f} s; no unfinished layer is declared\n".encode())
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)


def _become_subreaper() -> None:
    """Orphans of the build's processes are re-parented to the build, not to init, so
    `descendants` still finds them. Best effort: Linux only, and ctypes may be missing."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (ImportError, OSError, AttributeError):
        pass


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
