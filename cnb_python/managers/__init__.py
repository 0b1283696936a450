"""Which package manager installs the app's dependencies, and why.

One precedence, first match wins (also in the README):

  BP_PYTHON_PACKAGE_MANAGER > uv.lock > poetry.lock (or [tool.poetry] with no [project])
  > Pipfile.lock / Pipfile > environment.yml / package-list.txt > requirements.txt
  > [tool.uv] with no uv.lock (an error: run `uv lock`) > an installable project > none

Files of other managers that lose are named in a warning: they never change what is installed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnb_python.appfiles import read_toml
from cnb_python.cnb.bindings import Binding
from cnb_python.errors import UserError
from cnb_python.managers.base import Manager
from cnb_python.managers.conda import conda_manager
from cnb_python.managers.pip import pip_manager
from cnb_python.managers.pipenv import pipenv_manager
from cnb_python.managers.poetry import poetry_manager
from cnb_python.managers.uv import uv_manager

MANAGERS = ("pip", "uv", "poetry", "pipenv", "conda")
FORCE_VARIABLE = "BP_PYTHON_PACKAGE_MANAGER"

_DISPLAY = {"pip": "pip", "uv": "uv", "poetry": "Poetry", "pipenv": "Pipenv", "conda": "conda"}


@dataclass(frozen=True)
class Signal:
    """Something in the app that points at a manager."""

    manager: str
    what: str  # "uv.lock", "[tool.poetry] in pyproject.toml"
    owned: bool = True  # a file only that manager uses (warned about when another one wins)


@dataclass(frozen=True)
class Choice:
    manager: Manager | None  # None: no dependencies to install
    reason: str  # for the log: why this manager
    ignored: tuple[Signal, ...] = ()  # other managers' files that lost the precedence


def _signals(app: Path, env: Mapping[str, str]) -> list[Signal]:
    """Every signal in the app, in precedence order."""
    pyproject = _pyproject(app)
    tool = pyproject.get("tool", {}) if isinstance(pyproject.get("tool"), dict) else {}
    found: list[Signal] = []

    def file(manager: str, name: str) -> None:
        if (app / name).is_file():
            found.append(Signal(manager, name))

    file("uv", "uv.lock")
    file("poetry", "poetry.lock")
    if "poetry" in tool and "project" not in pyproject and not (app / "poetry.lock").is_file():
        found.append(Signal("poetry", "[tool.poetry] in pyproject.toml", owned=False))
    file("pipenv", "Pipfile.lock")
    file("pipenv", "Pipfile")
    file("conda", "environment.yml")
    file("conda", "package-list.txt")
    if env.get("BP_PIP_REQUIREMENT"):
        found.append(Signal("pip", "BP_PIP_REQUIREMENT", owned=False))
    else:
        file("pip", "requirements.txt")
    if "uv" in tool and not (app / "uv.lock").is_file():
        found.append(Signal("uv", "[tool.uv] in pyproject.toml", owned=False))
    if _is_project(app, pyproject):
        found.append(Signal("pip", _project_file(app), owned=False))
    return found


def _pyproject(app: Path) -> dict[str, Any]:
    path = app / "pyproject.toml"
    return read_toml(path) if path.is_file() else {}


def _is_project(app: Path, pyproject: Mapping[str, Any]) -> bool:
    """A pyproject.toml that only configures tools (ruff, pytest...) is not an installable
    project; one with [project] or [build-system] is, and so is setup.py or setup.cfg."""
    if (app / "setup.py").is_file() or (app / "setup.cfg").is_file():
        return True
    return "project" in pyproject or "build-system" in pyproject


_PROJECT_FILES = ("pyproject.toml", "setup.py", "setup.cfg")


def _project_file(app: Path) -> str:
    return next(name for name in _PROJECT_FILES if (app / name).is_file())


def select_manager(app: Path, env: Mapping[str, str], bindings: Sequence[Binding]) -> Choice:
    signals = _signals(app, env)
    forced = env.get(FORCE_VARIABLE, "").strip().lower()
    if forced:
        if forced not in MANAGERS:
            raise UserError(
                f"Unknown package manager in {FORCE_VARIABLE}",
                f"{FORCE_VARIABLE} is {env[FORCE_VARIABLE].strip()!r}.",
                f"Set {FORCE_VARIABLE} to one of {', '.join(MANAGERS)}, or unset it to let the "
                "buildpack choose from the app's files.",
            )
        chosen = next((s for s in signals if s.manager == forced), None)
        if chosen is None:
            raise UserError(
                f"No {_DISPLAY[forced]} files found",
                f"{FORCE_VARIABLE} asks for {_DISPLAY[forced]}, but the app has none of these: "
                f"{_EXPECTED_FILES[forced]}.",
                f"Add the {_DISPLAY[forced]} files to the app, or unset {FORCE_VARIABLE}.",
            )
        reason = f"{FORCE_VARIABLE}={forced}"
    elif signals:
        chosen = signals[0]
        reason = f"{chosen.what} found"
    else:
        return Choice(None, "no requirements.txt, project metadata or lock file")
    ignored = tuple(s for s in signals if s.manager != chosen.manager and s.owned)
    factory = _FACTORIES[chosen.manager]
    return Choice(factory(app, env, bindings, chosen.what), reason, ignored)


_EXPECTED_FILES = {
    "pip": "requirements.txt, BP_PIP_REQUIREMENT, an installable pyproject.toml, setup.py, "
    "setup.cfg",
    "uv": "uv.lock, a pyproject.toml with [tool.uv]",
    "poetry": "poetry.lock, a pyproject.toml with [tool.poetry]",
    "pipenv": "Pipfile.lock, Pipfile",
    "conda": "environment.yml, package-list.txt",
}

_FACTORIES: dict[str, Callable[[Path, Mapping[str, str], Sequence[Binding], str], Manager]] = {
    "pip": lambda app, env, bindings, via: pip_manager(
        app, env, bindings, project_only=via in _PROJECT_FILES
    ),
    "uv": lambda app, env, bindings, via: uv_manager(app, env, bindings),
    "pipenv": lambda app, env, bindings, via: pipenv_manager(app, env, bindings),
    "poetry": lambda app, env, bindings, via: poetry_manager(app, env, bindings),
    "conda": conda_manager,
}


def ignored_warning(choice: Choice) -> tuple[str, str] | None:
    """(title, body) of the warning about other managers' files, or None."""
    if choice.manager is None or not choice.ignored:
        return None
    files = ", ".join(f"{s.what} ({_DISPLAY[s.manager]})" for s in choice.ignored)
    return (
        "Ignoring files of other package managers",
        f"{choice.reason.replace(' found', '')} selects {_DISPLAY[choice.manager.name]}, so the "
        f"build ignores {files}. They do not change what is installed.",
    )
