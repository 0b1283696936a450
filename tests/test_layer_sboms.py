"""Which Python a layer's SBOM evaluates dependency markers for."""

from __future__ import annotations

import json
from pathlib import Path

from cnb_python.cnb.layers import Layers
from cnb_python.dependencies import BuildpackMetadata
from cnb_python.layer_sboms import LayerSboms

REPO = Path(__file__).resolve().parents[1]


def dist_info(site: Path, name: str, *requires: str) -> None:
    directory = site / f"{name}-1.0.dist-info"
    directory.mkdir(parents=True)
    lines = ["Metadata-Version: 2.1", f"Name: {name}", "Version: 1.0"]
    lines += [f"Requires-Dist: {r}" for r in requires]
    (directory / "METADATA").write_text("\n".join(lines) + "\n")


def edges(layers_dir: Path, layer: str) -> dict[str, list[str]]:
    document = json.loads((layers_dir / f"{layer}.sbom.cdx.json").read_text())
    names = {c["bom-ref"]: c["name"] for c in document["components"]}
    return {
        names[d["ref"]]: sorted(names[r] for r in d.get("dependsOn", []))
        for d in document.get("dependencies", [])
        if d["ref"] in names
    }


def test_a_conda_environments_pip_packages_follow_its_own_python(tmp_path):
    """The tools ran on 3.12, the environment's `python` package is 3.9: an edge under a
    `python_version < "3.10"` marker is in the environment's SBOM, and not in a venv's."""
    layers = Layers(tmp_path)
    sboms = LayerSboms(BuildpackMetadata.load(REPO), "3.12.1", "amd64", 315532801)
    for name in ("venv", "conda"):
        site = tmp_path / name / "lib" / "python3.9" / "site-packages"
        dist_info(site, "needs-backport", 'backport ; python_version < "3.10"')
        dist_info(site, "backport")
    meta = tmp_path / "conda" / "conda-meta"
    meta.mkdir()
    record = {"name": "python", "version": "3.9.1", "build": "h0", "subdir": "linux-64"}
    (meta / "python-3.9.1-h0.json").write_text(json.dumps(record))
    conda = layers.get("conda")
    sboms.conda_environment(conda, meta, [conda.path / "lib" / "python3.9" / "site-packages"])
    venv = layers.get("venv")
    sboms.packages(venv, [venv.path / "lib" / "python3.9" / "site-packages"])
    assert edges(tmp_path, "conda")["needs-backport"] == ["backport"]
    assert edges(tmp_path, "venv").get("needs-backport", []) == []
