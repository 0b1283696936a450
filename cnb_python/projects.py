"""The app's own projects (the app itself as a package, path dependencies, workspace members):
installed non-editable into the env layer after its dependencies, as a step of their own, so
that a change to their files reinstalls them alone.

A cold build and a code-only rebuild run this same step on the same dependencies: the old
projects' files are removed by their RECORD, the projects are built and installed without
their dependencies, and their files alone are compiled in one run of their own. So both give
the same bytes, and nothing of an older version is left.

Building a project needs its build backend ([build-system] requires). Those are installed once
into a build-only cache layer with the manager's own installer, keyed by what they are and
what the dependencies are, and the projects are built against it without build isolation: a
rebuild after a code change downloads nothing.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from cnb_python import bytecode
from cnb_python.appfiles import read_toml
from cnb_python.cnb.layers import Layer, LayerTypes
from cnb_python.environments import Environment
from cnb_python.fingerprint import KeyInput
from cnb_python.log import Logger
from cnb_python.managers.base import Installer
from cnb_python.tools import Tool

LAYER_NAME = "project-build"
# What pip assumes for a project without [build-system] (PEP 518).
DEFAULT_BUILD_REQUIRES = ("setuptools>=40.8.0",)
_BUILD_ONLY = LayerTypes(build=False, cache=True, launch=False)


def key_inputs(app: Path, projects: Sequence[str]) -> dict[str, KeyInput]:
    """The projects' files, which key the project step alone."""
    return {f"path:{path}": app / path for path in projects}


def build_requires(app: Path, projects: Sequence[str]) -> list[str]:
    """Every project's [build-system] requires, in one sorted list."""
    found: set[str] = set()
    for path in projects:
        pyproject = app / path / "pyproject.toml"
        system = read_toml(pyproject).get("build-system") if pyproject.is_file() else None
        requires = system.get("requires") if isinstance(system, dict) else None
        found.update(map(str, requires) if isinstance(requires, list) else DEFAULT_BUILD_REQUIRES)
    return sorted(found)


def provide_build_requires(
    layer: Layer,
    installer: Installer,
    environment: Environment,
    requires: Sequence[str],
    dependencies_key: str,
    tools: Mapping[str, Tool],
    env: Mapping[str, str],
    log: Logger,
) -> Path:
    """The directory the projects' build backends are imported from (PYTHONPATH)."""
    site = layer.path / "site"
    wanted = {"requires": list(requires), "dependencies": dependencies_key}
    if layer.restored_metadata() == wanted and site.is_dir():
        log.step("Reusing the cached build backends of the app's own projects")
    else:
        log.step(f"Installing the build backends of the app's own projects ({', '.join(requires)})")
        layer.reset()
        installer.pip_install(environment.path, tools, ["--target", str(site), *requires], env, log)
    layer.write(_BUILD_ONLY, wanted)
    return site


def keep_build_requires(layer: Layer) -> None:
    """Keep the backends for the next code change when this build needs none of them."""
    restored = layer.restored_metadata()
    if restored:
        layer.write(_BUILD_ONLY, restored)


def install(
    environment: Environment,
    installer: Installer,
    projects: Sequence[str],
    backends: Path,
    tools: Mapping[str, Tool],
    env: Mapping[str, str],
    log: Logger,
) -> list[str]:
    """Build and install `projects` (without their dependencies) and compile their files;
    return the dist-info directories they made, relative to the environment."""
    before = set(_dist_infos(environment))
    installer.pip_install(
        environment.path,
        tools,
        [
            "--no-deps",
            "--no-build-isolation",
            *("." if path == "." else f"./{path}" for path in projects),
        ],
        {**env, "PYTHONPATH": str(backends)},
        log,
    )
    made = sorted(set(_dist_infos(environment)) - before)
    roots = environment.compile_roots()
    files = sorted(
        path
        for dist_info in made
        for path in _recorded(environment, dist_info)
        if path.suffix == ".py"
        and path.is_file()
        and not path.is_symlink()
        and any(path.is_relative_to(root) for root in roots)
    )
    bytecode.compile_files(environment.compiler, files, log=log, what="the app's own projects")
    return made


def uninstall(environment: Environment, dist_infos: Sequence[str]) -> None:
    """Remove what the projects installed, as their RECORD lists it, with the pycs the
    buildpack compiled for it, and the directories that leaves empty."""
    for dist_info in dist_infos:
        directories = set()
        for path in _recorded(environment, dist_info):
            if path.suffix == ".py":
                for pyc in path.parent.glob(f"__pycache__/{path.stem}.*.pyc"):
                    pyc.unlink()
                directories.add(path.parent / "__pycache__")
            if path.is_file() or path.is_symlink():
                path.unlink()
            directories.add(path.parent)
        for directory in sorted(directories, key=lambda d: len(d.parts), reverse=True):
            _remove_empty(directory, stop=environment.path)


def _remove_empty(directory: Path, stop: Path) -> None:
    while directory != stop and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent


def _dist_infos(environment: Environment) -> list[str]:
    return [
        str(dist_info.relative_to(environment.path))
        for site in environment.site_packages()
        for dist_info in site.glob("*.dist-info")
    ]


def _recorded(environment: Environment, dist_info: str) -> list[Path]:
    """The files a distribution's RECORD lists (relative to its site-packages; scripts are
    under ../../../bin)."""
    record = environment.path / dist_info / "RECORD"
    site = record.parent.parent
    with record.open(newline="", encoding="utf-8") as rows:
        return [Path(os.path.normpath(site / row[0])) for row in csv.reader(rows) if row]
