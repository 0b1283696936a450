"""scripts/package.sh end to end, for linux/amd64 and linux/arm64 at once:

- each .cnb passes the reader (pack's rules, packager/reader.py), skopeo reads it, and two runs
  write byte for byte the same files;
- the layer is what Go's archive/tar writes for the same tree (integration/gotarcheck, built
  with the Debian Go that scripts/dev-setup installs), i.e. pack's bytes and diffID;
- the amd64 layer, used as the buildpack, builds a pip app with no network;
- publishing pushes both images and an OCI index to a real registry (Debian's docker-registry,
  with htpasswd auth), reads the digests back, and a second push uploads no blob.

What is real and what stands in: the amd64 CPython is a test CPython built from this machine's
pyenv (integration/testsupport/cpython.py), served locally. There is no arm64 interpreter here,
so the arm64 entry of the test buildpack.toml is a STAND-IN: the same x86_64 tarball under an
arm64 file name. The arm64 package therefore proves the per-arch plumbing (its own entry,
download, bundle and label), not an aarch64 interpreter. pip, uv and the tool wheels are the
real per-arch files from PyPI (uv's aarch64 wheel in the arm64 package).
"""

from __future__ import annotations

import base64
import dataclasses
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
import requests
from conftest import TEST_DEFAULT_PYTHON, free_port
from testsupport.buildpack import make_test_buildpack
from testsupport.cpython import REPO_ROOT
from testsupport.registry import LocalRegistry
from testsupport.server import DownloadServer

from localcnb import Platform
from packager.layer import write_layer
from packager.oci import ManifestRef, image_index
from packager.reader import read_package

VERSION = "1.2.3"
BP_DIR = f"cnb/buildpacks/cnb-python_python/{VERSION}"
ARCHES = ("amd64", "arm64")
SIX_WHEEL = "six-1.16.0-py2.py3-none-any.whl"
# A fully hashed tool requirement file, as requirements/tools/<tool>.txt are.
TOOL_REQUIREMENTS = (
    "six==1.16.0 \\\n"
    "    --hash=sha256:8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254\n"
)
USER, PASSWORD = "packager", "pw-7f3c9a1e"


def package_sh(
    *args: object, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [REPO_ROOT / "scripts/package.sh", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
        env=env,
    )


@dataclasses.dataclass
class Packaged:
    root: Path
    first: dict[str, Path]
    second: dict[str, Path]
    output: str
    bp: Path  # the amd64 layer, unpacked: the buildpack directory


@pytest.fixture(scope="module")
def packaged(tmp_path_factory, test_cpythons) -> Packaged:
    """Two offline two-arch packages of a test buildpack whose CPython server is gone after."""
    root = tmp_path_factory.mktemp("package")
    cpython = next(c for c in test_cpythons if c.minor == TEST_DEFAULT_PYTHON)
    served = root / "served"
    served.mkdir()
    shutil.copy(cpython.path, served / cpython.path.name)
    stand_in_name = cpython.path.name.replace("-amd64-", "-arm64-STAND-IN-")
    assert stand_in_name != cpython.path.name
    shutil.copy(cpython.path, served / stand_in_name)
    stand_in = dataclasses.replace(cpython, path=served / stand_in_name, arch="arm64")
    with DownloadServer(served) as server:
        source = make_test_buildpack(
            root / "source", base_url=server.base_url, cpythons=[cpython, stand_in],
            default_python=TEST_DEFAULT_PYTHON,
        )  # fmt: skip
        # One small set stands in for the real ones (Poetry's alone is 82 wheels per Python).
        shutil.rmtree(source / "requirements/tools", ignore_errors=True)
        (source / "requirements/tools").mkdir(parents=True)
        (source / "requirements/tools/fixture.txt").write_text(TOOL_REQUIREMENTS)
        args = ["--offline", "--python-versions", TEST_DEFAULT_PYTHON, "--version", VERSION]
        args += ["--arch", "amd64", "--arch", "arm64", "--buildpack", source]
        outputs = []
        for run in ("first", "second"):
            proc = package_sh(*args, "--output", root / run / "pkg.cnb")
            assert proc.returncode == 0, proc.stdout + proc.stderr
            outputs.append(proc.stdout + proc.stderr)
    files = {
        run: {a: root / run / f"pkg-linux-{a}.cnb" for a in ARCHES} for run in ("first", "second")
    }
    layer = unpack_only_layer(files["first"]["amd64"], root / "layout")
    with tarfile.open(fileobj=gzip.open(layer)) as tar:
        tar.extractall(root / "unpacked", filter="tar")
    return Packaged(root, files["first"], files["second"], outputs[0], root / "unpacked" / BP_DIR)


def unpack_only_layer(cnb: Path, layout: Path) -> Path:
    with tarfile.open(cnb) as tar:
        tar.extractall(layout, filter="data")
    index = json.loads((layout / "index.json").read_text())
    manifest = json.loads(blob(layout, index["manifests"][0]["digest"]).read_text())
    (layer,) = manifest["layers"]
    return blob(layout, layer["digest"])


def blob(layout: Path, digest: str) -> Path:
    return layout / "blobs/sha256" / digest.removeprefix("sha256:")


def test_one_file_per_arch_and_two_runs_are_byte_identical(packaged):
    for arch in ARCHES:
        first, second = packaged.first[arch], packaged.second[arch]
        assert first.read_bytes() == second.read_bytes(), arch
    assert sorted(p.name for p in packaged.first["amd64"].parent.glob("*.cnb")) == [
        "pkg-linux-amd64.cnb",
        "pkg-linux-arm64.cnb",
    ]


def test_the_reader_accepts_each_arch_with_its_own_cpython(packaged):
    for arch in ARCHES:
        (image,) = read_package(packaged.first[arch]).images
        assert (image.os, image.arch) == ("linux", arch)
        names = {e.name.removeprefix(f"/{BP_DIR}/") for e in image.entries}
        assert "runtime/bin/python3" in names
        # The bundle is the arch's own: uv's wheel for that machine, from PyPI.
        machine = {"amd64": "x86_64", "arm64": "aarch64"}[arch]
        uv = [n for n in names if n.startswith("dependencies/") and "/uv-" in n]
        assert uv and all(machine in n for n in uv), uv
    # Each arch placed its runtime from its own buildpack.toml entry (arm64: the stand-in).
    assert "Placing a bootstrap CPython (arm64)" in packaged.output
    assert "-arm64-STAND-IN-" in packaged.output


@pytest.fixture(scope="module")
def gotarcheck(tmp_path_factory) -> Path:
    """integration/gotarcheck built with this machine's Go (its archive/tar is pack's writer)."""
    go = shutil.which("go")
    assert go, "Go is missing: scripts/dev-setup installs it (apt-get install golang-go)"
    root = tmp_path_factory.mktemp("gotarcheck")
    env = {**os.environ, "GOCACHE": str(root / "cache"), "GOFLAGS": "-mod=mod"}
    subprocess.run(
        [go, "build", "-o", root / "gotarcheck", "."],
        cwd=REPO_ROOT / "integration/gotarcheck", env=env, check=True,
    )  # fmt: skip
    return root / "gotarcheck"


def test_the_layer_is_byte_for_byte_what_go_archive_tar_writes(packaged, gotarcheck, tmp_path):
    """Round trip: the extracted layer, written again by Go's archive/tar (pack's writer) and
    by packager/layer.py, gives the layer in the .cnb, so its diffID is pack's."""
    for arch in ARCHES:
        layer = gzip.decompress(
            unpack_only_layer(packaged.first[arch], tmp_path / arch).read_bytes()
        )
        tree = tmp_path / f"{arch}-tree"
        with tarfile.open(fileobj=io.BytesIO(layer)) as tar:
            tar.extractall(tree, filter="tar")
        bp = tree / BP_DIR
        from_go = subprocess.run(
            [gotarcheck, bp, "cnb-python_python", VERSION], capture_output=True, check=True
        ).stdout
        with (tmp_path / f"{arch}.tar").open("wb") as out:
            write_layer(bp, "cnb-python/python", VERSION, out)
        assert from_go == (tmp_path / f"{arch}.tar").read_bytes(), arch
        assert from_go == layer, arch


def test_go_and_we_agree_on_long_and_non_ascii_names(gotarcheck, tmp_path):
    """The header encodings a real buildpack rarely needs: USTAR prefix splits, PAX records for
    long or non-ASCII names and link targets, setuid bits, and pack's failure on a name that
    fits USTAR in pack's first tar but not under /cnb/buildpacks/<id>/<version>/."""
    tree = tmp_path / "tree"
    deep = tree / "lib" / ("d" * 60) / ("e" * 50)
    deep.mkdir(parents=True)
    (deep / ("f" * 40 + ".py")).write_text("long\n")
    (tree / "lib" / ("g" * 105)).write_text("no split\n")
    (tree / "lib" / "naïve.txt").write_text("ü\n")
    (tree / "lib" / "long-link").symlink_to("t" * 120)
    (tree / "suid").write_text("x")
    os.chmod(tree / "suid", 0o4755)
    (tree / "bin").mkdir()
    (tree / "bin/build").write_text("#!/bin/sh\n")
    os.chmod(tree / "bin/build", 0o600)
    from_go = subprocess.run(
        [gotarcheck, tree, "cnb-python_python", "0.0.1"], capture_output=True, check=True
    ).stdout
    with (tmp_path / "ours.tar").open("wb") as out:
        write_layer(tree, "cnb-python/python", "0.0.1", out)
    assert from_go == (tmp_path / "ours.tar").read_bytes()

    (tree / "lib" / ("p" * 120)).mkdir()
    (tree / "lib" / ("p" * 120) / "q").write_text("q")
    go_fails = subprocess.run(
        [gotarcheck, tree, "cnb-python_python", "0.0.1"], capture_output=True, text=True
    )
    assert go_fails.returncode == 3 and "Format specifies USTAR" in go_fails.stderr
    with (
        pytest.raises(ValueError, match="Format specifies USTAR"),
        (tmp_path / "x.tar").open("wb") as out,
    ):
        write_layer(tree, "cnb-python/python", "0.0.1", out)


def test_check_reads_each_file_back(packaged):
    proc = package_sh("--check", *packaged.first.values())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for arch in ARCHES:
        assert f"{packaged.first[arch]}: OK, linux/{arch}" in proc.stdout


def test_skopeo_reads_the_labels_and_one_layer(packaged):
    skopeo = shutil.which("skopeo")
    assert skopeo, "skopeo is missing: scripts/dev-setup installs it (apt-get install skopeo)"
    for arch in ARCHES:
        proc = subprocess.run(
            [skopeo, "inspect", f"oci-archive:{packaged.first[arch]}"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        info = json.loads(proc.stdout)
        assert info["Os"] == "linux" and info["Architecture"] == arch
        assert len(info["Layers"]) == 1
        metadata = json.loads(info["Labels"]["io.buildpacks.buildpackage.metadata"])
        assert (metadata["id"], metadata["version"]) == ("cnb-python/python", VERSION)
        entry = json.loads(info["Labels"]["io.buildpacks.buildpack.layers"])["cnb-python/python"]
        assert entry[VERSION]["api"] == "0.10"
        assert {(t["os"], t["arch"]) for t in entry[VERSION]["targets"]} == {
            ("linux", "amd64"),
            ("linux", "arm64"),
        }


def test_the_layer_holds_a_normalized_offline_buildpack(packaged):
    (image,) = read_package(packaged.first["amd64"]).images
    # The golden start of pack's header sequence: the id directory, then the version directory.
    assert [e.line() for e in image.entries[:2]] == [
        "dir     0755 0:0 315532801 /cnb/buildpacks/cnb-python_python",
        f"dir     0755 0:0 315532801 /{BP_DIR}",
    ]
    bp = packaged.bp
    assert 'version = "1.2.3"' in (bp / "buildpack.toml").read_text()
    assert (bp / "runtime/bin/python3").exists()
    assert (bp / "vendor/.requirements.sha256").is_file()
    bundled = sorted(p.name for p in (bp / "dependencies").glob("*/*") if p.parent.name != "wheels")
    assert [name.split("-")[0] for name in bundled] == ["cpython", "pip", "uv"], bundled
    assert [p.name for p in (bp / "dependencies/wheels").iterdir()] == [SIX_WHEEL]


def offline_app(root: Path, bp: Path) -> Path:
    app = root / "app"
    (app / "vendor").mkdir(parents=True)
    shutil.copy(bp / "dependencies/wheels" / SIX_WHEEL, app / "vendor" / SIX_WHEEL)
    (app / "requirements.txt").write_text("six==1.16.0\n")
    (app / "app.py").write_text("import six\nprint('offline six', six.__version__)\n")
    return app


def test_the_unpacked_layer_builds_a_pip_app_with_no_network(packaged, tmp_path):
    app = offline_app(tmp_path, packaged.bp)
    # Nothing listens on this index, and the CPython URLs' server is gone.
    env = {"PIP_INDEX_URL": f"http://127.0.0.1:{free_port()}/simple"}
    platform = Platform(tmp_path / "platform", [packaged.bp])
    result = platform.build(app, env=env, pass_ca_env=False)
    assert result.success, result.output
    assert result.output.count("Using the buildpack's bundled copy /cnb/buildpacks/") == 2
    assert platform.run(timeout=60).stdout == "offline six 1.16.0\n"


def test_a_corrupted_bundled_file_fails_the_build_naming_it(packaged, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(packaged.bp, broken, symlinks=True)
    (archive,) = (p for p in broken.glob("dependencies/*/cpython-*"))
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))
    result = Platform(tmp_path / "platform", [broken]).build(offline_app(tmp_path, packaged.bp))
    assert not result.success
    shown = f"/cnb/buildpacks/cnb-python_python/{VERSION}/{archive.relative_to(broken)}"
    assert "[Error: Corrupted bundled file for CPython" in result.output, result.output
    assert f"The buildpack's bundled file {shown} has sha256" in result.output


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    with LocalRegistry(tmp_path_factory.mktemp("registry"), free_port(), {USER: PASSWORD}) as reg:
        yield reg


def docker_config(root: Path, host: str, auth: str) -> dict[str, str]:
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.json").write_text(json.dumps({"auths": {host: {"auth": auth}}}))
    return {**os.environ, "DOCKER_CONFIG": str(root)}


def registry_get(registry: LocalRegistry, path: str, accept: str) -> tuple[bytes, str]:
    response = requests.get(
        f"http://{registry.host}/v2/{path}", auth=(USER, PASSWORD), headers={"Accept": accept},
        timeout=30,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    return response.content, response.headers["Docker-Content-Digest"]


def test_publishing_both_arches_gives_an_index_read_back_by_digest(packaged, registry, tmp_path):
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    env = docker_config(tmp_path / "docker", registry.host, auth)
    ref = f"{registry.host}/cnb/python:{VERSION}"
    files = [packaged.first[a] for a in ARCHES]
    proc = package_sh("--publish", ref, *files, env=env)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert PASSWORD not in output and auth not in output
    images = [read_package(f).images[0] for f in files]
    index = image_index([ManifestRef(i.manifest_digest, i.manifest_size, i.arch) for i in images])
    index_digest = "sha256:" + hashlib.sha256(index).hexdigest()
    assert f"(index {index_digest})" in output
    stored, digest = registry_get(
        registry, f"cnb/python/manifests/{VERSION}", json.loads(index)["mediaType"]
    )
    assert (stored, digest) == (index, index_digest)
    platforms = {
        (m["platform"]["os"], m["platform"]["architecture"])
        for m in json.loads(stored)["manifests"]
    }
    assert platforms == {("linux", "amd64"), ("linux", "arm64")}
    for file, image in zip(files, images):
        manifest, digest = registry_get(
            registry,
            f"cnb/python/manifests/{image.manifest_digest}",
            "application/vnd.oci.image.manifest.v1+json",
        )
        assert digest == image.manifest_digest
        assert manifest == read_package(file).read_blob(image.manifest_digest)
    # skopeo, an independent client, reads the index as it is.
    raw = subprocess.run(
        ["skopeo", "inspect", "--raw", "--tls-verify=false", "--creds", f"{USER}:{PASSWORD}", f"docker://{ref}"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    assert raw == index

    uploads = registry.blob_uploads()
    again = package_sh("--publish", ref, *files, env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "0 blobs uploaded, 4 already there" in again.stdout
    assert registry.blob_uploads() == uploads  # the registry saw no new upload


def test_publishing_one_arch_tags_its_manifest(packaged, registry, tmp_path):
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    env = docker_config(tmp_path / "docker", registry.host, auth)
    (image,) = read_package(packaged.first["amd64"]).images
    proc = package_sh(
        "--publish", f"{registry.host}/cnb/python:amd64-only", packaged.first["amd64"], env=env
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _, digest = registry_get(
        registry, "cnb/python/manifests/amd64-only", "application/vnd.oci.image.manifest.v1+json"
    )
    assert digest == image.manifest_digest


def test_publishing_without_credentials_is_a_titled_error(packaged, registry, tmp_path):
    env = {**os.environ, "DOCKER_CONFIG": str(tmp_path / "empty")}
    proc = package_sh(
        "--publish", f"{registry.host}/cnb/python:x", packaged.first["amd64"], env=env
    )
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        "[Error: The registry refused the credentials]\n\n"
        f"  {registry.host} answered 401 Unauthorized to HEAD with no credentials.\n\n"
        "  How to fix:\n"
        f"    Log in to {registry.host} (the auths entry of $DOCKER_CONFIG/config.json or "
        "~/.docker/config.json) with an account that may push to cnb/python."
    )
