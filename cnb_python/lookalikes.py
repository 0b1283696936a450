"""Files in the app that look like one the buildpack reads, but are not it.

A `requirement.txt` or a `.python_version` is silently ignored by every tool, so the app builds
without its dependencies or on the wrong Python; the log names the file the buildpack would
have read. A committed `.venv` or `__pycache__` is the developer machine's, not the app's: the
build makes its own environment and bytecode, and leaves them out of every reuse key.
"""

from __future__ import annotations

from pathlib import Path

from cnb_python.detect import SIGNAL_FILES
from cnb_python.fingerprint import is_foreign_dir

# The files the buildpack reads at the app root.
KNOWN = (*SIGNAL_FILES, "Procfile")
# Misspellings seen in real apps that no normalization below catches.
_TYPOS = {
    "requirement.txt": "requirements.txt",
    "requirements.text": "requirements.txt",
    "requirments.txt": "requirements.txt",
    "requirements.txt.txt": "requirements.txt",
    "Pipfile.lck": "Pipfile.lock",
    "Procfile.txt": "Procfile",
}
_COMMITTED_DIRS = {
    ".venv": "a virtual environment from a developer machine",
    "venv": "a virtual environment from a developer machine",
    "__pycache__": "bytecode from a developer machine",
}


def _normalized(name: str) -> str:
    """Case, and `_` for `-`, do not matter to a reader."""
    return name.lower().replace("_", "-")


_BY_NORMAL = {_normalized(name): name for name in KNOWN}


def lookalike_warnings(app: Path) -> list[tuple[str, str]]:
    """(title, body) of a warning for each lookalike file and committed directory at the root."""
    warnings = []
    names = sorted(p.name for p in app.iterdir()) if app.is_dir() else []
    for name in names:
        meant = _TYPOS.get(name) or _BY_NORMAL.get(_normalized(name))
        if meant and meant != name and meant not in names and (app / name).is_file():
            warnings.append(
                (
                    f"Found {name}: did you mean {meant}?",
                    f"The buildpack reads {meant}, not {name}, so {name} changes nothing. "
                    f"Rename it to {meant} if it is meant for the build.",
                )
            )
    for name in names:
        what = _COMMITTED_DIRS.get(name)
        if what and is_foreign_dir(app / name):
            warnings.append(
                (
                    f"Ignoring the committed {name} directory",
                    f"{name} holds {what}. The build makes its own and never reads it, but it "
                    "still goes into the image with the app's files: leave it out of the "
                    'source, e.g. with `[io.buildpacks] exclude = ["' + name + '"]` in '
                    "project.toml, or in .gitignore.",
                )
            )
    return warnings
