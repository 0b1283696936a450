"""Detect: pass for any sign of a Python app, and plan to provide and require `cpython`.

Detection is deliberately broad and never parses files: a malformed file is better reported by
the build, with a titled error, than by a silent detect failure.
"""

from __future__ import annotations

from pathlib import Path

from cnb_python.cnb.plan import Alternative, Require
from cnb_python.managers import MANAGERS

DETECT_PASS = 0
DETECT_FAIL = 100

# Every manager's signal files, and the Python version files.
SIGNAL_FILES = (
    *dict.fromkeys(name for m in MANAGERS for signal in m.signals for name in signal.files),
    ".python-version",
    "runtime.txt",
)


def python_signals(app_dir: Path) -> list[str]:
    found = [name for name in SIGNAL_FILES if (app_dir / name).is_file()]
    found += sorted(p.name for p in app_dir.glob("*.py") if p.is_file())
    return found


def build_plan() -> list[Alternative]:
    """We provide `cpython` and require it ourselves, so the first alternative resolves on its
    own, and later buildpacks may require `cpython` (with `version`, `build`, `launch` metadata)
    from us. The provide-only alternative is the shape for a group in which another buildpack is
    the only requirer; the lifecycle reaches it only if the first alternative is rejected."""
    return [
        Alternative(provides=("cpython",), requires=(Require("cpython", {"launch": True}),)),
        Alternative(provides=("cpython",)),
    ]
