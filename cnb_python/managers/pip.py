"""pip: requirements files, or the app itself as a project (`pip install .`)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cnb_python.appfiles import read_toml, table
from cnb_python.cnb.bindings import Binding, bindings_of_type
from cnb_python.errors import UserError
from cnb_python.fingerprint import env_with_prefixes, file_sha256, tree_sha256, values_sha256
from cnb_python.log import Logger
from cnb_python.managers.requirements import collect
from cnb_python.run import run
from cnb_python.tools import Tool

# Variables that would make pip install somewhere other than the app's venv.
UNSAFE_PIP_VARIABLES = ("PIP_TARGET", "PIP_USER", "PIP_PREFIX", "PIP_ROOT", "PIP_PYTHON")


@dataclass(frozen=True)
class PipManager:
    app: Path
    requirement_files: tuple[Path, ...]  # empty: install the app itself (`pip install .`)
    vendor: Path | None  # wheels for an offline install
    pip_conf: Path | None  # from a binding of type `pip`; used at build time only
    scripts: tuple[str, ...] = ()  # [project.scripts] of the app when it is installed itself

    name = "pip"
    tool = "pip"
    creates_environment = False

    def describe(self) -> str:
        if not self.requirement_files:
            return "pip (the app's own project metadata)"
        names = ", ".join(str(p.relative_to(self.app)) for p in self.requirement_files)
        return f"pip ({names})"

    def key_inputs(self, env: Mapping[str, str]) -> dict[str, str]:
        """Everything that can change what pip installs, as digests (env values may be secret)."""
        inputs: dict[str, str] = {}
        if self.requirement_files:
            found = collect(list(self.requirement_files))
            for path in found.files:
                inputs[f"file:{_display(path, self.app)}"] = file_sha256(path)
            locals_ = found.local_paths
        else:
            locals_ = [self.app]
        for path in locals_:
            digest = tree_sha256(path) if path.is_dir() else _file_or_missing(path)
            inputs[f"path:{_display(path, self.app)}"] = digest
        if self.vendor:
            inputs["vendor"] = tree_sha256(self.vendor)
        if self.pip_conf:
            inputs["pip.conf"] = file_sha256(self.pip_conf)
        inputs["env"] = values_sha256(env_with_prefixes(env, ("PIP_", "BP_PIP_")))
        return inputs

    def project_scripts(self) -> tuple[str, ...]:
        return self.scripts

    def install(
        self, venv: Path, tools: Mapping[str, Tool], env: Mapping[str, str], log: Logger
    ) -> None:
        if self.requirement_files:
            targets = []
            for path in self.requirement_files:
                targets += ["--requirement", str(path.relative_to(self.app))]
        else:
            targets = ["."]
        pip_install(
            venv,
            tools["pip"],
            targets,
            app=self.app,
            vendor=self.vendor,
            pip_conf=self.pip_conf,
            env=env,
            log=log,
        )


def pip_install(
    venv: Path,
    pip: Tool,
    arguments: Sequence[str],
    *,
    app: Path,
    vendor: Path | None,
    pip_conf: Path | None,
    env: Mapping[str, str],
    log: Logger,
    show: str | None = None,
    known_errors: Mapping[str, tuple[str, str]] | None = None,
) -> None:
    """`pip install ARGUMENTS` into `venv`, run in the app dir, which is left as it was (pip
    builds local projects in place). The one pip install of every manager that uses pip;
    `known_errors` as in run()."""
    command = [
        *pip.command(venv / "bin" / "python"),
        "install",
        "--no-input",
        "--disable-pip-version-check",
        "--no-compile",  # bytecode is compiled afterwards, hash-based and deterministic
        "--progress-bar=off",
        "--no-cache-dir",
    ]
    if vendor:
        command += ["--no-index", f"--find-links={vendor}"]
    command += arguments
    pip_env = dict(env)
    if pip_conf:
        pip_env["PIP_CONFIG_FILE"] = str(pip_conf)
    before = _paths(app)
    try:
        run(
            command,
            env=pip_env,
            cwd=app,
            log=log,
            show=show or "pip " + " ".join(command[2:]),
            error_title="Unable to install dependencies using pip",
            error_fix=(
                "Read pip's output above: it names the requirement that failed. Check its "
                "spelling and version, and that the versions you pin can be installed "
                "together on this Python."
            ),
            known_errors=known_errors,
        )
    finally:
        _remove_new(app, before)


def _display(path: Path, app: Path) -> str:
    try:
        return path.relative_to(app).as_posix() or "."
    except ValueError:
        return path.as_posix()


def _file_or_missing(path: Path) -> str:
    return file_sha256(path) if path.is_file() else "missing"


def _paths(root: Path) -> set[Path]:
    found = set()
    for directory, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            found.add(Path(directory, name))
    return found


def _remove_new(root: Path, before: set[Path]) -> None:
    """pip builds local projects in place (build/, *.egg-info); leave the app dir as it was."""
    for path in sorted(_paths(root) - before, key=lambda p: len(p.parts)):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists() or path.is_symlink():
            path.unlink()


def pip_manager(
    app: Path, env: Mapping[str, str], bindings: Sequence[Binding], project_only: bool
) -> PipManager:
    unsafe_pip_variables_error(env)
    requirement_files: tuple[Path, ...] = ()
    if not project_only:
        names = env.get("BP_PIP_REQUIREMENT", "").split() or ["requirements.txt"]
        missing = [n for n in names if not (app / n).is_file()]
        if missing:
            raise UserError(
                "Requirements file not found",
                f"BP_PIP_REQUIREMENT names {', '.join(missing)}, which the app does not contain.",
                "Fix the paths in BP_PIP_REQUIREMENT (space-separated, relative to the app root).",
            )
        requirement_files = tuple(app / n for n in names)
    vendor_dir = app / (env.get("BP_PIP_DEST_PATH") or "vendor")
    pip_bindings = bindings_of_type(bindings, "pip")
    pip_conf = next((b.entries["pip.conf"] for b in pip_bindings if "pip.conf" in b.entries), None)
    return PipManager(
        app=app,
        requirement_files=requirement_files,
        vendor=vendor_dir if vendor_dir.is_dir() else None,
        pip_conf=pip_conf,
        scripts=project_scripts(app) if project_only else (),
    )


def unsafe_pip_variables_error(env: Mapping[str, str]) -> None:
    """A titled error when pip would install outside the app's venv."""
    unsafe = [name for name in UNSAFE_PIP_VARIABLES if env.get(name)]
    if unsafe:
        raise UserError(
            "Unsafe environment variables found",
            f"{', '.join(unsafe)} would make pip install outside the app's virtual environment, "
            "so the image would not contain the dependencies.",
            f"Unset {', '.join(unsafe)} (pack build --env sets them; so can an earlier buildpack).",
        )


def project_scripts(app: Path) -> tuple[str, ...]:
    """The names in pyproject.toml's [project.scripts], sorted."""
    path = app / "pyproject.toml"
    return tuple(sorted(table(read_toml(path), "project", "scripts"))) if path.is_file() else ()
