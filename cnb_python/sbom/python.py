"""Python distributions installed in a layer, read from their `*.dist-info` directories.

Metadata can be missing or garbled (no METADATA, non-UTF-8 bytes, no RECORD, no Name): a
distribution is then recorded with what is known, never dropped and never an error.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.markers import Marker
from packaging.metadata import RawMetadata, parse_email
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from cnb_python.sbom import licenses
from cnb_python.sbom.component import PYTHON, Component, PythonInfo, clean_text, layer_path, purl

_MACHINES = {"amd64": "x86_64", "arm64": "aarch64"}


def marker_environment(python_version: str, *, arch: str) -> dict[str, str]:
    """PEP 508 marker values for CPython `python_version` (e.g. "3.12.4") on Linux `arch`.

    Dependency edges are evaluated against the layer's interpreter and target, not the one that
    runs the buildpack, so the SBOM does not depend on the build host.
    """
    return {
        "implementation_name": "cpython",
        "implementation_version": python_version,
        "os_name": "posix",
        "platform_machine": _MACHINES.get(arch, arch),
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": "Linux",
        "platform_version": "",
        "python_full_version": python_version,
        "python_version": ".".join(python_version.split(".")[:2]),
        "sys_platform": "linux",
    }


@dataclass
class _Dist:
    name: str
    version: str
    purl: str
    site_packages: str  # the site dir's absolute path in the image
    location: str
    metadata: RawMetadata
    requirements: list[Requirement]
    extras: set[str] = field(default_factory=set)  # extras some installed dist asks for
    depends_on: set[str] = field(default_factory=set)


def python_distributions(
    site_dirs: Sequence[Path],
    *,
    layer_root: Path,
    image_layer_path: str,
    environment: Mapping[str, str],
) -> list[Component]:
    """Every distribution installed in `site_dirs`, with edges to the installed ones it requires.

    Listed in the order found; `render` sorts. `site_dirs` lie under `layer_root`, which is
    `image_layer_path` in the image. `environment` holds the marker values of the layer's Python
    (see `marker_environment`).
    """
    dists: list[_Dist] = []
    seen: set[str] = set()
    for site_dir in site_dirs:
        site_image_path = layer_path(site_dir.relative_to(layer_root).as_posix(), image_layer_path)
        for dist_info in _dist_info_dirs(site_dir):
            real = os.path.realpath(dist_info)
            if real not in seen:  # e.g. lib64 -> lib in a venv
                seen.add(real)
                dists.append(_read(dist_info, site_image_path))
    _link(dists, environment)
    return [_component(d) for d in dists]


def _dist_info_dirs(site_dir: Path) -> list[Path]:
    try:
        entries = sorted(os.listdir(site_dir))
    except OSError:
        return []
    return [site_dir / e for e in entries if e.endswith(".dist-info") and (site_dir / e).is_dir()]


def _read(dist_info: Path, site_image_path: str) -> _Dist:
    # The directory name is "{name}-{version}.dist-info": the fallback when METADATA lacks a field.
    dir_name, _, dir_version = clean_text(dist_info.name[: -len(".dist-info")]).partition("-")
    metadata = _metadata(dist_info / "METADATA")
    name = metadata.get("name", "").strip() or dir_name
    version = metadata.get("version", "").strip() or dir_version
    requirements = []
    for line in metadata.get("requires_dist", []):
        try:
            requirements.append(Requirement(line))
        except InvalidRequirement:
            continue  # one bad line must not hide the other requirements
    location = site_image_path + "/" + clean_text(dist_info.name)
    if (dist_info / "METADATA").is_file():
        location += "/METADATA"
    return _Dist(
        name=name,
        version=version,
        purl=purl("pypi", canonicalize_name(name), version),
        site_packages=site_image_path,
        location=location,
        metadata=metadata,
        requirements=requirements,
    )


def _metadata(path: Path) -> RawMetadata:
    try:
        data = path.read_bytes()
    except OSError:
        return {}
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # old tools wrote Latin-1; this never fails
    try:
        raw, _unparsed = parse_email(text)
    except Exception:  # a parser bug on garbage input must not fail the build
        return {}
    return raw


def _link(dists: list[_Dist], environment: Mapping[str, str]) -> None:
    """Add an edge for every requirement that applies and names an installed distribution.

    A requirement applies when its marker holds for the layer's environment, with no extra or
    with an extra that another installed distribution requests. Requested extras widen what
    applies, so repeat until nothing changes.
    """
    installed: dict[str, list[_Dist]] = {}
    for dist in dists:
        installed.setdefault(canonicalize_name(dist.name), []).append(dist)
    changed = True
    while changed:
        changed = False
        for dist in dists:
            for req in dist.requirements:
                targets = installed.get(canonicalize_name(req.name), [])
                if not targets or not _applies(req, dist.extras, environment):
                    continue
                wanted = {canonicalize_name(e) for e in req.extras}
                for target in targets:
                    if target is not dist:
                        dist.depends_on.add(target.purl)
                    if not wanted <= target.extras:
                        target.extras |= wanted
                        changed = True


def _applies(req: Requirement, extras: set[str], environment: Mapping[str, str]) -> bool:
    if req.marker is None:
        return True
    return any(_holds(req.marker, {**environment, "extra": e}) for e in ["", *sorted(extras)])


def _holds(marker: Marker, environment: dict[str, str]) -> bool:
    try:
        return marker.evaluate(environment)
    except (ValueError, KeyError):
        # An undecidable marker: the target is installed, which is evidence the edge is real.
        return True


def _component(dist: _Dist) -> Component:
    meta = dist.metadata
    return Component(
        name=dist.name,
        version=dist.version,
        purl=dist.purl,
        kind=PYTHON,
        licenses=_licenses(meta),
        depends_on=tuple(sorted(dist.depends_on)),
        locations=(dist.location,),
        summary=meta.get("summary", "").strip(),
        python=PythonInfo(
            site_packages=dist.site_packages,
            author=meta.get("author", "").strip(),
            author_email=meta.get("author_email", "").strip(),
            platform=", ".join(p.strip() for p in meta.get("platforms", [])),
            requires_python=meta.get("requires_python", "").strip(),
            requires_dist=tuple(meta.get("requires_dist", [])),
            provides_extra=tuple(meta.get("provides_extra", [])),
        ),
    )


def _licenses(meta: RawMetadata) -> tuple[str, ...]:
    """License-Expression first (PEP 639), then a valid SPDX `License`, then classifiers, then
    `License` as free text."""
    expression = licenses.statement(meta.get("license_expression"))
    if expression:
        return (expression,)
    license_field = licenses.statement(meta.get("license"))
    if license_field and licenses.spdx_expression(license_field):
        return (license_field,)
    from_classifiers = licenses.from_classifiers(meta.get("classifiers", []))
    if from_classifiers:
        return from_classifiers
    return (license_field,) if license_field else ()
