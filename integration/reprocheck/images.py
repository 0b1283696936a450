"""Comparing two exported localcnb images: config digest, layers, layer metadata and SBOMs."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from localcnb import Image

from .layers import compare_tars
from .model import Difference
from .text import short_diff


@dataclass
class LayerComparison:
    id: str
    kind: str  # buildpack | sbom | app
    sha_a: str | None  # None: the layer is missing from that image
    sha_b: str | None
    differences: list[Difference] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return self.sha_a == self.sha_b

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "sha256_a": self.sha_a,
            "sha256_b": self.sha_b,
            "identical": self.identical,
            "differences": [d.as_json() for d in self.differences],
        }


@dataclass
class Comparison:
    label: str  # e.g. "A vs B"
    config_digest_a: str
    config_digest_b: str
    layers: list[LayerComparison]
    config: list[Difference]  # config fields, layer list, layer metadata and types
    sbom_files: dict[str, str]  # path below /layers/sbom/launch -> identical|differs|only in A|B

    @property
    def identical(self) -> bool:
        return self.config_digest_a == self.config_digest_b and not self.differences

    @property
    def differences(self) -> list[Difference]:
        return [*self.config, *(d for layer in self.layers for d in layer.differences)]

    def as_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "identical": self.identical,
            "config_digest_a": self.config_digest_a,
            "config_digest_b": self.config_digest_b,
            "config_differences": [d.as_json() for d in self.config],
            "layers": [layer.as_json() for layer in self.layers],
            "sbom_files": self.sbom_files,
        }


def compare_images(label: str, a: Image, b: Image) -> Comparison:
    return Comparison(
        label=label,
        config_digest_a=a.config_digest,
        config_digest_b=b.config_digest,
        layers=_layers(a, b),
        config=_config(a, b),
        sbom_files=_sbom_files(a, b),
    )


def _kinds(image: Image) -> dict[str, str]:
    return {entry["id"]: entry["kind"] for entry in image.config["layers"]}


def _layers(a: Image, b: Image) -> list[LayerComparison]:
    records_a = {layer.id: layer for layer in a.all_layers}
    records_b = {layer.id: layer for layer in b.all_layers}
    kinds = {**_kinds(b), **_kinds(a)}
    out = []
    for ident in [*records_a, *(i for i in records_b if i not in records_a)]:
        rec_a, rec_b = records_a.get(ident), records_b.get(ident)
        comparison = LayerComparison(
            ident, kinds[ident], rec_a.sha256 if rec_a else None, rec_b.sha256 if rec_b else None
        )
        if rec_a and rec_b and not comparison.identical:
            comparison.differences = compare_tars(ident, rec_a.tar, rec_b.tar)
        out.append(comparison)
    return out


def _config(a: Image, b: Image) -> list[Difference]:
    found = []
    for key in sorted(a.config.keys() | b.config.keys()):
        if key != "layers" and _canonical(a.config.get(key)) != _canonical(b.config.get(key)):
            found.append(Difference("config", key, "config", _json_diff(a.config, b.config, key)))
    ids_a, ids_b = [layer.id for layer in a.all_layers], [layer.id for layer in b.all_layers]
    for ident in ids_a:
        if ident not in ids_b:
            found.append(Difference("config", ident, "layer-missing", "only in A"))
    for ident in ids_b:
        if ident not in ids_a:
            found.append(Difference("config", ident, "layer-missing", "only in B"))
    common_a = [i for i in ids_a if i in ids_b]
    common_b = [i for i in ids_b if i in ids_a]
    if common_a != common_b:
        found.append(Difference("config", "layers", "layer-order", f"A: {common_a}\nB: {common_b}"))
    for ident in common_a:
        rec_a, rec_b = _record(a, ident), _record(b, ident)
        if _canonical(rec_a.get("metadata")) != _canonical(rec_b.get("metadata")):
            found.append(
                Difference(
                    ident, "[metadata]", "layer-metadata", _json_diff(rec_a, rec_b, "metadata")
                )
            )
        if _canonical(rec_a.get("types")) != _canonical(rec_b.get("types")):
            found.append(
                Difference(ident, "[types]", "layer-types", f"{rec_a['types']} vs {rec_b['types']}")
            )
    return found


def _sbom_files(a: Image, b: Image) -> dict[str, str]:
    files_a, files_b = a.sbom_files, b.sbom_files
    status = {}
    for path in sorted(files_a.keys() | files_b.keys()):
        if path not in files_b:
            status[path] = "only in A"
        elif path not in files_a:
            status[path] = "only in B"
        else:
            status[path] = "identical" if files_a[path] == files_b[path] else "differs"
    return status


def _record(image: Image, ident: str) -> dict[str, Any]:
    return next(entry for entry in image.config["layers"] if entry["id"] == ident)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _json_diff(a: dict[str, Any], b: dict[str, Any], key: str) -> str:
    def pretty(doc: dict[str, Any]) -> str:
        return json.dumps(doc.get(key), indent=2, sort_keys=True) if key in doc else "(absent)"

    return short_diff(pretty(a), pretty(b))
