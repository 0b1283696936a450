"""PDM: install exactly what pdm.lock says, hash-checked, with the pip every manager uses.

A lock that passes PDM's check and says all the export needs is exported here, as the pinned
PDM would (pdm_export.py), and PDM is not installed. Otherwise PDM (from its build-only tool
layer) checks the lock against pyproject.toml (`pdm lock --check`: its content_hash and its
lock_version) while it exports the selected groups with every hash and pip installs that
with --require-hashes --no-deps, evaluating each line's markers for this Python and platform
(a failed check fails the build); a package project follows, non-editable, with --no-deps.
Why not `pdm sync`: PDM's installer picks or creates an environment of its own (a `.venv` and
a `.pdm-python` in the project), installs the project editable by default, and links files
from its own cache; the export needs no network, and pip brings the same hash checking, vendor
directory, `pip` binding and PIP_* settings as every other manager. PDM runs on a temp copy
of the project's pyproject.toml, pdm.lock and pdm.toml with a temp HOME, cache and config, so
it writes nothing into $HOME or the app dir. The build never locks.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnb_python.appfiles import table
from cnb_python.background import alongside
from cnb_python.cnb.bindings import Binding
from cnb_python.errors import UserError
from cnb_python.fingerprint import KeyInput
from cnb_python.log import Logger
from cnb_python.managers.base import (
    AppFiles,
    Installer,
    PackageManager,
    Signal,
    ToolRun,
    controlled,
    file_signal,
    pyproject_signal,
)
from cnb_python.managers.locks import read_lock, read_lock_source
from cnb_python.managers.options import listed
from cnb_python.managers.pdm_export import export
from cnb_python.managers.pip import (
    InstallsWithPip,
    PipOptions,
    pip_options,
    project_scripts,
)
from cnb_python.run import run

GROUPS_VARIABLE = "BP_PDM_INSTALL_GROUPS"
VERSION_VARIABLE = "BP_PDM_VERSION"  # another PDM may read the lock differently
# What would move PDM's project, lock, interpreter, environment, cache or config elsewhere: the
# buildpack sets them (or PDM runs without them), and the gate ignores the user's values.
CONTROLLED = (
    "PDM_PROJECT",
    "PDM_LOCKFILE",
    "PDM_PYTHON",
    "PDM_USE_VENV",
    "PDM_IN_VENV",
    "PDM_VENV_IN_PROJECT",
    "PDM_VENV_BACKEND",
    "PDM_IGNORE_SAVED_PYTHON",
    "PDM_IGNORE_ACTIVE_VENV",
    "PDM_CACHE_DIR",
    "PDM_CONFIG_FILE",
    "PDM_LOG_DIR",
    "PDM_CHECK_UPDATE",
)
# The project files PDM reads: the project config (pdm.toml) may hold index settings.
_PROJECT_FILES = ("pyproject.toml", "pdm.lock", "pdm.toml")
# [tool.pdm] keys that configure pdm-backend, the build backend, which projects use without PDM.
_BACKEND_KEYS = {"build", "version"}
# Lock entries a hash-checked install cannot take: pip has no hash for a directory or checkout.
_UNHASHED_SOURCES = {
    "path": "a path dependency",
    **{vcs: f"a {vcs} dependency" for vcs in ("git", "hg", "svn", "bzr")},
}

STALE_LOCK = (
    "pdm.lock is out of date",
    "Run `pdm lock` and commit the updated pdm.lock. The build installs exactly what the lock "
    "says, and its content_hash must match pyproject.toml (as `pdm lock --check` checks).",
)
LOCK_VERSION = (
    "pdm.lock is not a lock this buildpack's PDM reads",
    "Its lock_version is newer than the pinned PDM's (or is a PDM 1 lock). Set BP_PDM_VERSION "
    "to the PDM version that wrote the lock (`pdm --version`), or lock with the buildpack's PDM.",
)
KNOWN_ERRORS = {
    "Lockfile hash doesn't match pyproject.toml": STALE_LOCK,
    "Lockfile is not compatible with PDM": LOCK_VERSION,
}
PIP_KNOWN_ERRORS = {
    "DO NOT MATCH THE HASHES": (
        "A locked package does not match its hash",
        "The file the index serves is not the one pdm.lock was made from. If the package was "
        "re-uploaded or the index is a mirror that rebuilt it, run `pdm lock` against the index "
        "the build uses and commit pdm.lock; otherwise check the index settings "
        "([[tool.pdm.source]], PIP_INDEX_URL).",
    ),
    "No matching distribution found": (
        "A locked package is not on the index",
        "pip's output above names the package pdm.lock pins that the index the build uses does "
        "not serve (a yanked or private release, or a mirror that lacks it). Check the index "
        "settings ([[tool.pdm.source]], PIP_INDEX_URL, a `pip` binding) or the vendor "
        "directory, or run `pdm lock` against that index and commit pdm.lock.",
    ),
}


@dataclass(frozen=True)
class PdmManager(InstallsWithPip):
    app: Path
    package: bool  # a distribution: the project itself is installed too
    scripts: tuple[str, ...]  # its [project.scripts]
    groups: tuple[str, ...]  # BP_PDM_INSTALL_GROUPS; empty: the main dependencies only
    dev: bool  # a dependency group is selected: PDM then takes only the dev groups named
    pip: PipOptions
    # The export, made here when the lock passes the check and is of a kind pdm_export
    # mirrors: then PDM is not installed at all.
    exported: str | None = None

    def describe(self) -> str:
        selection = f"groups {', '.join(self.groups)}" if self.groups else "default group"
        return f"PDM (pdm.lock, {selection})"

    def inputs(self) -> dict[str, KeyInput]:
        inputs: dict[str, KeyInput] = {
            f"file:{name}": self.app / name
            for name in _PROJECT_FILES
            if (self.app / name).is_file()
        }
        inputs["groups"] = ",".join(self.groups)
        inputs.update(self.pip.inputs())
        return inputs

    def project_scripts(self) -> tuple[str, ...]:
        return self.scripts if self.package else ()

    def projects(self) -> tuple[str, ...]:
        return (".",) if self.package else ()

    def install(self, tool_run: ToolRun) -> None:
        venv, tools, env, log = tool_run
        with tempfile.TemporaryDirectory(prefix="cnb-python-pdm-") as tmp_dir:
            tmp = Path(tmp_dir)
            if self.exported is not None:
                log.step("pdm.lock is up to date: its content_hash is pyproject.toml's")
                (tmp / "requirements.txt").write_text(self.exported)
                self.install_hashed(tool_run, tmp / "requirements.txt", None, PIP_KNOWN_ERRORS)
                return
            project = tmp / "project"
            project.mkdir()
            for name in _PROJECT_FILES:
                if (self.app / name).is_file():
                    shutil.copyfile(self.app / name, project / name)
            pdm = tools["pdm"].command(venv / "bin" / "python")
            settings = pdm_settings(env, venv, tmp)
            exported = tmp / "requirements.txt"
            export = ["export", *self.export_options()]

            def check(check_log: Logger) -> None:
                _run_pdm(pdm, ["lock", "--check"], settings, project, check_log, "check")

            def export_and_install() -> None:
                _run_pdm(pdm, export, settings, project, log, "export", [f"--output={exported}"])
                self.install_hashed(tool_run, exported, "pdm export", PIP_KNOWN_ERRORS)

            what = "Checking pdm.lock against pyproject.toml (pdm lock --check)"
            alongside(what, check, export_and_install, log)

    def export_options(self) -> list[str]:
        """`pdm export` options: the selection, with hashes, index URLs with ${VAR} filled in.
        Without a dependency group, --prod leaves out PDM's default dev groups."""
        options = ["--format=requirements", "--expandvars"]
        if not self.dev:
            options.append("--prod")
        options += [f"--group={group}" for group in self.groups]
        return options


def _run_pdm(
    pdm: list[str],
    arguments: list[str],
    env: Mapping[str, str],
    project: Path,
    log: Logger,
    verb: str,
    unshown: Sequence[str] = (),
) -> None:
    """Run PDM in the temp project; its known failures (a stale or too new lock) get their own
    titled errors."""
    run(
        [*pdm, *arguments, *unshown],
        env=env,
        cwd=project,
        log=log,
        show=f"pdm {' '.join(arguments)}",
        error_title=f"Unable to {verb} pdm.lock",
        error_fix=f"Read PDM's output above; `pdm {' '.join(arguments)}` shows the same locally.",
        known_errors=KNOWN_ERRORS,
    )


def pdm_settings(env: Mapping[str, str], venv: Path, tmp: Path) -> dict[str, str]:
    """`env` (which the gate cleared of CONTROLLED) with the buildpack's PDM settings: the
    venv's interpreter, so PDM neither looks for one nor creates an environment; HOME, cache
    and global config in `tmp`; no update check."""
    pdm = dict(env)
    home = tmp / "home"
    pdm.update(
        # Read as the saved interpreter: PDM_IGNORE_SAVED_PYTHON would make PDM skip it and
        # create a virtualenv of its own for `pdm export` (0.4 s; `Project.resolve_interpreter`).
        PDM_PYTHON=str(venv / "bin" / "python"),
        PDM_USE_VENV="1",
        PDM_CACHE_DIR=str(tmp / "cache"),
        PDM_CONFIG_FILE=str(tmp / "config.toml"),
        PDM_LOG_DIR=str(tmp / "logs"),
        PDM_CHECK_UPDATE="false",
        PDM_NON_INTERACTIVE="1",
        HOME=str(home),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        NO_COLOR="1",
    )
    return pdm


def pdm_manager(
    app: Path, env: Mapping[str, str], bindings: Sequence[Binding], signal: Signal
) -> PdmManager:
    lock = read_lock(app, "pdm.lock", "pdm", "PDM")
    pyproject = read_lock_source(
        app, "pyproject.toml", "pdm.lock", "which PDM checks the lock against"
    )
    _check_sources(lock)
    groups = listed(env, GROUPS_VARIABLE)
    dev_groups, optional_groups = _groups(pyproject)
    _check_groups(groups, dev_groups | optional_groups, lock)
    package = _is_package(pyproject)
    exported = None
    if (
        VERSION_VARIABLE not in env
        and not any(name.startswith("PDM_") for name in env)  # PDM's own settings
        and not (app / "pdm.toml").is_file()
    ):
        exported = export(lock, pyproject, groups)
    if package and "build-system" not in pyproject:
        raise UserError(
            "A PDM distribution needs [build-system]",
            "pyproject.toml sets `distribution = true` in [tool.pdm], so the build installs the "
            "project itself with pip, which builds it with the [build-system] backend; "
            "pyproject.toml has none.",
            "Add the table `pdm init` writes:\n"
            "  [build-system]\n"
            '  requires = ["pdm-backend"]\n'
            '  build-backend = "pdm.backend"\n'
            "or, for an app that is not a package, set `distribution = false` in [tool.pdm].",
        )
    return PdmManager(
        app=app,
        package=package,
        scripts=project_scripts(app) if package else (),
        groups=groups,
        dev=any(_canonical(group) in dev_groups for group in groups),
        pip=pip_options(app, env, bindings),
        exported=exported,
    )


def _reads_lock_itself(installer: Installer) -> bool:
    return isinstance(installer, PdmManager) and installer.exported is not None


def _canonical(name: str) -> str:
    from packaging.utils import canonicalize_name  # here: detect imports this module

    return canonicalize_name(name)


def _is_package(pyproject: Mapping[str, Any]) -> bool:
    """PDM installs the project itself when it is a distribution: [build-system], unless
    [tool.pdm] says otherwise."""
    settings = table(pyproject, "tool", "pdm")
    if "distribution" in settings:
        return bool(settings["distribution"])
    return "build-system" in pyproject


def _groups(pyproject: Mapping[str, Any]) -> tuple[set[str], set[str]]:
    """(dependency groups, optional-dependency groups), canonical: PEP 735
    [dependency-groups] and PDM's [tool.pdm.dev-dependencies]; [project.optional-dependencies].
    `default` names the main dependencies."""
    dev = {
        *table(pyproject, "dependency-groups"),
        *table(pyproject, "tool", "pdm", "dev-dependencies"),
    }
    optional = {"default", *table(pyproject, "project", "optional-dependencies")}
    return {_canonical(g) for g in dev}, {_canonical(g) for g in optional}


def _check_groups(selected: Sequence[str], known: set[str], lock: Mapping[str, Any]) -> None:
    unknown = [group for group in selected if _canonical(group) not in known]
    if unknown:
        raise UserError(
            f"Unknown PDM group in {GROUPS_VARIABLE}",
            f"{GROUPS_VARIABLE} names {', '.join(unknown)}, which pyproject.toml does not define. "
            f"Its groups: {', '.join(sorted(known))}.",
            f"Set {GROUPS_VARIABLE} to groups of [dependency-groups], "
            "[tool.pdm.dev-dependencies] or [project.optional-dependencies] (comma-separated), "
            "or unset it.",
        )
    locked = table(lock, "metadata").get("groups")
    if not isinstance(locked, list):
        return  # a lock without the list: PDM's export decides
    names = [group for group in locked if isinstance(group, str)]
    missing = [g for g in selected if _canonical(g) not in {_canonical(n) for n in names}]
    if missing:
        raise UserError(
            "pdm.lock does not lock the selected groups",
            f"{GROUPS_VARIABLE} names {', '.join(missing)}, but pdm.lock was made without "
            f"{'it' if len(missing) == 1 else 'them'} (its groups: {', '.join(names)}).",
            f"Run `pdm lock {' '.join(f'-G {g}' for g in missing)}` (or `pdm lock -G :all`) "
            "and commit pdm.lock.",
        )


def _check_sources(lock: Mapping[str, Any]) -> None:
    packages = lock.get("package", [])
    for package in packages if isinstance(packages, list) else []:
        entry = package if isinstance(package, dict) else {}
        kind = next((kind for key, kind in _UNHASHED_SOURCES.items() if key in entry), None)
        if kind:
            raise UserError(
                "PDM path and VCS dependencies aren't supported",
                f"pdm.lock installs {entry.get('name')} from {kind}. The build installs every "
                "locked package with its hash checked, and a directory or a checkout has none.",
                "Depend on a released version from an index, or on a wheel by URL (a URL "
                "dependency has a hash in the lock).",
            )


def _manages(app: AppFiles) -> bool:
    """[tool.pdm] with PDM's settings; [tool.pdm.build] and [tool.pdm.version] alone configure
    pdm-backend, which many projects build with and never lock with PDM."""
    settings = app.tool.get("pdm")
    return isinstance(settings, dict) and bool(set(settings) - _BACKEND_KEYS)


MANAGER = PackageManager(
    name="pdm",
    display="PDM",
    signals=(
        file_signal(35, "pdm.lock"),
        pyproject_signal(
            71,
            "[tool.pdm] in pyproject.toml",
            "a `pyproject.toml` with `[tool.pdm]` (other than pdm-backend's `build`, `version`)",
            _manages,
            outcome="an error: no `pdm.lock` (run `pdm lock`)",
        ),
    ),
    tools=("pip", "pdm"),
    reads_lock_itself=_reads_lock_itself,
    env_prefixes=("PDM_", "BP_PDM_", "PIP_"),
    controls=(
        controlled(
            "pdm",
            "PDM",
            CONTROLLED,
            "would move PDM's project, lock, interpreter, environment, cache or config out of "
            "the buildpack's hands, so PDM runs without them.",
        ),
    ),
    make=pdm_manager,
)
