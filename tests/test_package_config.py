"""package.toml and examples/builder/builder.toml against the schemas pack reads them with.

pack decodes these files into fixed structs and fails on any undecoded key
(pack:pkg/buildpackage/config_reader.go, pack:builder/config_reader.go; cnb-spec.md §6.2, §6.3),
so the schemas allow no other keys."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import tomli

ROOT = Path(__file__).resolve().parents[1]


def _table(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


def _array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


STRING = {"type": "string"}
URI = _table({"uri": STRING})
IMAGE_OR_URI = _table({"uri": STRING, "image": STRING})
TARGET = _table(
    {
        "os": {"enum": ["linux", "windows"]},
        "arch": STRING,
        "variant": STRING,
        "distros": _array(_table({"name": STRING, "version": STRING})),
    }
)
PACKAGE_SCHEMA = _table(
    {
        "buildpack": _table({"uri": STRING}, ("uri",)),
        "extension": URI,
        "dependencies": _array(IMAGE_OR_URI),
        "platform": _table({"os": {"enum": ["linux", "windows"]}}),
        "targets": _array(TARGET),
    },
    ("buildpack",),
)
MODULE = _table({"id": STRING, "version": STRING, "uri": STRING, "image": STRING})
GROUP_ENTRY = _table({"id": STRING, "version": STRING, "optional": {"type": "boolean"}}, ("id",))
ORDER = _array(_table({"group": _array(GROUP_ENTRY)}, ("group",)))
BUILD_ENV = _table(
    {
        "name": STRING,
        "value": STRING,
        "suffix": {"enum": ["", "default", "override", "append", "prepend"]},
        "delim": STRING,
    },
    ("name", "value"),
)
BUILDER_SCHEMA = _table(
    {
        "description": STRING,
        "buildpacks": _array(MODULE),
        "extensions": _array(MODULE),
        "order": ORDER,
        "order-extensions": ORDER,
        "system": _table(
            {phase: _table({"buildpacks": _array(GROUP_ENTRY)}) for phase in ("pre", "post")}
        ),
        "stack": _table(
            {
                "id": STRING,
                "build-image": STRING,
                "run-image": STRING,
                "run-image-mirrors": _array(STRING),
            }
        ),
        "lifecycle": _table({"uri": STRING, "version": STRING}),
        "build": _table({"image": STRING, "env": _array(BUILD_ENV)}),
        "run": _table({"images": _array(_table({"image": STRING, "mirrors": _array(STRING)}))}),
        "targets": _array(TARGET),
    },
    ("order",),
)


def load(path: str) -> dict[str, Any]:
    return tomli.loads((ROOT / path).read_text())


def test_package_toml_is_valid_for_pack_with_both_targets():
    doc = load("package.toml")
    jsonschema.validate(doc, PACKAGE_SCHEMA)
    assert doc["buildpack"]["uri"] == "."
    assert {(t["os"], t["arch"]) for t in doc["targets"]} == {
        ("linux", "amd64"),
        ("linux", "arm64"),
    }


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update(name="cnb-python"),  # an unknown top-level key
        lambda d: d["buildpack"].update(path="."),  # an unknown key in [buildpack]
        lambda d: d["targets"][0].update(arch_variant="v8"),  # pack spells it `variant`
        lambda d: d.pop("buildpack"),  # [buildpack] uri is required
    ],
)
def test_the_package_schema_rejects_what_pack_rejects(change):
    doc = copy.deepcopy(load("package.toml"))
    change(doc)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, PACKAGE_SCHEMA)


def test_the_example_builder_is_valid_and_orders_us_among_the_utilities():
    doc = load("examples/builder/builder.toml")
    jsonschema.validate(doc, BUILDER_SCHEMA)
    (order,) = doc["order"]
    ids = [entry["id"] for entry in order["group"]]
    assert ids == [
        "paketo-buildpacks/ca-certificates",
        "cnb-python/python",
        "paketo-buildpacks/procfile",
        "paketo-buildpacks/environment-variables",
        "paketo-buildpacks/image-labels",
    ]
    ours = next(entry for entry in order["group"] if entry["id"] == "cnb-python/python")
    assert not ours.get("optional", False)
    assert "noble" in doc["build"]["image"]
    assert all("noble" in image["image"] for image in doc["run"]["images"])


def test_the_builder_schema_rejects_unknown_keys():
    doc = copy.deepcopy(load("examples/builder/builder.toml"))
    doc["build"]["run-image"] = "x"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, BUILDER_SCHEMA)
