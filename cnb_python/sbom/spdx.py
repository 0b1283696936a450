"""SPDX 2.3 JSON (`<layer>.sbom.spdx.json`).

The document DESCRIBES one package standing for the layer, which CONTAINS every component.
"""

from __future__ import annotations

import re
from typing import Any

from cnb_python.sbom import licenses
from cnb_python.sbom.component import CPYTHON, TOOL, Component
from cnb_python.sbom.document import Document, content_uuid, short_id

SPEC_VERSION = "SPDX-2.3"
_NAMESPACE_BASE = "https://spdx.org/spdxdocs"
_LAYER_ID = "SPDXRef-Layer"
_NOASSERTION = "NOASSERTION"


def document(doc: Document) -> dict[str, Any]:
    ids = {c.purl: _spdx_id(c) for c in doc.components}
    extracted: dict[str, dict[str, str]] = {}
    packages = [_layer_package(doc)]
    packages += [_package(c, ids[c.purl], extracted) for c in doc.components]
    relationships = [_relationship("SPDXRef-DOCUMENT", "DESCRIBES", _LAYER_ID)]
    relationships += [_relationship(_LAYER_ID, "CONTAINS", ids[c.purl]) for c in doc.components]
    relationships += [
        _relationship(ids[c.purl], "DEPENDS_ON", ids[d])
        for c in doc.components
        for d in c.depends_on
    ]
    out: dict[str, Any] = {
        "spdxVersion": SPEC_VERSION,
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": doc.name,
        "creationInfo": {
            "created": doc.timestamp,
            "creators": [f"Tool: {doc.tool_name}-{doc.tool_version}"],
        },
        "packages": packages,
        "relationships": relationships,
    }
    if extracted:
        out["hasExtractedLicensingInfos"] = [extracted[k] for k in sorted(extracted)]
    # The namespace must be unique per document; derive it from everything else in it.
    out["documentNamespace"] = f"{_NAMESPACE_BASE}/{_slug(doc.name)}-{content_uuid(out)}"
    return out


def _spdx_id(c: Component) -> str:
    # Readable and unique: the name for people, a hash of the purl to tell same-named apart.
    return f"SPDXRef-Package-{_slug(c.name)}-{short_id(c.purl)}"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-.") or "unnamed"


def _layer_package(doc: Document) -> dict[str, Any]:
    return {
        "SPDXID": _LAYER_ID,
        "name": doc.name,
        "packageFileName": doc.layer_path,
        "downloadLocation": _NOASSERTION,
        "filesAnalyzed": False,
        "licenseConcluded": _NOASSERTION,
        "licenseDeclared": _NOASSERTION,
        "copyrightText": _NOASSERTION,
    }


def _package(c: Component, spdx_id: str, extracted: dict[str, dict[str, str]]) -> dict[str, Any]:
    refs = [
        {
            "referenceCategory": "PACKAGE-MANAGER",
            "referenceType": "purl",
            "referenceLocator": c.purl,
        }
    ]
    if c.cpe:
        refs.append(
            {
                "referenceCategory": "SECURITY",
                "referenceType": "cpe23Type",
                "referenceLocator": c.cpe,
            }
        )
    out: dict[str, Any] = {
        "SPDXID": spdx_id,
        "name": c.name,
        "downloadLocation": _download_location(c.download_url),
        "filesAnalyzed": False,
        # Declared is what the package metadata says; nobody concluded anything.
        "licenseConcluded": _NOASSERTION,
        "licenseDeclared": _declared(c.licenses, extracted),
        "copyrightText": _NOASSERTION,
        "externalRefs": refs,
        "primaryPackagePurpose": "APPLICATION" if c.kind in (CPYTHON, TOOL) else "LIBRARY",
    }
    if c.version:
        out["versionInfo"] = c.version
    if c.summary:
        out["summary"] = c.summary
    if c.sha256:
        out["checksums"] = [{"algorithm": "SHA256", "checksumValue": c.sha256}]
    if c.locations:
        out["sourceInfo"] = "read from " + ", ".join(c.locations)
    return out


def _declared(statements: tuple[str, ...], extracted: dict[str, dict[str, str]]) -> str:
    """One SPDX expression for all statements; free text becomes an extracted LicenseRef."""
    parts = []
    for text in statements:
        expression = licenses.spdx_expression(text)
        if expression is None:
            expression = licenses.license_ref(text)
            extracted[expression] = {"licenseId": expression, "name": text, "extractedText": text}
        for ref in licenses.license_refs(expression):
            # A LicenseRef from a License-Expression: the metadata has its name, not its text.
            extracted.setdefault(
                ref,
                {"licenseId": ref, "name": ref, "extractedText": f"{ref} (text not in metadata)"},
            )
        parts.append(expression)
    return licenses.all_of(parts) if parts else _NOASSERTION


def _relationship(element: str, kind: str, related: str) -> dict[str, str]:
    return {"spdxElementId": element, "relationshipType": kind, "relatedSpdxElement": related}


# SPDX 2.3 §7.7 wants a URL with a registered-style host name; validators reject others (an IP
# address, a file:// path), which only appear for local mirrors and test servers.
_DOWNLOAD_URL = re.compile(
    r"^(https?|ftp)://[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(:\d+)?(/\S*)?$"
)


def _download_location(url: str | None) -> str:
    return url if url and _DOWNLOAD_URL.match(url) else _NOASSERTION
