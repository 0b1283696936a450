"""Conda packages installed in a layer, read from the environment's `conda-meta/*.json` records."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnb_python.sbom import licenses
from cnb_python.sbom.component import CONDA, Component, CondaInfo, clean_text, layer_path, purl

_SHA256 = re.compile(r"[0-9a-f]{64}")
_MD5 = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class _Record:
    name: str
    version: str
    info: CondaInfo
    license: str | None
    sha256: str | None
    url: str
    location: str

    @property
    def purl(self) -> str:
        archive = next(
            (t for t in ("conda", "tar.bz2") if self.info.filename.endswith("." + t)), ""
        )
        qualifiers = {
            "build": self.info.build,
            "channel": self.info.channel,
            "subdir": self.info.subdir,
            "type": archive,
        }
        return purl("conda", self.name.lower(), self.version, qualifiers)


def conda_packages(conda_meta: Path, *, layer_root: Path, image_layer_path: str) -> list[Component]:
    """Every package recorded in `conda_meta`, with edges to the installed packages it depends on.

    A record that is not valid JSON still gives a component, named from its file name
    "{name}-{version}-{build}.json". Listed in the order found; `render` sorts.
    """
    try:
        names = sorted(n for n in os.listdir(conda_meta) if n.endswith(".json"))
    except OSError:
        return []
    records = []
    for file_name in names:
        path = conda_meta / file_name
        location = layer_path(path.relative_to(layer_root).as_posix(), image_layer_path)
        records.append(_record(_load(path), clean_text(file_name[: -len(".json")]), location))
    installed = {r.name.lower(): r.purl for r in records}
    return [_component(r, installed) for r in records]


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):  # unreadable, not UTF-8 or not JSON
        return {}
    return data if isinstance(data, dict) else {}


def _record(data: dict[str, Any], stem: str, location: str) -> _Record:
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
    name, version, build = parts if len(parts) == 3 else (stem, "", "")
    depends = data.get("depends")
    sha256 = text("sha256").lower()
    md5 = text("md5").lower()
    return _Record(
        name=text("name", name),
        version=text("version", version),
        info=CondaInfo(
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
        ),
        license=licenses.statement(text("license")),
        sha256=sha256 if _SHA256.fullmatch(sha256) else None,
        url=public(text("url")),
        location=location,
    )


def _dependency_name(spec: str) -> str:
    """The package name of a match spec such as "conda-forge::numpy >=1.26 *_0" or "libzlib[..]"."""
    head = spec.strip().split(" ", 1)[0].split("[", 1)[0]
    return head.rsplit("::", 1)[-1].lower()


def _component(record: _Record, installed: dict[str, str]) -> Component:
    own = record.purl
    wanted = {_dependency_name(spec) for spec in record.info.depends}
    return Component(
        name=record.name,
        version=record.version,
        purl=own,
        kind=CONDA,
        licenses=(record.license,) if record.license else (),
        sha256=record.sha256,
        depends_on=tuple(sorted({installed[n] for n in wanted if n in installed} - {own})),
        locations=(record.location,),
        download_url=record.url or None,
        conda=record.info,
    )
