"""Pipfile.lock read and exported as a pip requirements file with every hash.

The export is the buildpack's own, not `pipenv requirements`: that one writes an entry locked on
another platform (a Windows-only package locked on Linux has version "*" and no hashes) as
`name*`, which pip cannot parse even when its marker would skip it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cnb_python.appfiles import read_json
from cnb_python.cnb.bindings import read_entry
from cnb_python.errors import UserError
from cnb_python.managers.locks import path_in_app

# Pipfile section names and the lock sections they become.
_LOCK_SECTIONS = {"packages": "default", "dev-packages": "develop"}
_UNSUPPORTED_KEYS = ("git", "hg", "svn", "bzr", "file")
_PYPI_HOSTS = ("pypi.org", "pypi.python.org")
REGENERATE = "Regenerate it with `pipenv lock`."
_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")


def read_lock(path: Path) -> dict[str, Any]:
    doc = read_json(path, REGENERATE)
    if not isinstance(doc, dict) or not isinstance(doc.get("_meta"), dict):
        raise UserError(
            "Invalid Pipfile.lock",
            "Pipfile.lock has no `_meta` table, so it was not written by `pipenv lock`.",
            REGENERATE,
        )
    return doc


def lock_sections(categories: Sequence[str]) -> tuple[str, ...]:
    """The lock sections of Pipfile categories: packages -> default, dev-packages -> develop."""
    return tuple(_LOCK_SECTIONS.get(c, c) for c in categories)


def check_sections(lock: Mapping[str, Any], sections: Sequence[str]) -> None:
    """A titled error when the lock lacks a section the build installs."""
    missing = [s for s in sections if s not in lock]
    if missing:
        present = ", ".join(k for k in lock if k != "_meta") or "none"
        raise UserError(
            "Pipenv category not found in Pipfile.lock",
            f"BP_PIPENV_INSTALL_CATEGORIES asks for {', '.join(missing)}, which Pipfile.lock "
            f"does not have (it has: {present}).",
            "Name categories of the Pipfile (packages, dev-packages or a custom one) in "
            "BP_PIPENV_INSTALL_CATEGORIES, or run `pipenv lock` after adding the category.",
        )


def export_requirements(
    lock: Mapping[str, Any], sections: Sequence[str], env: Mapping[str, str], offline: bool
) -> tuple[str, set[str]]:
    """A requirements file for `pip install --require-hashes --no-deps`: the lock's sources as
    indexes (with ${VAR} credentials expanded from `env`) and every package of `sections`; and
    the values it expanded, which the log must never show."""
    check_sections(lock, sections)
    secrets: set[str] = set()
    lines = [] if offline else _index_lines(lock["_meta"].get("sources", []), env, secrets)
    for name, entry in _packages(lock, sections):
        if not _is_local(entry):
            lines.append(_requirement_line(name, entry))
    return "\n".join(lines) + "\n", secrets


def local_paths(lock: Mapping[str, Any], sections: Sequence[str], app: Path) -> tuple[str, ...]:
    """The app's own projects the lock installs from a path (`{path = ".", editable = true}`),
    relative to the app: pip installs them without hashes, non-editable, after the rest."""
    found = []
    for name, entry in _packages(lock, sections):
        if not _is_local(entry):
            continue
        found.append(path_in_app(app, str(entry["path"]), "Pipfile.lock", name))
    return tuple(found)


def _packages(lock: Mapping[str, Any], sections: Sequence[str]) -> list[tuple[str, Any]]:
    packages: dict[str, Any] = {}
    for section in sections:
        for name, entry in _table(lock[section], f"its {section} section").items():
            packages.setdefault(name, entry)  # the first section wins, as in `pipenv install`
    return sorted(packages.items())


def _is_local(entry: Any) -> bool:
    return (
        isinstance(entry, dict)
        and bool(entry.get("path"))
        and not any(entry.get(k) for k in _UNSUPPORTED_KEYS)
    )


def _index_lines(sources: Any, env: Mapping[str, str], secrets: set[str]) -> list[str]:
    lines = []
    for number, source in enumerate(sources if isinstance(sources, list) else []):
        source = _table(source, "an entry of _meta.sources")
        url = expand_variables(str(source.get("url", "")), env, secrets)
        mirror = env.get("PIPENV_PYPI_MIRROR", "").strip()
        if mirror and urlsplit(url).hostname in _PYPI_HOSTS:
            # As Pipenv does: the mirror stands in for PyPI, other sources stay.
            url = expand_variables(mirror, env, secrets)
        lines.append(f"{'--index-url' if number == 0 else '--extra-index-url'} {url}")
        if source.get("verify_ssl") is False:
            lines.append(f"--trusted-host {urlsplit(url).hostname}")
    return lines


def expand_variables(text: str, env: Mapping[str, str], used: set[str]) -> str:
    """${VAR} and $VAR from `env`, as Pipenv expands them in [[source]] URLs; the values
    go into `used`."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in env:
            raise UserError(
                "Pipfile source variable not set",
                f"A [[source]] URL in Pipfile.lock uses ${{{name}}}, which is not set in the "
                "build environment or a `pipenv` binding.",
                f"Set {name} at build time (pack build --env {name}=...), or add it as an entry "
                "of a binding of type `pipenv`.",
            )
        used.add(env[name])
        return env[name]

    return _VARIABLE.sub(value, text)


def _requirement_line(name: str, entry: Any) -> str:
    if not isinstance(entry, dict):
        entry = {"version": str(entry)}
    unsupported = [key for key in _UNSUPPORTED_KEYS if entry.get(key)]
    if unsupported:
        raise UserError(
            "Pipfile.lock entry can't be installed with hashes",
            f"Pipfile.lock installs {name} from a {unsupported[0]} reference, which has no "
            "hashes to check, so the build cannot install it reproducibly.",
            f"Publish {name} to a package index (or vendor/ as a wheel) and depend on a version.",
        )
    extras = _strings(entry.get("extras"), f"the extras of {name}")
    line = name + (f"[{','.join(sorted(extras))}]" if extras else "")
    version = str(entry.get("version", "*")).strip()
    if version not in ("", "*"):
        line += version
    if entry.get("markers"):
        line += f"; {entry['markers']}"
    hashes = _strings(entry.get("hashes"), f"the hashes of {name}")
    return " ".join([line, *(f"--hash={h}" for h in sorted(hashes))])


def _table(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise UserError(
            "Invalid Pipfile.lock", f"In Pipfile.lock, {what} is not a table.", REGENERATE
        )
    return value


def _strings(value: Any, what: str) -> list[str]:
    if not value:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UserError(
            "Invalid Pipfile.lock", f"In Pipfile.lock, {what} is not a list of strings.", REGENERATE
        )
    return value


def source_variable_values(pipfile: Mapping[str, Any], *sources: Mapping[str, str]) -> set[str]:
    """The values of the variables the Pipfile's [[source]] URLs use, from the first of
    `sources` that has each: secrets for the log."""
    values = set()
    for source in pipfile.get("source", []) if isinstance(pipfile.get("source"), list) else []:
        url = source.get("url", "") if isinstance(source, dict) else ""
        for match in _VARIABLE.finditer(str(url)):
            name = match.group(1) or match.group(2)
            found = next((s[name] for s in sources if name in s), None)
            if found:
                values.add(found)
    return values


def pipenv_binding_env(entries: Mapping[str, Path]) -> dict[str, str]:
    """Entries of `pipenv` bindings as variables for [[source]] URLs (secrets: never logged)."""
    return {name: read_entry(path) for name, path in entries.items() if _is_name(name)}


def _is_name(name: str) -> bool:
    return name.isidentifier() and os.sep not in name
