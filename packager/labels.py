"""The two labels of a buildpackage, as the exact strings pack sets: Go's json.Marshal of its
structs (docs/distribution.md), so field order, omitted empty fields and escaping match.

- io.buildpacks.buildpackage.metadata: pkg/buildpack Metadata{dist.ModuleInfo, Stacks}
  (pkg/buildpack/builder.go finalizeImage); `stacks` has no omitempty, so a targets-only
  buildpack gets "stacks":null; License has no json tags, so its keys are "Type" and "URI".
- io.buildpacks.buildpack.layers: pkg/dist ModuleLayers, {id: {version: ModuleLayerInfo}}
  (pkg/dist AddToLayersMD), with the buildpack.toml's targets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

METADATA_LABEL = "io.buildpacks.buildpackage.metadata"
LAYERS_LABEL = "io.buildpacks.buildpack.layers"


@dataclass(frozen=True)
class Descriptor:
    """What pack decodes from buildpack.toml into dist.BuildpackDescriptor."""

    api: str
    id: str
    version: str
    info: dict[str, Any]
    targets: tuple[dict[str, Any], ...]
    stacks: tuple[dict[str, Any], ...]

    @classmethod
    def from_toml(cls, doc: dict[str, Any]) -> Descriptor:
        info = doc["buildpack"]
        return cls(
            api=doc["api"],
            id=info["id"],
            version=info["version"],
            info=info,
            targets=tuple(doc.get("targets", ())),
            stacks=tuple(doc.get("stacks", ())),
        )


def go_json(value: Any) -> str:
    """encoding/json Marshal: compact; dict order as given (our stand-in for struct field
    order; Go sorts map keys, so callers sort those); <, >, &, U+2028 and U+2029 escaped."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{go_json(k)}:{go_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(go_json(v) for v in value) + "]"
    text = json.dumps(value, ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _omit_empty(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    return {key: value for key, value in pairs if value not in ("", None, [], (), False)}


def module_info(info: dict[str, Any]) -> dict[str, Any]:
    """dist.ModuleInfo (every field omitempty), in its field order."""
    licenses = [
        {"Type": lic.get("type", ""), "URI": lic.get("uri", "")} for lic in info.get("licenses", ())
    ]
    return _omit_empty(
        [
            ("id", info.get("id", "")),
            ("name", info.get("name", "")),
            ("version", info.get("version", "")),
            ("description", info.get("description", "")),
            ("homepage", info.get("homepage", "")),
            ("keywords", list(info.get("keywords", ()))),
            ("exec-env", list(info.get("exec-env", ()))),
            ("licenses", licenses),
            ("clear-env", bool(info.get("clear-env", False))),
        ]
    )


def target(doc: dict[str, Any]) -> dict[str, Any]:
    """dist.Target: os and arch always, variant and distros when set."""
    distros = [
        _omit_empty([("name", d.get("name", "")), ("version", d.get("version", ""))])
        for d in doc.get("distros", ())
    ]
    return {
        "os": doc.get("os", ""),
        "arch": doc.get("arch", ""),
        **_omit_empty([("variant", doc.get("variant", "")), ("distros", distros)]),
    }


def stack(doc: dict[str, Any]) -> dict[str, Any]:
    """dist.Stack: id always, mixins when set."""
    return {"id": doc.get("id", ""), **_omit_empty([("mixins", list(doc.get("mixins", ())))])}


def labels(descriptor: Descriptor, diff_id: str) -> dict[str, str]:
    stacks = [stack(s) for s in descriptor.stacks]
    metadata = {**module_info(descriptor.info), "stacks": stacks or None}
    layer_info = {
        "api": descriptor.api,
        **_omit_empty([("stacks", stacks), ("targets", [target(t) for t in descriptor.targets])]),
        "layerDiffID": diff_id,
        **_omit_empty(
            [
                ("homepage", descriptor.info.get("homepage", "")),
                ("name", descriptor.info.get("name", "")),
            ]
        ),
    }
    return {
        METADATA_LABEL: go_json(metadata),
        LAYERS_LABEL: go_json({descriptor.id: {descriptor.version: layer_info}}),
    }
