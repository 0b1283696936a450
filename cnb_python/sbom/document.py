"""What every format renders: the components in canonical form, plus byte-exact JSON helpers."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from cnb_python.sbom.component import Component

# Fixed, so identical content gives identical UUIDs on every machine and in every release.
_UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:cnb-python:sbom")


@dataclass(frozen=True)
class Document:
    name: str
    layer_path: str  # the layer's absolute path in the image
    timestamp: str  # RFC 3339 UTC, from SOURCE_DATE_EPOCH
    tool_name: str
    tool_version: str
    components: tuple[Component, ...]  # unique purls, sorted; edges only between them


def timestamp(epoch: int) -> str:
    if not 0 <= epoch <= 253402300799:  # what four-digit years allow
        raise ValueError(f"SOURCE_DATE_EPOCH out of range: {epoch}")
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def canonical(components: Sequence[Component]) -> tuple[Component, ...]:
    """One component per purl, sorted by purl, with sorted edges to components present only.

    A package can be found twice, e.g. a tool wheel from buildpack metadata (sha256, CPE) and
    from its dist-info (license, location): duplicates merge into one. Input order never
    matters: each field comes from the first duplicate, by repr, that has it.
    """
    groups: dict[str, list[Component]] = {}
    for component in components:
        groups.setdefault(component.purl, []).append(component)
    return tuple(_merge(sorted(groups[ref], key=repr), set(groups)) for ref in sorted(groups))


def _merge(group: list[Component], present: set[str]) -> Component:
    def first(field: str) -> Any:
        values = [getattr(c, field) for c in group]
        return next((v for v in values if v), values[0])

    merged = {f.name: first(f.name) for f in dataclasses.fields(Component)}
    ref = group[0].purl
    merged["depends_on"] = tuple(
        sorted({d for c in group for d in c.depends_on if d in present and d != ref})
    )
    merged["locations"] = tuple(sorted({loc for c in group for loc in c.locations}))
    return Component(**merged)


def dumps(data: Any) -> bytes:
    """Byte-exact JSON: sorted keys, fixed separators, UTF-8, final newline.

    Lone surrogates (from undecodable file names) become "?" so the output is always UTF-8.
    """
    text = json.dumps(data, sort_keys=True, indent=2, separators=(",", ": "), ensure_ascii=False)
    return (text + "\n").encode("utf-8", "replace")


def content_uuid(data: Any) -> uuid.UUID:
    """A UUIDv5 of the document's canonical bytes: same content, same id."""
    return uuid.uuid5(_UUID_NAMESPACE, dumps(data).decode("utf-8"))


def short_id(text: str) -> str:
    """A stable 16-hex-digit id for an element, unique in practice."""
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:16]
