"""The buildpackage's one layer, byte for byte what `pack buildpack package` writes for the same
staged directory, so its diffID is pack's (docs/distribution.md has the rules and sources).

pack first reads the directory as a tar (pkg/blob Open -> pkg/archive ReadDirAsTar: a
filepath.Walk, names relative, owner 0:0, mtime 1980-01-01T00:00:01Z), then rewrites that tar
(pkg/buildpack toDistTar): a `/cnb/buildpacks/<escaped id>` and a `.../<version>` directory entry
first, then every entry under the version directory with the mode calcFileMode gives. Each
rewritten header keeps the format Go's tar reader reported for the first tar, so an entry that
fit USTAR there must fit USTAR under the longer name too, or pack fails; we fail the same way.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from packager.gotar import DIR, REG, SYMLINK, Format, GoTarWriter, Header, allowed_formats

NORMALIZED_MTIME = 315532801  # pkg/archive NormalizedDateTime, 1980-01-01T00:00:01Z
BUILDPACKS_DIR = "/cnb/buildpacks"  # pkg/dist BuildpacksDir
ENTRYPOINTS = frozenset({b"bin/build", b"bin/detect", b"bin/generate"})


def escape_id(bp_id: str) -> str:
    return bp_id.replace("/", "_")


def buildpack_root(bp_id: str, version: str) -> str:
    return f"{BUILDPACKS_DIR}/{escape_id(bp_id)}/{version}"


@dataclass(frozen=True)
class Entry:
    """One path of the staged directory, as pack's first tar (ReadDirAsTar) holds it."""

    path: Path
    rel: bytes
    typeflag: bytes
    perm: int
    size: int
    linkname: bytes = b""


def walk(stage: Path) -> Iterator[Entry]:
    """filepath.Walk order: names sorted bytewise at each level, a directory before what it holds;
    symlinks are not followed; sockets are skipped, as ReadDirAsTar skips them."""
    yield from _walk(os.fsencode(stage), b"")


def _walk(directory: bytes, prefix: bytes) -> Iterator[Entry]:
    for name in sorted(os.listdir(directory)):
        raw = os.path.join(directory, name)
        rel = prefix + name
        st = os.lstat(raw)
        path = Path(os.fsdecode(raw))
        perm = stat.S_IMODE(st.st_mode)
        if stat.S_ISSOCK(st.st_mode):
            continue
        if stat.S_ISLNK(st.st_mode):
            yield Entry(path, rel, SYMLINK, perm, 0, os.readlink(raw))
        elif stat.S_ISDIR(st.st_mode):
            yield Entry(path, rel, DIR, perm, 0)
            yield from _walk(raw, rel + b"/")
        elif stat.S_ISREG(st.st_mode):
            yield Entry(path, rel, REG, perm, st.st_size)
        else:  # fifos and devices: pack would write them; a staged buildpack never holds any
            raise ValueError(f"{path}: only files, directories and symlinks can be packaged")


def pack_mode(entry: Entry) -> int:
    """toDistTar calcFileMode: directories, bin/{build,detect,generate} and anything with an
    exec bit 0755 (a symlink's lstat mode is 0777, so symlinks too), everything else 0644."""
    if entry.typeflag == DIR or entry.rel in ENTRYPOINTS or entry.perm & 0o111:
        return 0o755
    return 0o644


def first_tar_header(entry: Entry) -> Header:
    """The entry as ReadDirAsTar writes it, with the format and PAX records Go's tar reader
    then reports for it (USTAR when it fits, else PAX with the records the writer added)."""
    header = Header(
        name=entry.rel,
        typeflag=entry.typeflag,
        mode=entry.perm,
        mtime=NORMALIZED_MTIME,
        size=entry.size,
        linkname=entry.linkname,
    )
    formats, pax = allowed_formats(header)
    if Format.USTAR in formats:
        header.format = Format.USTAR
    else:
        header.format, header.pax_records = Format.PAX, pax
    return header


def layer_headers(stage: Path, bp_id: str, version: str) -> Iterator[tuple[Header, Entry | None]]:
    """toDistTar's headers in order, each with the staged entry whose bytes follow it."""
    parent = f"{BUILDPACKS_DIR}/{escape_id(bp_id)}".encode()
    root = buildpack_root(bp_id, version).encode()
    for name in (parent, root):
        yield Header(name=name, typeflag=DIR, mode=0o755, mtime=NORMALIZED_MTIME), None
    for entry in walk(stage):
        header = first_tar_header(entry)
        header.name = root + b"/" + entry.rel
        header.mode = pack_mode(entry)
        yield header, entry


def write_layer(stage: Path, bp_id: str, version: str, out: IO[bytes]) -> None:
    """Write the uncompressed layer tar of `stage` to `out`."""
    tar = GoTarWriter(out)
    for header, entry in layer_headers(stage, bp_id, version):
        if entry is not None and entry.typeflag == REG:
            with entry.path.open("rb") as data:
                tar.add(header, data)
        else:
            tar.add(header)
    tar.close()
