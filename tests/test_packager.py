"""scripts/package.sh's parts: arguments, staging, the layer tar, the .cnb layout, bundling."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from cnb_python.dependencies import BuildpackMetadata, Dependency
from cnb_python.errors import UserError
from cnb_python.log import Logger
from packager import cli
from packager.bundle import (
    bundle_dependencies,
    bundle_tool_wheels,
    chosen_dependencies,
    python_tags,
)
from packager.layer import write_layer
from packager.oci import LAYERS_LABEL, METADATA_LABEL, Descriptor, write_buildpackage
from packager.stage import is_semver, set_version, stage_buildpack

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--arch", "riscv64"], "--arch must be one of amd64, arm64, not 'riscv64'"),
        (["--version", "1.2"], "--version must be a semantic version such as 1.2.3, not '1.2'"),
        (["--version", "v1.2.3"], "not 'v1.2.3'"),
        (["--python-versions", "3.12"], "--python-versions only applies with --offline"),
    ],
)
def test_bad_arguments_are_refused(capsys, args, message):
    with pytest.raises(SystemExit) as exit_info:
        cli.parse_args(args)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("version", ["0.1.0", "1.2.3", "10.20.30", "1.0.0-rc.1", "1.0.0+build.5"])
def test_semantic_versions(version):
    assert is_semver(version)


@pytest.mark.parametrize("version", ["1.2", "01.2.3", "1.2.3.4", "1.2.x", "", "1.0.0-", "v1.0.0"])
def test_not_semantic_versions(version):
    assert not is_semver(version)


def test_set_version_changes_only_the_buildpack_version(tmp_path):
    path = tmp_path / "buildpack.toml"
    text = (ROOT / "buildpack.toml").read_text()
    path.write_text(text)
    set_version(path, "2.0.0")
    new = path.read_text()
    assert new.replace('version = "2.0.0"', 'version = "0.1.0"', 1) == text
    assert BuildpackMetadata.load(tmp_path).version == "2.0.0"


def small_buildpack(root: Path) -> Path:
    (root / "bin").mkdir(parents=True)
    for name in ("detect", "build"):
        (root / "bin" / name).write_text("#!/bin/sh\n")
        os.chmod(root / "bin" / name, 0o700)
    (root / "cnb_python").mkdir()
    (root / "cnb_python" / "b.py").write_text("b")
    (root / "cnb_python" / "a.py").write_text("a")
    os.chmod(root / "cnb_python" / "a.py", 0o600)
    (root / "vendor").mkdir()
    (root / "vendor" / "tool").write_text("x")
    os.chmod(root / "vendor" / "tool", 0o711)
    (root / "vendor" / "link").symlink_to("tool")
    (root / "buildpack.toml").write_text(
        'api = "0.10"\n[buildpack]\nid = "cnb-python/python"\nversion = "0.1.0"\n'
        'homepage = "https://example.org"\n[[targets]]\nos = "linux"\narch = "amd64"\n'
    )
    return root


def test_staging_copies_only_the_buildpack_and_sets_the_version(tmp_path):
    source = small_buildpack(tmp_path / "src")
    (source / "tests").mkdir()
    (source / "cnb_python" / "__pycache__").mkdir()
    stage_buildpack(source, tmp_path / "stage", "3.1.4")
    assert sorted(p.name for p in (tmp_path / "stage").iterdir()) == [
        "bin", "buildpack.toml", "cnb_python", "vendor",
    ]  # fmt: skip
    assert not (tmp_path / "stage/cnb_python/__pycache__").exists()
    assert 'version = "3.1.4"' in (tmp_path / "stage/buildpack.toml").read_text()


def test_layer_entries_are_normalized_like_packs(tmp_path):
    stage = small_buildpack(tmp_path / "bp")
    out = io.BytesIO()
    write_layer(stage, "cnb-python/python", "0.1.0", out)
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as tar:
        entries = {e.name: e for e in tar.getmembers()}
        names = list(entries)
    base = "/cnb/buildpacks/cnb-python_python/0.1.0"
    assert names == [
        "/cnb", "/cnb/buildpacks", "/cnb/buildpacks/cnb-python_python", base,
        f"{base}/bin", f"{base}/bin/build", f"{base}/bin/detect", f"{base}/buildpack.toml",
        f"{base}/cnb_python", f"{base}/cnb_python/a.py", f"{base}/cnb_python/b.py",
        f"{base}/vendor", f"{base}/vendor/link", f"{base}/vendor/tool",
    ]  # fmt: skip
    for entry in entries.values():
        assert (entry.uid, entry.gid, entry.uname, entry.gname) == (0, 0, "", "")
        assert entry.mtime == 315532801
    modes = {name.removeprefix(base + "/"): e.mode for name, e in entries.items()}
    assert modes["bin/detect"] == modes["bin/build"] == modes["vendor/tool"] == 0o755
    assert modes["cnb_python/a.py"] == modes["buildpack.toml"] == 0o644
    assert modes["cnb_python"] == 0o755
    assert entries[f"{base}/vendor/link"].issym()
    assert entries[f"{base}/vendor/link"].linkname == "tool"


def test_the_cnb_is_a_deterministic_oci_layout(tmp_path):
    stage = small_buildpack(tmp_path / "bp")
    descriptor = Descriptor.from_toml(
        {"api": "0.10", "buildpack": {"id": "cnb-python/python", "version": "0.1.0"}}
    )
    first = write_buildpackage(stage, descriptor, "arm64", tmp_path / "a.cnb")
    os.utime(stage / "buildpack.toml", (0, 0))  # mtimes of the stage do not matter
    second = write_buildpackage(stage, descriptor, "arm64", tmp_path / "b.cnb")
    assert first == second
    assert (tmp_path / "a.cnb").read_bytes() == (tmp_path / "b.cnb").read_bytes()
    with tarfile.open(tmp_path / "a.cnb") as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    assert json.loads(files["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}

    def blob(digest: str) -> bytes:
        data = files["blobs/sha256/" + digest.removeprefix("sha256:")]
        assert hashlib.sha256(data).hexdigest() == digest.removeprefix("sha256:")
        return data

    (entry,) = json.loads(files["index.json"])["manifests"]
    assert entry["digest"] == first
    assert entry["platform"] == {"architecture": "arm64", "os": "linux"}
    manifest = json.loads(blob(entry["digest"]))
    config = json.loads(blob(manifest["config"]["digest"]))
    (layer,) = manifest["layers"]
    layer_tar = gzip.decompress(blob(layer["digest"]))
    diff_id = "sha256:" + hashlib.sha256(layer_tar).hexdigest()
    assert config["rootfs"] == {"type": "layers", "diff_ids": [diff_id]}
    assert (config["os"], config["architecture"]) == ("linux", "arm64")
    labels = config["config"]["Labels"]
    assert json.loads(labels[METADATA_LABEL]) == {"id": "cnb-python/python", "version": "0.1.0"}
    assert json.loads(labels[LAYERS_LABEL]) == {
        "cnb-python/python": {"0.1.0": {"api": "0.10", "layerDiffID": diff_id}}
    }


def test_an_offline_bundle_has_the_chosen_cpythons_and_every_tool_for_the_arch():
    metadata = BuildpackMetadata.load(ROOT)
    chosen = chosen_dependencies(metadata, "arm64", ["3.13"])
    assert {(d.id, d.arch) for d in chosen} == {
        ("pip", "noarch"),
        ("uv", "arm64"),
        ("cpython", "arm64"),
    }
    assert all(d.version.startswith("3.13.") for d in chosen if d.id == "cpython")
    every = chosen_dependencies(metadata, "amd64", [])
    assert len([d for d in every if d.id == "cpython"]) == len(
        [d for d in metadata.dependencies if d.id == "cpython" and d.arch == "amd64"]
    )


def test_tool_wheels_target_the_arch_and_each_python():
    (tags,) = python_tags("arm64", ["3.12"])
    assert tags[-4:] == ["--implementation", "cp", "--python-version", "3.12"]
    platforms = tags[1:-4:2]
    assert "manylinux_2_17_aarch64" in platforms and "manylinux2014_aarch64" in platforms
    assert not [p for p in platforms if "x86_64" in p]


def test_no_tool_requirement_files_bundle_no_wheels(tmp_path):
    out = io.StringIO()
    pip = tmp_path / "pip.whl"
    assert bundle_tool_wheels(tmp_path, pip, "amd64", ["3.12"], Logger(out, out)) == 0
    assert not (tmp_path / "dependencies").exists()
    assert "no tool wheels bundled" in out.getvalue()


def test_bundling_honors_the_mirror_and_checks_sha256(tmp_path):
    data = b"cpython archive"
    url = "https://github.com/astral-sh/pbs/releases/download/1/cpython-3.12.4%2B1-x86_64.tar.gz"
    mirrored = tmp_path / "mirror/astral-sh/pbs/releases/download/1/cpython-3.12.4+1-x86_64.tar.gz"
    mirrored.parent.mkdir(parents=True)
    mirrored.write_bytes(data)
    dep = Dependency(
        "cpython", "CPython", "3.12.4", "amd64", url, hashlib.sha256(data).hexdigest(), "", "", ()
    )
    env = {"BP_DEPENDENCY_MIRROR": f"file://{tmp_path}/mirror"}
    out = io.StringIO()
    bundle_dependencies(tmp_path / "stage", [dep], env, Logger(out, out))
    bundled = tmp_path / "stage/dependencies" / dep.sha256 / "cpython-3.12.4+1-x86_64.tar.gz"
    assert bundled.read_bytes() == data
    assert "Using BP_DEPENDENCY_MIRROR" in out.getvalue()
    wrong = Dependency(**{**dep.__dict__, "sha256": "0" * 64})
    with pytest.raises(UserError, match="Checksum mismatch"):
        bundle_dependencies(tmp_path / "stage2", [wrong], env, Logger(io.StringIO()))
