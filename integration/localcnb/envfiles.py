"""Build and launch environments: include-list filtering, layer root dirs, env files, overrides.

Follows ``lc:env/build.go``, ``env/launch.go`` and ``env/env.go`` (cnb-spec.md §2.1, §3.2, §3.3).
Env files are read on the host, but every path placed in a value is the in-container path.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

BUILD_ROOT_DIRS = {
    "bin": ("PATH",),
    "lib": ("LD_LIBRARY_PATH", "LIBRARY_PATH"),
    "include": ("CPATH",),
    "pkgconfig": ("PKG_CONFIG_PATH",),
}
LAUNCH_ROOT_DIRS = {"bin": ("PATH",), "lib": ("LD_LIBRARY_PATH",)}

# lc:env/build.go BuildEnvIncludelist; the root-dir variables are kept as well.
BUILD_INCLUDE = frozenset(
    {
        "CNB_STACK_ID",
        "HOSTNAME",
        "HOME",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "NO_PROXY",
        "no_proxy",
    }
)
# lc:env/launch.go LaunchEnvExcludelist.
LAUNCH_EXCLUDE = frozenset(
    {
        "CNB_LAYERS_DIR",
        "CNB_APP_DIR",
        "CNB_PROCESS_TYPE",
        "CNB_PLATFORM_API",
        "CNB_DEPRECATION_MODE",
    }
)


class Env:
    def __init__(self, values: Mapping[str, str], root_dirs: Mapping[str, tuple[str, ...]]):
        self.values = dict(values)
        self.root_dirs = root_dirs

    @classmethod
    def for_build(cls, image_env: Mapping[str, str]) -> Env:
        """Only the include list survives from the builder image's ENV."""
        path_vars = {v for names in BUILD_ROOT_DIRS.values() for v in names}
        keep = BUILD_INCLUDE | path_vars
        return cls({k: v for k, v in image_env.items() if k in keep}, BUILD_ROOT_DIRS)

    @classmethod
    def for_launch(cls, container_env: Mapping[str, str]) -> Env:
        values = {k: v for k, v in container_env.items() if k not in LAUNCH_EXCLUDE}
        if "PATH" in values:
            parts = values["PATH"].split(":")
            values["PATH"] = ":".join(
                p for p in parts if p not in ("/cnb/process", "/cnb/lifecycle")
            )
        return cls(values, LAUNCH_ROOT_DIRS)

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    def add_root_dir(self, host_dir: Path, container_dir: str) -> None:
        """Prepend ``<layer>/bin`` etc. when they exist (``AddRootDir``)."""
        for sub, names in self.root_dirs.items():
            if not (host_dir / sub).exists():
                continue
            for name in names:
                self.values[name] = f"{container_dir}/{sub}" + _prefix(self.get(name), ":")

    def add_env_dir(self, env_dir: Path) -> None:
        """Apply ``<layer>/env*`` files. An unsuffixed file overrides (Buildpack API >= 0.5)."""
        for filename, value in _env_files(env_dir):
            name, _, action = filename.partition(".")
            if "." not in filename:
                action = "override"
            if action == "prepend":
                self.values[name] = value + _prefix(self.get(name), _delim(env_dir, name, ""))
            elif action == "append":
                self.values[name] = _suffix(self.get(name), _delim(env_dir, name, "")) + value
            elif action == "override":
                self.values[name] = value
            elif action == "default":
                if not self.get(name):
                    self.values[name] = value
            elif action == "":  # "NAME." : prepend with the OS path separator by default
                self.values[name] = value + _prefix(self.get(name), _delim(env_dir, name, ":"))
            # .delim and unknown suffixes are ignored

    def with_overrides(self, platform_dir: Path | None) -> dict[str, str]:
        """The env handed to one bin/detect or bin/build: user ``<platform>/env`` files on top.

        Path variables get the user value prepended with ``:``, every other variable is
        overridden. The file name is the variable name, suffixes included (``WithOverrides``).
        """
        values = dict(self.values)
        if platform_dir is not None:
            path_vars = {v for names in self.root_dirs.values() for v in names}
            for name, value in _env_files(platform_dir / "env"):
                if name in path_vars:
                    values[name] = value + _prefix(values.get(name, ""), ":")
                else:
                    values[name] = value
        return values

    def copy(self) -> Env:
        return Env(self.values, self.root_dirs)


def _prefix(current: str, sep: str) -> str:
    return sep + current if current else ""


def _suffix(current: str, sep: str) -> str:
    return current + sep if current else ""


def _delim(env_dir: Path, name: str, default: str) -> str:
    try:
        return os.fsdecode((env_dir / f"{name}.delim").read_bytes())
    except OSError:
        return default


def _env_files(env_dir: Path) -> list[tuple[str, str]]:
    """Regular files (or symlinks to files) in name order, contents byte for byte."""
    try:
        names = os.listdir(env_dir)
    except FileNotFoundError:
        return []
    out = []
    for name in sorted(names, key=os.fsencode):
        path = env_dir / name
        if path.is_dir():
            continue
        out.append((name, os.fsdecode(path.read_bytes())))
    return out
