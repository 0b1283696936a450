"""The shape every package manager has. The venv layer, reuse, bytecode, SBOMs and processes
are shared; a manager only says what selects it, what its reuse key covers, and how it installs
into an existing environment."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from cnb_python.log import Logger
from cnb_python.tools import Tool


class Manager(Protocol):
    @property
    def name(self) -> str:
        """pip, uv, poetry, pipenv or conda: also the value of BP_PYTHON_PACKAGE_MANAGER."""
        ...

    @property
    def creates_environment(self) -> bool:
        """True (conda): the install makes the environment itself in the empty layer, with its
        own Python, instead of getting a venv made from the CPython layer."""
        ...

    @property
    def tool(self) -> str:
        """The build-only tool layer it runs (a dependency id or a requirements/tools set)."""
        ...

    def describe(self) -> str:
        """For the log: the manager and the files it installs from."""
        ...

    def key_inputs(self, env: Mapping[str, str]) -> dict[str, str]:
        """Digests of everything that can change what is installed (never secret values)."""
        ...

    def install(
        self, venv: Path, tools: Mapping[str, Tool], env: Mapping[str, str], log: Logger
    ) -> None:
        """Install into the empty venv at `venv` with the build-only `tools` (by name: the
        manager's own tool, and pip when its tool is a requirement set), run with `env`."""
        ...

    def project_scripts(self) -> tuple[str, ...]:
        """Console scripts of the app's own project when the install puts them on PATH."""
        ...
