"""Conda packages installed in a layer, read from the environment's `conda-meta/*.json` records."""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from cnb_python.sbom import licenses
from cnb_python.sbom.component import CONDA, Component, CondaInfo, clean_text, layer_path, purl

_SHA256 = re.compile(r"[0-9a-f]{64}")
_MD5 = re.compile(r"[0-9a-f]{32}")


def conda_packages(conda_meta: Path, *, layer_root: Path, image_layer_path: str) -> list[Component]:
    """Every package recorded in `conda_meta`, with edges to the installed packages it depends on.

    A record that is not valid JSON still gives a component, named from its file name
    "{name}-{version}-{build}.json". Listed in the order found; `render` sorts.
    """
    try:
        names = sorted(n for n in os.listdir(conda_meta) if n.endswith(".json"))
    except OSError:
        return []
    found = []
    for file_name in names:
        path = conda_meta / file_name
        location = layer_path(path.relative_to(layer_root).as_posix(), image_layer_path)
        found.append(_component(_load(path), clean_text(file_name[: -len(".json")]), location))
    installed = {c.name.lower(): c.purl for c in found}
    return [replace(c, depends_on=_installed_dependencies(c, installed)) for c in found]


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):  # unreadable, not UTF-8 or not JSON
        return {}
    return data if isinstance(data, dict) else {}


def _component(data: dict[str, Any], stem: str, location: str) -> Component:
    """The package a record describes, without its dependency edges (they need every record)."""

    def text(key: str, default: str = "") -> str:
        value = data.get(key)
        return value.strip() if isinstance(value, str) and value.strip() else default

    def count(key: str) -> int | None:
        value = data.get(key)
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        return value if ok else None

    def public(url: str) -> str:
        # A local channel is a path on the build host: it says nothing about the image.
        return "" if url.startswith("file:") else url

    parts = stem.rsplit("-", 2)
    stem_name, stem_version, build = parts if len(parts) == 3 else (stem, "", "")
    depends = data.get("depends")
    sha256 = text("sha256").lower()
    md5 = text("md5").lower()
    name, version = text("name", stem_name), text("version", stem_version)
    info = CondaInfo(
        build=text("build", build),
        build_number=count("build_number") or 0,
        channel=public(text("channel")),
        subdir=text("subdir"),
        noarch=text("noarch"),
        filename=text("fn"),
        md5=md5 if _MD5.fullmatch(md5) else "",
        size=count("size"),
        depends=tuple(d for d in depends if isinstance(d, str))
        if isinstance(depends, list)
        else (),
    )
    license = licenses.statement(text("license"))
    return Component(
        name=name,
        version=version,
        purl=_purl(name, version, info),
        kind=CONDA,
        licenses=(license,) if license else (),
        sha256=sha256 if _SHA256.fullmatch(sha256) else None,
        locations=(location,),
        download_url=public(text("url")) or None,
        conda=info,
    )


def _purl(name: str, version: str, info: CondaInfo) -> str:
    archive = next((t for t in ("conda", "tar.bz2") if info.filename.endswith("." + t)), "")
    qualifiers = {
        "build": info.build,
        "channel": info.channel,
        "subdir": info.subdir,
        "type": archive,
    }
    return purl("conda", name.lower(), version, qualifiers)


def _dependency_name(spec: str) -> str:
    """The package name of a match spec such as "conda-forge::numpy >=1.26 *_0" or "libzlib[..]"."""
    head = spec.strip().split(" ", 1)[0].split("[", 1)[0]
    return head.rsplit("::", 1)[-1].lower()


def _installed_dependencies(component: Component, installed: dict[str, str]) -> tuple[str, ...]:
    """The purls of the installed packages that `component`'s match specs name."""
    specs = component.conda.depends if component.conda else ()
    wanted = {_dependency_name(spec) for spec in specs}
    return tuple(sorted({installed[n] for n in wanted if n in installed} - {component.purl}))
