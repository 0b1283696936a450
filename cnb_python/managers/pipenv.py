"""Pipenv: Pipfile.lock installed exactly, with pip and every hash checked.

A lock whose `_meta.hash` does not match the Pipfile fails the build (`pipenv verify`, the
`--deploy` check). The build computes that hash as the pinned Pipenv does (pipfile_hash.py):
when it matches, Pipenv is not even installed; otherwise `pipenv verify` runs while the lock
installs (it is mostly Pipenv's start-up) and has the last word. The lock's
packages of the selected categories (`default`, plus BP_PIPENV_INSTALL_CATEGORIES) are
exported with their hashes and installed with `pip install --require-hashes --no-deps`; pip
evaluates markers for the image, so a Windows-only package is skipped. The app's own
projects (path entries) follow, non-editable, without hashes. An app with only a Pipfile is
locked at build time in a temp copy, with a warning: that build is not reproducible.

Pipenv runs with a temp HOME, cache and Pipfile copy: it never creates a virtualenv of its own,
writes nothing into $HOME or the app dir, and is never in the launch image.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnb_python.appfiles import read_json, read_toml, table
from cnb_python.background import alongside
from cnb_python.cnb.bindings import Binding, bindings_of_type
from cnb_python.fingerprint import KeyInput
from cnb_python.log import Logger
from cnb_python.managers.base import (
    Installer,
    PackageManager,
    Signal,
    ToolRun,
    VersionSource,
    controlled,
    file_signal,
)
from cnb_python.managers.locks import read_lock_source
from cnb_python.managers.options import listed
from cnb_python.managers.pip import (
    InstallsLockedProjects,
    PipOptions,
    pip_options,
)
from cnb_python.managers.pipfile_hash import pipfile_hash
from cnb_python.managers.pipfile_lock import (
    check_sections,
    export_requirements,
    local_paths,
    lock_sections,
    pipenv_binding_env,
    read_lock,
    source_variable_values,
)
from cnb_python.run import run

if TYPE_CHECKING:
    from cnb_python.python_version import VersionRequest
    from cnb_python.tools import Tool  # detect imports this module: tools.py stays out

CATEGORIES_VARIABLE = "BP_PIPENV_INSTALL_CATEGORIES"
# Another Pipenv than the pinned one may hash the Pipfile differently: it verifies the lock itself.
VERSION_VARIABLE = "BP_PIPENV_VERSION"
# What the buildpack sets for every Pipenv run; values the user gives for these are ignored (the
# gate warns), since they would move the Pipfile, the environment or the cache somewhere else.
CONTROLLED = (
    "PIPENV_PIPFILE",
    "PIPENV_VENV_IN_PROJECT",
    "PIPENV_CUSTOM_VENV_NAME",
    "PIPENV_IGNORE_VIRTUALENVS",
    "PIPENV_PYTHON",
    "PIPENV_DEFAULT_PYTHON_VERSION",
    "PIPENV_CACHE_DIR",
    "PIPENV_DOTENV_LOCATION",
    "PIPENV_DONT_LOAD_ENV",
    "PIPENV_SITE_PACKAGES",
    "PIPENV_SKIP_LOCK",
    "PIPENV_ACTIVE",
    "WORKON_HOME",
)

STALE_LOCK = (
    "Pipfile.lock is out of date",
    "Run `pipenv lock` and commit the updated Pipfile.lock. The build installs exactly what the "
    "lock says, and its `_meta.hash` must match the Pipfile (as `pipenv install --deploy` "
    "checks).",
)
VERIFY_FAILED = (
    "Unable to check Pipfile.lock against the Pipfile",
    "Read Pipenv's output above, or run `pipenv verify` locally.",
)
STALE_LOCK_ERRORS = {"Pipfile.lock is out-of-date": STALE_LOCK}
HASH_MISMATCH = (
    "A package does not match the hashes in Pipfile.lock",
    "The index served a file whose sha256 Pipfile.lock does not list (pip's output above names "
    "it). If the package was re-released, run `pipenv lock` and commit Pipfile.lock; otherwise "
    "check the index or mirror the build uses.",
)
MISSING_HASHES = (
    "Pipfile.lock has a package without hashes",
    "A package the image needs was locked on another platform, so Pipfile.lock has no hashes "
    "for it (pip's output above names it). Run `pipenv lock` on Linux and commit Pipfile.lock.",
)
LOCK_FAILED = (
    "Unable to lock the Pipfile",
    "Read Pipenv's output above: it names the requirement that could not be resolved. Run "
    "`pipenv lock` locally, fix the Pipfile, and commit Pipfile.lock so the build installs "
    "from it.",
)
PIP_KNOWN_ERRORS = {
    "DO NOT MATCH THE HASHES": HASH_MISMATCH,
    "Hashes are required in --require-hashes mode": MISSING_HASHES,
}
UNLOCKED_WARNING = (
    "Pipfile.lock not found: this build is not reproducible",
    "The app has a Pipfile but no Pipfile.lock, so the build locks the Pipfile now and may get "
    "other versions on every build. Run `pipenv lock` and commit Pipfile.lock.",
)


@dataclass(frozen=True)
class PipenvManager(InstallsLockedProjects):
    app: Path
    locked: bool  # Pipfile.lock is committed; otherwise the build locks the Pipfile
    categories: tuple[str, ...]  # Pipfile categories: packages, dev-packages, custom ones
    pip: PipOptions
    source_env: Mapping[str, str]  # entries of `pipenv` bindings, for ${VAR} in [[source]]
    local: tuple[str, ...] = ()  # the app's own projects the lock installs from a path
    # The lock's `_meta.hash` is the Pipfile's as the pinned Pipenv computes it: no Pipenv run.
    hash_matches: bool = False

    def describe(self) -> str:
        extra = f", categories {', '.join(self.categories)}" if self.categories[1:] else ""
        files = "Pipfile.lock" if self.locked else "Pipfile, locked at build time"
        return f"Pipenv ({files}{extra})"

    def inputs(self) -> dict[str, KeyInput]:
        inputs: dict[str, KeyInput] = {
            "file:Pipfile": self.app / "Pipfile",
            "categories": ",".join(self.categories),
        }
        if self.locked:
            inputs["file:Pipfile.lock"] = self.app / "Pipfile.lock"
        inputs.update(self.pip.inputs())
        if self.source_env:
            inputs["bindings"] = self.source_env
        return inputs

    def install(self, tool_run: ToolRun) -> None:
        venv, tools, env, log = tool_run
        # Pipenv expands ${VAR} in [[source]] URLs too, and may print them while locking.
        for value in source_variable_values(read_toml(self.app / "Pipfile"), self.source_env, env):
            log.add_secret(value)
        with tempfile.TemporaryDirectory(prefix="cnb-python-pipenv-") as tmp_dir:
            tmp = Path(tmp_dir)
            lock_path = self.app / "Pipfile.lock"
            if self.hash_matches:
                log.step("Pipfile.lock is up to date: its _meta.hash is the Pipfile's")
                self._install_lock(tool_run, lock_path, tmp)
            elif self.locked:
                pipenv_env = self._env(env, venv, self.app / "Pipfile", tmp)

                def verify(verify_log: Logger) -> None:
                    self._run(
                        tools, ["verify"], pipenv_env, verify_log, VERIFY_FAILED, STALE_LOCK_ERRORS
                    )

                alongside(
                    "Checking Pipfile.lock against the Pipfile (pipenv verify)",
                    verify,
                    lambda: self._install_lock(tool_run, lock_path, tmp),
                    log,
                )
            else:
                log.warning(*UNLOCKED_WARNING)
                project = tmp / "project"
                project.mkdir()
                shutil.copyfile(self.app / "Pipfile", project / "Pipfile")
                pipenv_env = self._env(env, venv, project / "Pipfile", tmp)
                self._run(tools, ["lock"], pipenv_env, log, LOCK_FAILED)
                self._install_lock(tool_run, project / "Pipfile.lock", tmp)
        _remove_if_empty(venv / "src")  # Pipenv's directory for editable checkouts

    def _install_lock(self, tool_run: ToolRun, lock_path: Path, tmp: Path) -> None:
        """The lock's selected categories exported with their hashes, installed by pip."""
        exported, secrets = export_requirements(
            read_lock(lock_path),
            lock_sections(self.categories),
            {**tool_run.env, **self.source_env},
            offline=self.pip.vendor is not None,
        )
        for secret in secrets:
            tool_run.log.add_secret(secret)
        requirements = tmp / "requirements.txt"
        requirements.write_text(exported)
        what = f"Pipfile.lock {' '.join(lock_sections(self.categories))}"
        self.install_hashed(tool_run, requirements, what, PIP_KNOWN_ERRORS)

    def _env(self, env: Mapping[str, str], venv: Path, pipfile: Path, tmp: Path) -> dict[str, str]:
        """`env` (which the gate cleared of CONTROLLED) with the buildpack's Pipenv settings."""
        pipenv_env = {**env, **self.source_env}
        home = tmp / "home"
        pipenv_env.update(
            PIPENV_PIPFILE=str(pipfile),
            # Pipenv uses an active virtualenv instead of making one: the empty venv layer,
            # which locking only reads (for the Python markers are evaluated with).
            VIRTUAL_ENV=str(venv),
            WORKON_HOME=str(tmp / "virtualenvs"),
            HOME=str(home),
            PIPENV_CACHE_DIR=str(tmp / "cache"),
            XDG_CACHE_HOME=str(home / ".cache"),
            XDG_CONFIG_HOME=str(home / ".config"),
            XDG_DATA_HOME=str(home / ".local" / "share"),
            PIPENV_DONT_LOAD_ENV="1",  # never read the app's .env at build time
            PIPENV_NOSPIN="1",
            PIPENV_YES="1",
            PIPENV_HIDE_EMOJIS="1",
            NO_COLOR="1",
        )
        if self.pip.config:
            pipenv_env["PIP_CONFIG_FILE"] = str(self.pip.config)
        return pipenv_env

    def _run(
        self,
        tools: Mapping[str, Tool],
        arguments: list[str],
        env: Mapping[str, str],
        log: Logger,
        error: tuple[str, str],
        known_errors: Mapping[str, tuple[str, str]] | None = None,
    ) -> None:
        """Run Pipenv in the temp dir, so nothing it writes can land in the app dir."""
        pipenv = tools["pipenv"].command(Path(env["VIRTUAL_ENV"]) / "bin" / "python")
        run(
            [*pipenv, *arguments],
            env=env,
            cwd=Path(env["HOME"]).parent,
            log=log,
            show=f"pipenv {' '.join(arguments)}",
            error_title=error[0],
            error_fix=error[1],
            known_errors=known_errors,
        )


def _remove_if_empty(directory: Path) -> None:
    if directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()


def pipenv_manager(
    app: Path, env: Mapping[str, str], bindings: Sequence[Binding], signal: Signal
) -> PipenvManager:
    read_lock_source(
        app, "Pipfile", "Pipfile.lock", "which `pipenv verify` checks the lock against"
    )
    locked = (app / "Pipfile.lock").is_file()
    categories = tuple(dict.fromkeys(["packages", *listed(env, CATEGORIES_VARIABLE)]))
    local: tuple[str, ...] = ()
    hash_matches = False
    if locked:
        lock = read_lock(app / "Pipfile.lock")
        check_sections(lock, lock_sections(categories))
        local = local_paths(lock, lock_sections(categories), app)
        if VERSION_VARIABLE not in env:
            expected = pipfile_hash((app / "Pipfile").read_text(encoding="utf-8", errors="replace"))
            recorded = table(lock, "_meta", "hash").get("sha256")
            hash_matches = expected is not None and recorded == expected
    source_env: dict[str, str] = {}
    for binding in bindings_of_type(bindings, "pipenv"):
        source_env.update(pipenv_binding_env(binding.entries))
    return PipenvManager(
        app=app,
        locked=locked,
        categories=categories,
        pip=pip_options(app, env, bindings),
        source_env=source_env,
        local=local,
        hash_matches=hash_matches,
    )


def _reads_lock_itself(installer: Installer) -> bool:
    return isinstance(installer, PipenvManager) and installer.hash_matches


def _pipfile_requires(requires: Any, source: str) -> VersionRequest | None:
    """[requires] python_full_version, else python_version: an exact version."""
    from cnb_python.python_version import exact  # here: detect imports this module

    if not isinstance(requires, dict):
        return None
    for key in ("python_full_version", "python_version"):
        value = requires.get(key)
        if isinstance(value, str) and value.strip():
            return exact(source, value.strip())
    return None


def _python_of_lock(app: Path, env: Mapping[str, str]) -> VersionRequest | None:
    path = app / "Pipfile.lock"
    if not path.is_file():
        return None
    doc = read_json(path, "Regenerate it with `pipenv lock`.")
    return _pipfile_requires(table(doc, "_meta").get("requires"), "Pipfile.lock")


def _python_of_pipfile(app: Path, env: Mapping[str, str]) -> VersionRequest | None:
    path = app / "Pipfile"
    if not path.is_file():
        return None
    return _pipfile_requires(read_toml(path).get("requires"), "Pipfile")


MANAGER = PackageManager(
    name="pipenv",
    display="Pipenv",
    signals=(
        file_signal(40, "Pipfile.lock"),
        file_signal(41, "Pipfile", outcome="locked at build time (not reproducible: a warning)"),
    ),
    tools=("pip", "pipenv"),
    reads_lock_itself=_reads_lock_itself,
    env_prefixes=("PIPENV_", "PIP_", "BP_PIPENV_"),
    controls=(
        controlled(
            "pipenv",
            "Pipenv",
            CONTROLLED,
            "would move the Pipfile, the environment or Pipenv's cache out of the buildpack's "
            "hands, so Pipenv runs without them.",
        ),
    ),
    python_sources=(VersionSource(30, _python_of_lock), VersionSource(31, _python_of_pipfile)),
    make=pipenv_manager,
)
