"""A buildpackage file (.cnb) as the distribution spec defines it: an OCI image layout in a tar
(oci-layout, index.json, blobs/sha256/...), one image with one gzipped layer holding the
buildpack (packager/layer.py, pack's bytes) and pack's two labels (packager/labels.py).

Everything is a function of the staged files: fixed timestamps, gzip with mtime 0 and no file
name, sorted JSON keys, normalized outer tar entries. Two runs give the same bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from packager.labels import Descriptor, labels
from packager.layer import NORMALIZED_MTIME, write_layer

CREATED = "1980-01-01T00:00:01Z"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ManifestRef:
    """An image manifest as an index names it."""

    digest: str
    size: int
    arch: str
    os: str = "linux"

    def descriptor(self) -> dict[str, object]:
        return {
            "mediaType": OCI_MANIFEST,
            "digest": self.digest,
            "size": self.size,
            "platform": {"architecture": self.arch, "os": self.os},
        }


def image_index(manifests: list[ManifestRef]) -> bytes:
    """An OCI image index over `manifests`: the .cnb's index.json, and, published with more
    than one arch, the index pushed under the tag (as pack's CreateManifest does)."""
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [m.descriptor() for m in manifests],
    }
    return canonical_json(index)


def write_buildpackage(stage: Path, descriptor: Descriptor, arch: str, output: Path) -> ManifestRef:
    """Write `stage` as a .cnb file for linux/`arch`; return its image manifest."""
    with tempfile.TemporaryDirectory(prefix="cnb-package-") as tmp:
        layout = Path(tmp, "layout")
        blobs = layout / "blobs" / "sha256"
        blobs.mkdir(parents=True)
        layer_tar = Path(tmp, "layer.tar")
        with layer_tar.open("wb") as out:
            write_layer(stage, descriptor.id, descriptor.version, out)
        diff_id = "sha256:" + _sha256_file(layer_tar)
        layer_gz = Path(tmp, "layer.tar.gz")
        with (
            layer_tar.open("rb") as src,
            layer_gz.open("wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz,
        ):
            shutil.copyfileobj(src, gz, _CHUNK)
        layer_size = layer_gz.stat().st_size
        layer_digest = _add_blob_file(blobs, layer_gz)
        config = {
            "architecture": arch,
            "os": "linux",
            "created": CREATED,
            "config": {"Labels": labels(descriptor, diff_id)},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "history": [{"created": CREATED}],
        }
        config_digest, config_size = _add_blob(blobs, canonical_json(config))
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config_size},
            "layers": [{"mediaType": OCI_LAYER_GZIP, "digest": layer_digest, "size": layer_size}],
        }
        manifest_digest, manifest_size = _add_blob(blobs, canonical_json(manifest))
        ref = ManifestRef(manifest_digest, manifest_size, arch)
        (layout / "index.json").write_bytes(image_index([ref]))
        (layout / "oci-layout").write_bytes(canonical_json({"imageLayoutVersion": "1.0.0"}))
        _write_tar(layout, output)
        return ref


def _write_tar(layout: Path, output: Path) -> None:
    """The layout as a tar: relative names in lexical order, owner 0:0, fixed mtime."""
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    with tarfile.open(partial, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(layout.rglob("*"), key=lambda p: p.relative_to(layout).parts):
            entry = tarfile.TarInfo(path.relative_to(layout).as_posix())
            entry.mtime = NORMALIZED_MTIME
            entry.uid = entry.gid = 0
            entry.uname = entry.gname = ""
            if path.is_dir():
                entry.type, entry.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(entry)
            else:
                entry.mode, entry.size = 0o644, path.stat().st_size
                with path.open("rb") as data:
                    tar.addfile(entry, data)
    partial.replace(output)


def canonical_json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _add_blob_file(blobs: Path, path: Path) -> str:
    hexdigest = _sha256_file(path)
    path.replace(blobs / hexdigest)
    return f"sha256:{hexdigest}"


def _add_blob(blobs: Path, data: bytes) -> tuple[str, int]:
    hexdigest = hashlib.sha256(data).hexdigest()
    (blobs / hexdigest).write_bytes(data)
    return f"sha256:{hexdigest}", len(data)
