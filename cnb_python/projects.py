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
rebuild after a code change downloads nothing. When the dependencies install, the backends
install alongside, as soon as the environment's Python is there: their downloads overlap. The
backends keep the pycs of what they import in that layer (set_bytecode.py), so the next hook
and the next code change read them.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from cnb_python import bytecode, set_bytecode
from cnb_python.appfiles import read_toml
from cnb_python.background import Background
from cnb_python.cnb.layers import Layer, LayerTypes
from cnb_python.environments import Environment
from cnb_python.fingerprint import digest_inputs, key_sha256
from cnb_python.managers.base import Installer, ToolRun

LAYER_NAME = "project-build"
# What pip assumes for a project without [build-system] (PEP 518).
DEFAULT_BUILD_REQUIRES = ("setuptools>=40.8.0",)
_BUILD_ONLY = LayerTypes(build=False, cache=True, launch=False)


@dataclass(frozen=True)
class ProjectStep:
    """The app's own projects (Installer.projects) and where they go."""

    app: Path
    installer: Installer
    environment: Environment
    build_layer: Layer  # their build backends

    @property
    def paths(self) -> tuple[str, ...]:
        return self.installer.projects()

    def key(self) -> str:
        """Of the projects' files, which key this step alone."""
        inputs = {f"path:{path}": self.app / path for path in self.paths}
        return key_sha256(digest_inputs(inputs, {}, ()))

    def build_requires(self) -> list[str]:
        """Every project's [build-system] requires, in one sorted list."""
        found: set[str] = set()
        for path in self.paths:
            pyproject = self.app / path / "pyproject.toml"
            system = read_toml(pyproject).get("build-system") if pyproject.is_file() else None
            requires = system.get("requires") if isinstance(system, dict) else None
            found.update(
                map(str, requires) if isinstance(requires, list) else DEFAULT_BUILD_REQUIRES
            )
        return sorted(found)

    def start_backends(self, dependencies_key: str, run: ToolRun) -> Background[Path] | None:
        """The backends' install, in a thread, once the environment's Python is there to
        install for (a conda environment's comes with its install); None: not now."""
        if not self.paths or not self.environment.python.exists():
            return None
        return Background(
            lambda log: self._backends(dependencies_key, replace(run, log=log)), run.log
        )

    def install(
        self, dependencies_key: str, run: ToolRun, backends: Background[Path] | None = None
    ) -> list[str]:
        """Build and install the projects (without their dependencies) against their backends
        (`backends`, when start_backends started them), and compile their files; return the
        dist-info directories they made, relative to the environment. `run` has the wrapped
        toolchain: a project may be compiled from C as a dependency is."""
        run.log.step(f"Installing the app's own projects ({', '.join(self.paths)})")
        if backends is not None:
            site = backends.result(run.log)
        else:
            site = self._backends(dependencies_key, run)
        before = set(_dist_infos(self.environment))
        targets = ["." if path == "." else f"./{path}" for path in self.paths]
        build = replace(run, env={**run.env, "PYTHONPATH": str(site)})
        with set_bytecode.keep_pycs(run.prefix, [str(site)]):
            self.installer.pip_install(build, ["--no-deps", "--no-build-isolation", *targets])
        made = sorted(set(_dist_infos(self.environment)) - before)
        roots = self.environment.compile_roots()
        files = sorted(
            path
            for dist_info in made
            for path in _recorded(self.environment, dist_info)
            if path.suffix == ".py"
            and path.is_file()
            and not path.is_symlink()
            and any(path.is_relative_to(root) for root in roots)
        )
        compiler = self.environment.compiler
        bytecode.compile_files(compiler, files, log=run.log, what="the app's own projects")
        return made

    def reinstall(self, installed: Sequence[str], dependencies_key: str, run: ToolRun) -> list[str]:
        """Replace the projects a previous build installed (`installed`, as install returned)."""
        uninstall(self.environment, installed)
        return self.install(dependencies_key, run)

    def keep_backends(self) -> None:
        """Keep the backends for the next code change when this build needs none of them."""
        restored = self.build_layer.restored_metadata()
        if restored:
            self.build_layer.write(_BUILD_ONLY, restored)

    def _backends(self, dependencies_key: str, run: ToolRun) -> Path:
        """The directory the projects' build backends are imported from (PYTHONPATH)."""
        layer, requires = self.build_layer, self.build_requires()
        site = layer.path / "site"
        wanted = {"requires": requires, "dependencies": dependencies_key}
        if layer.restored_metadata() == wanted and site.is_dir():
            run.log.step("Reusing the cached build backends of the app's own projects")
        else:
            run.log.step(f"Installing the build backends ({', '.join(requires)})")
            layer.reset()
            self.installer.install_backends(run, site, requires)
        # The backends' pycs, written as the projects build, stay valid after a restore.
        set_bytecode.fix_source_mtimes(site)
        layer.write(_BUILD_ONLY, wanted)
        return site


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
