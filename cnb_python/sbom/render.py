"""The three SBOM files of one layer, as exact bytes."""

from __future__ import annotations

from collections.abc import Sequence

from cnb_python.sbom import cyclonedx, spdx, syft
from cnb_python.sbom.component import Component
from cnb_python.sbom.document import Document, canonical, dumps, timestamp

# Media type -> the extension in `<layer>.sbom.<ext>`; buildpack.toml's sbom-formats lists these.
MEDIA_TYPES = {
    "application/vnd.cyclonedx+json": "cdx.json",
    "application/spdx+json": "spdx.json",
    "application/vnd.syft+json": "syft.json",
}


def render(
    components: Sequence[Component],
    *,
    document_name: str,
    layer_path: str,
    source_date_epoch: int,
    tool_name: str,
    tool_version: str,
) -> dict[str, bytes]:
    """{"cdx.json": ..., "spdx.json": ..., "syft.json": ...}: the bytes of `<layer>.sbom.<ext>`.

    `layer_path` is the layer's absolute path in the image. The same components, in any order,
    give the same bytes.
    """
    doc = Document(
        name=document_name,
        layer_path=layer_path,
        timestamp=timestamp(source_date_epoch),
        tool_name=tool_name,
        tool_version=tool_version,
        components=canonical(components),
    )
    return {
        "cdx.json": dumps(cyclonedx.document(doc)),
        "spdx.json": dumps(spdx.document(doc)),
        "syft.json": dumps(syft.document(doc)),
    }
