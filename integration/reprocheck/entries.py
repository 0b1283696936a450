"""A layer tarball as an ordered list of entries: header fields and a content digest each.

Contents are hashed while indexing and read again only for the entries that differ, so two
large layers can be compared without holding them in memory.
"""

from __future__ import annotations

import hashlib
import tarfile
from dataclasses import dataclass
from pathlib import Path

_KINDS = {
    tarfile.REGTYPE: "file",
    tarfile.AREGTYPE: "file",
    tarfile.CONTTYPE: "file",
    tarfile.DIRTYPE: "dir",
    tarfile.SYMTYPE: "symlink",
    tarfile.LNKTYPE: "hardlink",
    tarfile.FIFOTYPE: "fifo",
    tarfile.CHRTYPE: "char-device",
    tarfile.BLKTYPE: "block-device",
}


@dataclass(frozen=True)
class Entry:
    name: str
    kind: str  # file, dir, symlink, hardlink, fifo, char-device, block-device
    mode: int
    uid: int
    gid: int
    uname: str
    gname: str
    mtime: float
    size: int
    linkname: str
    sha256: str  # of the contents; "" unless kind == "file"


class LayerIndex:
    def __init__(self, tar_path: Path):
        self.path = tar_path
        self.entries: list[Entry] = []
        self._offsets: dict[str, tuple[int, int]] = {}  # name -> (data offset, size)
        with tarfile.open(tar_path) as tar:
            for member in tar:
                digest = ""
                if member.isreg():
                    source = tar.extractfile(member)
                    assert source is not None
                    digest = hashlib.file_digest(source, "sha256").hexdigest()
                    self._offsets[member.name] = (member.offset_data, member.size)
                self.entries.append(
                    Entry(
                        name=member.name,
                        kind=_KINDS.get(member.type, f"type-{member.type!r}"),
                        mode=member.mode,
                        uid=member.uid,
                        gid=member.gid,
                        uname=member.uname,
                        gname=member.gname,
                        mtime=member.mtime,
                        size=member.size,
                        linkname=member.linkname,
                        sha256=digest,
                    )
                )
        # A later entry of the same name wins, as when a runtime applies the layer.
        self.by_name = {entry.name: entry for entry in self.entries}

    @property
    def names(self) -> list[str]:
        return [entry.name for entry in self.entries]

    def read(self, name: str) -> bytes:
        """The contents of the (last) regular file called ``name``: layer tars are uncompressed,
        so the data is read in place."""
        offset, size = self._offsets[name]
        with open(self.path, "rb") as fh:
            fh.seek(offset)
            return fh.read(size)
