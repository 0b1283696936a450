"""The real tools of the build's requirement sets (requirements/tools/), installed for tests
that check the buildpack's own reading of a lock against the tool's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TOOL_SETS = Path(__file__).resolve().parents[2] / "requirements" / "tools"


def pinned_set_venv(name: str, venv: Path) -> Path:
    """A venv at `venv` with the set `name` (poetry, pdm, ...), every pin hash-checked, as the
    build's tool layer has it."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin/python"), "-m", "pip", "install", "--isolated", "-q", "--no-deps"]
    requirements = TOOL_SETS / f"{name}.txt"
    subprocess.run([*pip, "--require-hashes", "-r", str(requirements)], check=True)
    return venv
