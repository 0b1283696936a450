"""conda: environment.yml (or .yaml) or package-list.txt, installed with py-rattler into the
env layer.

py-rattler (the engine behind pixi) solves and links; it runs from a build-only requirement-set
layer, through cnb_python/toolscripts/conda_env.py, which only that layer's python runs: YAML
and channel access stay out of the buildpack's own process. The environment's python is the
app's Python; the tools run on the buildpack's own Python at build time (build.py).

Channels: those of environment.yml, else BP_CONDA_DEFAULT_CHANNELS (conda-forge). A vendor
directory (options.vendor_dir) that is a channel (noarch/repodata.json) replaces them all:
offline builds. A binding of type `conda` provides a .condarc-style channel list or credentials
at build time only. The `pip:` subsection is installed afterwards with the pip tool layer (and a
`pip` binding's pip.conf); the app's own projects on it (`-e .`) follow in the project step, as
a requirements file's do (listed_projects.py), when conda_pip_list.py can read the list.
"""

from __future__ import annotations

import json
import platform
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnb_python.cnb.bindings import Binding, binding_entry, bindings_of_type
from cnb_python.environments import CondaPrefix, compile_own_stdlib
from cnb_python.errors import UserError
from cnb_python.fingerprint import KeyInput
from cnb_python.managers.base import AppFiles, PackageManager, Signal, ToolRun, file_signal
from cnb_python.managers.conda_pip_list import pip_list_lines
from cnb_python.managers.listed_projects import ListedProjects, listed_projects
from cnb_python.managers.options import vendor_dir
from cnb_python.managers.pip import InstallsListedProjects, PipOptions
from cnb_python.managers.requirements import collect_lines
from cnb_python.run import run

if TYPE_CHECKING:
    from cnb_python.tools import Tool  # detect imports this module: tools.py stays out

TOOL = "py-rattler"
DEFAULT_CHANNELS_VARIABLE = "BP_CONDA_DEFAULT_CHANNELS"
DEFAULT_CHANNELS = "conda-forge"
# conda names it condaenv.<random>.requirements.txt (conda/env/installers/pip.py).
PIP_SECTION_FILE = "condaenv.cnb-python.requirements.txt"
SCRIPT = Path(__file__).parents[1] / "toolscripts" / "conda_env.py"
_PLATFORMS = {"x86_64": "linux-64", "aarch64": "linux-aarch64"}  # builds run on the target
# What rattler records about the machine and time of the install, not about the packages.
_MACHINE_FIELDS = ("extracted_package_dir", "indexed_timestamp")
_USERINFO = re.compile(r"^([a-z][a-z0-9+.-]*://)[^/@]*@", re.IGNORECASE)
_TOKEN_PATH = re.compile(r"/t/[^/]+/")
_FAILED_FIX = (
    "Read the output above. This is likely a buildpack problem if it shows a Python traceback; "
    "please report it with the build log."
)


@dataclass(frozen=True)
class CondaManager(InstallsListedProjects):
    app: Path
    spec_file: Path  # environment.yml, environment.yaml or package-list.txt
    vendor: Path | None  # a local channel for offline builds
    binding_files: tuple[Path, ...]  # `conda` binding entries, build time only
    pip: PipOptions  # for the `pip:` subsection: a pip.conf, never vendor (it is a channel)
    # The app's projects on the `pip:` list that the project step installs, and the list as
    # conda_pip_list.py read it, which the install script's must be.
    listed: ListedProjects = field(default_factory=ListedProjects)
    pip_list: tuple[str, ...] = ()

    def describe(self) -> str:
        return f"conda ({self.spec_file.name}, installed with py-rattler)"

    def inputs(self) -> dict[str, KeyInput]:
        inputs: dict[str, KeyInput] = {f"file:{self.spec_file.name}": self.spec_file}
        if self.vendor:
            inputs["vendor"] = self.vendor
        for path in self.binding_files:
            inputs[f"binding:{path.name}"] = path
        return {**inputs, **self._pip_section_inputs(), **self.pip.inputs()}

    def _pip_section_inputs(self) -> dict[str, KeyInput]:
        """The files and local paths that the `pip:` list reads (`-r requirements.txt`, `-e .`),
        relative to the environment file as conda runs pip. The YAML stays with the install
        script: every list item is read as a requirement line, which only an option or a path
        (never a conda spec) can make count."""
        if self.spec_file.name == "package-list.txt":
            return {}
        text = self.spec_file.read_text(errors="replace").splitlines()
        items = [
            (number, line.strip()[2:].strip().strip("'\""))
            for number, line in enumerate(text, 1)
            if line.strip().startswith("- ")
        ]
        found = collect_lines(items, self.spec_file, [])
        return {**found.key_inputs(self.app, self.listed.paths), **self.listed.key_inputs()}

    def project_scripts(self) -> tuple[str, ...]:
        return ()

    def install(self, tool_run: ToolRun) -> None:
        prefix, tools, env, log = tool_run
        tmp = tool_run.scratch("conda")
        result = tmp / "result.json"
        outcome = run_install_script(
            self.tool_command(tools[TOOL], prefix, tmp, result, env),
            result,
            replace(tool_run, env=self._env(env)),
            cwd=self.app,
            what=f"{self.spec_file.name}",
            kind="conda",
        )
        normalize_conda_meta(prefix / "conda-meta", outcome.get("origins", {}))
        compile_own_stdlib(prefix, log, [tools["pip"]] if outcome["pip"] else [])
        if outcome["pip"] or self.listed.projects:
            self._install_pip_section(tool_run, outcome["pip"])

    def _install_pip_section(self, tool_run: ToolRun, lines: Sequence[str]) -> None:
        """As conda does: the list is written to a requirements file next to the environment
        file, and pip runs there, so `-r requirements.txt` or `-e .` are relative to it. With
        projects on it, the copies of listed_projects.py, which read the same."""
        if self.listed.projects and tuple(lines) != self.pip_list:
            raise UserError(
                f"The pip: subsection of {self.spec_file.name} was misread",
                f"The buildpack read these requirements in it: {list(self.pip_list)}, but the "
                f"YAML parser reads {list(lines)}. This is a buildpack problem.",
                f"Please report it with your {self.spec_file.name}. Until it is fixed, write "
                'the list on one line (`- pip: ["-e .", gunicorn]`): the build then installs it '
                "whole.",
            )
        tool_run.log.step(f"Installing the pip: subsection ({', '.join(lines)})")
        if self.listed.projects:
            self.install_listed(tool_run, f"<the pip: subsection of {self.spec_file.name}>")
            return
        requirements = self.app / PIP_SECTION_FILE  # the environment file is the app's
        requirements.write_text("".join(f"{line}\n" for line in lines))
        try:
            show = f"pip install (the pip: subsection of {self.spec_file.name})"
            self._pip(tool_run, ["--requirement", PIP_SECTION_FILE], show)
        finally:
            requirements.unlink()

    def tool_command(
        self, tool: Tool, prefix: Path, tmp: Path, result: Path, env: Mapping[str, str]
    ) -> list[str]:
        """The conda_env.py run that makes the environment at `prefix` (also what
        scripts/stress-conda-install runs)."""
        command = [
            str(tool.home / "bin" / "python"),
            str(SCRIPT),
            f"--prefix={prefix}",
            f"--platform={_PLATFORMS.get(platform.machine(), platform.machine())}",
            f"--cache-dir={tmp}",
            f"--result={result}",
            f"--default-channels={self._default_channels(env)}",
        ]
        if self.vendor:
            command.append(f"--only-channel={self.vendor.as_uri()}")
        condarc = self._binding_file("condarc")
        if condarc:
            command.append(f"--condarc={condarc}")
        kind = "explicit" if self.spec_file.name == "package-list.txt" else "environment"
        return [*command, f"--{kind}={self.spec_file}"]

    def _default_channels(self, env: Mapping[str, str]) -> str:
        return env.get(DEFAULT_CHANNELS_VARIABLE, "").strip() or DEFAULT_CHANNELS

    def _binding_file(self, *names: str) -> Path | None:
        return next((p for p in self.binding_files if p.name in names), None)

    def _env(self, env: Mapping[str, str]) -> dict[str, str]:
        """rattler reads channel credentials from RATTLER_AUTH_FILE (its auth.json format)."""
        tool_env = dict(env)
        auth = self._binding_file("auth.json")
        if auth:
            tool_env["RATTLER_AUTH_FILE"] = str(auth)
        return tool_env


def run_install_script(
    command: list[str], result: Path, tool_run: ToolRun, *, cwd: Path, what: str, kind: str
) -> dict[str, Any]:
    """Run a py-rattler install script (toolscripts/), which writes its outcome, or the titled
    error it found in the app's input, to `result`; return the outcome."""
    try:
        run(
            command,
            env=tool_run.env,
            cwd=cwd,
            log=tool_run.log,
            show=f"py-rattler install ({what})",
            error_title=f"Unable to create the {kind} environment",
            error_fix=_FAILED_FIX,
        )
    except UserError as e:
        raise _reported_error(result) or e from None
    return dict(json.loads(result.read_text()))


def _reported_error(result: Path) -> UserError | None:
    """The titled error the install script wrote, if it found a problem with the app's input."""
    try:
        error = json.loads(result.read_text())["error"]
    except (OSError, ValueError, KeyError):
        return None
    return UserError(error["title"], error["detail"], error["fix"])


def normalize_conda_meta(conda_meta: Path, origins: Mapping[str, str]) -> None:
    """Drop the install history and what the records say about this machine and this run, so
    two builds of the same inputs write the same bytes. `origins` maps a package file name to
    its URL when rattler installed it from a downloaded archive (package-list.txt)."""
    (conda_meta / "history").unlink(missing_ok=True)
    for path in sorted(conda_meta.glob("*.json")):
        record = json.loads(path.read_text())
        for name in _MACHINE_FIELDS:
            record.pop(name, None)
        if isinstance(record.get("link"), dict):
            record["link"].pop("source", None)
        origin = origins.get(record.get("fn", ""))
        if origin:
            record["url"] = origin
            # the channel is the URL without "<subdir>/<file name>"
            record["channel"] = origin.rsplit("/", 2)[0] + "/"
        for key in ("url", "channel"):
            if isinstance(record.get(key), str):
                record[key] = without_credentials(record[key])
        path.write_text(json.dumps(record, indent=2) + "\n")
        path.chmod(0o644)  # rattler writes them owner-only; the app's user reads them


def without_credentials(url: str) -> str:
    """A channel URL without user:password@ or a conda token path (/t/<token>/): credentials
    come from a binding at build time and must not be written into the layer."""
    return _TOKEN_PATH.sub("/", _USERINFO.sub(r"\1", url))


def conda_manager(
    app: Path, env: Mapping[str, str], bindings: Sequence[Binding], signal: Signal
) -> CondaManager:
    vendor = vendor_dir(app, env)
    is_channel = vendor is not None and (vendor / "noarch" / "repodata.json").is_file()
    files = tuple(
        path for b in bindings_of_type(bindings, "conda") for _, path in sorted(b.entries.items())
    )
    spec_file = app / signal.what  # the file of the signal that selected conda
    pip_list = pip_list_lines(spec_file) if signal.what != "package-list.txt" else None
    listed = ListedProjects()
    if pip_list:
        found = collect_lines(pip_list, spec_file, [])
        listed = listed_projects(found, [spec_file], app, {spec_file: pip_list})
    return CondaManager(
        app=app,
        spec_file=spec_file,
        vendor=vendor if is_channel else None,
        binding_files=files,
        pip=PipOptions(vendor=None, config=binding_entry(bindings, "pip", "pip.conf")),
        listed=listed,
        pip_list=tuple(line for _, line in pip_list or ()),
    )


def _yaml_spelling(app: AppFiles) -> bool:
    """environment.yaml, when there is no environment.yml (which conda's default path names)."""
    return app.has("environment.yaml") and not app.has("environment.yml")


MANAGER = PackageManager(
    name="conda",
    display="conda",
    signals=(
        file_signal(50, "environment.yml"),
        # conda env create reads either spelling (conda/env/specs: .yaml and .yml)
        file_signal(51, "environment.yaml", found=_yaml_spelling),
        file_signal(52, "package-list.txt"),
    ),
    tools=("pip", TOOL),
    env_prefixes=("BP_CONDA_", "PIP_", "BP_PIP_"),
    make=conda_manager,
    environment=CondaPrefix,
)
