"""`pdm lock --check` and `pdm export` of a lock, done without PDM when the lock says all it needs.

Installing PDM and running it twice is two seconds of a cold build and 30 MB of cache
(docs/benchmarks.md). A lock made with the `inherit_metadata` strategy (PDM's default) records,
per package, the groups that need it and the marker under which they do, so the export is a
selection, not a resolution.

Mirrored from the pinned PDM 2.26.9:
- the check (actions.check_lockfile): the lock's metadata `content_hash`, "sha256:<hex>", is
  the sha256 of JSON (sorted keys, json's default separators) of [project]'s dependencies,
  optional-dependencies and requires-python, the dependency groups ([dependency-groups], then
  [tool.pdm.dev-dependencies], names normalized), and [tool.pdm]'s source and resolution
  (ProjectFile.content_hash).
- the selection (cli/filters.GroupSelection with --prod, LockedRepository.evaluate_candidates
  without evaluating markers): the default group and the groups named; a package whose groups
  meet them, or that names none; of a package locked with extras and without, only the
  entries with extras (cli/commands/export.py, extras kept by default).
- the lines (formats/requirements.export): `name[extras]==version; marker` with its files'
  hashes, sorted; no index lines, as there are none without [[tool.pdm.source]].

Anything else is left to PDM, which has the last word: another lock version or strategy, a
stale or missing hash, BP_PDM_VERSION or PDM_* settings, a pdm.toml, [[tool.pdm.source]],
resolution excludes, a project PDM would convert (no [project]), and packages from a URL or
with static URLs. Path and VCS packages are refused before (pdm.py).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Mapping
from typing import Any

from cnb_python.appfiles import table

LOCK_VERSION = "4.5.0"  # the version the pinned PDM writes; only its meaning is mirrored
# Keys of a locked package besides a plain requirement's; any other (url, path, a VCS,
# editable) is a package this does not mirror.
_PLAIN_KEYS = {
    "name",
    "version",
    "requires_python",
    "summary",
    "groups",
    "marker",
    "extras",
    "files",
    "dependencies",
}


def content_hash(pyproject: Mapping[str, Any]) -> str | None:
    """The `content_hash` PDM records for this pyproject.toml, "sha256:<hex>"; None for a
    project PDM would first convert (no [project]), or values JSON cannot hold (a TOML date)."""
    if not isinstance(pyproject.get("project"), dict):
        return None
    project = table(pyproject, "project")
    settings = table(pyproject, "tool", "pdm")
    groups: dict[str, list[Any]] = {}
    for name, requirements in table(pyproject, "dependency-groups").items():
        if _normalized(name) in groups or not isinstance(requirements, list):
            return None  # PDM refuses duplicates; leave the message to it
        groups[_normalized(name)] = list(requirements)
    for name, requirements in table(pyproject, "tool", "pdm", "dev-dependencies").items():
        if not isinstance(requirements, list):
            return None
        groups.setdefault(_normalized(name), []).extend(requirements)
    dump = {
        "sources": settings.get("source", []),
        "dependencies": project.get("dependencies", []),
        "dev-dependencies": groups,
        "optional-dependencies": project.get("optional-dependencies", {}),
        "requires-python": project.get("requires-python", ""),
        "resolution": settings.get("resolution", {}),
    }
    try:
        content = json.dumps(dump, sort_keys=True)
    except (TypeError, ValueError):
        return None
    return "sha256:" + hashlib.sha256(content.encode()).hexdigest()


def export(
    lock: Mapping[str, Any], pyproject: Mapping[str, Any], groups: Collection[str]
) -> str | None:
    """The requirements file `pdm export --prod` with `--group` for each of `groups` (a
    dependency group drops --prod, which selects the same) would give for a lock that `pdm
    lock --check` passes; None when the lock or the project is not one this mirrors."""
    if not _mirrored(lock, pyproject):
        return None
    selected = {"default", *(_normalized(group) for group in groups)}
    entries = [
        package
        for package in lock["package"]
        if not package.get("groups") or selected.intersection(package["groups"])
    ]
    with_extras = {_normalized(package["name"]) for package in entries if package.get("extras")}
    lines = {}
    for package in entries:
        extras = package.get("extras")
        if not extras and _normalized(package["name"]) in with_extras:
            continue  # the entry with extras stands for it
        line = package["name"] + (f"[{','.join(sorted(extras))}]" if extras else "")
        line += f"=={package['version']}"
        if package.get("marker"):
            line += f"; {package['marker']}"
        hashes = sorted({file["hash"] for file in package.get("files", [])})
        lines[line] = "".join(f" \\\n    --hash={digest}" for digest in hashes)
    return "".join(f"{line}{hashes}\n" for line, hashes in sorted(lines.items()))


def _mirrored(lock: Mapping[str, Any], pyproject: Mapping[str, Any]) -> bool:
    from packaging.markers import InvalidMarker, Marker

    metadata = table(lock, "metadata")
    strategy = metadata.get("strategy")
    if (
        metadata.get("lock_version") != LOCK_VERSION
        or not isinstance(strategy, list)
        or "inherit_metadata" not in strategy
        or "static_urls" in strategy
        or "source" in table(pyproject, "tool", "pdm")
        or "excludes" in table(pyproject, "tool", "pdm", "resolution")
    ):
        return False
    recorded = metadata.get("content_hash")
    if recorded is None or recorded != content_hash(pyproject):
        return False
    packages = lock.get("package", [])
    if not isinstance(packages, list) or not all(_plain(package) for package in packages):
        return False
    try:
        for package in packages:
            if package.get("marker"):
                Marker(package["marker"])
    except InvalidMarker:
        return False
    return True


def _plain(package: Any) -> bool:
    """A named package from an index, with a version, its groups, a marker and hashed files."""
    if not isinstance(package, dict) or not set(package) <= _PLAIN_KEYS:
        return False
    files = package.get("files", [])
    return (
        isinstance(package.get("name"), str)
        and isinstance(package.get("version"), str)
        and isinstance(package.get("groups", []), list)
        and all(isinstance(group, str) for group in package.get("groups", []))
        and isinstance(package.get("marker", ""), str)
        and isinstance(package.get("extras", []), list)
        and all(isinstance(extra, str) for extra in package.get("extras", []))
        and isinstance(files, list)
        and all(isinstance(f, dict) and isinstance(f.get("hash"), str) for f in files)
        and not any("url" in file for file in files)
    )


def _normalized(name: str) -> str:
    """PDM's group names (pdm.utils.normalize_name)."""
    return re.sub(r"[^A-Za-z0-9]+", "-", name).lower()
