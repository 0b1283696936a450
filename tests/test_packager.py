"""scripts/package.sh's parts: arguments, staging, the layer tar, the .cnb layout, bundling."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from cnb_python.cnb.toml import load_toml
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
from packager.gotar import Header, allowed_formats, split_ustar_path
from packager.labels import LAYERS_LABEL, METADATA_LABEL, Descriptor, go_json, labels
from packager.layer import write_layer
from packager.oci import write_buildpackage
from packager.reader import read_package
from packager.registry import Reference, docker_credentials
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


# The layer's header sequence for small_buildpack, as read back by the reader: pack's toDistTar
# order and normalization (docs/distribution.md). No /cnb or /cnb/buildpacks entries: pack's
# ToNLayerTar takes the first name holding '/cnb/buildpacks/' as /cnb/buildpacks/<id>.
GOLDEN_HEADERS = """\
dir     0755 0:0 315532801 /cnb/buildpacks/cnb-python_python
dir     0755 0:0 315532801 /cnb/buildpacks/cnb-python_python/0.1.0
dir     0755 0:0 315532801 /cnb/buildpacks/cnb-python_python/0.1.0/bin
file    0755 0:0 315532801 /cnb/buildpacks/cnb-python_python/0.1.0/bin/build
file    0755 0:0 315532801 /cnb/buildpacks/cnb-python_python/0.1.0/bin/detect
file    0644 0:0 315532801 /cnb/buildpacks/cnb-python_python/0.1.0/buildpack.toml
dir     0755 0:0 315532801 /cnb/buildpacks/cnb-python_python/0.1.0/cnb_python
file    0644 0:0 315532801 /cnb/buildpacks/cnb-python_python/0.1.0/cnb_python/a.py
file    0644 0:0 315532801 /cnb/buildpacks/cnb-python_python/0.1.0/cnb_python/b.py
dir     0755 0:0 315532801 /cnb/buildpacks/cnb-python_python/0.1.0/vendor
symlink 0755 0:0 315532801 /cnb/buildpacks/cnb-python_python/0.1.0/vendor/link -> tool
file    0755 0:0 315532801 /cnb/buildpacks/cnb-python_python/0.1.0/vendor/tool
"""


def test_the_layer_header_sequence_is_packs(tmp_path):
    stage = small_buildpack(tmp_path / "bp")
    descriptor = Descriptor.from_toml(load_toml(stage / "buildpack.toml"))
    write_buildpackage(stage, descriptor, "amd64", tmp_path / "a.cnb")
    (image,) = read_package(tmp_path / "a.cnb").images
    assert "".join(entry.line() + "\n" for entry in image.entries) == GOLDEN_HEADERS


def test_the_layer_is_a_go_tar_with_no_record_padding(tmp_path):
    stage = small_buildpack(tmp_path / "bp")
    (stage / "extra").write_text("x")
    out = io.BytesIO()
    write_layer(stage, "cnb-python/python", "0.1.0", out)
    data = out.getvalue()
    # 13 headers, 7 one-block files and Go's two zero blocks; Python's tarfile would pad the
    # 22 blocks to a multiple of 20 (its 10 KiB records).
    assert len(data) == (13 + 7 + 2) * 512
    assert data[-1024:] == bytes(1024)
    # Directory names have no trailing '/' (Python's tarfile would add one).
    assert data[:512].split(b"\0", 1)[0] == b"/cnb/buildpacks/cnb-python_python"


def test_the_cnb_is_a_deterministic_oci_layout(tmp_path):
    stage = small_buildpack(tmp_path / "bp")
    descriptor = Descriptor.from_toml(
        {"api": "0.10", "buildpack": {"id": "cnb-python/python", "version": "0.1.0"}}
    )
    first = write_buildpackage(stage, descriptor, "arm64", tmp_path / "a.cnb").digest
    os.utime(stage / "buildpack.toml", (0, 0))  # mtimes of the stage do not matter
    second = write_buildpackage(stage, descriptor, "arm64", tmp_path / "b.cnb").digest
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
    assert labels[METADATA_LABEL] == '{"id":"cnb-python/python","version":"0.1.0","stacks":null}'
    assert labels[LAYERS_LABEL] == (
        f'{{"cnb-python/python":{{"0.1.0":{{"api":"0.10","layerDiffID":"{diff_id}"}}}}}}'
    )


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


def test_labels_are_packs_json_for_our_buildpack_toml():
    descriptor = Descriptor.from_toml(load_toml(ROOT / "buildpack.toml"))
    found = labels(descriptor, "sha256:" + "ab" * 32)
    info = load_toml(ROOT / "buildpack.toml")["buildpack"]
    keywords = ",".join(f'"{k}"' for k in info["keywords"])
    # Go's json.Marshal of pack's Metadata{ModuleInfo, Stacks}: struct field order, License
    # keys "Type"/"URI" (no json tags), "stacks":null (no omitempty).
    assert found[METADATA_LABEL] == (
        f'{{"id":"cnb-python/python","name":"{info["name"]}","version":"{info["version"]}",'
        f'"description":"{info["description"]}","homepage":"{info["homepage"]}",'
        f'"keywords":[{keywords}],"licenses":[{{"Type":"Apache-2.0","URI":""}}],"stacks":null}}'
    )
    assert found[LAYERS_LABEL] == (
        f'{{"cnb-python/python":{{"{info["version"]}":{{"api":"0.10","targets":'
        '[{"os":"linux","arch":"amd64"},{"os":"linux","arch":"arm64"}],'
        f'"layerDiffID":"sha256:{"ab" * 32}","homepage":"{info["homepage"]}",'
        f'"name":"{info["name"]}"}}}}}}'
    )


def test_go_json_escapes_html_characters_as_go_does():
    assert go_json({"b": ["<a> & é", None], "a": True}) == (
        '{"b":["\\u003ca\\u003e \\u0026 é",null],"a":true}'
    )


@pytest.mark.parametrize(
    ("name", "split"),
    [
        ("a" * 100, None),  # fits the name field as it is
        ("p" * 60 + "/" + "n" * 60, ("p" * 60, "n" * 60)),
        ("p" * 20 + "/" + "n" * 101, None),  # the last part is longer than the name field
        ("p" * 160 + "/n", None),  # no '/' within the first 156 bytes but at 160
        ("é" * 60 + "/" + "n" * 60, None),  # not ASCII
    ],
)
def test_long_names_split_into_the_ustar_prefix_as_go_splits_them(name, split):
    expected = None if split is None else tuple(part.encode() for part in split)
    assert split_ustar_path(name.encode()) == expected


def test_a_name_that_needs_pax_gets_a_path_record_and_no_ustar():
    header = Header(name=b"x/" + b"n" * 120, typeflag=b"0", mode=0o644, mtime=315532801)
    formats, pax = allowed_formats(header)
    assert {f.value for f in formats} == {"PAX", "GNU"}
    assert pax == {b"path": header.name}


@pytest.mark.parametrize(
    ("arches", "output", "names"),
    [
        (["amd64"], None, ["cnb-python_python-0.1.0-amd64.cnb"]),
        (["amd64"], "out/x.cnb", ["x.cnb"]),
        (
            ["amd64", "arm64"],
            None,
            ["cnb-python_python-0.1.0-linux-amd64.cnb", "cnb-python_python-0.1.0-linux-arm64.cnb"],
        ),
        (["amd64", "arm64"], "out/x.cnb", ["x-linux-amd64.cnb", "x-linux-arm64.cnb"]),
    ],
)
def test_one_file_per_arch_named_as_pack_names_them(tmp_path, arches, output, names):
    descriptor = Descriptor.from_toml(load_toml(ROOT / "buildpack.toml"))
    given = tmp_path / output if output else None
    assert [p.name for p in cli.output_paths(descriptor, arches, given)] == names


def test_arches_come_in_packs_order_once():
    args = cli.parse_args(["--arch", "arm64", "--arch", "amd64", "--arch", "arm64"])
    assert args.arches == ["amd64", "arm64"]


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("127.0.0.1:5000/cnb/python:1.2.3", ("127.0.0.1:5000", "cnb/python", "1.2.3")),
        ("registry.example.com/python", ("registry.example.com", "python", "latest")),
        ("localhost/a/b:x", ("localhost", "a/b", "x")),
    ],
)
def test_publish_references(text, parts):
    ref = Reference.parse(text)
    assert (ref.registry, ref.repository, ref.tag) == parts


@pytest.mark.parametrize("text", ["python:1.0", "cnb/python", "host.io/Upper:1", "host.io/a:"])
def test_references_that_name_no_registry_or_a_bad_repository_are_refused(text):
    with pytest.raises(UserError, match="Not an image reference to publish to"):
        Reference.parse(text)


def docker_config(tmp_path: Path, config: dict) -> dict[str, str]:
    (tmp_path / "config.json").write_text(json.dumps(config))
    return {"DOCKER_CONFIG": str(tmp_path)}


def test_credentials_come_from_the_docker_config(tmp_path):
    auth = base64.b64encode(b"bob:s3:cret").decode()
    env = docker_config(
        tmp_path,
        {
            "auths": {
                "https://reg.example.com": {"auth": auth},
                "other.example.com:5000": {"username": "amy", "password": "pw"},
            }
        },
    )
    assert docker_credentials("reg.example.com", env) == ("bob", "s3:cret")
    assert docker_credentials("other.example.com:5000", env) == ("amy", "pw")
    assert docker_credentials("third.example.com", env) is None
    assert docker_credentials("x.example.com", {"DOCKER_CONFIG": str(tmp_path / "none")}) is None
