"""Build Plan (written by detect) and Buildpack Plan (read by build)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnb_python.cnb.toml import load_toml, write_toml


@dataclass(frozen=True)
class Require:
    name: str
    # Free-form; becomes the Buildpack Plan entry. Versions go here, never at the top level
    # (the lifecycle rejects `requires.version`).
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Alternative:
    provides: tuple[str, ...] = ()
    requires: tuple[Require, ...] = ()

    def to_toml(self) -> dict[str, Any]:
        doc: dict[str, Any] = {}
        if self.provides:
            doc["provides"] = [{"name": name} for name in self.provides]
        if self.requires:
            doc["requires"] = [
                {"name": r.name, **({"metadata": r.metadata} if r.metadata else {})}
                for r in self.requires
            ]
        return doc


def write_build_plan(path: Path, alternatives: Sequence[Alternative]) -> None:
    """The first alternative is the top-level pair; each further one is an `[[or]]` entry."""
    if not alternatives:
        return
    first, *rest = alternatives
    doc = first.to_toml()
    if rest:
        doc["or"] = [alt.to_toml() for alt in rest]
    write_toml(path, doc)


@dataclass(frozen=True)
class PlanEntry:
    name: str
    metadata: dict[str, Any]


def read_buildpack_plan(path: Path) -> list[PlanEntry]:
    if not path.is_file():
        return []
    doc = load_toml(path)
    return [PlanEntry(e["name"], dict(e.get("metadata", {}))) for e in doc.get("entries", [])]


def entries_named(entries: Sequence[PlanEntry], name: str) -> list[PlanEntry]:
    """The same name can appear once per requiring buildpack; callers merge them."""
    return [e for e in entries if e.name == name]


@dataclass(frozen=True)
class MergedEntry:
    """All requirements for one name, merged by the conventions buildpacks share:
    `build`/`launch` flags are OR-ed, every `version` constraint is kept with its source."""

    name: str
    build: bool
    launch: bool
    versions: tuple[tuple[str, str], ...]  # (constraint, version-source)


def merge_entries(entries: Sequence[PlanEntry], name: str) -> MergedEntry:
    matching = entries_named(entries, name)
    versions = tuple(
        (str(e.metadata["version"]), str(e.metadata.get("version-source", "another buildpack")))
        for e in matching
        if e.metadata.get("version")
    )
    return MergedEntry(
        name=name,
        build=any(bool(e.metadata.get("build")) for e in matching),
        launch=any(bool(e.metadata.get("launch")) for e in matching),
        versions=versions,
    )
