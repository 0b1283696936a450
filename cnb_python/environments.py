"""The kinds of environment a package manager fills in the `venv` layer, and all that differs
between them: how the environment is made, its Python, what is compiled and by which
interpreter, the variables that activate it, where its SBOM comes from, and whether the app's
Python version requests apply. A manager names its kind (PackageManager.environment); the
build, the env layer and the SBOM only call these methods."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from cnb_python.cnb.layers import Layer
    from cnb_python.cpython import CPython
    from cnb_python.layer_sboms import LayerSboms
    from cnb_python.log import Logger
    from cnb_python.tools import Tool


def site_packages(prefix: Path) -> list[Path]:
    """The site-packages directories of the environment (or tool layer) at `prefix`."""
    return sorted((prefix / "lib").glob("python*/site-packages"))


class Environment(ABC):
    """What every kind shares: a prefix with bin/python and lib/python*/site-packages."""

    # True: the environment brings its own Python, so the app's version requests do not apply
    # and the build's tools run on the buildpack's own Python, or a build-only CPython layer.
    own_python: ClassVar[bool] = False
    activation_variable: ClassVar[str]

    def __init__(self, path: Path, cpython: CPython) -> None:
        self.path = path
        self.cpython = cpython  # the Python that runs the build's tools

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def site_packages(self) -> list[Path]:
        return site_packages(self.path)

    def activation(self) -> dict[str, str]:
        """The launch variables that point at the environment, as its activate script sets them;
        its bin/ reaches PATH through the lifecycle."""
        return {self.activation_variable: str(self.path)}

    @abstractmethod
    def create(self, env: Mapping[str, str], log: Logger) -> None:
        """Make the environment in the empty layer, before the manager installs into it."""

    @abstractmethod
    def compile_roots(self) -> list[Path]:
        """The trees the buildpack compiles to hash-based pycs after the install."""

    @property
    @abstractmethod
    def compiler(self) -> Path:
        """The interpreter that compiles them: the one that will import them."""

    @property
    @abstractmethod
    def compiler_version(self) -> str:
        """Its exact version, which pycs are reused by (bytecode.Reuse); empty: unknown."""

    @abstractmethod
    def write_sbom(self, sboms: LayerSboms, layer: Layer) -> None:
        """The layer's SBOM, from what the environment holds."""

    @classmethod
    def ignored_python_requests(
        cls, app: Path, env: Mapping[str, str], default: str
    ) -> tuple[str, str] | None:
        """The warning about the app's Python version requests when they do not apply."""
        return None


class Venv(Environment):
    """A venv made from the CPython layer (`python -m venv --without-pip`): the app's Python is
    the CPython layer's, chosen by the app's version requests."""

    activation_variable = "VIRTUAL_ENV"

    def create(self, env: Mapping[str, str], log: Logger) -> None:
        self.cpython.create_venv(self.path, env=env, log=log, what="the virtual environment")

    def compile_roots(self) -> list[Path]:
        return self.site_packages()  # the stdlib is the CPython layer's, compiled there

    @property
    def compiler(self) -> Path:
        return self.cpython.python

    @property
    def compiler_version(self) -> str:
        return f"CPython {self.cpython.version}"

    def write_sbom(self, sboms: LayerSboms, layer: Layer) -> None:
        sboms.packages(layer, self.site_packages())


class CondaPrefix(Environment):
    """A conda environment that the manager's installer makes itself in the empty layer, with its
    own `python` package: that is the app's Python."""

    own_python = True
    activation_variable = "CONDA_PREFIX"

    def create(self, env: Mapping[str, str], log: Logger) -> None:
        """Nothing: the installer creates the prefix."""

    def activation(self) -> dict[str, str]:
        """CONDA_PREFIX, and the environment's own variables (environment.yml's `variables:`),
        which conda keeps in conda-meta/state and `conda activate` exports."""
        try:
            state = json.loads((self.path / "conda-meta" / "state").read_text())
        except (OSError, ValueError):
            state = {}
        found = state.get("env_vars") if isinstance(state, dict) else None
        variables = {k: v for k, v in (found or {}).items() if isinstance(v, str)}
        return {**variables, **super().activation()}

    def compile_roots(self) -> list[Path]:
        return self.site_packages()  # the stdlib is compiled once linked (compile_own_stdlib)

    @property
    def compiler(self) -> Path:
        return self.python

    @property
    def compiler_version(self) -> str:
        """The record of the `python` package the installer linked: its version and build."""
        records = sorted((self.path / "conda-meta").glob("python-[0-9]*.json"))
        return records[0].stem if len(records) == 1 else ""

    def write_sbom(self, sboms: LayerSboms, layer: Layer) -> None:
        sboms.conda_environment(layer, self.path / "conda-meta", self.site_packages())

    @classmethod
    def ignored_python_requests(
        cls, app: Path, env: Mapping[str, str], default: str
    ) -> tuple[str, str] | None:
        from cnb_python.python_version import gather_requests  # here: detect imports this module

        found = [r.source for r in gather_requests(app, env, default)[:-1]]
        if not found:
            return None
        return (
            "Ignoring Python version requests",
            f"{', '.join(found)} do not apply to conda apps: the app's Python is the `python` "
            "package of the conda environment (e.g. `python=3.12` in environment.yml). The "
            "buildpack's CPython only runs build tools and is not in the image.",
        )


def compile_own_stdlib(prefix: Path, log: Logger, runs_next: Sequence[Tool] = ()) -> None:
    """A CondaPrefix's stdlib (conda's python package ships no pycs) compiled to hash-based pycs
    as soon as the installer has linked it, with the tools `runs_next` on the environment's
    Python (pip, for a pip: subsection or pixi's PyPI packages), so that they start from pycs:
    0.3 s, against 0.9 s from sources. A tool's pycs go into its build-only layer, next to
    those of other Pythons (the file names carry the version), and come back with the layer on
    a rebuild, which then compiles none of them. Site-packages are compiled after the
    install."""
    from cnb_python import bytecode  # here: detect imports this module

    python = prefix / "bin" / "python"
    stdlibs = sorted((prefix / "lib").glob("python*"))
    if not python.exists() or not stdlibs:
        return
    what = " and ".join(["the environment's standard library", *(t.name for t in runs_next)])
    log.step(f"Compiling {what} to hash-based bytecode")
    bytecode.remove_bytecode(stdlibs)  # a package's own pycs: timestamp ones, or stale
    files = bytecode.stdlib_sources(stdlibs)
    tag = "cpython-" + stdlibs[0].name.removeprefix("python").replace(".", "")  # cpython-312
    for tool in runs_next:
        sources = bytecode.python_sources(tool.site_dirs)
        files += [
            s for s in sources if not (s.parent / "__pycache__" / f"{s.stem}.{tag}.pyc").exists()
        ]
    bytecode.compile_files(python, files, log=log, what=what)
