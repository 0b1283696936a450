"""pip: requirements files, or the app itself as a project (`pip install .`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cnb_python.appfiles import left_as_it_was, read_toml, table
from cnb_python.cnb.bindings import Binding, binding_entry
from cnb_python.errors import UserError
from cnb_python.fingerprint import KeyInput
from cnb_python.log import Logger
from cnb_python.managers.base import (
    AppFiles,
    PackageManager,
    Rule,
    Signal,
    ToolRun,
    file_signal,
    pyproject_signal,
)
from cnb_python.managers.listed_projects import ListedProjects, listed_projects
from cnb_python.managers.options import listed, vendor_dir
from cnb_python.managers.requirements import RequirementInputs, collect, display_path
from cnb_python.run import run
from cnb_python.set_bytecode import keep_pycs
from cnb_python.toolchain import temp_roots

if TYPE_CHECKING:
    from cnb_python.tools import Tool  # detect imports this module: tools.py stays out

REQUIREMENT_VARIABLE = "BP_PIP_REQUIREMENT"


@dataclass(frozen=True)
class PipOptions:
    """What every pip install of a manager shares."""

    vendor: Path | None  # wheels for an offline install (options.vendor_dir)
    config: Path | None  # pip.conf from a binding of type `pip`; used at build time only

    def inputs(self) -> dict[str, KeyInput]:
        found: dict[str, KeyInput] = {}
        if self.vendor:
            found["vendor"] = self.vendor
        if self.config:
            found["pip.conf"] = self.config
        return found


def pip_options(app: Path, env: Mapping[str, str], bindings: Sequence[Binding]) -> PipOptions:
    return PipOptions(vendor_dir(app, env), binding_entry(bindings, "pip", "pip.conf"))


class InstallsWithPip:
    """The project step's installer (Installer.pip_install) of a manager that installs with
    pip: the buildpack's pip with the app's pip options."""

    app: Path
    pip: PipOptions

    def pip_install(self, tool_run: ToolRun, arguments: Sequence[str]) -> None:
        self._pip(tool_run, arguments)

    def editable_projects(self) -> tuple[str, ...]:
        return ()

    def install_backends(self, tool_run: ToolRun, target: Path, requires: Sequence[str]) -> None:
        self._pip(tool_run, ["--target", str(target), *requires], builds_in_app=False)

    def install_hashed(
        self,
        tool_run: ToolRun,
        requirements: Path,
        what: str | None = None,
        known_errors: Mapping[str, tuple[str, str]] | None = None,
    ) -> None:
        """A lock's export, every file hash-checked: `pip install --require-hashes --no-deps
        --requirement FILE`, shown in the log with `<what>` for the file when given."""
        hashed = ["--require-hashes", "--no-deps", "--requirement"]
        offline = f"--no-index --find-links={self.pip.vendor} " if self.pip.vendor else ""
        show = f"pip install {offline}{' '.join(hashed)} <{what}>" if what else None
        self._pip(tool_run, [*hashed, str(requirements)], show, known_errors)

    def _pip(
        self,
        tool_run: ToolRun,
        arguments: Sequence[str],
        show: str | None = None,
        known_errors: Mapping[str, tuple[str, str]] | None = None,
        builds_in_app: bool = True,
    ) -> None:
        pip_install(
            tool_run.prefix,
            tool_run.tools["pip"],
            arguments,
            app=self.app,
            options=self.pip,
            env=tool_run.env,
            log=tool_run.log,
            show=show,
            known_errors=known_errors,
            builds_in_app=builds_in_app,
        )


class InstallsLockedProjects(InstallsWithPip):
    """An installer whose lock names the app's own projects (`local`, "." for the app)."""

    local: tuple[str, ...]

    def project_scripts(self) -> tuple[str, ...]:
        return project_scripts(self.app) if "." in self.local else ()

    def projects(self) -> tuple[str, ...]:
        return self.local


class InstallsListedProjects(InstallsWithPip):
    """An installer whose requirements list the app's own projects, which the project step
    installs (listed_projects.py)."""

    listed: ListedProjects

    def projects(self) -> tuple[str, ...]:
        return tuple(project.path for project in self.listed.projects)

    def editable_projects(self) -> tuple[str, ...]:
        return tuple(project.path for project in self.listed.projects if project.editable)

    def install_backends(self, tool_run: ToolRun, target: Path, requires: Sequence[str]) -> None:
        with self.listed.index_options() as options:
            super().install_backends(tool_run, target, [*options, *requires])

    def install_listed(self, tool_run: ToolRun, requirements: str) -> None:
        """pip install of the `requirements` (as the log names them) without the projects'
        lines, and the projects' dependencies."""
        projects = ", ".join(self.projects())
        show = (
            f"pip install {requirements} --requirement <the dependencies of {projects}> "
            "(without their own lines: they follow)"
        )
        with self.listed.requirements() as arguments:
            self._pip(tool_run, arguments, show, HASH_ERRORS)


@dataclass(frozen=True)
class PipManager(InstallsListedProjects):
    app: Path
    requirement_files: tuple[Path, ...]  # empty: install the app itself (`pip install .`)
    pip: PipOptions
    scripts: tuple[str, ...] = ()  # [project.scripts] of the app when it is installed itself
    # The app's [project] dependencies when it is installed itself and they are static: they
    # are installed first, and the project after them by the project step. None: its
    # dependencies are known only once it is built, so `pip install .` installs it whole.
    dependencies: tuple[str, ...] | None = None
    # The projects the requirements files list that the project step installs.
    listed: ListedProjects = field(default_factory=ListedProjects)

    def describe(self) -> str:
        if not self.requirement_files:
            return "pip (the app's own project metadata)"
        names = ", ".join(str(p.relative_to(self.app)) for p in self.requirement_files)
        return f"pip ({names})"

    def inputs(self) -> dict[str, KeyInput]:
        if self.requirement_files:
            found = collect(list(self.requirement_files), cwd=self.app)
            listed = {**found.key_inputs(self.app, self.listed.paths), **self.listed.key_inputs()}
            return {**listed, **self.pip.inputs()}
        elif self.dependencies is not None:
            return {"dependencies": "\n".join(self.dependencies), **self.pip.inputs()}
        found = RequirementInputs(local_paths=[self.app])
        return {**found.key_inputs(self.app), **self.pip.inputs()}

    def project_scripts(self) -> tuple[str, ...]:
        return self.scripts

    def projects(self) -> tuple[str, ...]:
        if self.requirement_files:
            return super().projects()
        return (".",) if self.dependencies is not None else ()

    def install(self, tool_run: ToolRun) -> None:
        if self.requirement_files and self.listed.projects:
            files = " ".join(f"--requirement {self._shown(p)}" for p in self.requirement_files)
            self.install_listed(tool_run, files)
            return
        if self.requirement_files:
            targets = []
            for path in self.requirement_files:
                targets += ["--requirement", self._shown(path)]
        elif self.dependencies is not None:
            targets = list(self.dependencies)
            if not targets:
                return
        else:
            targets = ["."]
        self._pip(tool_run, targets, known_errors=HASH_ERRORS)

    def _shown(self, path: Path) -> str:
        return str(path.relative_to(self.app))


def pip_install(
    prefix: Path,
    pip: Tool,
    arguments: Sequence[str],
    *,
    app: Path,
    options: PipOptions,
    env: Mapping[str, str],
    log: Logger,
    show: str | None = None,
    known_errors: Mapping[str, tuple[str, str]] | None = None,
    builds_in_app: bool = True,
) -> None:
    """`pip install ARGUMENTS` into the environment at `prefix`, run in the app dir, which is
    left as it was (pip builds local projects in place). The one pip install of every manager
    that uses pip; `known_errors` as in run(). Without `builds_in_app` (a run that builds
    nothing from the app's files), what is new in the app dir afterwards is another run's,
    going on meanwhile: it is left to that run."""
    from cnb_python.tools import pip_install_command  # here: detect imports this module

    command = pip_install_command(pip, prefix / "bin" / "python")
    if options.vendor:
        command += ["--no-index", f"--find-links={options.vendor}"]
    command += arguments
    pip_env = dict(env)
    if options.config:
        pip_env["PIP_CONFIG_FILE"] = str(options.config)
    with (
        keep_pycs(prefix, temp_roots(env)),
        left_as_it_was(app) if builds_in_app else nullcontext(),
    ):
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


def pip_manager(
    app: Path, env: Mapping[str, str], bindings: Sequence[Binding], signal: Signal
) -> PipManager:
    if signal in PROJECT_SIGNALS:
        return PipManager(
            app, (), pip_options(app, env, bindings), project_scripts(app), static_dependencies(app)
        )
    names = listed(env, REQUIREMENT_VARIABLE) or ("requirements.txt",)
    missing = [n for n in names if not (app / n).is_file()]
    if missing:
        raise UserError(
            "Requirements file not found",
            f"BP_PIP_REQUIREMENT names {', '.join(missing)}, which the app does not contain.",
            "Fix the paths in BP_PIP_REQUIREMENT (separated by spaces or commas, relative to the "
            "app root).",
        )
    files = tuple(app / n for n in names)
    found = collect(list(files), cwd=app)
    check_hashes(found, app)
    projects = listed_projects(found, [file.resolve() for file in files], app)
    return PipManager(app, files, pip_options(app, env, bindings), listed=projects)


_HASH_FIX = (
    "Give every requirement a hash, as `pip-compile --generate-hashes` or `uv pip compile "
    "--generate-hashes` write them: for a direct URL, append `#sha256=<digest of the file>` "
    "(or `--hash=sha256:<digest>`). Or remove every `--hash` so that pip does not check hashes."
)
# pip's own message when hash-checking mode meets a requirement without one (a fallback: the
# direct URLs are checked before the install, with their line).
HASH_ERRORS = {
    "Hashes are required in --require-hashes mode": ("A requirement has no hash", _HASH_FIX),
}


def check_hashes(found: RequirementInputs, app: Path) -> None:
    """pip's rule: once a requirement has a hash (or a file says --require-hashes), pip checks
    every archive, and a requirement without a hash stops the install. A direct URL's hash is
    its `#sha256=` fragment."""
    if not found.hashed or not found.unhashed_urls:
        return
    lines = "\n".join(
        f"  {display_path(u.file, app)}, line {u.line}: {u.url}" for u in found.unhashed_urls
    )
    raise UserError(
        "A direct URL has no hash",
        "The requirements use hashes (`--hash`), so pip installs in hash-checking mode, where "
        f"every requirement needs a hash. These direct URLs have none:\n{lines}",
        _HASH_FIX,
    )


def static_dependencies(app: Path) -> tuple[str, ...] | None:
    """pyproject.toml's [project] dependencies, unless the build has to compute them (no
    [project], `dynamic`, or a setup.py that may add to them)."""
    path = app / "pyproject.toml"
    project = table(read_toml(path), "project") if path.is_file() else {}
    dependencies = project.get("dependencies", [])
    dynamic = project.get("dynamic", [])
    if not project or (app / "setup.py").exists() or "dependencies" in dynamic:
        return None
    return tuple(map(str, dependencies)) if isinstance(dependencies, list) else None


def project_scripts(app: Path) -> tuple[str, ...]:
    """The names in pyproject.toml's [project.scripts], sorted."""
    path = app / "pyproject.toml"
    return tuple(sorted(table(read_toml(path), "project", "scripts"))) if path.is_file() else ()


def _is_project(app: AppFiles) -> bool:
    """A pyproject.toml that only configures tools (ruff, pytest...) is not an installable
    project; one with [project] or [build-system] is."""
    return "project" in app.pyproject or "build-system" in app.pyproject


# The app itself is the project pip installs (`pip install .`).
PROJECT_SIGNALS = (
    pyproject_signal(
        80,
        "pyproject.toml",
        "a `pyproject.toml` with `[project]` or `[build-system]`",
        _is_project,
        outcome="`pip install .`",
    ),
    file_signal(81, "setup.py", owned=False, outcome="`pip install .`"),
    file_signal(82, "setup.cfg", owned=False, outcome="`pip install .`"),
)

MANAGER = PackageManager(
    name="pip",
    display="pip",
    signals=(
        Signal(
            60,
            REQUIREMENT_VARIABLE,
            f"`{REQUIREMENT_VARIABLE}` is set",
            lambda app: bool(app.env.get(REQUIREMENT_VARIABLE)),
            owned=False,
            outcome="with the files it names",
        ),
        file_signal(
            61,
            "requirements.txt",
            outcome="with that file",
            found=lambda app: app.has("requirements.txt") and not app.env.get(REQUIREMENT_VARIABLE),
        ),
        *PROJECT_SIGNALS,
    ),
    tools=("pip",),
    env_prefixes=("PIP_", "BP_PIP_"),
    # pip runs for every manager that lists it in its tools, and installs the tools' sets.
    controls=(
        Rule(
            "pip",
            ("PIP_TARGET", "PIP_USER", "PIP_PREFIX", "PIP_ROOT", "PIP_PYTHON"),
            stops=True,
            title="Unsafe environment variables found",
            effect="would make pip install outside the app's virtual environment, so the image "
            "would not contain the dependencies.",
        ),
    ),
    make=pip_manager,
)
