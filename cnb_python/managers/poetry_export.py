"""`poetry export` of a lock, done without Poetry when the lock says all it needs.

Installing Poetry for its export is a second and a half of a cold build and 100 MB of cache
(docs/benchmarks.md). A lock in format 2.1 records, per package, the groups that need it and
the markers under which each group does, so the export is a selection, not a resolution.

Mirrored from the pinned Poetry 2.2.1 and poetry-plugin-export 1.9.0:
- freshness (Locker.is_fresh, _get_content_hash): the lock's metadata `content-hash` is the
  sha256 of JSON (sorted keys, json's default separators) of [project]'s requires-python,
  dependencies and optional-dependencies, and [tool.poetry]'s dependencies, source, extras,
  dev-dependencies and group; without those [project] keys, the [tool.poetry] ones at the top
  level, with the four legacy keys always present (null when missing).
- selection (walker.get_project_dependency_packages2): a package whose `groups` meet the
  selected ones, under the union of those groups' markers (a group without one: always),
  intersected with the project's Python constraint (exporter.py: [tool.poetry.dependencies]
  python, else requires-python).
- lines (exporter._export_generic_txt): `name==version ; markers` with its files' hashes,
  sorted.

Anything else is left to Poetry, which has the last word: another lock format, a stale or
missing hash, BP_POETRY_VERSION, `requires-poetry`, extras (markers on `extra`), packages from
a named source, a URL, a file or git, a Python constraint beyond `>=` and `<`, or a marker
that does not parse. Path dependencies are skipped, as the Poetry export's lines for them
are: the project step installs them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from typing import Any

from cnb_python.appfiles import table

LOCK_VERSION = "2.1"  # the format the pinned Poetry writes; only its meaning is mirrored
_LEGACY_KEYS = ("dependencies", "source", "extras", "dev-dependencies")
_POETRY_KEYS = (*_LEGACY_KEYS, "group")
_PROJECT_KEYS = ("requires-python", "dependencies", "optional-dependencies")
_HASH_ALGORITHMS = ("sha256", "sha384", "sha512")


def content_hash(pyproject: Mapping[str, Any]) -> str | None:
    """The `content-hash` Poetry records for this pyproject.toml; None where JSON cannot hold
    a value (a TOML date), which Poetry itself cannot hash either."""
    project = table(pyproject, "project")
    poetry = table(pyproject, "tool", "poetry")
    relevant_project = {key: project[key] for key in _PROJECT_KEYS if project.get(key) is not None}
    relevant_poetry = {
        key: poetry.get(key)
        for key in _POETRY_KEYS
        if poetry.get(key) is not None or (key in _LEGACY_KEYS and not relevant_project)
    }
    content: dict[str, Any] = relevant_poetry
    if relevant_project:
        content = {"project": relevant_project, "tool": {"poetry": relevant_poetry}}
    try:
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    except (TypeError, ValueError):
        return None


def export(
    lock: Mapping[str, Any], pyproject: Mapping[str, Any], groups: Collection[str]
) -> str | None:
    """The requirements file `poetry export --only=<groups>` (no groups: the main one) would
    give for a fresh lock, without index lines (there are none when no package names a
    source); None when the lock or the project is not one this mirrors, and Poetry must
    export it."""
    from packaging.markers import InvalidMarker, Marker
    from packaging.utils import canonicalize_name

    if not _mirrored(lock, pyproject):
        return None
    python = _python_marker(pyproject)
    if python is None:
        return None
    selected = {canonicalize_name(group) for group in groups} or {"main"}
    locked_groups = {canonicalize_name(g) for package in lock["package"] for g in package["groups"]}
    if groups and not selected <= locked_groups:
        return None  # Poetry decides whether a group without a locked package exists
    lines = set()
    for package in lock["package"]:
        if table(package, "source").get("type") == "directory":
            continue  # a path dependency: the project step's
        marker = _marker_of(package, selected)
        if marker is False:
            continue
        try:
            if marker:
                Marker(marker)
        except InvalidMarker:
            return None
        line = f"{package['name']}=={package['version']}"
        combined = " and ".join(part for part in (python, f"({marker})" if marker else "") if part)
        if combined:
            line += f" ; {combined}"
        for digest in _hashes(package):
            line += f" \\\n    --hash={digest}"
        lines.add(line)
    return "\n".join(sorted(lines)) + "\n"


def _mirrored(lock: Mapping[str, Any], pyproject: Mapping[str, Any]) -> bool:
    """A fresh 2.1 lock of plain index packages and path dependencies, with no extras, of a
    project that does not require a Poetry version."""
    metadata = table(lock, "metadata")
    if metadata.get("lock-version") != LOCK_VERSION or "requires-poetry" in table(
        pyproject, "tool", "poetry"
    ):
        return False
    recorded = metadata.get("content-hash")
    if recorded is None or recorded != content_hash(pyproject):
        return False
    packages = lock.get("package", [])
    return isinstance(packages, list) and all(_plain(package) for package in packages)


def _plain(package: Any) -> bool:
    if not isinstance(package, dict):
        return False
    names_ok = isinstance(package.get("name"), str) and isinstance(package.get("version"), str)
    groups = package.get("groups")
    markers = package.get("markers", "*")
    marker_texts = markers.values() if isinstance(markers, dict) else [markers]
    source = package.get("source")
    return (
        names_ok
        and isinstance(groups, list)
        and all(isinstance(group, str) for group in groups)
        and all(isinstance(text, str) and "extra" not in text for text in marker_texts)
        and isinstance(files := package.get("files", []), list)
        and all(isinstance(file, dict) and isinstance(file.get("hash"), str) for file in files)
        and (source is None or table(package, "source").get("type") == "directory")
    )


def _marker_of(package: Mapping[str, Any], selected: set[str]) -> str | bool:
    """The package's marker for the selected groups: "" for always, False for never."""
    from packaging.utils import canonicalize_name

    groups = [group for group in package["groups"] if canonicalize_name(group) in selected]
    if not groups:
        return False
    markers = package.get("markers", "*")
    texts = [markers.get(group, "*") if isinstance(markers, dict) else markers for group in groups]
    if "*" in texts:
        return ""
    unique = sorted(set(texts))
    return unique[0] if len(unique) == 1 else " or ".join(f"({text})" for text in unique)


def _hashes(package: Mapping[str, Any]) -> list[str]:
    hashes = []
    for file in package.get("files", []):
        algorithm, _, value = file["hash"].rpartition(":")
        if not algorithm:
            algorithm = "sha256"
        if algorithm in _HASH_ALGORITHMS:
            hashes.append(f"{algorithm}:{value}")
    return sorted(hashes)


def _python_marker(pyproject: Mapping[str, Any]) -> str | None:
    """The project's Python constraint as a marker ("" for none); None when it is more than
    `>=` and `<` bounds on release versions, which Poetry's own constraint syntax handles."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import Version

    constraint = table(pyproject, "tool", "poetry", "dependencies").get("python")
    if not isinstance(constraint, str):
        constraint = table(pyproject, "project").get("requires-python", "*")
    if not isinstance(constraint, str):
        return None
    if constraint.strip() == "*":
        return ""  # Poetry's default, ~2.7 || >=3.4: every Python the build installs
    try:
        specifiers = sorted(SpecifierSet(constraint), key=str)
    except InvalidSpecifier:
        return None
    parts = []
    for specifier in specifiers:
        if specifier.operator not in (">=", "<") or "*" in specifier.version:
            return None
        version = Version(specifier.version)
        if version.is_prerelease or version.is_postrelease or version.epoch or version.local:
            return None
        # As Poetry writes it: python_version for X.Y, python_full_version for X.Y.Z.
        variable = "python_version" if len(version.release) <= 2 else "python_full_version"
        parts.append(f'{variable} {specifier.operator} "{specifier.version}"')
    return " and ".join(parts)
