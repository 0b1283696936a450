"""Killing bin/build at a chosen moment, as a cancelled CI job or the OOM killer would.

SIGKILL goes to bin/build's whole process group (every tool it started), like a container
being killed. The build then fails like any failing buildpack: nothing is exported, so the
previous image and the layer cache stay those of the last successful build.
"""

from __future__ import annotations

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

    def __str__(self) -> str:
        where = [f"line {self.line!r}"] if self.line else []
        where += [f"file {self.path}"] if self.path else []
        return f"{', then '.join(where) or 'start'} + {self.delay}s"


class BuildKiller:
    def __init__(
        self, point: KillPoint, proc: subprocess.Popen[bytes], host: Callable[[str], Path]
    ) -> None:
        """`host` maps a container path to the host."""
        self.point = point
        self.proc = proc
        self.fired = False
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
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.fired = True
            except ProcessLookupError:
                pass
