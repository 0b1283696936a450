"""Safe extraction of downloaded tarballs into a layer.

Every member is checked before anything is written: no absolute paths, no `..`, no links that
point outside the destination, no device files. Python 3.9 lacks tarfile's extraction filters,
so the checks are done here.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path

from cnb_python.errors import UserError


class UnsafeArchive(Exception):
    pass


def _inside(name: str) -> bool:
    normal = posixpath.normpath(name)
    return not (normal.startswith("/") or normal == ".." or normal.startswith("../"))


def _strip(name: str, components: int) -> str | None:
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if len(parts) <= components:
        return None
    return "/".join(parts[components:])


def _check(member: tarfile.TarInfo, name: str) -> None:
    if member.name.startswith("/") or not _inside(name):
        raise UnsafeArchive(f"{member.name!r} points outside the destination")
    if member.issym():
        target = posixpath.join(posixpath.dirname(name), member.linkname)
        if member.linkname.startswith("/") or not _inside(target):
            raise UnsafeArchive(f"symlink {member.name!r} -> {member.linkname!r} escapes")
    elif member.islnk():
        pass  # resolved against the stripped names when extracted
    elif not (member.isfile() or member.isdir()):
        raise UnsafeArchive(f"{member.name!r} is a device, fifo or other special file")


def extract_tarball(
    archive: Path,
    dest: Path,
    *,
    strip_components: int,
    what: str,
    leave_out: Callable[[str, bool], bool] | None = None,
) -> None:
    """Extract into the existing directory `dest`, dropping the first `strip_components`.
    `leave_out(name, is_dir)` (the name stripped) says which members are not written at all."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            _extract_members(tar, dest, strip_components, leave_out)
    except (tarfile.TarError, UnsafeArchive, OSError, EOFError) as e:
        raise UserError(
            f"Unable to unpack {what}",
            f"The archive could not be extracted safely: {e}",
            "Retry the build. If it keeps failing, the archive is damaged or malicious: check "
            "mirrors and dependency-mapping bindings.",
        ) from e


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root + os.sep)


def _extract_members(
    tar: tarfile.TarFile, dest: Path, strip: int, leave_out: Callable[[str, bool], bool] | None
) -> None:
    root = os.path.realpath(dest)
    links: list[tuple[str, str]] = []
    symlinks: list[Path] = []
    for member in tar:
        name = _strip(member.name, strip)
        if name is None:
            continue
        _check(member, name)
        if leave_out is not None and leave_out(name, member.isdir()):
            continue
        target = dest / name
        # Lexical checks can be fooled by chains of symlinks; the real parent must stay inside.
        if not _within(os.path.realpath(target.parent), root):
            raise UnsafeArchive(f"{member.name!r} would be written through a link outside")
        if target.is_symlink():
            target.unlink()
        if member.isdir():
            target.mkdir(parents=True, exist_ok=True)
            os.chmod(target, 0o755)
        elif member.issym():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(member.linkname, target)
            symlinks.append(target)
        elif member.islnk():
            link_source = _strip(member.linkname, strip)
            if link_source is None or not _inside(link_source):
                raise UnsafeArchive(f"hard link {member.name!r} -> {member.linkname!r} escapes")
            links.append((link_source, name))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            assert source is not None
            with source, target.open("wb") as out:
                shutil.copyfileobj(source, out, 1 << 20)
            # Owner bits from the archive, never setuid/setgid, always readable.
            os.chmod(target, 0o755 if member.mode & 0o111 else 0o644)
    for source_name, name in links:
        # Hard links become copies: the exporter stores them as separate files anyway.
        source_path = dest / source_name
        if source_path.is_symlink() or not source_path.is_file():
            raise UnsafeArchive(f"hard link target {source_name!r} is not a regular file")
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source_path, dest / name)
    for link in symlinks:
        if not _within(os.path.realpath(link), root):
            raise UnsafeArchive(f"symlink {link.relative_to(dest)} resolves outside")
