# ruff: noqa: E501  (golden text is compared line for line)
"""Golden text of `scripts/package.sh --check FILE` on .cnb files pack would reject: each is a
titled error with what is wrong and how to fix it, never a traceback."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from test_packager import small_buildpack

from cnb_python.cnb.toml import load_toml
from cnb_python.errors import UserError
from packager import cli
from packager.gotar import GoTarWriter
from packager.labels import Descriptor, labels
from packager.layer import layer_headers, write_layer
from packager.oci import _write_tar, canonical_json, write_buildpackage
from packager.registry import Reference, docker_credentials


def layout_cnb(root: Path, layer: bytes, config_labels: dict[str, str] | None) -> Path:
    """A .cnb holding `layer` (an uncompressed tar) with a consistent config, manifest, index."""
    blobs = root / "layout/blobs/sha256"
    blobs.mkdir(parents=True)

    def add(data: bytes) -> tuple[str, int]:
        digest = hashlib.sha256(data).hexdigest()
        (blobs / digest).write_bytes(data)
        return f"sha256:{digest}", len(data)

    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    layer_digest, layer_size = add(gzip.compress(layer, mtime=0))
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Labels": config_labels} if config_labels is not None else {},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    }
    config_digest, config_size = add(canonical_json(config))
    media = "application/vnd.oci.image."
    manifest = {
        "schemaVersion": 2,
        "mediaType": media + "manifest.v1+json",
        "config": {"mediaType": media + "config.v1+json", "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": media + "layer.v1.tar+gzip", "digest": layer_digest, "size": layer_size}],
    }  # fmt: skip
    manifest_digest, manifest_size = add(canonical_json(manifest))
    index = {
        "schemaVersion": 2,
        "manifests": [
            {"mediaType": media + "manifest.v1+json", "digest": manifest_digest,
             "size": manifest_size, "platform": {"architecture": "amd64", "os": "linux"}},
        ],
    }  # fmt: skip
    (root / "layout/index.json").write_bytes(canonical_json(index))
    (root / "layout/oci-layout").write_bytes(b'{"imageLayoutVersion":"1.0.0"}')
    _write_tar(root / "layout", root / "bad.cnb")
    return root / "bad.cnb"


def good_cnb(root: Path) -> Path:
    stage = small_buildpack(root / "bp")
    descriptor = Descriptor.from_toml(load_toml(stage / "buildpack.toml"))
    write_buildpackage(stage, descriptor, "amd64", root / "good.cnb")
    return root / "good.cnb"


def truncated(root: Path) -> Path:
    data = good_cnb(root).read_bytes()
    (root / "bad.cnb").write_bytes(data[: len(data) // 2])
    return root / "bad.cnb"


def wrong_index_digest(root: Path) -> Path:
    good = good_cnb(root)
    with tarfile.open(good) as tar:
        tar.extractall(root / "layout", filter="data")
    index = json.loads((root / "layout/index.json").read_text())
    index["manifests"][0]["digest"] = "sha256:" + "0" * 64
    (root / "layout/index.json").write_bytes(canonical_json(index))
    _write_tar(root / "layout", root / "bad.cnb")
    return root / "bad.cnb"


def pythons_tarfile_layer(root: Path) -> bytes:
    """The layer our packager wrote before: Python's tarfile with /cnb and /cnb/buildpacks."""
    stage = small_buildpack(root / "bp")
    out = io.BytesIO()
    base = "/cnb/buildpacks/cnb-python_python/0.1.0"
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in ("/cnb", "/cnb/buildpacks", "/cnb/buildpacks/cnb-python_python", base):
            entry = tarfile.TarInfo(name)
            entry.type, entry.mode, entry.mtime = tarfile.DIRTYPE, 0o755, 315532801
            tar.addfile(entry)
        for path in sorted(stage.rglob("*")):
            entry = tar.gettarinfo(path, f"{base}/{path.relative_to(stage).as_posix()}")
            entry.mtime, entry.uid, entry.gid, entry.uname, entry.gname = 315532801, 0, 0, "", ""
            if entry.isfile():
                with path.open("rb") as data:
                    tar.addfile(entry, data)
            else:
                tar.addfile(entry)
    return out.getvalue()


def old_layer_layout(root: Path) -> Path:
    layer = pythons_tarfile_layer(root)
    descriptor = Descriptor.from_toml(load_toml(root / "bp/buildpack.toml"))
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    return layout_cnb(root, layer, labels(descriptor, diff_id))


def no_labels(root: Path) -> Path:
    return layout_cnb(root, pythons_tarfile_layer(root), None)


def go_layer(stage: Path) -> bytes:
    out = io.BytesIO()
    write_layer(stage, "cnb-python/python", "0.1.0", out)
    return out.getvalue()


def with_layer(root: Path, change: Callable[[Path], None]) -> Path:
    """A .cnb of small_buildpack after `change` to the staged tree."""
    stage = small_buildpack(root / "bp")
    change(stage)
    layer = go_layer(stage)
    descriptor = Descriptor.from_toml(load_toml(stage / "buildpack.toml"))
    return layout_cnb(
        root, layer, labels(descriptor, "sha256:" + hashlib.sha256(layer).hexdigest())
    )


def corrupted_blob(root: Path) -> Path:
    good = good_cnb(root)
    with tarfile.open(good) as tar:
        tar.extractall(root / "layout", filter="data")
    blobs = root / "layout/blobs/sha256"
    manifest = next(p for p in blobs.iterdir() if b'"schemaVersion"' in p.read_bytes())
    layer = blobs / json.loads(manifest.read_text())["layers"][0]["digest"].removeprefix("sha256:")
    data = bytearray(layer.read_bytes())
    data[-9] ^= 0xFF  # in gzip's CRC: the bytes no longer match the digest
    layer.write_bytes(bytes(data))
    _write_tar(root / "layout", root / "bad.cnb")
    return root / "bad.cnb"


def not_a_tar(root: Path) -> Path:
    (root / "bad.cnb").write_text("hello\n" * 200)
    return root / "bad.cnb"


GOLDEN: dict[str, tuple[Callable[[Path], Path], str]] = {
    "truncated": (
        truncated,
        """[Error: Truncated buildpackage]

  FILE is cut short (unexpected end of data); pack fails on it the same way.

  How to fix:
    Package it again with scripts/package.sh (it writes the file in one go).
""",
    ),
    "wrong digest in the index": (
        wrong_index_digest,
        """[Error: The buildpackage names a blob it does not hold]

  FILE: the image manifest is sha256:0000000000000000000000000000000000000000000000000000000000000000, and there is no blobs/sha256/0000000000000000000000000000000000000000000000000000000000000000 in the file. pack fails here too ('could not find entry path').

  How to fix:
    Package it again with scripts/package.sh (it writes the file in one go).
""",
    ),
    "missing labels": (
        no_labels,
        """[Error: Buildpackage labels missing]

  FILE: the image config has no io.buildpacks.buildpack.layers and no io.buildpacks.buildpackage.metadata label, which pack needs to find the buildpack in it ('label ... not found').

  How to fix:
    Package it again with scripts/package.sh (it writes the file in one go).
""",
    ),
    "the layer pack rejected": (
        old_layer_layout,
        """[Error: pack rejects the buildpack layer]

  FILE: its first header is /cnb/buildpacks/ and its second /cnb/buildpacks/cnb-python_python/ ('second header ... contained unexpected id or missing version').
  pack's layer starts /cnb/buildpacks/<id>, then /cnb/buildpacks/<id>/<version>.

  How to fix:
    Package it again with scripts/package.sh (it writes the file in one go).
""",
    ),
    "a blob that is not its digest": (
        corrupted_blob,
        """[Error: A buildpackage blob does not match its digest]

  FILE: the layer is named sha256:LAYER (LAYER_SIZE bytes), but its bytes are sha256:ACTUAL (LAYER_SIZE bytes). A registry refuses such a push.

  How to fix:
    Package it again with scripts/package.sh (it writes the file in one go).
""",
    ),
    "a layer without bin/build": (
        lambda root: with_layer(root, lambda stage: (stage / "bin/build").unlink()),
        """[Error: Buildpack files missing from the layer]

  FILE: there is no file /cnb/buildpacks/cnb-python_python/0.1.0/bin/build, which the lifecycle reads or runs.

  How to fix:
    Package it again with scripts/package.sh (it writes the file in one go).
""",
    ),
    "not a tar": (
        not_a_tar,
        """[Error: Not a buildpackage file]

  FILE is not a tar archive (invalid header); pack fails on it the same way.

  How to fix:
    Pass the .cnb that scripts/package.sh wrote.
""",
    ),
}


def stable(text: str, path: Path) -> str:
    """The render with the temp path and the digests of the corrupted layer made stable."""
    text = text.lstrip("\n").replace(str(path), "FILE")
    if "does not match its digest" in text:
        named, actual = re.findall(r"sha256:([0-9a-f]{64})", text)
        size = re.search(r"\((\d+) bytes\)", text)[1]
        text = text.replace(named, "LAYER").replace(actual, "ACTUAL").replace(size, "LAYER_SIZE")
    return text


@pytest.mark.parametrize("case", GOLDEN)
def test_check_error_text(tmp_path, capsys, case):
    make, expected = GOLDEN[case]
    path = make(tmp_path)
    assert cli.main(["--check", str(path)]) == 1
    captured = capsys.readouterr()
    assert stable(captured.err, path) == expected
    assert "Traceback" not in captured.out + captured.err


def test_check_reports_a_good_file(tmp_path, capsys):
    path = good_cnb(tmp_path)
    assert cli.main(["--check", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"{path}: OK, linux/amd64" in out
    assert "12 entries" in out


def test_a_mode_pack_never_writes_is_named(tmp_path, capsys):
    """A layer with an entry of mode 0600 (pack writes only 0755 and 0644)."""
    stage = small_buildpack(tmp_path / "bp")
    out = io.BytesIO()
    tar = GoTarWriter(out)
    for header, entry in layer_headers(stage, "cnb-python/python", "0.1.0"):
        if header.name.endswith(b"/a.py"):
            header.mode = 0o600
        if entry is not None and header.typeflag == b"0":
            with entry.path.open("rb") as data:
                tar.add(header, data)
        else:
            tar.add(header)
    tar.close()
    layer = out.getvalue()
    descriptor = Descriptor.from_toml(load_toml(stage / "buildpack.toml"))
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    bad = layout_cnb(tmp_path, layer, labels(descriptor, diff_id))
    assert cli.main(["--check", str(bad)]) == 1
    assert stable(capsys.readouterr().err, bad) == (
        """[Error: Buildpack layer not as pack writes it]

  FILE: /cnb/buildpacks/cnb-python_python/0.1.0/cnb_python/a.py has mode 0600. pack writes 0755 for directories, bin/* entry points and executables, else 0644.

  How to fix:
    Package it again with scripts/package.sh (it writes the file in one go).
"""
    )


def test_publish_reference_error_text():
    with pytest.raises(UserError) as error:
        Reference.parse("python:0.1.0")
    assert error.value.render() == (
        """[Error: Not an image reference to publish to]

  --publish 'python:0.1.0' is not REGISTRY/NAME[:TAG] (a registry host, a lowercase repository name and an optional tag).

  How to fix:
    Name the registry host, e.g. --publish registry.example.com/cnb/python:0.1.0."""
    )


def test_credential_helper_error_text(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"credsStore": "desktop"}))
    with pytest.raises(UserError) as error:
        docker_credentials("reg.example.com", {"DOCKER_CONFIG": str(tmp_path)})
    assert error.value.render().replace(str(tmp_path), "DIR") == (
        """[Error: Docker credential helpers are not supported]

  DIR/config.json keeps the credentials for reg.example.com in the 'desktop' helper, which this script does not run.

  How to fix:
    Add an auths entry for reg.example.com with its base64 'auth' to a config.json of its own and point DOCKER_CONFIG at that directory."""
    )


def test_bad_base64_credentials_error_text(tmp_path):
    (tmp_path / "config.json").write_text(
        json.dumps({"auths": {"reg.example.com": {"auth": "bm9jb2xvbg=="}}})
    )
    with pytest.raises(UserError) as error:
        docker_credentials("reg.example.com", {"DOCKER_CONFIG": str(tmp_path)})
    assert error.value.render().replace(str(tmp_path), "DIR") == (
        """[Error: Unreadable Docker credentials]

  DIR/config.json: auths.reg.example.com.auth is not base64 of user:password.

  How to fix:
    Log in again, or write base64 of 'user:password' there."""
    )
