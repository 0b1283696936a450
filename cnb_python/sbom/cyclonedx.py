"""CycloneDX 1.6 JSON (`<layer>.sbom.cdx.json`)."""

from __future__ import annotations

from typing import Any

from cnb_python.sbom.component import CONDA, CPYTHON, PYTHON, TOOL, Component
from cnb_python.sbom.document import Document, content_uuid
from cnb_python.sbom.licenses import all_of, spdx_expression

SPEC_VERSION = "1.6"
_TYPES = {CPYTHON: "application", TOOL: "application", PYTHON: "library", CONDA: "library"}


def document(doc: Document) -> dict[str, Any]:
    bom: dict[str, Any] = {
        "$schema": f"http://cyclonedx.org/schema/bom-{SPEC_VERSION}.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "version": 1,
        "metadata": {
            "timestamp": doc.timestamp,
            "tools": {
                "components": [
                    {"type": "application", "name": doc.tool_name, "version": doc.tool_version}
                ]
            },
            "properties": [
                {"name": "cnb-python:sbom:name", "value": doc.name},
                {"name": "cnb-python:sbom:layer-path", "value": doc.layer_path},
            ],
        },
        "components": [_component(c) for c in doc.components],
        "dependencies": [{"ref": c.purl, "dependsOn": list(c.depends_on)} for c in doc.components],
    }
    bom["serialNumber"] = f"urn:uuid:{content_uuid(bom)}"
    return bom


def _component(c: Component) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": _TYPES[c.kind],
        "bom-ref": c.purl,
        "name": c.name,
        "purl": c.purl,
    }
    if c.version:
        out["version"] = c.version
    if c.summary:
        out["description"] = c.summary
    if c.licenses:
        out["licenses"] = _licenses(c.licenses)
    if c.cpe:
        out["cpe"] = c.cpe
    if c.sha256:
        out["hashes"] = [{"alg": "SHA-256", "content": c.sha256}]
    if c.download_url:
        out["externalReferences"] = [{"type": "distribution", "url": c.download_url}]
    if c.locations:
        out["evidence"] = {"occurrences": [{"location": loc} for loc in c.locations]}
    if c.conda:
        # The purl carries channel, subdir and build too; properties make them plain to read.
        facts = {"build": c.conda.build, "channel": c.conda.channel, "subdir": c.conda.subdir}
        properties = [{"name": f"cnb-python:conda:{k}", "value": v} for k, v in facts.items() if v]
        if properties:
            out["properties"] = properties
    return out


def _licenses(statements: tuple[str, ...]) -> list[dict[str, Any]]:
    """One SPDX expression when every statement is SPDX; otherwise one entry per statement.

    CycloneDX allows either a single expression or a list of licenses, not both: free text
    can only be a license `name`, and then the SPDX statements become license ids.
    """
    expressions = [spdx_expression(s) for s in statements]
    if all(expressions):
        return [{"expression": all_of(e for e in expressions if e)}]
    out = []
    for text, expression in zip(statements, expressions):
        # `id` must be a license list id; an expression or a LicenseRef can only be a name.
        simple = expression and " " not in expression and not expression.startswith("LicenseRef-")
        out.append({"license": {"id": expression} if simple else {"name": text}})
    return out
