"""Syft JSON (`<layer>.sbom.syft.json`), shaped after Syft's JSON schema 16.1.10 (Syft 1.51).

Artifact ids are hashes of purls, so they are stable across builds. `dependency-of`
relationships point from the dependency (parent) to the package that needs it (child).
"""

from __future__ import annotations

import hashlib
from typing import Any

from cnb_python.sbom.component import CONDA, CPYTHON, PYTHON, TOOL, Component, CondaInfo, PythonInfo
from cnb_python.sbom.document import Document, short_id
from cnb_python.sbom.licenses import spdx_expression

SCHEMA_VERSION = "16.1.10"
SCHEMA_URL = (
    f"https://raw.githubusercontent.com/anchore/syft/main/schema/json/schema-{SCHEMA_VERSION}.json"
)
_TYPES = {CPYTHON: "binary", TOOL: "binary", PYTHON: "python", CONDA: "conda"}
_FOUND_BY = {
    CPYTHON: "buildpack-dependency-metadata",
    TOOL: "buildpack-dependency-metadata",
    PYTHON: "python-dist-info-cataloger",
    CONDA: "conda-meta-cataloger",
}


def document(doc: Document) -> dict[str, Any]:
    ids = {c.purl: short_id(c.purl) for c in doc.components}
    return {
        "artifacts": [_artifact(c, ids[c.purl]) for c in doc.components],
        "artifactRelationships": [
            {"parent": ids[d], "child": ids[c.purl], "type": "dependency-of"}
            for c in doc.components
            for d in c.depends_on
        ],
        "source": {
            "id": hashlib.sha256(doc.layer_path.encode("utf-8", "replace")).hexdigest(),
            "name": doc.name,
            "version": "",
            "type": "directory",
            "metadata": {"path": doc.layer_path},
        },
        "distro": {},
        "descriptor": {"name": doc.tool_name, "version": doc.tool_version},
        "schema": {"version": SCHEMA_VERSION, "url": SCHEMA_URL},
    }


def _artifact(c: Component, artifact_id: str) -> dict[str, Any]:
    locations = [
        {"path": loc, "accessPath": loc, "annotations": {"evidence": "primary"}}
        for loc in c.locations
    ]
    out: dict[str, Any] = {
        "id": artifact_id,
        "name": c.name,
        "version": c.version,
        "type": _TYPES[c.kind],
        "foundBy": _FOUND_BY[c.kind],
        "locations": locations,
        "licenses": [
            {
                "value": text,
                "spdxExpression": spdx_expression(text) or "",
                "type": "declared",
                "urls": [],
                "locations": locations,
            }
            for text in c.licenses
        ],
        "language": "python" if c.kind == PYTHON else "",
        "cpes": [{"cpe": c.cpe, "source": "declared"}] if c.cpe else [],
        "purl": c.purl,
    }
    metadata = _metadata(c)
    if metadata:
        out["metadataType"], out["metadata"] = metadata
    return out


def _metadata(c: Component) -> tuple[str, dict[str, Any]] | None:
    """syft's metadata type and entry: name and version, the fields it always writes, then the
    optional ones that have a value."""
    if c.python:
        kind, fields, optional = _python_fields(c.python)
    elif c.conda:
        kind, fields, optional = _conda_fields(c, c.conda)
    else:
        return None
    return kind, {"name": c.name, "version": c.version, **fields, **_present(optional)}


def _python_fields(info: PythonInfo) -> tuple[str, dict[str, Any], dict[str, Any]]:
    fields = {
        "author": info.author,
        "authorEmail": info.author_email,
        "platform": info.platform,
        "sitePackagesRootPath": info.site_packages,
    }
    optional = {
        "requiresPython": info.requires_python,
        "requiresDist": list(info.requires_dist),
        "providesExtra": list(info.provides_extra),
    }
    return "python-package", fields, optional


def _conda_fields(c: Component, conda: CondaInfo) -> tuple[str, dict[str, Any], dict[str, Any]]:
    fields = {"build": conda.build, "build_number": conda.build_number}
    optional = {
        "channel": conda.channel,
        "subdir": conda.subdir,
        "noarch": conda.noarch,
        "license": c.licenses[0] if c.licenses else "",
        "md5": conda.md5,
        "sha256": c.sha256 or "",
        "size": conda.size,
        "fn": conda.filename,
        "url": c.download_url or "",
        "depends": list(conda.depends),
    }
    return "conda-metadata-entry", fields, optional


def _present(optional: dict[str, Any]) -> dict[str, Any]:
    """The fields that have a value: syft leaves out the empty ones (0 is a value)."""
    return {k: v for k, v in optional.items() if v not in ("", None, [])}
