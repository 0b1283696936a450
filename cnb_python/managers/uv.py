"""uv: `uv sync --locked` from uv.lock into the app's venv.

The lock is the law: a lock out of date with pyproject.toml fails the build (run `uv lock`); the
build never locks. No dependency group is installed (not even uv's default `dev`) unless
BP_UV_INSTALL_GROUPS names it. A package project (one with [build-system]) is installed too,
non-editable, so its scripts are on PATH and nothing in the image links into a build path. With
vendor/ the install runs offline: the lock is checked, exported with its hashes, and installed
from vendor/ alone. uv's cache is a temp dir: a cache layer was measured not to pay here
(scripts/bench-uv-cache and the README).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnb_python.appfiles import table
from cnb_python.cnb.bindings import Binding, binding_entry
from cnb_python.distinfo import drop_metadata_files
from cnb_python.fingerprint import KeyInput
from cnb_python.log import Logger
from cnb_python.managers.base import (
    PackageManager,
    Signal,
    controlled,
    file_signal,
    pyproject_signal,
)
from cnb_python.managers.locks import read_lock, read_lock_source
from cnb_python.managers.options import listed, vendor_dir
from cnb_python.managers.pip import project_scripts
from cnb_python.run import run

if TYPE_CHECKING:
    from cnb_python.tools import Tool  # detect imports this module: tools.py stays out

GROUPS_VARIABLE = "BP_UV_INSTALL_GROUPS"
# What the buildpack sets for every uv run; values the user gives for these are ignored.
CONTROLLED = (
    "UV_PROJECT_ENVIRONMENT",
    "UV_PYTHON",
    "UV_PYTHON_DOWNLOADS",
    "UV_LINK_MODE",
    "UV_COMPILE_BYTECODE",
    "UV_CACHE_DIR",
    "UV_NO_CACHE",
    "UV_FROZEN",
    "UV_LOCKED",
    "UV_NO_SYNC",
    "UV_SYSTEM_PYTHON",
    "UV_CONFIG_FILE",
)
_INDEX_SETTINGS = ("UV_INDEX", "UV_DEFAULT_INDEX", "UV_EXTRA_INDEX_URL", "UV_FIND_LINKS")
# uv's per-install stamps: source mtimes and build settings of the machine that built the wheel.
_UV_STAMPS = ("uv_cache.json", "uv_build.json")

_STALE_LOCK = (
    "uv.lock is out of date",
    "Run `uv lock` and commit the updated uv.lock. The build installs exactly what the lock says "
    "and never locks by itself.",
)
_LOCK_VERSION = (
    "uv.lock is newer than this buildpack's uv",
    "Set BP_UV_VERSION to the uv version that wrote the lock (`uv --version`), or lock with the "
    "buildpack's uv.",
)
_INSTALL_FAILED_FIX = (
    "Read uv's output above: it names the package that could not be found, downloaded or built. "
    "Check the network and the index settings (UV_INDEX_URL, a `uv` binding), or run "
    "`uv sync --locked` locally."
)
KNOWN_ERRORS = {
    "needs to be updated, but `--locked` was provided": _STALE_LOCK,
    "uses an unsupported schema version": _LOCK_VERSION,
}


@dataclass(frozen=True)
class UvManager:
    app: Path
    package: bool  # the project itself is installed (it has [build-system])
    scripts: tuple[str, ...]  # its [project.scripts]
    groups: tuple[str, ...]  # dependency groups to add (BP_UV_INSTALL_GROUPS)
    vendor: Path | None  # wheels for an offline install
    uv_toml: Path | None  # from a binding of type `uv`; used at build time only

    def describe(self) -> str:
        groups = f", groups {', '.join(self.groups)}" if self.groups else ""
        return f"uv (uv.lock{groups})"

    def inputs(self) -> dict[str, KeyInput]:
        inputs: dict[str, KeyInput] = {
            "file:uv.lock": self.app / "uv.lock",
            "file:pyproject.toml": self.app / "pyproject.toml",
            "groups": ",".join(self.groups),
        }
        if self.package:
            inputs["path:."] = self.app
        if self.vendor:
            inputs["vendor"] = self.vendor
        if self.uv_toml:
            inputs["uv.toml"] = self.uv_toml
        return inputs

    def project_scripts(self) -> tuple[str, ...]:
        return self.scripts if self.package else ()

    def install(
        self, venv: Path, tools: Mapping[str, Tool], env: Mapping[str, str], log: Logger
    ) -> None:
        uv = tools["uv"].command(venv / "bin" / "python")
        # Only the project's dependencies, not uv's default groups (dev), plus those asked for.
        selection = ["--no-default-groups", *(f"--group={g}" for g in self.groups)]
        with tempfile.TemporaryDirectory(prefix="cnb-python-uv-") as tmp:
            uv_env = self._env(env, venv, Path(tmp))
            if self.vendor is None:
                self._run(
                    [*uv, "sync", "--locked", *selection, "--no-editable"], uv_env, log, "sync"
                )
            else:
                # Offline, index settings only make uv re-resolve instead of reading the lock.
                uv_env = {k: v for k, v in uv_env.items() if not k.startswith(_INDEX_SETTINGS)}
                exported = Path(tmp, "requirements.txt")
                self._run(
                    [
                        *uv,
                        "export",
                        "--locked",
                        "--offline",
                        *selection,
                        "--format=requirements-txt",
                        "--no-emit-project",
                        "--no-editable",
                        f"--output-file={exported}",
                    ],
                    uv_env,
                    log,
                    "export",
                )
                offline = ["--offline", "--no-index", f"--find-links={self.vendor}"]
                pip = [*uv, "pip", "install", f"--python={venv / 'bin' / 'python'}", *offline]
                self._run(
                    [*pip, "--require-hashes", "--no-deps", f"--requirement={exported}"],
                    uv_env,
                    log,
                    "pip install",
                )
                if self.package:
                    self._run([*pip, "--no-deps", "."], uv_env, log, "pip install")
        # uv's lock file for concurrent runs, and its build stamps (they hold source mtimes).
        (venv / ".lock").unlink(missing_ok=True)
        drop_metadata_files(sorted((venv / "lib").glob("python*/site-packages")), _UV_STAMPS)

    def _env(self, env: Mapping[str, str], venv: Path, tmp: Path) -> dict[str, str]:
        """`env` (which the gate cleared of CONTROLLED) with the buildpack's uv settings."""
        uv_env = dict(env)
        uv_env.update(
            UV_PROJECT_ENVIRONMENT=str(venv),
            UV_PYTHON=str(venv / "bin" / "python"),
            UV_PYTHON_DOWNLOADS="never",
            UV_LINK_MODE="copy",  # no hard links or reflinks into a cache outside the layer
            UV_COMPILE_BYTECODE="0",  # the buildpack compiles hash-based pycs afterwards
            UV_CACHE_DIR=str(tmp / "cache"),
            UV_NO_PROGRESS="1",
        )
        if self.uv_toml:
            uv_env["UV_CONFIG_FILE"] = str(self.uv_toml)
        return uv_env

    def _run(self, command: list[str], env: Mapping[str, str], log: Logger, verb: str) -> None:
        run_uv(command, env=env, cwd=self.app, log=log, verb=verb)


def run_uv(
    command: list[str], *, env: Mapping[str, str], cwd: Path, log: Logger, verb: str
) -> None:
    """Run uv; its known failures (stale or too new a lock) get their own titled errors."""
    run(
        command,
        env=env,
        cwd=cwd,
        log=log,
        show=f"uv {' '.join(command[1:])}",
        error_title=f"Unable to install dependencies using uv ({verb})",
        error_fix=_INSTALL_FAILED_FIX,
        known_errors=KNOWN_ERRORS,
    )


def uv_manager(
    app: Path, env: Mapping[str, str], bindings: Sequence[Binding], signal: Signal
) -> UvManager:
    read_lock(app, "uv.lock", "uv", "uv")  # uv reads it; this reports malformed TOML first
    pyproject = read_lock_source(
        app, "pyproject.toml", "uv.lock", "which uv needs to install from the lock"
    )
    return UvManager(
        app=app,
        package=_is_package(pyproject),
        scripts=project_scripts(app),
        groups=listed(env, GROUPS_VARIABLE),
        vendor=vendor_dir(app, env),
        uv_toml=binding_entry(bindings, "uv", "uv.toml"),
    )


def _is_package(pyproject: Mapping[str, Any]) -> bool:
    """uv installs the project itself when it has a build system, unless told it is virtual."""
    uv_settings = table(pyproject, "tool", "uv")
    if "package" in uv_settings:
        return bool(uv_settings["package"])
    return "build-system" in pyproject


MANAGER = PackageManager(
    name="uv",
    display="uv",
    signals=(
        file_signal(20, "uv.lock"),
        pyproject_signal(
            70,
            "[tool.uv] in pyproject.toml",
            "a `pyproject.toml` with `[tool.uv]`",
            lambda app: "uv" in app.tool,
            outcome="an error: no `uv.lock` (run `uv lock`)",
        ),
    ),
    tools=("uv",),
    env_prefixes=("UV_", "BP_UV_"),
    controls=(
        controlled(
            "uv",
            "uv",
            CONTROLLED,
            "would move the install, its Python or its bytecode out of the buildpack's hands, "
            "so uv runs without them.",
        ),
    ),
    make=uv_manager,
)
