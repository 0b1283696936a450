"""Which package manager installs the app's dependencies, and why.

Each manager has the same small shape (see PipManager): a name, the tool it runs, a
description for the log, the inputs of its reuse key, and an install into an existing venv.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from cnb_python.appfiles import read_toml
from cnb_python.cnb.bindings import Binding
from cnb_python.errors import UserError
from cnb_python.managers.pip import PipManager, pip_manager

# Files that belong to managers this buildpack version does not drive yet.
_NOT_YET = {
    "uv.lock": "uv",
    "poetry.lock": "Poetry",
    "Pipfile": "Pipenv",
    "Pipfile.lock": "Pipenv",
    "environment.yml": "conda",
    "package-list.txt": "conda",
}


_EXPORT_HINTS = {
    "uv": "`uv export --no-hashes --format requirements-txt -o requirements.txt`",
    "Poetry": "`poetry export -o requirements.txt` (the poetry-plugin-export plugin)",
    "Pipenv": "`pipenv requirements > requirements.txt`",
    "conda": "list the PyPI packages the app needs in requirements.txt",
}


def _is_project(app: Path) -> bool:
    """A pyproject.toml that only configures tools (ruff, pytest...) is not an installable
    project; one with [project] or [build-system] is, and so is setup.py or setup.cfg."""
    if (app / "setup.py").is_file() or (app / "setup.cfg").is_file():
        return True
    pyproject = app / "pyproject.toml"
    if not pyproject.is_file():
        return False
    doc = read_toml(pyproject)
    return "project" in doc or "build-system" in doc


def select_manager(
    app: Path, env: Mapping[str, str], bindings: Sequence[Binding]
) -> PipManager | None:
    """The manager, or None when the app has no dependencies to install."""
    others = sorted({tool for name, tool in _NOT_YET.items() if (app / name).is_file()})
    uses_pip = bool(env.get("BP_PIP_REQUIREMENT")) or (app / "requirements.txt").is_file()
    if others:
        files = ", ".join(sorted(n for n in _NOT_YET if (app / n).is_file()))
        exports = "\n".join(f"  {tool}: {_EXPORT_HINTS[tool]}" for tool in others)
        raise UserError(
            f"{' and '.join(others)} projects aren't supported yet",
            f"The app has {files}, which this version of the buildpack cannot install from."
            + (
                " It also has pip requirements, so which manager to use is ambiguous."
                if uses_pip
                else ""
            ),
            "Install with pip for now: export the dependencies to requirements.txt,\n"
            f"{exports}\n"
            "then remove the other manager's files, or leave them out of the build with "
            "`exclude` in the `[io.buildpacks]` table of project.toml.",
        )
    if uses_pip:
        return pip_manager(app, env, bindings, project_only=False)
    if _is_project(app):
        return pip_manager(app, env, bindings, project_only=True)
    return None
