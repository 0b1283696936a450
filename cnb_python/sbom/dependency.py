"""Components for what the buildpack installs from its own dependency metadata (buildpack.toml)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from cnb_python.sbom import licenses
from cnb_python.sbom.component import CPYTHON, TOOL, Component

if TYPE_CHECKING:
    from cnb_python.dependencies import Dependency

_SHA256 = re.compile(r"[0-9a-f]{64}")


def cpython_component(dep: Dependency) -> Component:
    """The CPython interpreter in the python layer."""
    return _component(dep, CPYTHON)


def tool_component(dep: Dependency) -> Component:
    """A tool installed from a buildpack dependency archive rather than from PyPI (e.g. uv)."""
    return _component(dep, TOOL)


def _component(dep: Dependency, kind: str) -> Component:
    statements = (licenses.statement(text) for text in dep.licenses)
    sha256 = dep.sha256.lower()
    return Component(
        name=dep.name,
        version=dep.version,
        purl=dep.purl,
        kind=kind,
        licenses=tuple(s for s in statements if s),
        cpe=dep.cpe or None,
        sha256=sha256 if _SHA256.fullmatch(sha256) else None,
        download_url=dep.url or None,
    )
