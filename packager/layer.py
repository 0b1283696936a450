"""The buildpackage's one layer: the staged buildpack at /cnb/buildpacks/<escaped id>/<version>/,
with entries normalized the way pack writes them (pack:pkg/buildpack/buildpack.go toDistTar):
owner 0:0, no user or group names, mtime 1980-01-01T00:00:01Z, parent directories first, then a
lexical walk; directories and bin/{detect,build} 0755, other files 0755 when any exec bit is set,
else 0644."""

from __future__ import annotations

import os
import stat
import tarfile
from pathlib import Path
from typing import IO

NORMALIZED_MTIME = 315532801  # 1980-01-01T00:00:01Z
ENTRYPOINTS = frozenset({"bin/build", "bin/detect"})


def escape_id(bp_id: str) -> str:
    return bp_id.replace("/", "_")


def buildpack_root(bp_id: str, version: str) -> str:
    return f"/cnb/buildpacks/{escape_id(bp_id)}/{version}"


def write_layer(stage: Path, bp_id: str, version: str, out: IO[bytes]) -> None:
    """Write the uncompressed layer tar of `stage` to `out`."""
    root = buildpack_root(bp_id, version)
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        parts = root.strip("/").split("/")
        for depth in range(1, len(parts) + 1):
            tar.addfile(_entry("/" + "/".join(parts[:depth]), tarfile.DIRTYPE, 0o755))
        for path in _walk(stage):
            rel = path.relative_to(stage).as_posix()
            name = f"{root}/{rel}"
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                entry = _entry(name, tarfile.SYMTYPE, 0o777)
                entry.linkname = os.readlink(path)
                tar.addfile(entry)
            elif stat.S_ISDIR(st.st_mode):
                tar.addfile(_entry(name, tarfile.DIRTYPE, 0o755))
            elif stat.S_ISREG(st.st_mode):
                executable = rel in ENTRYPOINTS or bool(st.st_mode & 0o111)
                entry = _entry(name, tarfile.REGTYPE, 0o755 if executable else 0o644)
                entry.size = st.st_size
                with path.open("rb") as data:
                    tar.addfile(entry, data)
            # Sockets and fifos have no place in a buildpack: skipped, as pack does.


def _walk(top: Path) -> list[Path]:
    """Every path below `top`, lexically ordered by name at each level (filepath.Walk)."""
    found: list[Path] = []
    for entry in sorted(os.scandir(top), key=lambda e: e.name):
        path = Path(entry.path)
        found.append(path)
        if entry.is_dir(follow_symlinks=False):
            found += _walk(path)
    return found


def _entry(name: str, kind: bytes, mode: int) -> tarfile.TarInfo:
    entry = tarfile.TarInfo(name)
    entry.type = kind
    entry.mode = mode
    entry.mtime = NORMALIZED_MTIME
    entry.uid = entry.gid = 0
    entry.uname = entry.gname = ""
    return entry
