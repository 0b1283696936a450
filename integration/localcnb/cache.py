"""Reading the layer cache (format: see :mod:`localcnb.export`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class CachedLayer:
    sha256: str
    metadata: dict[str, Any]
    types: dict[str, bool]


class Cache:
    def __init__(self, directory: Path, doc: dict[str, Any]):
        self.dir = directory
        self.doc = doc

    @classmethod
    def load(cls, directory: Path) -> Cache | None:
        try:
            doc = json.loads((directory / "cache.json").read_text())
        except FileNotFoundError:
            return None
        return cls(directory, doc)

    def layers_for(self, bp_id: str) -> dict[str, CachedLayer]:
        layers = self.doc["buildpacks"].get(bp_id, {}).get("layers", {})
        return {
            name: CachedLayer(rec["sha256"], rec.get("metadata") or {}, rec["types"])
            for name, rec in layers.items()
        }

    @property
    def sbom_sha(self) -> str | None:
        sbom = self.doc.get("sbom")
        return sbom["sha256"] if sbom else None

    def tar(self, sha: str) -> Path:
        return self.dir / "layers" / f"{sha}.tar"
