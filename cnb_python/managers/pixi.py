"""pixi: one environment of pixi.lock (or a conda-lock.yml), installed exactly with py-rattler.

pixi is not on PyPI; py-rattler is the library it is built on (rattler_lock reads and writes
its lock files). cnb_python/toolscripts/pixi_env.py, run by the build-only py-rattler tool
layer, reads the lock (YAML: never in the buildpack's own process), checks it against what the
manifest asks for, and links the locked conda packages of BP_PIXI_ENVIRONMENT (default
`default`) for the build's platform into the env layer, as the conda manager's environment
(CondaPrefix: the app's Python is the lock's `python` package). The lock's PyPI packages are then
installed hash-checked by the shared pip_install (`--require-hashes --no-deps`), from the lock's
URLs (or, with a vendor directory, by name and version from it, offline).

The build never locks: pixi.toml or [tool.pixi] without pixi.lock is an error. rattler reads
conda-lock.yml (conda-lock's format, version 1) with the same code path, as the environment
`default`; it has no manifest, so no staleness check applies to it.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnb_python.appfiles import read_toml, table
from cnb_python.cnb.bindings import Binding
from cnb_python.environments import CondaPrefix, compile_own_stdlib
from cnb_python.errors import UserError
from cnb_python.fingerprint import KeyInput
from cnb_python.managers.base import PackageManager, Signal, ToolRun, file_signal, pyproject_signal
from cnb_python.managers.conda import (
    _PLATFORMS,
    normalize_conda_meta,
    run_install_script,
)
from cnb_python.managers.conda import TOOL as RATTLER
from cnb_python.managers.pip import InstallsWithPip, PipOptions, pip_options, project_scripts

ENVIRONMENT_VARIABLE = "BP_PIXI_ENVIRONMENT"
DEFAULT_ENVIRONMENT = "default"
SCRIPT = Path(__file__).parents[1] / "toolscripts" / "pixi_env.py"
# The manifest tables whose requirements a feature adds, and the kind of package they name.
_SECTIONS = (("dependencies", "conda"), ("pypi-dependencies", "pypi"))


@dataclass(frozen=True)
class PixiManager(InstallsWithPip):
    app: Path
    lock: Path  # pixi.lock or conda-lock.yml
    manifest: Path | None  # pixi.toml or pyproject.toml; None for conda-lock.yml
    environment: str  # BP_PIXI_ENVIRONMENT
    requirements: tuple[dict[str, str], ...]  # what the manifest asks of that environment
    pip: PipOptions

    def describe(self) -> str:
        return f"pixi ({self.lock.name}, environment {self.environment}, installed with py-rattler)"

    def inputs(self) -> dict[str, KeyInput]:
        inputs: dict[str, KeyInput] = {
            f"file:{self.lock.name}": self.lock,
            "environment": self.environment,
        }
        if self.manifest:
            inputs[f"file:{self.manifest.name}"] = self.manifest
        return {**inputs, **self.pip.inputs()}

    def project_scripts(self) -> tuple[str, ...]:
        return project_scripts(self.app) if "." in self.projects() else ()

    def projects(self) -> tuple[str, ...]:
        """The manifest's PyPI requirements on projects in the app (`{ path = "." }`): the
        install script checks that the lock installs these and no other (its "local"), and
        the lock has what they depend on."""
        paths = (Path(r["path"]).as_posix() for r in self.requirements if r.get("path"))
        return tuple(sorted(set(paths)))

    def install(self, tool_run: ToolRun) -> None:
        prefix, tools, log = tool_run.prefix, tool_run.tools, tool_run.log
        tmp = tool_run.scratch("pixi")
        result = tmp / "result.json"
        requirements = tmp / "manifest-requirements.json"
        requirements.write_text(json.dumps(list(self.requirements)))
        command = [
            str(tools[RATTLER].home / "bin" / "python"),
            str(SCRIPT),
            f"--lock={self.lock}",
            f"--environment={self.environment}",
            f"--platform={_PLATFORMS.get(platform.machine(), platform.machine())}",
            f"--prefix={prefix}",
            f"--cache-dir={tmp}",
            f"--result={result}",
        ]
        if self.manifest:
            command += [f"--manifest={self.manifest.name}", f"--requirements={requirements}"]
        outcome = run_install_script(
            command,
            result,
            tool_run,
            cwd=self.app,
            what=f"{self.lock.name}, environment {self.environment}",
            kind="pixi",
        )
        normalize_conda_meta(prefix / "conda-meta", {})
        pip_runs = outcome["pypi"] or outcome["local"]
        compile_own_stdlib(prefix, log, [tools["pip"]] if pip_runs else [])
        if outcome["pypi"]:
            self._install_pypi(tool_run, outcome["pypi"], tmp)

    def _install_pypi(self, tool_run: ToolRun, packages: list[dict[str, str]], tmp: Path) -> None:
        """The lock's PyPI packages, each checked against its locked sha256: from its URL, or
        by name and version from the vendor directory (offline)."""
        lines = [
            f"{p['name']}=={p['version']}" if self.pip.vendor else f"{p['name']} @ {p['url']}"
            for p in packages
        ]
        requirements = tmp / "pypi-requirements.txt"
        requirements.write_text(
            "".join(f"{line} --hash=sha256:{p['sha256']}\n" for line, p in zip(lines, packages))
        )
        tool_run.log.step(f"Installing the PyPI packages of {self.lock.name}")
        self.install_hashed(tool_run, requirements, f"the PyPI packages of {self.lock.name}")


def manifest_requirements(
    manifest: Mapping[str, Any], in_pyproject: bool, environment: str, platform_name: str
) -> list[dict[str, str]]:
    """What the manifest asks of `environment` on `platform_name`: each conda and PyPI
    requirement of its features (the default one unless `no-default-feature`), with their
    `[target.<platform>]` tables. pixi adds a pyproject.toml's [project] dependencies to the
    default feature as PyPI requirements."""
    root = table(manifest, "tool", "pixi") if in_pyproject else dict(manifest)
    source = "pyproject.toml [tool.pixi]" if in_pyproject else "pixi.toml"
    environments = table(root, "environments")
    features: list[str] = []
    default = True
    if environment != DEFAULT_ENVIRONMENT or environment in environments:
        if environment not in environments:
            names = ", ".join([DEFAULT_ENVIRONMENT, *sorted(environments)])
            raise UserError(
                "Unknown pixi environment",
                f"{ENVIRONMENT_VARIABLE} is {environment!r}, but {source} defines only these "
                f"environments: {names}.",
                f"Set {ENVIRONMENT_VARIABLE} to one of them, or add the environment to the "
                "manifest's [environments] and run `pixi lock`.",
            )
        spec = environments[environment]
        if isinstance(spec, dict):
            features = [str(f) for f in spec.get("features") or []]
            default = not spec.get("no-default-feature", False)
        elif isinstance(spec, list):
            features = [str(f) for f in spec]
    tables = [("", root)] if default else []
    tables += [(f"feature.{f}.", table(root, "feature", f)) for f in features]
    found: list[dict[str, str]] = []
    for prefix, feature in tables:
        target = table(feature, "target", platform_name)
        for where, part in (("", feature), (f"target.{platform_name}.", target)):
            for section, kind in _SECTIONS:
                for name, value in sorted(table(part, section).items()):
                    requirement = {
                        "kind": kind,
                        "name": str(name),
                        "spec": _version(value),
                        "source": f"{source} [{prefix}{where}{section}]",
                    }
                    if kind == "pypi" and isinstance(value, dict) and "path" in value:
                        requirement["path"] = str(value["path"])
                    found.append(requirement)
    if in_pyproject and default:
        dependencies = table(manifest, "project").get("dependencies") or []
        found += [
            {"kind": "pep508", "name": "", "spec": str(d), "source": "pyproject.toml [project]"}
            for d in dependencies
        ]
    return found


def _version(value: Any) -> str:
    """A requirement's version spec: the string itself, or a table's `version` ("*" when it
    names none: a path, git or URL source)."""
    if isinstance(value, dict):
        value = value.get("version", "*")
    return str(value).strip() or "*"


def pixi_manager(
    app: Path, env: Mapping[str, str], bindings: Sequence[Binding], signal: Signal
) -> PixiManager:
    environment = env.get(ENVIRONMENT_VARIABLE, "").strip() or DEFAULT_ENVIRONMENT
    lock = app / ("conda-lock.yml" if signal.what == "conda-lock.yml" else "pixi.lock")
    if not lock.is_file():
        raise UserError(
            "pixi.lock not found",
            f"The app is a pixi project ({signal.what}), but it has no pixi.lock. The build "
            "installs exactly what a lock says and never locks by itself.",
            "Run `pixi lock` and commit pixi.lock.",
        )
    manifest: Path | None = None
    requirements: list[dict[str, str]] = []
    if lock.name == "pixi.lock":
        manifest = _manifest(app)
        platform_name = _PLATFORMS.get(platform.machine(), platform.machine())
        requirements = manifest_requirements(
            read_toml(manifest), manifest.name == "pyproject.toml", environment, platform_name
        )
    return PixiManager(
        app=app,
        lock=lock,
        manifest=manifest,
        environment=environment,
        requirements=tuple(requirements),
        pip=pip_options(app, env, bindings),
    )


def _manifest(app: Path) -> Path:
    """pixi.toml, else a pyproject.toml with [tool.pixi]: the file pixi.lock was made from."""
    if (app / "pixi.toml").is_file():
        return app / "pixi.toml"
    pyproject = app / "pyproject.toml"
    if pyproject.is_file() and "pixi" in table(read_toml(pyproject), "tool"):
        return pyproject
    raise UserError(
        "pixi.toml not found",
        "The app has pixi.lock but no pixi.toml and no pyproject.toml with [tool.pixi], which "
        "the build checks the lock against.",
        "Commit the pixi.toml (or pyproject.toml) that pixi.lock was made from.",
    )


MANAGER = PackageManager(
    name="pixi",
    display="pixi",
    signals=(
        file_signal(45, "pixi.lock"),
        file_signal(46, "conda-lock.yml", outcome="read by py-rattler as pixi.lock is"),
        file_signal(47, "pixi.toml", outcome="an error: no `pixi.lock` (run `pixi lock`)"),
        pyproject_signal(
            72,
            "[tool.pixi] in pyproject.toml",
            "a `pyproject.toml` with `[tool.pixi]`",
            lambda app: "pixi" in app.tool,
            outcome="an error: no `pixi.lock` (run `pixi lock`)",
        ),
    ),
    tools=("pip", RATTLER),
    env_prefixes=("BP_PIXI_", "PIP_", "BP_PIP_"),
    make=pixi_manager,
    environment=CondaPrefix,
)
