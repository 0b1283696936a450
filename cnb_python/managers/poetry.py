"""Poetry: install exactly what poetry.lock says, hash-checked, with the pip every manager uses.

Poetry's own installer reads package metadata from the index's per-release JSON API; this
buildpack only relies on the simple API every index and mirror serves. A fresh lock that says
all the export needs is exported here, as the pinned Poetry would (poetry_export.py), and
Poetry is not installed. Otherwise Poetry (with poetry-plugin-export, from its build-only tool
layer) checks that the lock matches pyproject.toml and turns it into a requirements file with
every hash, for the selected groups and extras. pip installs that with --require-hashes
--no-deps, evaluating each line's markers for this Python and platform; in package mode the app
itself follows, non-editable, with --no-deps. The build never locks, and Poetry writes nothing
under $HOME or the app dir.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnb_python.appfiles import table
from cnb_python.cnb.bindings import Binding, binding_entry
from cnb_python.errors import UserError
from cnb_python.fingerprint import KeyInput
from cnb_python.managers.base import (
    Installer,
    PackageManager,
    Signal,
    ToolRun,
    VersionSource,
    controlled,
    file_signal,
    pyproject_signal,
)
from cnb_python.managers.locks import path_in_app, read_lock, read_lock_source
from cnb_python.managers.options import listed
from cnb_python.managers.pip import InstallsWithPip, PipOptions, pip_options
from cnb_python.managers.poetry_export import export
from cnb_python.run import run

if TYPE_CHECKING:
    from cnb_python.python_version import VersionRequest

GROUPS_VARIABLE = "BP_POETRY_INSTALL_ONLY"
VERSION_VARIABLE = "BP_POETRY_VERSION"  # another Poetry may read the lock differently
EXTRAS_VARIABLE = "BP_POETRY_INSTALL_EXTRAS"
# Where Poetry would otherwise write under $HOME; the build points them at a temp dir, and
# ignores the user's values (the gate warns).
CONTROLLED = ("POETRY_CACHE_DIR", "POETRY_CONFIG_DIR", "POETRY_DATA_DIR", "POETRY_HOME")
# Entries of a `poetry` binding: Poetry's own config files, e.g. [http-basic.<source>] in auth.toml.
BINDING_FILES = ("auth.toml", "config.toml")
# Lock sources a hash-checked install cannot take: pip has no hash for a checkout. Directories
# (path dependencies) inside the app are installed after the locked packages, like the app.
_UNHASHED_SOURCES = {"git": "a git dependency"}

_STALE_LOCK = (
    "poetry.lock is out of date",
    "Run `poetry lock` and commit the updated poetry.lock. The build installs exactly what the "
    "lock says and never locks by itself.",
)
_LOCK_VERSION = (
    "poetry.lock is newer than this buildpack's Poetry",
    "Set BP_POETRY_VERSION to the Poetry version that wrote the lock (`poetry --version`), or "
    "lock with the buildpack's Poetry.",
)
_REQUIRED_VERSION = (
    "The project requires another Poetry version",
    "Set BP_POETRY_VERSION to a Poetry version that `requires-poetry` in pyproject.toml's "
    "[tool.poetry] allows (the buildpack's Poetry is excluded), or widen `requires-poetry`.",
)
KNOWN_ERRORS = {
    "changed significantly since poetry.lock was last generated": _STALE_LOCK,
    "The lock file is not compatible with the current version of Poetry": _LOCK_VERSION,
    "This project requires Poetry": _REQUIRED_VERSION,
}
PIP_KNOWN_ERRORS = {
    "DO NOT MATCH THE HASHES": (
        "A locked package does not match its hash",
        "The file the index serves is not the one poetry.lock was made from. If the package "
        "was re-uploaded or the index is a mirror that rebuilt it, run `poetry lock` against "
        "the index the build uses and commit poetry.lock; otherwise check the index settings "
        "([[tool.poetry.source]], PIP_INDEX_URL).",
    ),
}


@dataclass(frozen=True)
class PoetryManager(InstallsWithPip):
    app: Path
    package: bool  # package mode: the project itself is installed too
    scripts: tuple[str, ...]  # its [project.scripts] / [tool.poetry.scripts]
    groups: tuple[str, ...]  # BP_POETRY_INSTALL_ONLY; empty: the main group
    extras: tuple[str, ...]  # BP_POETRY_INSTALL_EXTRAS
    pip: PipOptions
    poetry_config: tuple[Path, ...] = ()  # from a binding of type `poetry`; build time only
    # Path dependencies: locked package name -> its directory, relative to the app.
    local: Mapping[str, str] = field(default_factory=dict)
    # The export, made here when the lock is fresh and of a kind poetry_export mirrors: then
    # Poetry is not installed at all.
    exported: str | None = None

    def describe(self) -> str:
        selection = f"groups {', '.join(self.groups)}" if self.groups else "main group"
        if self.extras:
            selection += f", extras {', '.join(self.extras)}"
        return f"Poetry (poetry.lock, {selection})"

    def inputs(self) -> dict[str, KeyInput]:
        inputs: dict[str, KeyInput] = {
            "file:poetry.lock": self.app / "poetry.lock",
            "file:pyproject.toml": self.app / "pyproject.toml",
            "groups": ",".join(self.groups),
            "extras": ",".join(self.extras),
        }
        inputs.update(self.pip.inputs())
        for path in self.poetry_config:
            inputs[f"poetry:{path.name}"] = path
        return inputs

    def project_scripts(self) -> tuple[str, ...]:
        return self.scripts if self.package else ()

    def projects(self) -> tuple[str, ...]:
        """Its path dependencies, and in package mode the project itself."""
        return (*sorted(self.local.values()), *((".",) if self.package else ()))

    def install(self, tool_run: ToolRun) -> None:
        venv, tools, env, log = tool_run
        with tempfile.TemporaryDirectory(prefix="cnb-python-poetry-") as tmp:
            exported = Path(tmp, "requirements.txt")
            if self.exported is not None:
                log.step("poetry.lock is up to date: its content-hash is pyproject.toml's")
                exported.write_text(self.exported)
                self.install_hashed(tool_run, exported, known_errors=PIP_KNOWN_ERRORS)
                return
            Path(tmp, "config").mkdir()
            for path in self.poetry_config:
                shutil.copyfile(path, Path(tmp, "config", path.name))
            poetry = tools["poetry"].command(venv / "bin" / "python")
            command = [*poetry, "export", *self.export_options(), f"--output={exported}"]
            run(
                command,
                env=poetry_env(env, Path(tmp)),
                cwd=self.app,
                log=log,
                show="poetry " + " ".join(command[1:-1]),
                error_title="Unable to export poetry.lock",
                error_fix="Read Poetry's output above; `poetry export` shows the same locally.",
                known_errors=KNOWN_ERRORS,
            )
            exported.write_text(without_packages(exported.read_text(), set(self.local)))
            self.install_hashed(tool_run, exported, known_errors=PIP_KNOWN_ERRORS)

    def export_options(self) -> list[str]:
        """`poetry export` options: the selection, hashes, and index credentials for pip."""
        options = ["--format=requirements.txt", "--with-credentials", "--no-interaction"]
        if self.groups:
            options.append(f"--only={','.join(self.groups)}")
        options += [f"--extras={extra}" for extra in self.extras]
        return options


def poetry_env(env: Mapping[str, str], tmp: Path) -> dict[str, str]:
    """The env Poetry runs with: its cache, config and data in `tmp`, never $HOME; no keyring."""
    poetry = dict(env)
    poetry.update(
        POETRY_CACHE_DIR=str(tmp / "cache"),
        POETRY_CONFIG_DIR=str(tmp / "config"),
        POETRY_DATA_DIR=str(tmp / "data"),
        POETRY_NO_INTERACTION="1",
        POETRY_KEYRING_ENABLED="false",  # credentials come from POETRY_HTTP_BASIC_* only
    )
    return poetry


def poetry_manager(
    app: Path, env: Mapping[str, str], bindings: Sequence[Binding], signal: Signal
) -> PoetryManager:
    pyproject = read_lock_source(
        app, "pyproject.toml", "poetry.lock", "which Poetry needs to install from the lock"
    )
    lock = read_lock(app, "poetry.lock", "poetry", "Poetry")
    local = _check_sources(app, lock)
    groups = listed(env, GROUPS_VARIABLE)
    extras = listed(env, EXTRAS_VARIABLE)
    _check_known(GROUPS_VARIABLE, "group", groups, _groups(pyproject))
    _check_known(EXTRAS_VARIABLE, "extra", extras, _extras(pyproject))
    poetry_config = tuple(
        path for name in BINDING_FILES if (path := binding_entry(bindings, "poetry", name))
    )
    package = _is_package(pyproject)
    exported = None
    if VERSION_VARIABLE not in env and not extras:
        exported = export(lock, pyproject, groups)
    if package and "build-system" not in pyproject:
        raise UserError(
            "Poetry package mode needs [build-system]",
            "pyproject.toml is in Poetry's package mode (the default), so the build installs the "
            "project itself with pip, which builds it with the [build-system] backend; "
            "pyproject.toml has none.",
            "Add the table `poetry new` writes:\n"
            "  [build-system]\n"
            '  requires = ["poetry-core>=2.0.0,<3.0.0"]\n'
            '  build-backend = "poetry.core.masonry.api"\n'
            "or, for an app that is not a package, set `package-mode = false` in [tool.poetry].",
        )
    return PoetryManager(
        app=app,
        package=package,
        scripts=_scripts(pyproject) if package else (),
        groups=groups,
        extras=extras,
        pip=pip_options(app, env, bindings),
        poetry_config=poetry_config,
        local=local,
        exported=exported,
    )


def _reads_lock_itself(installer: Installer) -> bool:
    return isinstance(installer, PoetryManager) and installer.exported is not None


def _poetry_table(pyproject: Mapping[str, Any]) -> Mapping[str, Any]:
    return table(pyproject, "tool", "poetry")


def _is_package(pyproject: Mapping[str, Any]) -> bool:
    return bool(_poetry_table(pyproject).get("package-mode", True))


def _groups(pyproject: Mapping[str, Any]) -> set[str]:
    """main, [tool.poetry.group.*] and PEP 735 [dependency-groups]."""
    return {
        "main",
        *table(pyproject, "tool", "poetry", "group"),
        *table(pyproject, "dependency-groups"),
    }


def _extras(pyproject: Mapping[str, Any]) -> set[str]:
    """[project.optional-dependencies] (Poetry 2) and [tool.poetry.extras] (Poetry 1)."""
    return {
        *table(pyproject, "project", "optional-dependencies"),
        *table(pyproject, "tool", "poetry", "extras"),
    }


def _check_known(variable: str, kind: str, selected: Sequence[str], known: set[str]) -> None:
    from packaging.utils import canonicalize_name  # here: detect imports this module

    names = {canonicalize_name(name) for name in known}
    unknown = [name for name in selected if canonicalize_name(name) not in names]
    if unknown:
        listed = ", ".join(sorted(known)) or "none"
        raise UserError(
            f"Unknown Poetry {kind} in {variable}",
            f"{variable} names {', '.join(unknown)}, which pyproject.toml does not define. "
            f"Its {kind}s: {listed}.",
            f"Set {variable} to {kind}s pyproject.toml defines (comma-separated), or unset it.",
        )


def _check_sources(app: Path, lock: Mapping[str, Any]) -> dict[str, str]:
    """The path dependencies (name -> directory in the app); a titled error for a source the
    build cannot install with its hash checked, or a directory outside the app."""
    from packaging.utils import canonicalize_name  # here: detect imports this module

    local = {}
    packages = lock.get("package", [])
    for package in packages if isinstance(packages, list) else []:
        source = package.get("source", {}) if isinstance(package, dict) else {}
        source_type = source.get("type", "") if isinstance(source, dict) else ""
        if source_type == "directory":
            name = str(package.get("name"))
            path = path_in_app(app, str(source.get("url", "")), "poetry.lock", name)
            local[canonicalize_name(name)] = path
        kind = _UNHASHED_SOURCES.get(source_type)
        if kind:
            raise UserError(
                "Poetry git dependencies aren't supported",
                f"poetry.lock installs {package.get('name')} from {kind} "
                f"({source.get('url')}). The build installs every locked package with its hash "
                "checked, and a git checkout has no hash.",
                "Depend on a released version from an index, vendor the package as a wheel "
                "(a `file` dependency on a .whl in the app has a hash in the lock), or put it in "
                "the app and depend on its path.",
            )
    return local


def without_packages(requirements: str, names: set[str]) -> str:
    """An exported requirements file without the lines (and their continuations) of `names`:
    path dependencies, which have no hash, are installed from the app after the rest."""
    from packaging.utils import canonicalize_name

    kept, skipping = [], False
    for line in requirements.splitlines(keepends=True):
        if not skipping:
            name = line.split("@", 1)[0].split("==", 1)[0].split(";", 1)[0].strip()
            skipping = bool(name) and not line[0].isspace() and canonicalize_name(name) in names
        if not skipping:
            kept.append(line)
        elif not line.rstrip().endswith("\\"):
            skipping = False
    return "".join(kept)


def _scripts(pyproject: Mapping[str, Any]) -> tuple[str, ...]:
    """Console scripts the root project installs: [project.scripts], or Poetry 1's table."""
    names = set(table(pyproject, "project", "scripts"))
    # Poetry 1 also has `{reference = ..., type = "file"}` entries: plain files, not scripts.
    names.update(
        name
        for name, spec in table(pyproject, "tool", "poetry", "scripts").items()
        if isinstance(spec, str) or (isinstance(spec, dict) and spec.get("type") != "file")
    )
    return tuple(sorted(names))


def _python_of_pyproject(app: Path, env: Mapping[str, str]) -> VersionRequest | None:
    from cnb_python.python_version import toml_range  # here: detect imports this module

    keys = ("tool", "poetry", "dependencies", "python")
    return toml_range(app, "pyproject.toml", keys, "pyproject.toml [tool.poetry]")


def _python_of_lock(app: Path, env: Mapping[str, str]) -> VersionRequest | None:
    from cnb_python.python_version import toml_range  # here: detect imports this module

    return toml_range(app, "poetry.lock", ("metadata", "python-versions"), "poetry.lock")


MANAGER = PackageManager(
    name="poetry",
    display="Poetry",
    signals=(
        file_signal(30, "poetry.lock"),
        pyproject_signal(
            31,
            "[tool.poetry] in pyproject.toml",
            "a `pyproject.toml` with `[tool.poetry]` and no `[project]`",
            lambda app: "poetry" in app.tool and "project" not in app.pyproject,
        ),
    ),
    tools=("pip", "poetry"),
    reads_lock_itself=_reads_lock_itself,
    env_prefixes=("POETRY_", "BP_POETRY_", "PIP_"),
    controls=(
        controlled(
            "poetry",
            "Poetry",
            CONTROLLED,
            "would make Poetry read or write its cache, config or data outside the build's "
            "temp dir, so Poetry runs without them.",
        ),
    ),
    python_sources=(VersionSource(60, _python_of_pyproject), VersionSource(61, _python_of_lock)),
    make=poetry_manager,
)
