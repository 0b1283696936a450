"""The app's environment layer: made from empty, filled by the package manager, compiled to
hash-based pycs, reused only when every install input is unchanged, otherwise rebuilt from
empty. What differs between kinds of environment (a venv, one with its own Python) is the
manager's Environment's (environments.py). The reuse key is computed here, from the manager's
declared inputs, and nowhere else."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from cnb_python import bytecode, pid1, toolchain
from cnb_python.background import Background
from cnb_python.cnb.layers import Layer, LayerTypes
from cnb_python.cpython import CPython
from cnb_python.environments import Environment
from cnb_python.fingerprint import digest_inputs, key_sha256
from cnb_python.log import Logger
from cnb_python.managers.base import Installer, PackageManager, ToolRun
from cnb_python.projects import ProjectStep
from cnb_python.tools import Tool

LAYER_NAME = "venv"
# Bump when the layer layout or normalization below changes, so cached venvs are rebuilt.
LAYER_FORMAT = 5


def install_inputs(
    manager: PackageManager, installer: Installer, env: Mapping[str, str]
) -> dict[str, str]:
    """A digest of each input the installer declares, and of the manager's variables."""
    return digest_inputs(installer.inputs(), env, manager.env_prefixes)


def reuse_inputs(
    manager: PackageManager,
    installer: Installer,
    tools: Mapping[str, Tool],
    python: str,
    arch: str,
    user_env: Mapping[str, str],
    tool_env: Mapping[str, str],
) -> dict[str, str]:
    """Everything that can change what the env layer holds, by name, as digests or versions
    (never secret values): what the installer declares, the manager's variables, and the C
    toolchain's inputs, which every env is keyed on, as any dependency may be compiled from
    source. The layer's one reuse key is their digest."""
    tool_versions = {name: tool.version for name, tool in sorted(tools.items())}
    return {
        **install_inputs(manager, installer, user_env),
        "format": str(LAYER_FORMAT),
        "manager": manager.name,
        "tools": key_sha256(tool_versions),
        "python": python,
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


# Shared inputs, for the log; a manager's "file:<lock>" or "path:<dir>" is shown as its path,
# "dependencies:<dir>" (those of a project the project step installs) as what they are.
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
    if kind == "dependencies" and rest:
        return f"the dependencies of {'the app' if rest == '.' else rest}"
    return _DESCRIPTIONS.get(name, name)


def provide_venv(
    layer: Layer,
    build_layer: Layer,
    cpython: CPython,
    manager: PackageManager,
    installer: Installer,
    tools: Mapping[str, Tool],
    types: LayerTypes,
    *,
    app: Path,
    arch: str,
    user_env: Mapping[str, str],
    tool_env: Mapping[str, str],
    log: Logger,
) -> Environment:
    """The env layer, and `build_layer` for the build backends of the app's own projects."""
    environment = manager.environment(layer.path, cpython)
    inputs = reuse_inputs(manager, installer, tools, cpython.version, arch, user_env, tool_env)
    metadata: dict[str, Any] = {
        "key": key_sha256(inputs),
        "manager": manager.name,
        "python": cpython.version,
        "inputs": input_digests(inputs),
    }
    step = ProjectStep(app, installer, environment, build_layer)
    run = ToolRun(environment.path, tools, tool_env, log)
    restored = layer.restored_metadata()
    before = restored.pop("projects", {})
    pycs = restored.pop("pycs", [])  # the digests of the compiled chunks (bytecode.Reuse)
    installed = before.get("installed") if isinstance(before, dict) else None
    projects_key = step.key() if step.paths else ""
    same_dependencies = restored == metadata and environment.python.exists()
    if same_dependencies and (
        not step.paths or (isinstance(installed, list) and before.get("key") == projects_key)
    ):
        log.section("Reusing cached virtual environment: the install inputs are unchanged")
        step.keep_backends()
    elif same_dependencies and step.paths and isinstance(installed, list):
        log.section(
            "Reinstalling the app's own projects: their files changed, the dependencies did not"
        )
        with log.timed(), run, _wrapped_toolchain(environment, run) as wrapped:
            layer.forget_metadata()
            installed = step.reinstall(installed, metadata["key"], wrapped)
    else:
        if restored:
            changed = changed_inputs(restored, inputs)
            why = f"{', '.join(changed)} changed" if changed else "the install inputs changed"
            log.section(f"Rebuilding the virtual environment: {why}")
        log.section(f"Installing dependencies with {installer.describe()}")
        with log.timed(), run:
            old = layer.reset_aside()
            previous = _Previous(old, layer.path, pycs if isinstance(pycs, list) else [], log)
            try:
                installed, pycs = _install(
                    environment, installer, step, metadata["key"], run, previous
                )
            finally:
                previous.removed(log)
        # bin/ reaches PATH through the lifecycle, ahead of the CPython layer's because "venv"
        # sorts after "cpython".
        for name, value in environment.activation().items():
            layer.shared_env.override(name, value)
    metadata["pycs"] = pycs
    if step.paths:
        metadata["projects"] = {"key": projects_key, "installed": installed}
    else:
        build_layer.remove()
    layer.write(types, metadata)
    return environment


class _Previous:
    """The previous environment, moved aside (`old`): its thousands of files are removed while
    the new one is made, or once the dependencies' compile has taken the pycs it can reuse."""

    def __init__(self, old: Path | None, path: Path, pycs: list[str], log: Logger) -> None:
        self._old, self._log = old, log
        self.reuse = None
        if old and pycs:
            self.reuse = bytecode.Reuse(path, old / path.name, frozenset(pycs))
        self._removing: Background[None] | None = None
        if not self.reuse:
            self.remove()

    def remove(self) -> None:
        old = self._old
        if old and not self._removing:
            self._removing = Background(lambda _: shutil.rmtree(old), self._log)

    def removed(self, log: Logger) -> None:
        self.remove()
        if self._removing:
            self._removing.result(log)


def _install(
    environment: Environment,
    installer: Installer,
    step: ProjectStep,
    key: str,
    run: ToolRun,
    previous: _Previous,
) -> tuple[list[str], list[str]]:
    """Into the empty layer: the environment, the manager's install, the PID 1 hook and
    hash-based pycs of everything, then the app's own projects. Returns the projects installed
    and the digests of the dependencies' compiled chunks."""
    # Both wait on a process (venv, the compiler's option check): they overlap.
    creating = Background(lambda log: environment.create(run.env, log), run.log)
    with _wrapped_toolchain(environment, run) as wrapped:
        creating.result(run.log)
        backends = step.start_backends(key, wrapped)
        try:
            installer.install(wrapped)
            for site_packages in environment.site_packages():
                pid1.install_hook(site_packages)
            run.log.step("Compiling the dependencies to hash-based bytecode")
            roots = environment.compile_roots()
            bytecode.remove_bytecode(roots)
            sources = bytecode.python_sources(roots)
            pycs = bytecode.compile_files(
                environment.compiler,
                sources,
                log=run.log,
                what="the dependencies",
                version=environment.compiler_version,
                reuse=previous.reuse,
            )
            previous.remove()
            return (step.install(key, wrapped, backends) if step.paths else []), pycs
        finally:
            if backends is not None:  # its tool is not left writing after a failure
                backends.join()


@contextmanager
def _wrapped_toolchain(environment: Environment, run: ToolRun) -> Iterator[ToolRun]:
    """`run` with the compiler shims first on PATH: for the dependencies and the projects."""
    toolchain_dir = environment.path.parent / toolchain.DIRECTORY
    with toolchain.wrapped_toolchain(toolchain_dir, run.env, run.log) as env:
        yield replace(run, env=env)
