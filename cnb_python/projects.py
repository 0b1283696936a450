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
install alongside, as soon as the environment's Python is there: their downloads overlap. Once
the dependencies are in, the backends are asked what they add for this machine (cmake or ninja
when it has none: toolscripts/build_requires.py), as pip asks in an isolated build, and what is
missing joins them in that layer. The backends keep the pycs of what they import in that layer
(set_bytecode.py), so the next hook and the next code change read them.
"""

from __future__ import annotations

import csv
import importlib.metadata
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from cnb_python import bytecode, set_bytecode
from cnb_python.appfiles import left_as_it_was, read_toml, table
from cnb_python.background import Background
from cnb_python.cnb.layers import Layer, LayerTypes
from cnb_python.environments import Environment
from cnb_python.fingerprint import digest_inputs, key_sha256
from cnb_python.managers.base import Installer, ToolRun
from cnb_python.run import run as run_command

LAYER_NAME = "project-build"
# What pip assumes for a project without [build-system] (PEP 518), and its backend then.
DEFAULT_BUILD_REQUIRES = ("setuptools>=40.8.0",)
DEFAULT_BACKEND = "setuptools.build_meta:__legacy__"
_BUILD_ONLY = LayerTypes(build=False, cache=True, launch=False)
_BUILD_REQUIRES = Path(__file__).parent / "toolscripts" / "build_requires.py"


@dataclass(frozen=True)
class Backends:
    """The backends' directories in the build layer: each is imported from (PYTHONPATH), its
    scripts in its bin/."""

    site: Path  # [build-system] requires
    added: Path  # what the backends add for this machine, when it exists
    fresh: bool  # installed by this build, not reused

    @property
    def directories(self) -> list[Path]:
        return [self.site, *([self.added] if self.added.is_dir() else [])]

    def env(self, env: Mapping[str, str]) -> dict[str, str]:
        """`env` for a build against them: their modules and their scripts (meson) first."""
        scripts = [str(directory / "bin") for directory in self.directories]
        return {
            **env,
            "PYTHONPATH": os.pathsep.join(map(str, self.directories)),
            "PATH": os.pathsep.join(filter(None, [*scripts, env.get("PATH")])),
        }


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

    def start_backends(self, dependencies_key: str, run: ToolRun) -> Background[Backends] | None:
        """The backends' install, in a thread, once the environment's Python is there to
        install for (a conda environment's comes with its install); None: not now."""
        if not self.paths or not self.environment.python.exists():
            return None
        return Background(
            lambda log: self._backends(dependencies_key, replace(run, log=log)), run.log
        )

    def install(
        self, dependencies_key: str, run: ToolRun, started: Background[Backends] | None = None
    ) -> list[str]:
        """Build and install the projects (without their dependencies) against their backends
        (`started`, when start_backends started them), and compile their files; return the
        dist-info directories they made, relative to the environment. `run` has the wrapped
        toolchain: a project may be compiled from C as a dependency is."""
        run.log.step(f"Installing the app's own projects ({', '.join(self.paths)})")
        if started is not None:
            backends = started.result(run.log)
        else:
            backends = self._backends(dependencies_key, run)
        if backends.fresh:
            self._add_what_the_backends_ask(backends, run)
        before = set(_dist_infos(self.environment))
        editable = self.installer.editable_projects()
        targets = []
        for path in self.paths:
            targets += ["-e"] if path in editable else []
            targets.append("." if path == "." else f"./{path}")
        build = replace(run, env=backends.env(run.env))
        with set_bytecode.keep_pycs(run.prefix, list(map(str, backends.directories))):
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

    def _backends(self, dependencies_key: str, run: ToolRun) -> Backends:
        """The projects' build backends, installed or reused."""
        layer, requires = self.build_layer, self.build_requires()
        backends = Backends(layer.path / "site", layer.path / "added", fresh=False)
        wanted = {"requires": requires, "dependencies": dependencies_key}
        if layer.restored_metadata() != wanted or not backends.site.is_dir():
            run.log.step(f"Installing the build backends ({', '.join(requires)})")
            layer.reset()
            self.installer.install_backends(run, backends.site, requires)
            backends = replace(backends, fresh=True)
        else:
            run.log.step("Reusing the cached build backends of the app's own projects")
        # The backends' pycs, written as the projects build, stay valid after a restore.
        for directory in backends.directories:
            set_bytecode.fix_source_mtimes(directory)
        layer.write(_BUILD_ONLY, wanted)
        return backends

    def _add_what_the_backends_ask(self, backends: Backends, run: ToolRun) -> None:
        """Install beside them what the backends add for these projects on this machine and is
        not there yet; the layer keeps it for the builds that reuse it."""
        editable = self.installer.editable_projects()
        asked = {
            requirement
            for path in self.paths
            for requirement in self._asked(path, path in editable, backends, run)
        }
        missing = sorted(r for r in asked if not _installed(backends.site, r))
        if missing:
            run.log.step(f"Installing what the build backends add ({', '.join(missing)})")
            self.installer.install_backends(run, backends.added, missing)
            set_bytecode.fix_source_mtimes(backends.added)

    def _asked(self, path: str, editable: bool, backends: Backends, run: ToolRun) -> list[str]:
        pyproject = self.app / path / "pyproject.toml"
        system = table(read_toml(pyproject), "build-system") if pyproject.is_file() else {}
        backend = system.get("build-backend") or DEFAULT_BACKEND
        backend_path = system.get("backend-path") or []
        kind = "editable" if editable else "wheel"
        with (
            tempfile.TemporaryDirectory() as temp,
            left_as_it_was(self.app),
            set_bytecode.keep_pycs(run.prefix, list(map(str, backends.directories))),
        ):
            output = Path(temp, "requires.json")
            run_command(
                [
                    str(self.environment.python),
                    str(_BUILD_REQUIRES),
                    str(backend),
                    json.dumps(backend_path),
                    kind,
                    str(output),
                ],
                env=backends.env(run.env),
                cwd=self.app / path,
                log=run.log,
                show=f"{backend}: get_requires_for_build_{kind} ({path})",
                stream=False,
                error_title="Unable to build the app's own project",
                error_fix=f"Read the output above: {path}'s build backend ({backend}) failed to "
                "say what it needs to build. Check its [build-system] in pyproject.toml.",
            )
            return [str(r) for r in json.loads(output.read_text())]


def _installed(site: Path, requirement: str) -> bool:
    """Whether a distribution in `site` is what `requirement` asks (markers aside: pip reads
    them when it installs the rest)."""
    wanted = Requirement(requirement)
    for distribution in importlib.metadata.distributions(path=[str(site)]):
        if canonicalize_name(distribution.metadata["Name"] or "") == canonicalize_name(wanted.name):
            return wanted.specifier.contains(distribution.version, prereleases=True)
    return False


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
