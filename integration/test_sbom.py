"""SBOM files of every layer, as `pack build --sbom-output-dir` would hand them out."""

from __future__ import annotations

import json
from pathlib import Path

import sbom_validation

BP = "cnb-python_python"
FORMATS = ("cdx.json", "spdx.json", "syft.json")
NO_ERRORS = {"cdx.json": [], "spdx.json": [], "syft.json": []}
PIP_APP = {"requirements.txt": "six==1.16.0\nidna==3.10\n", "app.py": "import six\n"}


def read_tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def layer_docs(sboms: Path, kind: str, layer: str) -> dict[str, dict]:
    return {
        ext: json.loads((sboms / kind / BP / layer / f"sbom.{ext}").read_text()) for ext in FORMATS
    }


def test_no_package_manager_app(make_app, tmp_path, test_cpythons):
    app = make_app(files={"app.py": "print('hi')\n"})
    app.build_ok(sbom_output_dir=tmp_path / "sbom")
    docs = layer_docs(tmp_path / "sbom", "launch", "cpython")
    assert sbom_validation.all_errors(docs) == NO_ERRORS
    [component] = docs["cdx.json"]["components"]
    cpython = next(c for c in test_cpythons if c.minor == "3.12")
    assert component["name"] == "CPython" and component["version"] == cpython.version
    assert component["purl"].startswith(f"pkg:generic/cpython@{cpython.version}?checksum=sha256:")
    assert {"alg": "SHA-256", "content": cpython.sha256} in component["hashes"]
    assert component["cpe"] == f"cpe:2.3:a:python:python:{cpython.version}:*:*:*:*:*:*:*"


def test_pip_app_has_an_sbom_for_every_layer(make_app, tmp_path):
    app = make_app(files=PIP_APP)
    app.build_ok(sbom_output_dir=tmp_path / "sbom")
    sboms = tmp_path / "sbom"
    layers = {
        ("launch", "cpython"): {"cpython"},
        ("launch", "venv"): {"idna", "six"},
        ("build", "pip"): {"pip"},
    }
    for (kind, layer), names in layers.items():
        docs = layer_docs(sboms, kind, layer)
        assert sbom_validation.all_errors(docs) == NO_ERRORS, layer
        assert {c["name"].lower() for c in docs["cdx.json"]["components"]} == names
        assert {p["name"].lower() for p in docs["syft.json"]["artifacts"]} == names
    pip = layer_docs(sboms, "build", "pip")["cdx.json"]["components"][0]
    assert pip["purl"] == "pkg:pypi/pip@26.3" and pip["hashes"][0]["alg"] == "SHA-256"


def test_sboms_are_byte_identical_across_clean_builds_and_reuse(make_app, tmp_path):
    first, second = make_app(files=PIP_APP), make_app(files=PIP_APP)
    first.build_ok(sbom_output_dir=tmp_path / "a")
    second.build_ok(sbom_output_dir=tmp_path / "b")
    reused = first.build_ok(sbom_output_dir=tmp_path / "c")
    assert "Reusing cached virtual environment" in reused.output
    a = read_tree(tmp_path / "a")
    assert {name for name in a if name.startswith("launch/")} >= {
        f"launch/{BP}/{layer}/sbom.{ext}" for layer in ("cpython", "venv") for ext in FORMATS
    }
    assert read_tree(tmp_path / "b") == a
    assert read_tree(tmp_path / "c") == a
