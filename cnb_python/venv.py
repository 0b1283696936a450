"""The app's environment layer: made from empty, filled by the package manager, compiled to
hash-based pycs, reused only when every install input is unchanged, otherwise rebuilt from
empty. What differs between kinds of environment (a venv, one with its own Python) is the
manager's Environment's (environments.py). The reuse key is computed here, from the manager's
declared inputs, and nowhere else."""

from __future__ import annotations

from collections.abc import Mapping

from cnb_python import bytecode
from cnb_python.cnb.layers import Layer, LayerTypes
from cnb_python.cpython import CPython
from cnb_python.environments import Environment
from cnb_python.fingerprint import digest_inputs, key_sha256
from cnb_python.log import Logger
from cnb_python.managers.base import Installer, PackageManager
from cnb_python.tools import Tool

LAYER_NAME = "venv"
# Bump when the layer layout or normalization below changes, so cached venvs are rebuilt.
LAYER_FORMAT = 2


def install_inputs(
    manager: PackageManager, installer: Installer, env: Mapping[str, str]
) -> dict[str, str]:
    """A digest of each input the installer declares, and of the manager's variables."""
    return digest_inputs(installer.inputs(), env, manager.env_prefixes)


def reuse_key(
    manager: PackageManager,
    inputs: Mapping[str, str],
    tools: Mapping[str, Tool],
    python: str,
    arch: str,
) -> str:
    """The one reuse key of the env layer; `inputs` are install_inputs()."""
    return key_sha256(
        {
            "format": LAYER_FORMAT,
            "manager": manager.name,
            "tools": {name: tool.version for name, tool in sorted(tools.items())},
            "python": python,
            "arch": arch,
            "inputs": dict(inputs),
        }
    )


def provide_venv(
    layer: Layer,
    cpython: CPython,
    manager: PackageManager,
    installer: Installer,
    tools: Mapping[str, Tool],
    types: LayerTypes,
    *,
    arch: str,
    user_env: Mapping[str, str],
    tool_env: Mapping[str, str],
    log: Logger,
) -> Environment:
    environment = manager.environment(layer.path, cpython)
    inputs = install_inputs(manager, installer, user_env)
    key = reuse_key(manager, inputs, tools, cpython.version, arch)
    metadata = {"key": key, "manager": manager.name, "python": cpython.version}
    restored = layer.restored_metadata()
    if restored == metadata and environment.python.exists():
        log.section("Reusing cached virtual environment: the install inputs are unchanged")
    else:
        if restored:
            log.section("Rebuilding the virtual environment: the install inputs changed")
        log.section(f"Installing dependencies with {installer.describe()}")
        with log.timed():
            layer.reset()
            environment.create(tool_env, log)
            installer.install(environment.path, tools, tool_env, log)
            log.step("Compiling the dependencies to hash-based bytecode")
            roots = environment.compile_roots()
            bytecode.remove_bytecode(roots)
            bytecode.compile_files(
                environment.compiler,
                bytecode.python_sources(roots),
                log=log,
                what="the dependencies",
            )
        # bin/ reaches PATH through the lifecycle, ahead of the CPython layer's because "venv"
        # sorts after "cpython".
        for name, value in environment.activation().items():
            layer.shared_env.override(name, value)
    layer.write(types, metadata)
    return environment
