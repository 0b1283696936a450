"""The app's environment layer: a venv built from the CPython layer, filled by the package
manager, reused only when every install input is unchanged, otherwise rebuilt from empty.
A manager that creates the environment itself (conda) gets the empty layer instead of a venv;
the environment's own python then compiles the bytecode, its whole lib/ (its stdlib too)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cnb_python import bytecode, pid1
from cnb_python.cnb.layers import Layer, LayerTypes
from cnb_python.cpython import CPython
from cnb_python.fingerprint import key_sha256
from cnb_python.log import Logger
from cnb_python.managers.base import Manager
from cnb_python.tools import Tool

LAYER_NAME = "venv"
# Bump when the layer layout or normalization below changes, so cached venvs are rebuilt.
LAYER_FORMAT = 2


@dataclass(frozen=True)
class Venv:
    path: Path

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def site_packages(self) -> list[Path]:
        return sorted((self.path / "lib").glob("python*/site-packages"))

    def conda_meta(self) -> Path | None:
        path = self.path / "conda-meta"
        return path if path.is_dir() else None


def reuse_key(
    manager: Manager,
    tools: Mapping[str, Tool],
    cpython: CPython,
    arch: str,
    env: Mapping[str, str],
) -> str:
    return key_sha256(
        {
            "format": LAYER_FORMAT,
            "manager": manager.name,
            "tools": {name: tool.version for name, tool in sorted(tools.items())},
            "python": cpython.version,
            "arch": arch,
            "inputs": manager.key_inputs(env),
            "pid1_hook": pid1.HOOK_DIGEST,
        }
    )


def provide_venv(
    layer: Layer,
    cpython: CPython,
    manager: Manager,
    tools: Mapping[str, Tool],
    types: LayerTypes,
    *,
    arch: str,
    user_env: Mapping[str, str],
    tool_env: Mapping[str, str],
    log: Logger,
) -> Venv:
    venv = Venv(layer.path)
    own_environment = manager.creates_environment
    key = reuse_key(manager, tools, cpython, arch, user_env)
    metadata = {"key": key, "manager": manager.name, "python": cpython.version}
    restored = layer.restored_metadata()
    if restored == metadata and venv.python.exists():
        log.section("Reusing cached virtual environment: the install inputs are unchanged")
    else:
        if restored:
            log.section("Rebuilding the virtual environment: the install inputs changed")
        log.section(f"Installing dependencies with {manager.describe()}")
        with log.timed():
            layer.reset()
            if not own_environment:
                cpython.create_venv(
                    venv.path, env=tool_env, log=log, what="the virtual environment"
                )
            manager.install(venv.path, tools, tool_env, log)
            for site_packages in venv.site_packages():
                pid1.install_hook(site_packages)
            log.step("Compiling the dependencies to hash-based bytecode")
            roots = (
                sorted((venv.path / "lib").glob("python*"))
                if own_environment
                else venv.site_packages()
            )
            bytecode.remove_bytecode(roots)
            bytecode.compile_files(
                venv.python if own_environment else cpython.python,
                bytecode.python_sources(roots),
                log=log,
                what="the dependencies",
            )
        # VIRTUAL_ENV as `bin/activate` would set it (CONDA_PREFIX as `conda activate` would);
        # bin/ reaches PATH through the lifecycle, ahead of the CPython layer's because "venv"
        # sorts after "cpython".
        variable = "CONDA_PREFIX" if own_environment else "VIRTUAL_ENV"
        layer.shared_env.override(variable, str(venv.path))
    layer.write(types, metadata)
    return venv
