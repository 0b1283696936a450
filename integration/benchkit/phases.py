"""Timing a localcnb build's phases from its log: when each ``===> PHASE`` line is written, and
the buildpack's own ``Completed in`` figures."""

from __future__ import annotations

import io
import re
import time

# The buildpack's sections are indented by two spaces; tool output (pip's own "Installing
# collected packages") by six.
_STEP = re.compile(r"^  Installing (?P<what>\S.*?)\s*$")
_DONE = re.compile(r"^\s*Completed in (?:(?P<min>\d+)m)?(?P<sec>[\d.]+)s\s*$")


class PhaseClock(io.TextIOBase):
    """A build-log sink (``Platform(echo=...)``) that notes when each lifecycle phase starts."""

    def __init__(self) -> None:
        self.marks: dict[str, float] = {}

    def write(self, text: str) -> int:
        now = time.monotonic()
        for line in text.splitlines():
            if line.startswith("===> "):
                self.marks.setdefault(line[5:].strip(), now)
        return len(text)

    def between(self, start: str, end: str) -> float:
        return self.marks[end] - self.marks[start]


def timed_steps(log: str) -> dict[str, float]:
    """``Installing X`` ... ``Completed in 6.315s`` pairs: {"CPython 3.12.1": 6.315, ...}."""
    steps: dict[str, float] = {}
    current = None
    for line in log.splitlines():
        step, done = _STEP.match(line), _DONE.match(line)
        if step:
            current = step["what"]
        elif done and current:
            steps[current] = int(done["min"] or 0) * 60 + float(done["sec"])
            current = None
    return steps


# The build-only tool layers a cold build may install, as their "Installing <tool> <version>"
# steps name them.
TOOL_LAYERS = ("pip", "uv", "poetry", "pipenv", "pdm", "py-rattler")


def tool_layer_steps(steps: dict[str, float]) -> dict[str, float]:
    """The tool layers' seconds among a build's timed steps: {"pip": 0.27, "poetry": 1.39}."""
    found = {}
    for what, seconds in steps.items():
        name = what.split()[0]
        if name in TOOL_LAYERS:
            found[name] = seconds
    return found
