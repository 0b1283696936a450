"""Read a .cnb back the way pack does, and fail with a titled error on what pack would reject.

The walk follows pack (docs/distribution.md has the rules and their sources): the file must be
an OCI layout tar (pkg/buildpack IsOCILayoutBlob: an `oci-layout` entry); index.json's first
image manifest leads to the config, whose io.buildpacks.buildpack.layers and
io.buildpacks.buildpackage.metadata labels must be there (newOCILayoutPackage,
extractBuildpacks); each layer of the layers label is found by its diffID in rootfs.diff_ids
(GetLayer); and the layer tar must pass ToNLayerTar (no name containing '..', a first
`/cnb/buildpacks/<id>` header with no version, then `/cnb/buildpacks/<id>/<version>`).

On top of pack we check what pack does not, but what registries and the lifecycle rely on:
every blob matches its digest and size, the layer matches its diffID, the config's platform is
the index's, the layer is exactly as pack's toDistTar lays it out (the golden sequence), and it
holds buildpack.toml, bin/detect and bin/build.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import posixpath
import tarfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from cnb_python.errors import UserError
from packager.labels import LAYERS_LABEL, METADATA_LABEL
from packager.layer import BUILDPACKS_DIR, ENTRYPOINTS, NORMALIZED_MTIME, escape_id
from packager.tarread import RawHeader, TarReadError, headers

MANIFEST_TYPES = ("application/vnd.oci.image.manifest.v1+json",
                  "application/vnd.docker.distribution.manifest.v2+json")  # fmt: skip
PACK_SPECIAL = "path ... contains unexpected special elements"
PACK_FIRST = "first header ... contained unexpected version"
PACK_SECOND = "second header ... contained unexpected id or missing version"
PACK_MODES = "pack writes 0755 for directories, bin/* entry points and executables, else 0644."
PACK_OWNER = "pack writes 0:0 with no user or group names and mtime 315532801 (1980-01-01)."
REPACKAGE = "Package it again with scripts/package.sh (it writes the file in one go)."
_CHUNK = 1 << 20


@dataclass(frozen=True)
class LayerEntry:
    """One header of the layer tar, in the fields pack normalizes."""

    name: str
    type: str  # "dir", "file", "symlink", or the raw tar type flag
    mode: int
    uid: int
    gid: int
    owner: str  # "uname:gname"
    mtime: int
    size: int
    linkname: str

    def line(self) -> str:
        """One line of the golden header sequence."""
        target = f" -> {self.linkname}" if self.linkname else ""
        owner = f"{self.uid}:{self.gid}" + (f" ({self.owner})" if self.owner != ":" else "")
        return f"{self.type:7} {self.mode:04o} {owner} {self.mtime} {self.name}{target}"


@dataclass
class Image:
    manifest_digest: str
    manifest_size: int
    os: str
    arch: str
    labels: dict[str, str]
    diff_id: str
    layer_digest: str
    entries: list[LayerEntry]
    blobs: list[str]  # config, layer, then the manifest: what a push uploads, in order


@dataclass
class Package:
    path: Path
    images: list[Image]
    _members: dict[str, tarfile.TarInfo] = field(repr=False)

    @contextmanager
    def open_blob(self, digest: str) -> Iterator[IO[bytes]]:
        """The blob's bytes, streamed from the .cnb."""
        member = self._members[_blob_path(digest)]
        with self.path.open("rb") as f:
            f.seek(member.offset_data)
            yield _Limited(f, member.size)

    def blob_size(self, digest: str) -> int:
        return self._members[_blob_path(digest)].size

    def read_blob(self, digest: str) -> bytes:
        with self.open_blob(digest) as blob:
            return blob.read()


def read_package(path: Path) -> Package:
    """Read and check the .cnb at `path`; raise a titled UserError on the first problem."""
    members = _members(path)
    if "oci-layout" not in members:
        raise UserError(
            "Not an OCI layout buildpackage",
            f"{path} has no oci-layout entry, so pack does not read it as a buildpackage "
            "(pkg/buildpack IsOCILayoutBlob).",
            REPACKAGE,
        )
    package = Package(path, [], members)
    index = _json(package, "index.json", _file_bytes(path, members, "index.json"))
    manifests = [m for m in index.get("manifests", []) if m.get("mediaType") in MANIFEST_TYPES]
    if not manifests:
        raise UserError(
            "No image in the buildpackage",
            f"{path}: index.json lists no image manifest, so pack finds nothing to read "
            "('unable to find manifest').",
            REPACKAGE,
        )
    package.images = [_read_image(package, m) for m in manifests]
    return package


def _members(path: Path) -> dict[str, tarfile.TarInfo]:
    """Every entry of the outer tar by its canonical name (leading '/' and './' dropped, as
    pack's ReadTarEntry compares names), after checking every entry's data is there."""
    size = path.stat().st_size
    try:
        with tarfile.open(path, mode="r:") as tar:
            members = {_canonical(m.name): m for m in tar.getmembers()}
    except (tarfile.ReadError, EOFError) as e:
        truncated = "unexpected end of data" in str(e) or "truncated" in str(e)
        raise UserError(
            "Truncated buildpackage" if truncated else "Not a buildpackage file",
            f"{path} is {'cut short' if truncated else 'not a tar archive'} ({e}); "
            "pack fails on it the same way.",
            REPACKAGE if truncated else "Pass the .cnb that scripts/package.sh wrote.",
        ) from None
    for member in members.values():
        if member.isfile() and member.offset_data + member.size > size:
            raise UserError(
                "Truncated buildpackage",
                f"{path} ends {member.offset_data + member.size - size} bytes before the end "
                f"of {member.name}; pack fails on it the same way.",
                REPACKAGE,
            )
    return members


def _canonical(name: str) -> str:
    cleaned = posixpath.normpath(name)
    return cleaned.lstrip("/").removeprefix("./")


def _blob_path(digest: str) -> str:
    algorithm, _, encoded = digest.partition(":")
    return f"blobs/{algorithm}/{encoded}"


def _file_bytes(path: Path, members: dict[str, tarfile.TarInfo], name: str) -> bytes:
    member = members.get(name)
    if member is None or not member.isfile():
        raise UserError(
            f"No {name} in the buildpackage",
            f"{path} has no {name}, so pack cannot find the image in it.",
            REPACKAGE,
        )
    with path.open("rb") as f:
        f.seek(member.offset_data)
        return f.read(member.size)


def _json(package: Package, what: str, data: bytes) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except ValueError as e:
        raise UserError(
            f"Unreadable {what} in the buildpackage",
            f"{package.path}: {what} is not valid JSON ({e}).",
            REPACKAGE,
        ) from None
    if not isinstance(value, dict):
        raise UserError(
            f"Unreadable {what} in the buildpackage",
            f"{package.path}: {what} is not a JSON object.",
            REPACKAGE,
        )
    return value


def _blob(package: Package, descriptor: dict[str, Any], what: str) -> bytes:
    """A small blob (manifest, config), checked against its descriptor."""
    _check_blob(package, descriptor, what)
    return package.read_blob(descriptor["digest"])


def _check_blob(package: Package, descriptor: dict[str, Any], what: str) -> None:
    digest = str(descriptor.get("digest", ""))
    member = package._members.get(_blob_path(digest))
    if member is None or not member.isfile():
        raise UserError(
            "The buildpackage names a blob it does not hold",
            f"{package.path}: the {what} is {digest or 'not named'}, and there is no "
            f"blobs/{digest.replace(':', '/')} in the file. pack fails here too "
            "('could not find entry path').",
            REPACKAGE,
        )
    hasher = hashlib.sha256()
    with package.open_blob(digest) as blob:
        while chunk := blob.read(_CHUNK):
            hasher.update(chunk)
    actual = "sha256:" + hasher.hexdigest()
    if actual != digest or member.size != descriptor.get("size"):
        raise UserError(
            "A buildpackage blob does not match its digest",
            f"{package.path}: the {what} is named {digest} ({descriptor.get('size')} bytes), "
            f"but its bytes are {actual} ({member.size} bytes). A registry refuses such a push.",
            REPACKAGE,
        )


def _read_image(package: Package, descriptor: dict[str, Any]) -> Image:
    manifest = _json(package, "image manifest", _blob(package, descriptor, "image manifest"))
    config_descriptor = manifest.get("config") or {}
    config = _json(package, "image config", _blob(package, config_descriptor, "image config"))
    labels = (config.get("config") or {}).get("Labels") or {}
    missing = [name for name in (LAYERS_LABEL, METADATA_LABEL) if not labels.get(name)]
    if missing:
        raise UserError(
            "Buildpackage labels missing",
            f"{package.path}: the image config has no {' and no '.join(missing)} label, "
            "which pack needs to find the buildpack in it ('label ... not found').",
            REPACKAGE,
        )
    layers_label = _label_json(package, labels, LAYERS_LABEL)
    metadata = _label_json(package, labels, METADATA_LABEL)
    bp_id, version = metadata.get("id"), metadata.get("version")
    module = (layers_label.get(bp_id) or {}).get(version)
    if not isinstance(module, dict) or len(layers_label) != 1 or len(layers_label[bp_id]) != 1:
        raise UserError(
            "Buildpackage labels do not agree",
            f"{package.path}: {METADATA_LABEL} names {bp_id}@{version}, but "
            f"{LAYERS_LABEL} lists {sorted(layers_label)}; pack then finds no main buildpack.",
            REPACKAGE,
        )
    diff_id = module.get("layerDiffID")
    diff_ids = (config.get("rootfs") or {}).get("diff_ids") or []
    layers = manifest.get("layers") or []
    if diff_id not in diff_ids or len(layers) != len(diff_ids):
        raise UserError(
            "Buildpack layer not in the image",
            f"{package.path}: the layers label's layerDiffID {diff_id} is not one of the "
            f"config's rootfs.diff_ids {diff_ids} (pack: 'layer ... not found in rootfs').",
            REPACKAGE,
        )
    layer_descriptor = layers[diff_ids.index(diff_id)]
    _check_blob(package, layer_descriptor, "layer")
    platform = descriptor.get("platform") or {}
    os_arch = (config.get("os"), config.get("architecture"))
    if platform and (platform.get("os"), platform.get("architecture")) != os_arch:
        raise UserError(
            "Buildpackage platform mismatch",
            f"{package.path}: index.json says {platform.get('os')}/{platform.get('architecture')}"
            f", the image config says {os_arch[0]}/{os_arch[1]}.",
            REPACKAGE,
        )
    entries, actual_diff_id = _layer_entries(package, layer_descriptor)
    if actual_diff_id != diff_id:
        raise UserError(
            "Buildpack layer does not match its diffID",
            f"{package.path}: the layer's uncompressed bytes are {actual_diff_id}, the labels "
            f"and rootfs say {diff_id}.",
            REPACKAGE,
        )
    check_layer(entries, str(bp_id), str(version), package.path)
    return Image(
        manifest_digest=descriptor["digest"],
        manifest_size=descriptor["size"],
        os=str(os_arch[0]),
        arch=str(os_arch[1]),
        labels=dict(labels),
        diff_id=diff_id,
        layer_digest=layer_descriptor["digest"],
        entries=entries,
        blobs=[config_descriptor["digest"], layer_descriptor["digest"], descriptor["digest"]],
    )


def _label_json(package: Package, labels: dict[str, str], name: str) -> dict[str, Any]:
    try:
        value = json.loads(labels[name])
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise UserError(
            "Buildpackage labels missing",
            f"{package.path}: the {name} label is not a JSON object, so pack cannot read it.",
            REPACKAGE,
        )
    return value


def _layer_entries(package: Package, descriptor: dict[str, Any]) -> tuple[list[LayerEntry], str]:
    """The layer's headers in order, and the sha256 of its uncompressed bytes."""
    hasher = hashlib.sha256()
    gzipped = str(descriptor.get("mediaType", "")).endswith("gzip")
    with package.open_blob(descriptor["digest"]) as blob:
        stream = _Hashing(gzip.GzipFile(fileobj=blob) if gzipped else blob, hasher)
        try:
            entries = [_entry(header) for header in headers(stream)]
            while stream.read(_CHUNK):
                pass  # bytes after the end-of-archive blocks count in the diffID too
        except (TarReadError, EOFError, OSError, zlib.error) as e:
            raise UserError(
                "Unreadable buildpack layer",
                f"{package.path}: the layer {descriptor['digest']} is not a readable tar ({e}).",
                REPACKAGE,
            ) from None
    return entries, "sha256:" + hasher.hexdigest()


def _entry(header: RawHeader) -> LayerEntry:
    kinds = {"5": "dir", "0": "file", "2": "symlink"}
    return LayerEntry(
        name=header.name,
        type=kinds.get(header.typeflag, header.typeflag),
        mode=header.mode,
        uid=header.uid,
        gid=header.gid,
        owner=f"{header.uname}:{header.gname}",
        mtime=header.mtime,
        size=header.size,
        linkname=header.linkname,
    )


def _reject(path: Path, title: str, detail: str) -> UserError:
    return UserError(title, f"{path}: {detail}", REPACKAGE)


def check_layer(entries: list[LayerEntry], bp_id: str, version: str, path: Path) -> None:
    """pack's ToNLayerTar rules, then the layout toDistTar writes, then what the lifecycle
    needs. `entries` are the layer's headers in order."""
    rejected = "pack rejects the buildpack layer"
    for entry in entries:
        if ".." in entry.name:
            raise _reject(path, rejected, f"{entry.name} contains '..' ('{PACK_SPECIAL}').")
    heads = [e for e in entries if f"{BUILDPACKS_DIR}/" in e.name]
    if not heads:
        raise _reject(path, rejected, f"no entry lies under {BUILDPACKS_DIR}/.")
    first_at = entries.index(heads[0])
    first_id, first_version = _id_version(heads[0].name)
    if first_version:
        raise _reject(path, rejected, f"its first header is {heads[0].name} ('{PACK_FIRST}').")
    second = entries[first_at + 1] if first_at + 1 < len(entries) else None
    second_id, second_version = _id_version(second.name) if second else ("", "")
    if second is None or second_id != first_id or not second_version:
        shown = second.name if second else "missing"
        raise _reject(
            path,
            rejected,
            f"its first header is {heads[0].name} and its second {shown} ('{PACK_SECOND}').\n"
            f"pack's layer starts {BUILDPACKS_DIR}/<id>, then {BUILDPACKS_DIR}/<id>/<version>.",
        )
    parent = f"{BUILDPACKS_DIR}/{escape_id(bp_id)}"
    root = f"{parent}/{version}"
    unlike = "Buildpack layer not as pack writes it"
    if [e.name for e in entries[:2]] != [parent, root]:
        start = ", ".join(e.name for e in entries[:2])
        raise _reject(path, unlike, f"it starts {start}; pack's starts {parent}, {root}.")
    for entry in entries:
        if entry.name not in (parent, root) and not entry.name.startswith(root + "/"):
            raise _reject(path, unlike, f"{entry.name} lies outside {root}/.")
        rel = entry.name.removeprefix(root + "/").encode()
        must_be_755 = entry.type == "dir" or rel in ENTRYPOINTS
        if entry.mode not in (0o644, 0o755) or (must_be_755 and entry.mode != 0o755):
            raise _reject(path, unlike, f"{entry.name} has mode {entry.mode:04o}. {PACK_MODES}")
        if (entry.uid, entry.gid, entry.owner, entry.mtime) != (0, 0, ":", NORMALIZED_MTIME):
            shown = f"{entry.uid}:{entry.gid} ({entry.owner}), mtime {entry.mtime}"
            raise _reject(path, unlike, f"{entry.name} has owner {shown}. {PACK_OWNER}")
    names = {e.name: e for e in entries}
    for needed in ("buildpack.toml", "bin/detect", "bin/build"):
        entry = names.get(f"{root}/{needed}")
        if entry is None or entry.type != "file":
            raise _reject(
                path,
                "Buildpack files missing from the layer",
                f"there is no file {root}/{needed}, which the lifecycle reads or runs.",
            )


def _id_version(name: str) -> tuple[str, str]:
    """toNLayerTar parseBpIDAndVersion: the 4th and 5th '/'-separated parts of the clean name."""
    parts = posixpath.normpath(name).split("/")
    return (parts[3] if len(parts) >= 4 else "", parts[4] if len(parts) >= 5 else "")


class _Limited:
    """At most `size` bytes of `f`, from where it stands."""

    def __init__(self, f: IO[bytes], size: int) -> None:
        self._f, self._left = f, size

    def __len__(self) -> int:  # requests sends Content-Length for a body with a length
        return self._left

    def read(self, n: int = -1) -> bytes:
        n = self._left if n < 0 else min(n, self._left)
        data = self._f.read(n)
        self._left -= len(data)
        return data


class _Hashing:
    def __init__(self, f: Any, hasher: Any) -> None:
        self._f, self._hasher = f, hasher

    def read(self, n: int = -1) -> bytes:
        data = self._f.read(n)
        self._hasher.update(data)
        return data
