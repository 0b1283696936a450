"""Offline packages: the downloads a build needs, bundled into the staged buildpack.

CPython archives and the pip wheel go to `dependencies/<sha256>/<file name>`, where the
downloader looks first (cnb_python.download.bundled_path); wheels of the tools pinned in
`requirements/tools/*.txt` go to `dependencies/wheels/`, flat, for `--find-links`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from cnb_python.dependencies import BuildpackMetadata, Dependency
from cnb_python.download import bundled_path, download, resolve_source
from cnb_python.log import Logger

WHEELS = "dependencies/wheels"
# glibc-based builder images: manylinux tags up to this glibc minor are accepted.
NEWEST_GLIBC_MINOR = 39
_MACHINES = {"amd64": "x86_64", "arm64": "aarch64"}


def chosen_dependencies(
    metadata: BuildpackMetadata, arch: str, python_versions: Sequence[str]
) -> list[Dependency]:
    """Every dependency for `arch`; CPython only in the versions asked for (all if none)."""
    chosen = []
    for dep in metadata.dependencies:
        if dep.arch not in (arch, "noarch"):
            continue
        if dep.id == "cpython" and python_versions and not _matches(dep.version, python_versions):
            continue
        chosen.append(dep)
    return chosen


def _matches(version: str, wanted: Sequence[str]) -> bool:
    return any(version == w or version.startswith(f"{w}.") for w in wanted)


def bundle_dependencies(
    stage: Path, deps: Sequence[Dependency], env: Mapping[str, str], log: Logger
) -> None:
    """Download each of `deps` (mirrors honored, sha256-checked) into the staged bundle."""
    for dep in deps:
        dest = bundled_path(stage, dep.url, dep.sha256)
        dest.parent.mkdir(parents=True, exist_ok=True)
        log.section(f"Bundling {dep.name} {dep.version} ({dep.arch})")
        # The stage has no bundle yet, so this resolves to a mirror or the URL, never to files
        # that happen to lie in the packaging checkout.
        source = resolve_source(dep.url, dep.sha256, env, [], buildpack_dir=stage)
        download(source, dep.sha256, dest, what=f"{dep.name} {dep.version}", log=log)


def python_tags(arch: str, minors: Sequence[str]) -> list[list[str]]:
    """pip download's target arguments, one list per Python minor."""
    machine = _MACHINES[arch]
    platforms = [f"manylinux_2_{m}_{machine}" for m in range(17, NEWEST_GLIBC_MINOR + 1)]
    platforms += [f"manylinux2014_{machine}", f"linux_{machine}"]
    base = [arg for platform in platforms for arg in ("--platform", platform)]
    return [[*base, "--implementation", "cp", "--python-version", minor] for minor in minors]


def bundle_tool_wheels(
    stage: Path, pip_wheel: Path, arch: str, minors: Sequence[str], log: Logger
) -> int:
    """Download every wheel the hashed files in requirements/tools/ name, for `arch` and each
    Python minor, with the buildpack's own pinned pip (run from its wheel, so the host's pip
    plays no part); return how many wheels were bundled (0 when there are no such files)."""
    requirement_files = sorted((stage / "requirements" / "tools").glob("*.txt"))
    if not requirement_files:
        log.section("No tool requirement files (requirements/tools/*.txt): no tool wheels bundled")
        return 0
    dest = stage / WHEELS
    dest.mkdir(parents=True, exist_ok=True)
    # The pip user config of this machine (extra indexes) must not change what is bundled.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    for path in requirement_files:
        log.section(f"Bundling the wheels of {path.relative_to(stage)}")
        for tags in python_tags(arch, minors):
            command = [
                sys.executable, str(pip_wheel / "pip"), "download", "--isolated", "--quiet",
                "--disable-pip-version-check", "--require-hashes", "--no-deps",
                "--only-binary", ":all:", *tags, "--dest", str(dest), "-r", str(path),
            ]  # fmt: skip
            subprocess.run(command, check=True, env=env)
    return len(list(dest.glob("*.whl")))


def place_runtime(
    stage: Path,
    arch: str,
    scripts: Path,
    env: Mapping[str, str],
    *,
    installed_at: str,
    compile_stdlib: bool,
) -> None:
    """A bootstrap CPython for `arch` in runtime/ (scripts/place-runtime.py); an offline stage
    already holds its archive, so nothing is downloaded twice. Its build settings and pycs name
    the place it has at run time (`installed_at`), never the staging dir, for every arch (the
    stdlib is compiled only for this machine's), so they are reproducible."""
    extra = ["--shown-as", f"{installed_at}/runtime"]
    extra += [] if compile_stdlib else ["--no-compile"]
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-I", str(scripts / "place-runtime.py"), arch, str(stage / "runtime"),
             "--buildpack", str(stage), *extra],
            check=True,
            env=dict(env),
            cwd=tmp,
        )  # fmt: skip
