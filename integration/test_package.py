"""scripts/package.sh end to end: an offline .cnb of the test buildpack that skopeo reads, that
two runs write byte for byte the same, and whose layer, used as the buildpack, builds a pip app
with no network: CPython and pip from the bundle, packages from the app's vendor/."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from conftest import TEST_DEFAULT_PYTHON, free_port
from testsupport.buildpack import make_test_buildpack
from testsupport.cpython import REPO_ROOT
from testsupport.server import DownloadServer

from localcnb import Platform

VERSION = "1.2.3"
BP_DIR = f"cnb/buildpacks/cnb-python_python/{VERSION}"
SIX_WHEEL = "six-1.16.0-py2.py3-none-any.whl"
# A fully hashed tool requirement file, as requirements/tools/<tool>.txt are.
TOOL_REQUIREMENTS = (
    "six==1.16.0 \\\n"
    "    --hash=sha256:8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254\n"
)


def package(buildpack: Path, output: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [REPO_ROOT / "scripts/package.sh", "--buildpack", buildpack, "--output", output,
         *extra],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )  # fmt: skip


@pytest.fixture(scope="module")
def packaged(tmp_path_factory, test_cpythons):
    """Two offline packages of a test buildpack whose CPython server is gone afterwards."""
    root = tmp_path_factory.mktemp("package")
    cpython = next(c for c in test_cpythons if c.minor == TEST_DEFAULT_PYTHON)
    served = root / "served"
    served.mkdir()
    shutil.copy(cpython.path, served / cpython.path.name)
    with DownloadServer(served) as server:
        source = make_test_buildpack(
            root / "source", base_url=server.base_url, cpythons=test_cpythons,
            default_python=TEST_DEFAULT_PYTHON,
        )  # fmt: skip
        (source / "requirements/tools").mkdir(parents=True)
        (source / "requirements/tools/fixture.txt").write_text(TOOL_REQUIREMENTS)
        args = ("--offline", "--python-versions", TEST_DEFAULT_PYTHON, "--version", VERSION)
        for name in ("first.cnb", "second.cnb"):
            proc = package(source, root / name, *args)
            assert proc.returncode == 0, proc.stdout + proc.stderr
    unpacked = root / "unpacked"
    layer = unpack_only_layer(root / "first.cnb", root / "layout")
    with tarfile.open(layer) as tar:
        tar.extractall(unpacked, filter="data")
    return root, unpacked / BP_DIR


def unpack_only_layer(cnb: Path, layout: Path) -> Path:
    with tarfile.open(cnb) as tar:
        tar.extractall(layout, filter="data")
    index = json.loads((layout / "index.json").read_text())
    manifest = json.loads(blob(layout, index["manifests"][0]["digest"]).read_text())
    (layer,) = manifest["layers"]
    return blob(layout, layer["digest"])


def blob(layout: Path, digest: str) -> Path:
    return layout / "blobs/sha256" / digest.removeprefix("sha256:")


def test_two_runs_are_byte_identical(packaged):
    root, _ = packaged
    first, second = (root / n for n in ("first.cnb", "second.cnb"))
    assert (
        hashlib.sha256(first.read_bytes()).digest() == hashlib.sha256(second.read_bytes()).digest()
    )


def test_skopeo_reads_the_labels_and_one_layer(packaged):
    root, _ = packaged
    skopeo = shutil.which("skopeo")
    assert skopeo, "skopeo is missing: scripts/dev-setup installs it (apt-get install skopeo)"
    proc = subprocess.run(
        [skopeo, "inspect", f"oci-archive:{root / 'first.cnb'}"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    info = json.loads(proc.stdout)
    assert info["Os"] == "linux" and info["Architecture"] == "amd64"
    assert len(info["Layers"]) == 1
    metadata = json.loads(info["Labels"]["io.buildpacks.buildpackage.metadata"])
    assert (metadata["id"], metadata["version"]) == ("cnb-python/python", VERSION)
    layers = json.loads(info["Labels"]["io.buildpacks.buildpack.layers"])
    entry = layers["cnb-python/python"][VERSION]
    assert entry["api"] == "0.10"
    assert {(t["os"], t["arch"]) for t in entry["targets"]} == {
        ("linux", "amd64"),
        ("linux", "arm64"),
    }
    # The label's diffID is the digest of the uncompressed layer.
    layer = unpack_only_layer(root / "first.cnb", root / "check")
    assert (
        entry["layerDiffID"]
        == "sha256:" + hashlib.sha256(gzip.decompress(layer.read_bytes())).hexdigest()
    )


def test_the_layer_holds_a_normalized_offline_buildpack(packaged):
    root, bp = packaged
    layer = unpack_only_layer(root / "first.cnb", root / "check-entries")
    with tarfile.open(layer) as tar:
        entries = tar.getmembers()
    names = [e.name for e in entries]
    assert names[:4] == [
        "/cnb",
        "/cnb/buildpacks",
        "/cnb/buildpacks/cnb-python_python",
        f"/{BP_DIR}",
    ]
    assert all(e.uid == 0 and e.gid == 0 and e.mtime == 315532801 for e in entries)
    assert all(e.mode == 0o755 for e in entries if e.isdir())
    modes = {e.name.removeprefix(f"/{BP_DIR}/"): e.mode for e in entries}
    assert modes["bin/detect"] == modes["bin/build"] == 0o755
    assert modes["buildpack.toml"] == 0o644
    assert 'version = "1.2.3"' in (bp / "buildpack.toml").read_text()
    assert (bp / "runtime/bin/python3").exists()
    assert (bp / "vendor/.requirements.sha256").is_file()
    bundled = sorted(p.name for p in (bp / "dependencies").glob("*/*") if p.parent.name != "wheels")
    assert len(bundled) == 2 and bundled[1].startswith("pip-"), bundled
    assert [p.name for p in (bp / "dependencies/wheels").iterdir()] == [SIX_WHEEL]


def offline_app(root: Path, bp: Path) -> Path:
    app = root / "app"
    (app / "vendor").mkdir(parents=True)
    shutil.copy(bp / "dependencies/wheels" / SIX_WHEEL, app / "vendor" / SIX_WHEEL)
    (app / "requirements.txt").write_text("six==1.16.0\n")
    (app / "app.py").write_text("import six\nprint('offline six', six.__version__)\n")
    return app


def test_the_unpacked_layer_builds_a_pip_app_with_no_network(packaged, tmp_path):
    _, bp = packaged
    app = offline_app(tmp_path, bp)
    # Nothing listens on this index, and the CPython URLs' server is gone.
    env = {"PIP_INDEX_URL": f"http://127.0.0.1:{free_port()}/simple"}
    platform = Platform(tmp_path / "platform", [bp])
    result = platform.build(app, env=env, pass_ca_env=False)
    assert result.success, result.output
    assert result.output.count("Using the buildpack's bundled copy /cnb/buildpacks/") == 2
    assert platform.run(timeout=60).stdout == "offline six 1.16.0\n"


def test_a_corrupted_bundled_file_fails_the_build_naming_it(packaged, tmp_path):
    _, bp = packaged
    broken = tmp_path / "broken"
    shutil.copytree(bp, broken, symlinks=True)
    (archive,) = (p for p in broken.glob("dependencies/*/cpython-*"))
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))
    result = Platform(tmp_path / "platform", [broken]).build(offline_app(tmp_path, bp))
    assert not result.success
    shown = f"/cnb/buildpacks/cnb-python_python/{VERSION}/{archive.relative_to(broken)}"
    assert "[Error: Corrupted bundled file for CPython" in result.output, result.output
    assert f"The buildpack's bundled file {shown} has sha256" in result.output
