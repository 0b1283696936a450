"""Killing bin/build at a chosen moment, as a cancelled CI job or the OOM killer would.

SIGKILL goes to bin/build's whole process group (every tool it started), like a container
being killed. The build then fails like any failing buildpack: nothing is exported, so the
previous image and the layer cache stay those of the last successful build.

Another signal (SIGTERM, SIGINT) goes to bin/build alone, as a platform that stops the
buildpack would send it: bin/build itself must stop what it started. The killer then records
how long after the signal the last process of the build (anything left in its mount namespace)
ended, and which layer tomls bin/build had written.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class KillPoint:
    """`delay` seconds after: the first build-log line containing `line`; or once the container
    path `path` exists (e.g. a layer's SBOM file), looked for after `line` when both are given;
    or the start of bin/build when neither is."""

    line: str = ""
    path: str = ""
    delay: float = 0.0
    signal: int = signal.SIGKILL

    def __str__(self) -> str:
        where = [f"line {self.line!r}"] if self.line else []
        where += [f"file {self.path}"] if self.path else []
        return f"{', then '.join(where) or 'start'} + {self.delay}s"


# How long the processes of a build signalled with SIGTERM or SIGINT may take to end.
STOP_WITHIN = 5.0


class BuildKiller:
    def __init__(
        self, point: KillPoint, proc: subprocess.Popen[bytes], host: Callable[[str], Path]
    ) -> None:
        """`host` maps a container path to the host."""
        self.point = point
        self.proc = proc
        self.fired = False
        self.fired_at = 0.0
        self._namespace = ""
        self._seen = ""
        self._timer: threading.Timer | None = None
        self._path = host(point.path) if point.path else None
        self._watching = False
        if not point.line:
            self._next()

    def feed(self, text: str) -> None:
        """More build output; arms the kill once the line has appeared."""
        if self.point.line and not self._watching:
            self._seen = self._seen[-len(self.point.line) :] + text
            if self.point.line in self._seen:
                self._next()

    def _next(self) -> None:
        self._watching = True
        if self._path is None:
            self._arm()
        else:
            threading.Thread(target=self._poll, args=(self._path,), daemon=True).start()

    def _poll(self, path: Path) -> None:
        while self.proc.poll() is None:
            if os.path.lexists(path):
                self._arm()
                return
            time.sleep(0.002)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()

    def _arm(self) -> None:
        self._timer = threading.Timer(self.point.delay, self._kill)
        self._timer.daemon = True
        self._timer.start()

    def _kill(self) -> None:
        if self.proc.poll() is None:
            try:
                self._namespace = os.readlink(f"/proc/{self.proc.pid}/ns/mnt")
                if self.point.signal == signal.SIGKILL:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                else:
                    os.kill(self.proc.pid, self.point.signal)
                self.fired_at = time.monotonic()
                self.fired = True
            except (ProcessLookupError, FileNotFoundError):
                pass

    def report(self) -> str:
        """After bin/build ended: when the build's last process did (a SIGKILL'd group is gone
        with it). Processes still there after STOP_WITHIN are SIGKILLed, and named."""
        name = signal.Signals(self.point.signal).name
        if self.point.signal == signal.SIGKILL:
            return f"killed bin/build ({name}) at {self.point}"
        left = self._processes_left()
        while left and time.monotonic() < self.fired_at + STOP_WITHIN:
            time.sleep(0.05)
            left = self._processes_left()
        took = time.monotonic() - self.fired_at
        if left:
            for pid in left:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            return (
                f"sent {name} to bin/build at {self.point}; {len(left)} of its processes "
                f"still ran {took:.1f} s later (killed): {_commands(left)}"
            )
        return f"sent {name} to bin/build at {self.point}; its last process ended in {took:.2f} s"

    def _processes_left(self) -> list[int]:
        """Running processes in the build's mount namespace."""
        left = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    same = os.readlink(f"/proc/{entry}/ns/mnt") == self._namespace
                    with open(f"/proc/{entry}/stat") as f:
                        fields = f.read().rpartition(")")[2].split()
                except OSError:
                    continue
                # Zombies and exiting (killed) processes run no more code.
                if same and fields[0] not in ("Z", "X") and not int(fields[6]) & 0x4:
                    left.append(int(entry))
        return left


def _commands(pids: list[int]) -> str:
    names = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                names.append(f.read().replace(b"\0", b" ").decode(errors="replace").strip())
        except OSError:
            names.append(str(pid))
    return "; ".join(names)
