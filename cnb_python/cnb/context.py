"""What the lifecycle hands a buildpack: paths, user env and the build target.

Buildpack API 0.8+ passes paths in CNB_* variables; the lifecycle still appends the legacy
positional arguments (detect: <platform> <plan>; build: <layers> <platform> <plan>), which are
used only when a variable is missing.
"""

from __future__ import annotations

import os
import platform as host_platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cnb_python.errors import UserError

_MACHINE_TO_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


@dataclass(frozen=True)
class Target:
    os: str
    arch: str
    distro_name: str = ""
    distro_version: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Target:
        machine = host_platform.machine().lower()
        return cls(
            os=env.get("CNB_TARGET_OS") or "linux",
            arch=env.get("CNB_TARGET_ARCH") or _MACHINE_TO_ARCH.get(machine, machine),
            distro_name=env.get("CNB_TARGET_DISTRO_NAME", ""),
            distro_version=env.get("CNB_TARGET_DISTRO_VERSION", ""),
        )


@dataclass(frozen=True)
class Context:
    """Everything detect and build read from the lifecycle, gathered once."""

    buildpack_dir: Path
    platform_dir: Path
    app_dir: Path
    target: Target
    env: Mapping[str, str]
    platform_env: Mapping[str, str] = field(default_factory=dict)
    build_plan_path: Path | None = None  # detect only
    layers_dir: Path | None = None  # build only
    buildpack_plan_path: Path | None = None  # build only

    def getenv(self, name: str, default: str = "") -> str:
        """A variable as the buildpack sees it: the process env, or the platform env file."""
        value = self.env.get(name)
        if value is None:
            value = self.platform_env.get(name, default)
        return value


def read_platform_env(platform_dir: Path) -> dict[str, str]:
    """<platform>/env/<NAME> files: the name is the key, the raw contents are the value."""
    env_dir = platform_dir / "env"
    if not env_dir.is_dir():
        return {}
    values = {}
    for entry in sorted(env_dir.iterdir()):
        if entry.is_file() and not entry.name.startswith("."):
            values[entry.name] = entry.read_bytes().decode("utf-8", errors="replace")
    return values


def _path_from(env: Mapping[str, str], name: str, args: Sequence[str], index: int) -> Path:
    value = env.get(name) or (args[index] if len(args) > index else "")
    if not value:
        raise UserError(
            "Not run by a CNB lifecycle",
            f"The variable {name} is not set and no legacy argument gives it.",
            "Run this buildpack with a CNB platform, such as `pack build --buildpack <dir>`.",
        )
    return Path(value).absolute()


# Where each phase's legacy positional arguments put the paths.
_DETECT_ARGS = {"CNB_PLATFORM_DIR": 0, "CNB_BUILD_PLAN_PATH": 1}
_BUILD_ARGS = {"CNB_PLATFORM_DIR": 1, "CNB_LAYERS_DIR": 0, "CNB_BP_PLAN_PATH": 2}


def _context(
    args: Sequence[str], env: Mapping[str, str] | None, positions: dict[str, int]
) -> Context:
    env = dict(os.environ if env is None else env)
    paths = {name: _path_from(env, name, args, index) for name, index in positions.items()}
    return Context(
        buildpack_dir=_buildpack_dir(env),
        platform_dir=paths["CNB_PLATFORM_DIR"],
        app_dir=Path.cwd(),
        target=Target.from_env(env),
        env=env,
        platform_env=read_platform_env(paths["CNB_PLATFORM_DIR"]),
        build_plan_path=paths.get("CNB_BUILD_PLAN_PATH"),
        layers_dir=paths.get("CNB_LAYERS_DIR"),
        buildpack_plan_path=paths.get("CNB_BP_PLAN_PATH"),
    )


def detect_context(args: Sequence[str], env: Mapping[str, str] | None = None) -> Context:
    return _context(args, env, _DETECT_ARGS)


def build_context(args: Sequence[str], env: Mapping[str, str] | None = None) -> Context:
    return _context(args, env, _BUILD_ARGS)


def _buildpack_dir(env: Mapping[str, str]) -> Path:
    # The shims always know where they live; CNB_BUILDPACK_DIR is set by every lifecycle.
    value = env.get("CNB_BUILDPACK_DIR")
    return Path(value) if value else Path(__file__).resolve().parents[2]
