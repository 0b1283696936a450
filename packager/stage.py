"""A clean copy of the buildpack to package: only what runs in a build, the version set."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

# What a packaged buildpack holds; requirements/tools/ and package.toml only when present.
PARTS = ("bin", "cnb_python", "vendor", "requirements/tools")
FILES = ("buildpack.toml", "package.toml")
# semver.org 2.0.0: MAJOR.MINOR.PATCH, no leading zeros, optional pre-release and build parts.
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)
_VERSION_LINE = re.compile(r'^version\s*=\s*"[^"]*"\s*$', re.MULTILINE)


def is_semver(version: str) -> bool:
    return SEMVER.match(version) is not None


def stage_buildpack(source: Path, dest: Path, version: str | None) -> None:
    """Copy the buildpack's parts from `source` into the new directory `dest`."""
    dest.mkdir(parents=True)
    for part in PARTS:
        if (source / part).is_dir():
            shutil.copytree(
                source / part,
                dest / part,
                symlinks=True,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )
    for name in FILES:
        if (source / name).is_file():
            shutil.copyfile(source / name, dest / name)
    if version is not None:
        set_version(dest / "buildpack.toml", version)


def set_version(buildpack_toml: Path, version: str) -> None:
    """Set [buildpack] version, editing the text so comments and layout survive."""
    text = buildpack_toml.read_text()
    start = text.index("[buildpack]")
    end = text.find("\n[", start + 1)
    end = len(text) if end < 0 else end
    table, count = _VERSION_LINE.subn(f'version = "{version}"', text[start:end], count=1)
    if count != 1:
        raise ValueError(f"{buildpack_toml}: [buildpack] has no version line")
    buildpack_toml.write_text(text[:start] + table + text[end:])
