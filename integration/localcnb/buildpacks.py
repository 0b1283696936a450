"""buildpack.toml descriptors, target matching, and the read-only copy under /cnb/buildpacks."""

from __future__ import annotations

import os
import platform
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

from . import tomlio
from .constants import (
    BUILDPACKS_DIR,
    NORMALIZED_MTIME,
    SUPPORTED_BUILDPACK_APIS,
    PlatformError,
    api_tuple,
    escape_id,
)

# Developer state that a packaged buildpack never contains; copying a repository's .venv or .git
# into every build would only cost time. Only skipped at the top level of the buildpack dir.
_NOT_PACKAGED = frozenset({".git", ".venv", ".cache", ".pytest_cache", ".ruff_cache"})


@dataclass(frozen=True)
class Target:
    os: str = ""
    arch: str = ""
    arch_variant: str = ""
    distros: tuple[tuple[str, str], ...] = ()

    def as_json(self) -> dict[str, object]:
        return {
            "os": self.os,
            "arch": self.arch,
            "distros": [{"name": n, "version": v} for n, v in self.distros],
        }


@dataclass(frozen=True)
class Buildpack:
    source: Path
    id: str
    version: str
    api: str
    homepage: str = ""
    clear_env: bool = False
    sbom_formats: tuple[str, ...] = ()
    exec_env: tuple[str, ...] = ()
    targets: tuple[Target, ...] = field(default_factory=tuple)

    @property
    def escaped_id(self) -> str:
        return escape_id(self.id)

    @property
    def dir(self) -> str:
        """Where the lifecycle finds it (``lc:buildpack/dirstore.go``: escaped id, then version)."""
        return f"{BUILDPACKS_DIR}/{self.escaped_id}/{self.version}"

    def api_at_least(self, version: str) -> bool:
        return api_tuple(self.api) >= api_tuple(version)

    def __str__(self) -> str:
        return f"{self.id}@{self.version}"


def load(source: Path) -> Buildpack:
    path = source / "buildpack.toml"
    try:
        doc = tomlio.load(path)
    except (OSError, tomlio.TOMLError) as exc:
        raise PlatformError(f"failed to read buildpack descriptor {path}: {exc}") from exc
    api = doc.get("api")
    if not isinstance(api, str):
        raise PlatformError(f"{path}: api must be a TOML string, got {api!r}")
    info = doc.get("buildpack") or {}
    bp_id, version = info.get("id"), info.get("version")
    if not isinstance(bp_id, str) or not isinstance(version, str):
        raise PlatformError(f"{path}: [buildpack] id and version are required strings")
    if doc.get("order"):
        raise PlatformError(f"{path}: composite buildpacks are not supported by localcnb")
    # The lifecycle decodes exec-env as a string array (cnb-spec.md §1.2 mismatch note).
    exec_env = info.get("exec-env") or []
    return Buildpack(
        source=source.resolve(),
        id=bp_id,
        version=version,
        api=api,
        homepage=str(info.get("homepage", "")),
        clear_env=bool(info.get("clear-env", False)),
        sbom_formats=tuple(info.get("sbom-formats") or ()),
        exec_env=tuple(exec_env) if api_tuple(api) >= (0, 12) else (),
        targets=_targets(doc, source, api),
    )


def check_api(bp: Buildpack) -> None:
    if bp.api not in SUPPORTED_BUILDPACK_APIS:
        raise PlatformError(
            f"buildpack API version '{bp.api}' is incompatible with the lifecycle "
            f"(supported: {', '.join(SUPPORTED_BUILDPACK_APIS)})"
        )


def _targets(doc: dict, source: Path, api: str) -> tuple[Target, ...]:
    """``lc:buildpack/bp_descriptor.go`` ReadBpDescriptor, including the inference rules."""
    targets = [
        Target(
            os=t.get("os", ""),
            arch=t.get("arch", ""),
            # The lifecycle reads arch-variant, pack writes variant (cnb-spec.md §1.2).
            arch_variant=t.get("arch-variant", ""),
            distros=tuple((d.get("name", ""), d.get("version", "")) for d in t.get("distros", [])),
        )
        for t in doc.get("targets", [])
    ]
    if targets:
        return tuple(targets)
    stacks = doc.get("stacks", [])
    for stack in stacks:
        if stack.get("id") == "io.buildpacks.stacks.bionic":
            if api_tuple(api) >= (0, 10) or len(stacks) == 1:
                targets.append(Target("linux", "amd64", "", (("ubuntu", "18.04"),)))
        elif stack.get("id") == "*":
            targets.append(Target())
    if not targets and (source / "bin" / "build").exists():
        targets.append(Target(os="linux"))
    return tuple(targets)


@dataclass(frozen=True)
class HostTarget:
    """The run image target. With no distro labels on the run image, the lifecycle reads
    /etc/os-release of the build container (``lc:platform/target_data.go``)."""

    os: str
    arch: str
    distro_name: str
    distro_version: str

    @classmethod
    def detect(cls) -> HostTarget:
        machine = platform.machine()
        arch = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
        name = version = ""
        try:
            for line in Path("/etc/os-release").read_text().splitlines():
                key, _, value = line.partition("=")
                if key == "ID":
                    name = value.strip('"')
                elif key == "VERSION_ID":
                    version = value.strip('"')
        except OSError:
            pass
        return cls("linux", arch, name, version)

    def env(self) -> dict[str, str]:
        env = {"CNB_TARGET_OS": self.os, "CNB_TARGET_ARCH": self.arch}
        if self.distro_name:
            env["CNB_TARGET_DISTRO_NAME"] = self.distro_name
        if self.distro_version:
            env["CNB_TARGET_DISTRO_VERSION"] = self.distro_version
        return env

    def satisfies(self, target: Target) -> bool:
        def match(a: str, b: str) -> bool:
            return not a or not b or a == b

        if not (match(self.os, target.os) and match(self.arch, target.arch)):
            return False
        if not target.distros:
            return True
        if not (self.distro_name or self.distro_version):
            return False
        return any(
            match(self.distro_name, n) and match(self.distro_version, v) for n, v in target.distros
        )

    def as_json(self) -> dict[str, object]:
        return {
            "os": self.os,
            "arch": self.arch,
            "distro": {"name": self.distro_name, "version": self.distro_version},
        }


def stage(bp: Buildpack, cnb_root: Path) -> None:
    """Copy ``bp`` to ``<cnb_root>/buildpacks/<escaped id>/<version>`` the way pack packages it:
    owned by root, dirs and executables 0755, other files 0644, mtimes 1980
    (``pack:pkg/buildpack/buildpack.go`` toDistTar, calcFileMode)."""
    dest = cnb_root / "buildpacks" / bp.escaped_id / bp.version
    dest.mkdir(parents=True)
    for parent in (dest, dest.parent):
        os.chmod(parent, 0o755)
    for dirpath, dirnames, filenames in os.walk(bp.source):
        rel = Path(dirpath).relative_to(bp.source)
        if rel == Path("."):
            dirnames[:] = [d for d in dirnames if d not in _NOT_PACKAGED]
            filenames = [f for f in filenames if f not in _NOT_PACKAGED]
        for name in dirnames + filenames:
            src, dst = Path(dirpath, name), dest / rel / name
            st = src.lstat()
            if stat.S_ISLNK(st.st_mode):
                os.symlink(os.readlink(src), dst)
                continue
            if stat.S_ISDIR(st.st_mode):
                dst.mkdir()
                os.chmod(dst, 0o755)
            elif stat.S_ISREG(st.st_mode):
                shutil.copyfile(src, dst)
                entrypoint = (rel / name).as_posix() in ("bin/build", "bin/detect")
                os.chmod(dst, 0o755 if entrypoint or st.st_mode & 0o111 else 0o644)
            else:
                continue  # sockets, fifos: nothing pack would package usefully
    for dirpath, dirnames, filenames in os.walk(dest, topdown=False):
        for name in filenames + dirnames:
            os.utime(Path(dirpath, name), (NORMALIZED_MTIME,) * 2, follow_symlinks=False)
    for path in (dest, dest.parent):
        os.utime(path, (NORMALIZED_MTIME,) * 2)
