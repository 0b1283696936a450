"""Reading an exported image directory (format: see :mod:`localcnb.export`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import tarball

SBOM_PREFIX = "/layers/sbom/launch/"


@dataclass(frozen=True)
class LayerRecord:
    sha256: str  # hex digest of the uncompressed tar: the diffID without "sha256:"
    tar: Path
    metadata: dict[str, Any] = field(default_factory=dict)
    types: dict[str, bool] = field(default_factory=dict)
    id: str = ""


class Image:
    def __init__(self, directory: Path, doc: dict[str, Any]):
        self.dir = directory
        self.doc = doc  # the parsed image.json
        self.config: dict[str, Any] = doc["config"]
        self.config_digest: str = doc["config_digest"]
        self.all_layers: list[LayerRecord] = []
        self.layers: dict[str, LayerRecord] = {}
        self.app_layer: LayerRecord | None = None
        self.sbom_layer: LayerRecord | None = None
        for entry in self.config["layers"]:
            record = LayerRecord(
                sha256=entry["sha256"],
                tar=directory / entry["tar"],
                metadata=entry.get("metadata") or {},
                types=entry.get("types") or {},
                id=entry["id"],
            )
            self.all_layers.append(record)
            if entry["kind"] == "buildpack":
                self.layers[entry["id"]] = record
            elif entry["kind"] == "app":
                self.app_layer = record
            else:
                self.sbom_layer = record

    @classmethod
    def load(cls, directory: Path) -> Image | None:
        try:
            doc = json.loads((directory / "image.json").read_text())
        except FileNotFoundError:
            return None
        return cls(directory, doc)

    @property
    def created(self) -> str:
        return self.config["created"]

    @property
    def processes(self) -> list[dict[str, Any]]:
        return self.config["processes"]

    @property
    def default_process(self) -> str | None:
        return self.config["default_process"]

    @property
    def labels(self) -> dict[str, str]:
        return self.config["labels"]

    @property
    def store(self) -> dict[str, dict[str, Any]]:
        return self.config["store"]

    @property
    def buildpacks(self) -> list[dict[str, str]]:
        return self.config["buildpacks"]

    @property
    def diff_ids(self) -> list[str]:
        return [f"sha256:{layer.sha256}" for layer in self.all_layers]

    def layer(self, bp_id: str, name: str) -> LayerRecord | None:
        return self.layers.get(f"{bp_id}:{name}")

    @property
    def sbom_files(self) -> dict[str, bytes]:
        """Files of the SBOM layer by path below ``/layers/sbom/launch``,
        e.g. ``cnb-python_python/cpython/sbom.cdx.json``."""
        if self.sbom_layer is None:
            return {}
        files = tarball.read_files(self.sbom_layer.tar)
        return {name[len(SBOM_PREFIX) :]: data for name, data in files.items()}

    def extract_sbom(self, dest: Path) -> list[Path]:
        written = []
        for rel, data in sorted(self.sbom_files.items()):
            path = dest / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            written.append(path)
        return written
