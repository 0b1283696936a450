"""uv: `uv sync --locked` from uv.lock into the app's venv.

The lock is the law: a lock out of date with pyproject.toml fails the build (run `uv lock`); the
build never locks. No dependency group is installed (not even uv's default `dev`) unless
BP_UV_INSTALL_GROUPS names it. A package project (one with [build-system]) is installed too,
non-editable, so its scripts are on PATH and nothing in the image links into a build path. In a
workspace, BP_UV_PACKAGE (or, under a virtual root, the only member with [project.scripts]) is
the member `uv sync --package` installs. The reuse key covers every package the lock installs
from the app's files (members, path sources). With vendor/ the install runs offline: the lock
is checked, exported with its hashes, and installed from vendor/ alone. uv's cache is a temp
dir: a cache layer was measured not to pay here (scripts/bench-uv-cache and the README).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnb_python.appfiles import table
from cnb_python.cnb.bindings import Binding, binding_entry
from cnb_python.distinfo import drop_metadata_files
from cnb_python.environments import site_packages
from cnb_python.errors import UserError
from cnb_python.fingerprint import KeyInput
from cnb_python.log import Logger
from cnb_python.managers.base import (
    PackageManager,
    Signal,
    ToolRun,
    VersionSource,
    controlled,
    file_signal,
    pyproject_signal,
)
from cnb_python.managers.locks import path_in_app, read_lock, read_lock_source
from cnb_python.managers.options import listed, vendor_dir
from cnb_python.managers.pip import project_scripts
from cnb_python.run import run

if TYPE_CHECKING:
    from cnb_python.python_version import VersionRequest

GROUPS_VARIABLE = "BP_UV_INSTALL_GROUPS"
PACKAGE_VARIABLE = "BP_UV_PACKAGE"
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
_REQUIRED_VERSION = (
    "The project requires another uv version",
    "Set BP_UV_VERSION to a uv version that `required-version` in pyproject.toml's [tool.uv] "
    "allows (the buildpack's uv is excluded), or widen `required-version`.",
)
# How uv.lock names a package the install reads from the app's own files, relative to the lock.
# A virtual one is not installed: only its pyproject.toml (its dependencies) is read.
_LOCAL_SOURCES = ("editable", "directory", "path", "virtual")
_INSTALL_FAILED_FIX = (
    "Read uv's output above: it names the package that could not be found, downloaded or built. "
    "Check the network and the index settings (UV_INDEX_URL, a `uv` binding), or run "
    "`uv sync --locked` locally."
)
KNOWN_ERRORS = {
    "needs to be updated, but `--locked` was provided": _STALE_LOCK,
    "uses an unsupported schema version": _LOCK_VERSION,
    "does not match the running version": _REQUIRED_VERSION,
}


@dataclass(frozen=True)
class UvManager:
    app: Path
    package: bool  # the project (or `member`) itself is installed (it has [build-system])
    scripts: tuple[str, ...]  # its [project.scripts]
    groups: tuple[str, ...]  # dependency groups to add (BP_UV_INSTALL_GROUPS)
    vendor: Path | None  # wheels for an offline install
    uv_toml: Path | None  # from a binding of type `uv`; used at build time only
    # What uv.lock installs from the app's files (workspace members, path sources): the
    # directories and files, relative to the app, and the virtual members' pyproject.toml.
    local: tuple[str, ...] = ()
    member: str | None = None  # the workspace member `uv sync --package` installs
    member_path: str | None = None  # its directory, relative to the app

    def describe(self) -> str:
        member = f", package {self.member}" if self.member else ""
        groups = f", groups {', '.join(self.groups)}" if self.groups else ""
        return f"uv (uv.lock{member}{groups})"

    def inputs(self) -> dict[str, KeyInput]:
        inputs: dict[str, KeyInput] = {
            "file:uv.lock": self.app / "uv.lock",
            "file:pyproject.toml": self.app / "pyproject.toml",
            "groups": ",".join(self.groups),
        }
        for path in self.local:
            if path not in self.projects():
                inputs[f"path:{path}"] = self.app / path
        if self.vendor:
            inputs["vendor"] = self.vendor
        if self.uv_toml:
            inputs["uv.toml"] = self.uv_toml
        return inputs

    def project_scripts(self) -> tuple[str, ...]:
        return self.scripts if self.package else ()

    def projects(self) -> tuple[str, ...]:
        """The project `uv sync` would install: the root, or the member; the other members
        and path sources are dependencies of it."""
        if not self.package:
            return ()
        return (self.member_path or ".",)

    def editable_projects(self) -> tuple[str, ...]:
        return ()  # uv sync --no-editable, as the rest of the install

    def pip_install(self, tool_run: ToolRun, arguments: Sequence[str]) -> None:
        self._pip_install(tool_run, arguments)
        drop_metadata_files(site_packages(tool_run.prefix), _UV_STAMPS)

    def install_backends(self, tool_run: ToolRun, target: Path, requires: Sequence[str]) -> None:
        self._pip_install(tool_run, ["--target", str(target), *requires])
        drop_metadata_files([target], _UV_STAMPS)

    def _pip_install(self, tool_run: ToolRun, arguments: Sequence[str]) -> None:
        python = tool_run.prefix / "bin" / "python"
        command = [*tool_run.tools["uv"].command(python), "pip", "install", f"--python={python}"]
        if self.vendor:
            command += ["--offline", "--no-index", f"--find-links={self.vendor}"]
        uv_env = self._env(tool_run.env, tool_run.prefix, tool_run.scratch("uv"))
        if self.vendor:
            uv_env = {k: v for k, v in uv_env.items() if not k.startswith(_INDEX_SETTINGS)}
        self._run([*command, *arguments], uv_env, tool_run.log, "pip install")

    def install(self, tool_run: ToolRun) -> None:
        venv, tools, env, log = tool_run
        uv = tools["uv"].command(venv / "bin" / "python")
        # Only the project's dependencies, not uv's default groups (dev), plus those asked for.
        selection = ["--no-default-groups", *(f"--group={g}" for g in self.groups)]
        if self.member:
            selection.append(f"--package={self.member}")
        tmp = tool_run.scratch("uv")
        uv_env = self._env(env, venv, tmp)
        if self.vendor is None:
            self._run(
                # The project itself is the project step's (projects.py).
                [*uv, "sync", "--locked", *selection, "--no-install-project", "--no-editable"],
                uv_env,
                log,
                "sync",
            )
        else:
            # Offline, index settings only make uv re-resolve instead of reading the lock.
            uv_env = {k: v for k, v in uv_env.items() if not k.startswith(_INDEX_SETTINGS)}
            exported = tmp / "requirements.txt"
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
        # uv's lock file for concurrent runs, and its build stamps (they hold source mtimes).
        (venv / ".lock").unlink(missing_ok=True)
        drop_metadata_files(site_packages(venv), _UV_STAMPS)

    def _env(self, env: Mapping[str, str], venv: Path, tmp: Path) -> dict[str, str]:
        """`env` (which the gate cleared of CONTROLLED) with the buildpack's uv settings."""
        uv_env = dict(env)
        uv_env.update(
            UV_PROJECT_ENVIRONMENT=str(venv),
            UV_PYTHON=str(venv / "bin" / "python"),
            UV_PYTHON_DOWNLOADS="never",
            # From the cache, removed afterwards, on the venv's file system (ToolRun.scratch).
            UV_LINK_MODE="hardlink",
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
    lock = read_lock(app, "uv.lock", "uv", "uv")  # uv reads it; this reports bad TOML first
    pyproject = read_lock_source(
        app, "pyproject.toml", "uv.lock", "which uv needs to install from the lock"
    )
    sources = _local_sources(app, lock)
    members = {
        name: sources[name][0]
        for name in sorted(_manifest_members(lock))
        if name in sources and sources[name][0] != "."
    }
    member = _member(app, pyproject, env, members)
    if member is None:
        package, scripts = _is_package(pyproject), project_scripts(app)
    else:  # a member is installed non-editable (its scripts on PATH) unless it is virtual
        package = sources[member][1] != "virtual"
        scripts = project_scripts(app / members[member])
    vendor = vendor_dir(app, env)
    if vendor and _members_or_paths(sources):
        raise UserError(
            "uv workspaces and path sources can't install from a vendor directory",
            f"uv.lock installs {', '.join(_members_or_paths(sources))} from the app's files, and "
            f"the app has a vendor directory ({vendor.relative_to(app)}) for an offline install, "
            "which installs a hash-checked export of the lock: a directory has no hash.",
            "Remove the vendor directory and install from an index, or publish those packages "
            "and vendor them as wheels.",
        )
    return UvManager(
        app=app,
        package=package,
        scripts=scripts,
        groups=listed(env, GROUPS_VARIABLE),
        vendor=vendor,
        uv_toml=binding_entry(bindings, "uv", "uv.toml"),
        local=tuple(
            f"{path}/pyproject.toml" if kind == "virtual" else path
            for path, kind in sorted(sources.values())
            if path != "."  # the root: pyproject.toml, and the app when it is a package
        ),
        member=member,
        member_path=members[member] if member else None,
    )


def _local_sources(app: Path, lock: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """Each package uv.lock installs from the app's files: name -> (path in the app, kind)."""
    found = {}
    packages = lock.get("package")
    for package in packages if isinstance(packages, list) else []:
        source = package.get("source") if isinstance(package, dict) else None
        kind = next((k for k in _LOCAL_SOURCES if isinstance(source, dict) and k in source), "")
        if kind:
            name = str(package.get("name"))
            where = "a directory" if kind != "path" else "a file or directory"
            found[name] = (path_in_app(app, str(source[kind]), "uv.lock", name, where), kind)
    return found


def _members_or_paths(sources: Mapping[str, tuple[str, str]]) -> list[str]:
    """The packages other than the root that uv.lock installs from the app's files."""
    return sorted(name for name, (path, _) in sources.items() if path != ".")


def _manifest_members(lock: Mapping[str, Any]) -> list[str]:
    members = table(lock, "manifest").get("members")
    return [str(m) for m in members] if isinstance(members, list) else []


def _member(
    app: Path, pyproject: Mapping[str, Any], env: Mapping[str, str], members: Mapping[str, str]
) -> str | None:
    """The workspace member to install: BP_UV_PACKAGE; else none (`uv sync` installs the root
    project) when the root is a project; else, in a virtual root, the only member with
    [project.scripts] (its script is the web process)."""
    from packaging.utils import canonicalize_name  # here: detect imports this module

    chosen = env.get(PACKAGE_VARIABLE, "").strip()
    if chosen:
        by_name = {canonicalize_name(m): m for m in members}
        if canonicalize_name(chosen) not in by_name:
            raise UserError(
                f"Unknown uv workspace member in {PACKAGE_VARIABLE}",
                f"{PACKAGE_VARIABLE} is {chosen!r}, which is not a member of the workspace in "
                f"uv.lock. Its members: {', '.join(members) or 'none (it is no workspace)'}.",
                f"Set {PACKAGE_VARIABLE} to one of the members (the `name` in its "
                "pyproject.toml's [project]), or unset it to install the root project.",
            )
        return by_name[canonicalize_name(chosen)]
    if "project" in pyproject:
        return None
    with_scripts = [name for name, path in members.items() if project_scripts(app / path)]
    return with_scripts[0] if len(with_scripts) == 1 else None


def _is_package(pyproject: Mapping[str, Any]) -> bool:
    """uv installs the project itself when it has a build system, unless told it is virtual."""
    uv_settings = table(pyproject, "tool", "uv")
    if "package" in uv_settings:
        return bool(uv_settings["package"])
    return "build-system" in pyproject


def _python_of_lock(app: Path, env: Mapping[str, str]) -> VersionRequest | None:
    from cnb_python.python_version import toml_range  # here: detect imports this module

    return toml_range(app, "uv.lock", ("requires-python",), "uv.lock")


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
    python_sources=(VersionSource(70, _python_of_lock),),
    make=uv_manager,
)
