"""reprocheck on two localcnb image directories made by hand: config digest, layer list, layer
[metadata], SBOM files, and the report printed and written for them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from reprocheck import compare_images
from reprocheck.report import RunReport, render

from localcnb import Image
from localcnb.tarball import write_layer
from localcnb.tomlio import canonical_json

SBOM = "/layers/sbom/launch"
CDX = "bp/cpython/sbom.cdx.json"


def _layer(image_dir: Path, root: Path, layer_dir: str, files: dict[str, str]) -> str:
    for name, text in files.items():
        path = root / layer_dir.lstrip("/") / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return write_layer(image_dir / "layers", root, layer_dir, 1001, 1000)


def _image(
    tmp: Path,
    name: str,
    *,
    python: str = "print('hi')\n",
    sbom: str = '{"components": []}\n',
    venv_metadata: dict[str, Any] | None = None,
    extra_layer: bool = False,
    command: str = "python",
) -> Image:
    image_dir, root = tmp / name / "image", tmp / name / "root"
    (image_dir / "layers").mkdir(parents=True)
    layers = []
    specs = [("cpython", {"bin/app.py": python}, {"version": 3.12})]
    specs.append(("venv", {"pyvenv.cfg": "home = x\n"}, venv_metadata or {"key": "k1"}))
    if extra_layer:
        specs.append(("extra", {"x": "x\n"}, {}))
    for layer, files, metadata in specs:
        sha = _layer(image_dir, root, f"/layers/bp/{layer}", files)
        layers.append(
            {
                "kind": "buildpack",
                "id": f"bp:{layer}",
                "sha256": sha,
                "metadata": metadata,
                "types": {"build": False, "cache": True, "launch": True},
            }
        )
    sha = _layer(image_dir, root, SBOM, {CDX: sbom, "bp/venv/sbom.cdx.json": "{}\n"})
    layers.append({"kind": "sbom", "id": "buildpacksio/lifecycle:launch.sbom", "sha256": sha})
    sha = _layer(image_dir, root, "/workspace", {"app.py": "print(1)\n"})
    layers.append({"kind": "app", "id": "slice-1", "sha256": sha})
    for entry in layers:
        entry["tar"] = f"layers/{entry['sha256']}.tar"
    config = {
        "created": "1980-01-01T00:00:01Z",
        "processes": [{"type": "web", "command": [command]}],
        "labels": {},
        "layers": layers,
    }
    digest = "sha256:" + hashlib.sha256(canonical_json(config)).hexdigest()
    doc = {"schema_version": 1, "config_digest": digest, "config": config}
    (image_dir / "image.json").write_text(json.dumps(doc))
    image = Image.load(image_dir)
    assert image is not None
    return image


def test_identical_images_compare_identical_and_the_report_says_so(tmp_path: Path) -> None:
    comparison = compare_images("A vs B", _image(tmp_path, "a"), _image(tmp_path, "b"))
    assert comparison.identical
    assert comparison.differences == []
    assert comparison.sbom_files == {CDX: "identical", "bp/venv/sbom.cdx.json": "identical"}
    report = RunReport("app", "cold", comparisons=[comparison])
    assert report.reproducible
    assert "RESULT: REPRODUCIBLE" in render(report)


def test_each_image_level_difference_is_named(tmp_path: Path) -> None:
    a = _image(tmp_path, "a")
    b = _image(
        tmp_path,
        "b",
        python="print('hello')\n",
        sbom='{"components": [], "serialNumber": "urn:uuid:1"}\n',
        venv_metadata={"key": "k2"},
        extra_layer=True,
        command="gunicorn",
    )
    comparison = compare_images("A vs B", a, b)

    assert not comparison.identical
    assert comparison.config_digest_a != comparison.config_digest_b
    config = {(d.where, d.path, d.cause) for d in comparison.config}
    assert config == {
        ("config", "processes", "config"),
        ("config", "bp:extra", "layer-missing"),
        ("bp:venv", "[metadata]", "layer-metadata"),
    }
    metadata = next(d for d in comparison.config if d.cause == "layer-metadata")
    assert '-  "key": "k1"' in metadata.detail and '+  "key": "k2"' in metadata.detail

    layers = {layer.id: layer for layer in comparison.layers}
    assert layers["bp:venv"].identical and layers["slice-1"].identical
    assert layers["bp:extra"].sha_a is None
    cpython = layers["bp:cpython"]
    assert [(d.path, d.cause) for d in cpython.differences] == [
        ("/layers/bp/cpython/bin/app.py", "text")
    ]
    sbom = layers["buildpacksio/lifecycle:launch.sbom"]
    assert [(d.path, d.cause) for d in sbom.differences] == [(f"{SBOM}/{CDX}", "text")]
    assert comparison.sbom_files[CDX] == "differs"
    assert comparison.sbom_files["bp/venv/sbom.cdx.json"] == "identical"

    report = RunReport("app", "cold", comparisons=[comparison])
    text = render(report)
    assert "A vs B: DIFFERENT" in text
    assert "text             /layers/bp/cpython/bin/app.py" in text
    assert "+print('hello')" in text
    assert f"{CDX}: differs" in text
    assert "RESULT: NOT REPRODUCIBLE: 5 differences" in text
    written = json.loads(json.dumps(report.as_json()))
    assert written["reproducible"] is False
    assert written["causes"] == {"config": 1, "layer-missing": 1, "layer-metadata": 1, "text": 2}
