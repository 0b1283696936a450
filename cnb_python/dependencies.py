"""Dependencies listed in buildpack.toml [metadata]: what can be downloaded, and from where."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnb_python.cnb.toml import load_toml


@dataclass(frozen=True)
class Dependency:
    id: str
    name: str
    version: str
    arch: str
    url: str
    sha256: str
    purl: str
    cpe: str
    licenses: tuple[str, ...]

    @classmethod
    def from_toml(cls, entry: dict[str, Any]) -> Dependency:
        return cls(
            id=entry["id"],
            name=entry["name"],
            version=entry["version"],
            arch=entry["arch"],
            url=entry["url"],
            sha256=entry["sha256"],
            purl=entry["purl"],
            cpe=entry["cpe"],
            licenses=tuple(entry.get("licenses", ())),
        )


@dataclass(frozen=True)
class BuildpackMetadata:
    """The parts of buildpack.toml the build needs."""

    id: str
    name: str
    version: str
    sbom_formats: tuple[str, ...]
    dependencies: tuple[Dependency, ...]
    default_python: str
    python_eol: tuple[dict[str, Any], ...]

    @classmethod
    def load(cls, buildpack_dir: Path) -> BuildpackMetadata:
        doc = load_toml(buildpack_dir / "buildpack.toml")
        bp = doc["buildpack"]
        meta = doc.get("metadata", {})
        return cls(
            id=bp["id"],
            name=bp.get("name", bp["id"]),
            version=bp["version"],
            sbom_formats=tuple(bp.get("sbom-formats", ())),
            dependencies=tuple(Dependency.from_toml(e) for e in meta.get("dependencies", ())),
            default_python=meta["default-python-version"],
            python_eol=tuple(meta.get("python-end-of-life", ())),
        )

    def candidates(self, dep_id: str, arch: str) -> list[Dependency]:
        """Builds of `dep_id` for `arch`; pure-Python tools are `noarch`."""
        return [d for d in self.dependencies if d.id == dep_id and d.arch in (arch, "noarch")]
