"""Validators for the SBOM documents, shared by unit and integration tests.

- CycloneDX 1.6 and SPDX 2.3: the official JSON schemas, as shipped in the lib4sbom wheel
  (byte-identical to the CycloneDX/specification and spdx/spdx-spec files), plus spdx-tools'
  semantic validation.
- Syft JSON: SYFT_SCHEMA below, the required fields and types of Syft's schema 16.1.10.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator, Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7
from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document


def schema(*parts: str) -> dict[str, Any]:
    spec = importlib.util.find_spec("lib4sbom")
    assert spec is not None and spec.submodule_search_locations, "lib4sbom (dev dependency)"
    path = Path(spec.submodule_search_locations[0], "schemas", *parts)
    return json.loads(path.read_text("utf-8"))


def errors(validator: Any, document: dict[str, Any]) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def cyclonedx_validator() -> Draft7Validator:
    bom, *refs = (
        schema("cyclonedx", name)
        for name in ("bom-1.6.schema.json", "spdx.schema.json", "jsf-0.82.schema.json")
    )
    registry: Registry = Registry().with_resources(
        (s["$id"], Resource.from_contents(s, default_specification=DRAFT7)) for s in (bom, *refs)
    )
    return Draft7Validator(bom, registry=registry, format_checker=Draft7Validator.FORMAT_CHECKER)


def spdx_validator() -> Draft7Validator:
    spdx = schema("spdx", "2.3-schema.json")
    assert spdx["title"] == "SPDX 2.3"
    return Draft7Validator(spdx, format_checker=Draft7Validator.FORMAT_CHECKER)


# Syft JSON schema 16.1.10 (anchore/syft schema/json/schema-16.1.10.json, Syft v1.51): the
# `required` lists and property types of every object this buildpack writes, restated here.
# Syft's own definitions forbid unknown properties, so these do too.
_STR = {"type": "string"}
_STRS = {"type": "array", "items": _STR}


def _object(required: list[str], optional: dict[str, Any] | None = None, **props: Any) -> dict:
    return {
        "type": "object",
        "required": required,
        "properties": {**props, **(optional or {})},
        "additionalProperties": False,
    }


_LOCATION = _object(
    ["path", "accessPath"],
    {"layerID": _STR, "annotations": {"type": "object", "additionalProperties": _STR}},
    path=_STR,
    accessPath=_STR,
)
_PYTHON_PACKAGE = _object(
    ["name", "version", "author", "authorEmail", "platform", "sitePackagesRootPath"],
    {
        "requiresPython": _STR,
        "requiresDist": _STRS,
        "providesExtra": _STRS,
        "topLevelPackages": _STRS,
    },
    name=_STR,
    version=_STR,
    author=_STR,
    authorEmail=_STR,
    platform=_STR,
    sitePackagesRootPath=_STR,
)
_CONDA_ENTRY = _object(
    ["name", "version", "build", "build_number"],
    {
        "arch": _STR,
        "channel": _STR,
        "subdir": _STR,
        "noarch": _STR,
        "license": _STR,
        "license_family": _STR,
        "md5": _STR,
        "sha256": _STR,
        "size": {"type": "integer"},
        "timestamp": {"type": "integer"},
        "fn": _STR,
        "url": _STR,
        "depends": _STRS,
    },
    name=_STR,
    version=_STR,
    build=_STR,
    build_number={"type": "integer"},
)
_PACKAGE_REQUIRED = [
    "id",
    "name",
    "version",
    "type",
    "foundBy",
    "locations",
    "licenses",
    "language",
    "cpes",
    "purl",
]
SYFT_SCHEMA: dict[str, Any] = _object(
    ["artifacts", "artifactRelationships", "source", "distro", "descriptor", "schema"],
    artifacts={
        "type": "array",
        "items": _object(
            _PACKAGE_REQUIRED,
            {
                "metadataType": {"enum": ["python-package", "conda-metadata-entry"]},
                "metadata": {"anyOf": [_PYTHON_PACKAGE, _CONDA_ENTRY]},
            },
            id=_STR,
            name=_STR,
            version=_STR,
            type=_STR,
            foundBy=_STR,
            locations={"type": "array", "items": _LOCATION},
            licenses={
                "type": "array",
                "items": _object(
                    ["value", "spdxExpression", "type", "urls", "locations"],
                    {"contents": _STR},
                    value=_STR,
                    spdxExpression=_STR,
                    type=_STR,
                    urls=_STRS,
                    locations={"type": "array", "items": _LOCATION},
                ),
            },
            language=_STR,
            cpes={"type": "array", "items": _object(["cpe"], {"source": _STR}, cpe=_STR)},
            purl=_STR,
        ),
    },
    artifactRelationships={
        "type": "array",
        "items": _object(
            ["parent", "child", "type"], {"metadata": {}}, parent=_STR, child=_STR, type=_STR
        ),
    },
    source=_object(
        ["id", "name", "version", "type", "metadata"],
        {"supplier": _STR},
        id=_STR,
        name=_STR,
        version=_STR,
        type=_STR,
        metadata={},
    ),
    # LinuxRelease: every field optional; unknown here, so empty.
    distro={"type": "object"},
    descriptor=_object(["name", "version"], {"configuration": {}}, name=_STR, version=_STR),
    schema=_object(["version", "url"], version=_STR, url=_STR),
)


def syft_validator() -> Draft202012Validator:
    return Draft202012Validator(SYFT_SCHEMA)


def spdx_semantic_errors(document: dict[str, Any]) -> list[str]:
    parsed = JsonLikeDictParser().parse(document)
    return [m.validation_message for m in validate_full_spdx_document(parsed, "SPDX-2.3")]


def all_errors(docs: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """Every schema (and SPDX semantic) error of the three documents of one layer."""
    return {
        "cdx.json": errors(cyclonedx_validator(), docs["cdx.json"]),
        "spdx.json": errors(spdx_validator(), docs["spdx.json"])
        + spdx_semantic_errors(docs["spdx.json"]),
        "syft.json": errors(syft_validator(), docs["syft.json"]),
    }
