"""The shape of a package manager.

A manager is one module whose `MANAGER` (a PackageManager) declares everything about it: its
name, what selects it and where that stands in the one precedence, the build-only tools it
runs, the settings those runs control, the variables that are install inputs, the kind of
environment it fills, and how to make its Installer for an app. The registry
(managers/__init__.py) lists the modules; selection, detect, the gate (gate.py) and the README
tables read it.

Everything else is shared: the env layer and its reuse key (venv.py, fingerprint.py), the
environment kinds (environments.py), bytecode, SBOMs and processes. An Installer only declares
what its install depends on and installs into the environment the shared code made.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from cnb_python.appfiles import read_toml
from cnb_python.environments import Environment, Venv

if TYPE_CHECKING:
    from cnb_python.cnb.bindings import Binding
    from cnb_python.fingerprint import KeyInput
    from cnb_python.log import Logger
    from cnb_python.python_version import VersionRequest
    from cnb_python.tools import Tool


class AppFiles:
    """The app root as signals look at it: which files exist, pyproject.toml parsed once."""

    def __init__(self, root: Path, env: Mapping[str, str]) -> None:
        self.root, self.env = root, env

    def has(self, name: str) -> bool:
        return (self.root / name).is_file()

    @cached_property
    def pyproject(self) -> dict[str, Any]:
        return read_toml(self.root / "pyproject.toml") if self.has("pyproject.toml") else {}

    @property
    def tool(self) -> dict[str, Any]:
        """pyproject.toml's [tool] table."""
        tool = self.pyproject.get("tool")
        return tool if isinstance(tool, dict) else {}


@dataclass(frozen=True)
class Signal:
    """Something in the app that selects a manager."""

    rank: int  # its place in the one precedence: of the signals found, the lowest rank wins
    what: str  # as the log names it: "uv.lock", "[tool.poetry] in pyproject.toml"
    doc: str  # the README precedence table's "when" cell, in Markdown
    found: Callable[[AppFiles], bool]
    files: tuple[str, ...] = ()  # files whose presence alone makes detect pass
    owned: bool = True  # only this manager uses it: named in a warning when another one wins
    outcome: str = ""  # the README table's note after the manager, e.g. "`pip install .`"


def file_signal(
    rank: int,
    name: str,
    *,
    owned: bool = True,
    outcome: str = "",
    found: Callable[[AppFiles], bool] | None = None,
) -> Signal:
    """A file at the app root (`found` adds conditions to its presence)."""
    return Signal(
        rank,
        name,
        f"`{name}`",
        found or (lambda app: app.has(name)),
        files=(name,),
        owned=owned,
        outcome=outcome,
    )


def pyproject_signal(
    rank: int, what: str, doc: str, found: Callable[[AppFiles], bool], *, outcome: str = ""
) -> Signal:
    """Something in pyproject.toml. Detect passes on the file; since every tool shares it, it is
    never named in the warning about other managers' files."""
    return Signal(rank, what, doc, found, files=("pyproject.toml",), owned=False, outcome=outcome)


@dataclass(frozen=True)
class VersionSource:
    """A place an app may ask for a Python version (python_version.py); of those found, the
    lowest rank picks the version. A manager declares the ones in its files."""

    rank: int
    read: Callable[[Path, Mapping[str, str]], VersionRequest | None]


@dataclass(frozen=True)
class Rule:
    """A row of the gate for unsafe settings (gate.py): variables a tool run must not get."""

    run: str  # the tool whose runs it guards, or "python": every Python tool the build runs
    names: tuple[str, ...]
    stops: bool  # True: a titled error before any layer is touched; False: ignored, warned
    title: str
    effect: str  # what the variables set would do; the message is "<names> <effect>"


def controlled(run: str, display: str, names: tuple[str, ...], effect: str) -> Rule:
    """The settings the buildpack sets for `run`'s runs: the user's values are ignored."""
    return Rule(run, names, False, f"Ignoring {display} settings the buildpack controls", effect)


@dataclass(frozen=True)
class ToolRun:
    """The runs of the build's tools on the environment at `prefix` in one step; closing it
    removes their scratch dirs."""

    prefix: Path
    tools: Mapping[str, Tool]  # by name
    env: Mapping[str, str]
    log: Logger
    # By name, shared by the copies `dataclasses.replace` makes: every run of the step uses one.
    scratch_dirs: dict[str, Path] = field(default_factory=dict, repr=False, compare=False)
    # Runs in threads (the build backends' install) ask for them too.
    scratch_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def __iter__(self) -> Iterator[Any]:
        """`prefix, tools, env, log = tool_run`"""
        return iter((self.prefix, self.tools, self.env, self.log))

    def __enter__(self) -> ToolRun:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for path in self.scratch_dirs.values():
            shutil.rmtree(path, ignore_errors=True)
        self.scratch_dirs.clear()

    def scratch(self, name: str) -> Path:
        """A temp dir for the installer's package cache, the same for each of the step's runs
        (uv keeps there what it learnt of the interpreter: 47 ms a run otherwise), next to the
        prefix in the layers directory (a directory there without a layer toml is no layer): on
        the prefix's file system, so that the installer hard-links the packages' files into it.
        From a temp dir on another device (the container's /tmp, the layers' volume) it would
        copy them."""
        with self.scratch_lock:
            if name not in self.scratch_dirs:
                parent = self.prefix.parent
                self.scratch_dirs[name] = Path(
                    tempfile.mkdtemp(prefix=f"cnb-python-{name}-", dir=parent)
                )
            return self.scratch_dirs[name]


class Installer(Protocol):
    """A manager made for one app: what it installs from, and how."""

    def describe(self) -> str:
        """For the log: the manager and the files it installs from."""
        ...

    def inputs(self) -> Mapping[str, KeyInput]:
        """Everything that can change what is installed, besides the manager's variables
        (env_prefixes) and tools: fingerprint.digest_inputs turns them into the key's digests."""
        ...

    def install(self, tool_run: ToolRun) -> None:
        """Install the dependencies into the environment at `tool_run.prefix` (made by the
        manager's Environment kind) with the build-only `tool_run.tools`; the app's own
        projects are the project step's (`projects`)."""
        ...

    def project_scripts(self) -> tuple[str, ...]:
        """Console scripts of the app's own project when the install puts them on PATH."""
        ...

    def projects(self) -> tuple[str, ...]:
        """The app's own projects (directories relative to the app, "." for the app itself)
        that the shared project step (projects.py) installs after `install`, non-editable
        unless `editable_projects` names them. They are not among `inputs`: their files key
        that step alone."""
        ...

    def editable_projects(self) -> tuple[str, ...]:
        """Those of `projects` the app's files ask to install editable (a requirements file's
        `-e`): what they install points into the app's directory, which is in the image."""
        ...

    def pip_install(self, tool_run: ToolRun, arguments: Sequence[str]) -> None:
        """Run the manager's pip-compatible installer with `arguments` (pip's options) and the
        app's index settings: the project step's (projects.py)."""
        ...

    def install_backends(self, tool_run: ToolRun, target: Path, requires: Sequence[str]) -> None:
        """Install the projects' build backends (`requires`, from the index) into the directory
        `target`, as pip_install does, while `install` may be running: they build nothing from
        the app's files and write nothing outside `target`."""
        ...


@dataclass(frozen=True)
class PackageManager:
    name: str  # the value of BP_PYTHON_PACKAGE_MANAGER
    display: str  # for the log and the docs: "Poetry"
    signals: tuple[Signal, ...]
    # Build-only tools (a wheel pinned in buildpack.toml, or a requirement set in
    # requirements/tools/, which the pinned uv installs), in install order.
    tools: tuple[str, ...]
    env_prefixes: tuple[str, ...]  # variables that are install inputs (hashed into the key)
    make: Callable[[Path, Mapping[str, str], Sequence[Binding], Signal], Installer]
    controls: tuple[Rule, ...] = ()  # settings its tool runs control: the gate's rows
    environment: type[Environment] = Venv  # the kind of environment it installs into
    # Where the app may ask for a Python version in this manager's files (python_version.py).
    python_sources: tuple[VersionSource, ...] = ()
    # Whether one app's install does without the manager's own tool (the one named `name`):
    # the build checks and reads that app's lock itself (pipfile_hash.py, poetry_export.py,
    # pdm_export.py).
    reads_lock_itself: Callable[[Installer], bool] | None = None

    def tools_of(self, installer: Installer) -> tuple[str, ...]:
        """The tools one app's install runs."""
        if self.reads_lock_itself and self.reads_lock_itself(installer):
            return tuple(tool for tool in self.tools if tool != self.name)
        return self.tools
