"""The app's environment layer: a venv built from the CPython layer, filled by the package
manager, reused only when every install input is unchanged, otherwise rebuilt from empty.
A manager that creates the environment itself (conda) gets the empty layer instead of a venv;
the environment's own python then compiles the bytecode, its whole lib/ (its stdlib too)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnb_python import bytecode, pid1, toolchain
from cnb_python.cnb.layers import Layer, LayerTypes
from cnb_python.cpython import CPython
from cnb_python.fingerprint import key_sha256
from cnb_python.log import Logger
from cnb_python.managers.base import Manager
from cnb_python.tools import Tool

LAYER_NAME = "venv"
# Bump when the layer layout or normalization below changes, so cached venvs are rebuilt.
LAYER_FORMAT = 3


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


def reuse_inputs(
    manager: Manager,
    tools: Mapping[str, Tool],
    cpython: CPython,
    arch: str,
    user_env: Mapping[str, str],
    tool_env: Mapping[str, str],
) -> dict[str, str]:
    """Everything that can change what the venv holds, by name, as digests or versions (never
    secret values): the manager's own inputs, and the C toolchain's, which every venv is keyed
    on, as any dependency may be compiled from source."""
    tool_versions = {name: tool.version for name, tool in sorted(tools.items())}
    return {
        **manager.key_inputs(user_env),
        "format": str(LAYER_FORMAT),
        "manager": manager.name,
        "tools": key_sha256(tool_versions),
        "python": cpython.version,
        "arch": arch,
        "pid1_hook": pid1.HOOK_DIGEST,
        **toolchain.key_inputs(tool_env),
    }


def input_digests(inputs: Mapping[str, str]) -> dict[str, str]:
    """What the layer metadata keeps of each input, to name those that change: a short digest,
    so no value (a dependency group's name, say) is kept as it is."""
    return {name: hashlib.sha256(value.encode()).hexdigest()[:16] for name, value in inputs.items()}


def changed_inputs(restored: Mapping[str, Any], inputs: Mapping[str, str]) -> list[str]:
    """The inputs whose digests differ from the previous build's, for the log."""
    before = restored.get("inputs")
    if not isinstance(before, dict):
        return []
    now = input_digests(inputs)
    names = [*now, *(name for name in before if name not in now)]
    return [describe_input(name) for name in names if before.get(name) != now.get(name)]


# Shared inputs, for the log; a manager's "file:uv.lock" or "path:greet" is shown as its path.
_DESCRIPTIONS = {
    "format": "the buildpack's venv format",
    "manager": "the package manager",
    "tools": "the tool versions",
    "python": "the Python version",
    "arch": "the architecture",
    "env": "the package manager's variables",
    "compiler:CC": "the C compiler",
    "compiler:CXX": "the C++ compiler",
    "target-distro": "the target distro",
    "toolchain-shims": "the buildpack's compiler shims",
    "pid1_hook": "the buildpack's PID 1 hook",
}


def describe_input(name: str) -> str:
    kind, _, rest = name.partition(":")
    if kind in ("file", "path") and rest:
        return "the app's files" if rest == "." else rest
    return _DESCRIPTIONS.get(name, name)


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
    inputs = reuse_inputs(manager, tools, cpython, arch, user_env, tool_env)
    metadata = {
        "key": key_sha256(inputs),
        "manager": manager.name,
        "python": cpython.version,
        "inputs": input_digests(inputs),
    }
    restored = layer.restored_metadata()
    if restored == metadata and venv.python.exists():
        log.section("Reusing cached virtual environment: the install inputs are unchanged")
    else:
        if restored:
            changed = changed_inputs(restored, inputs)
            why = f"{', '.join(changed)} changed" if changed else "the install inputs changed"
            log.section(f"Rebuilding the virtual environment: {why}")
        log.section(f"Installing dependencies with {manager.describe()}")
        with log.timed():
            layer.reset()
            if not own_environment:
                cpython.create_venv(
                    venv.path, env=tool_env, log=log, what="the virtual environment"
                )
            toolchain_dir = layer.path.parent / toolchain.DIRECTORY
            with toolchain.wrapped_toolchain(toolchain_dir, tool_env, log) as install_env:
                manager.install(venv.path, tools, install_env, log)
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
