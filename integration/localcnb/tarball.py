"""Normalized layer tarballs, and the two ways of unpacking them.

Writing follows the exporter (``lc:layers/dir.go``, ``layers/slices.go``, ``archive/*.go``;
cnb-spec.md §7):

- entry names are the absolute in-container paths with their leading ``/`` kept
  (``/layers/<bp>/<layer>/bin/x``); directory names carry no trailing ``/``;
- every mtime is 1980-01-01T00:00:01Z; uname/gname are blank;
- entries of the layer directory itself and below get the build uid/gid, the parent directories
  (``/layers``, ``/layers/<bp>``) keep their real owner; mode bits are taken from disk;
- symlinks are stored as links, hard links as separate regular files, sockets are skipped;
- buildpack and SBOM layers are in ``filepath.Walk`` (lexical, depth-first) order, the app layer is
  sorted by full path, as ``SliceLayers`` does;
- the diffID is the sha256 of the uncompressed tar (Python's ``tarfile`` PAX format, so the bytes
  are not the Go encoder's, only the normalization is).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any

from .constants import NORMALIZED_MTIME, PlatformError


class _Header(tarfile.TarInfo):
    def get_info(self) -> dict[str, Any]:
        info = super().get_info()
        info["name"] = self.name  # tarfile would append "/" to directories; Go's headers do not
        return info


class _HashingWriter:
    def __init__(self, fh: IO[bytes]):
        self.fh = fh
        self.sha = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        return self.fh.write(data)


def write_layer(
    dest_dir: Path, root: Path, layer_dir: str, uid: int, gid: int, *, sort_by_path: bool = False
) -> str:
    """Tar ``layer_dir`` (an in-container path below ``root``) into ``dest_dir/<sha256>.tar``.
    Returns the hex sha256."""
    fd, tmp_name = tempfile.mkstemp(prefix=".layer-", suffix=".tar", dir=dest_dir)
    with os.fdopen(fd, "wb") as fh:
        writer = _HashingWriter(fh)
        with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            for parent in reversed(PurePosixPath(layer_dir).parents[:-1]):
                _add(tar, root, str(parent), None)
            entries = list(_walk(root, layer_dir))
            if sort_by_path:
                entries.sort(key=os.fsencode)
            for name in entries:
                _add(tar, root, name, (uid, gid))
    digest = writer.sha.hexdigest()
    target = dest_dir / f"{digest}.tar"
    if target.exists():
        os.unlink(tmp_name)
    else:
        os.rename(tmp_name, target)
    return digest


def _walk(root: Path, name: str) -> Iterator[str]:
    yield name
    host = root / name.lstrip("/")
    if host.is_symlink() or not host.is_dir():
        return
    for child in sorted(os.listdir(host), key=os.fsencode):
        yield from _walk(root, f"{name}/{child}")


def _add(tar: tarfile.TarFile, root: Path, name: str, owner: tuple[int, int] | None) -> None:
    host = root / name.lstrip("/")
    st = host.lstat()
    if stat.S_ISSOCK(st.st_mode):
        return
    info = _Header(name)
    info.mode = stat.S_IMODE(st.st_mode)
    info.uid, info.gid = owner if owner else (st.st_uid, st.st_gid)
    info.uname = info.gname = ""
    info.mtime = NORMALIZED_MTIME
    if stat.S_ISREG(st.st_mode):
        info.size = st.st_size
        with open(host, "rb") as fh:
            tar.addfile(info, fh)
        return
    if stat.S_ISDIR(st.st_mode):
        info.type = tarfile.DIRTYPE
    elif stat.S_ISLNK(st.st_mode):
        info.type = tarfile.SYMTYPE
        info.linkname = os.readlink(host)
    elif stat.S_ISFIFO(st.st_mode):
        info.type = tarfile.FIFOTYPE
    else:
        info.type = tarfile.CHRTYPE if stat.S_ISCHR(st.st_mode) else tarfile.BLKTYPE
        info.devmajor, info.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
    tar.addfile(info)


def _target(root: Path, name: str) -> Path:
    rel = PurePosixPath(name.lstrip("/"))
    if ".." in rel.parts:
        raise PlatformError(f"refusing tar entry outside the root: {name}")
    return root / rel


def extract_like_restorer(tar_path: Path, root: Path, uid: int, gid: int) -> None:
    """Restore a cache layer as ``lc:archive/extract.go`` does: existing directories are left
    alone, new ones get their header mode at the end, files get their header mode exactly and the
    restorer's (build) uid. Modification times are NOT restored: files carry the time of the
    restore, as with the real lifecycle."""
    new_dirs: list[tuple[Path, int]] = []
    with tarfile.open(tar_path) as tar:
        for member in tar:
            path = _target(root, member.name)
            if member.isdir():
                if not path.exists():
                    path.mkdir(parents=True)
                    os.chown(path, uid, gid)
                    new_dirs.append((path, member.mode))
            elif member.isreg():
                if not path.parent.exists():
                    path.parent.mkdir(parents=True)
                    os.chown(path.parent, uid, gid)
                source = tar.extractfile(member)
                assert source is not None
                with open(path, "wb") as out:
                    shutil.copyfileobj(source, out)
                os.chmod(path, member.mode)
                os.chown(path, uid, gid)
            elif member.issym():
                os.symlink(member.linkname, path)
                os.chown(path, uid, gid, follow_symlinks=False)
            else:
                raise PlatformError(f"unknown file type in tar {member.type!r}: {member.name}")
    for path, mode in new_dirs:
        os.chmod(path, mode)


def extract_like_runtime(tar_path: Path, root: Path) -> None:
    """Apply an image layer as a container runtime does: every attribute from the header,
    modification times included (directory times last, after their children)."""
    dir_times: list[tuple[Path, int]] = []
    with tarfile.open(tar_path) as tar:
        for member in tar:
            path = _target(root, member.name)
            if member.isdir():
                path.mkdir(parents=True, exist_ok=True)
                dir_times.append((path, int(member.mtime)))
            elif member.isreg():
                if path.is_symlink() or path.exists():
                    path.unlink()
                source = tar.extractfile(member)
                assert source is not None
                with open(path, "wb") as out:
                    shutil.copyfileobj(source, out)
            elif member.issym():
                if path.is_symlink() or path.exists():
                    path.unlink()
                os.symlink(member.linkname, path)
            elif member.isfifo():
                os.mkfifo(path)
            else:
                continue  # device nodes: never produced by buildpack layers in practice
            os.chown(path, member.uid, member.gid, follow_symlinks=False)
            if not member.issym():
                os.chmod(path, member.mode)
                os.utime(path, (member.mtime, member.mtime))
            else:
                os.utime(path, (member.mtime, member.mtime), follow_symlinks=False)
    for path, mtime in reversed(dir_times):
        os.utime(path, (mtime, mtime))


def read_files(tar_path: Path) -> dict[str, bytes]:
    """Regular files of a layer, by entry name."""
    out = {}
    with tarfile.open(tar_path) as tar:
        for member in tar:
            if member.isreg():
                source = tar.extractfile(member)
                assert source is not None
                out[member.name] = source.read()
    return out
