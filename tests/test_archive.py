import io
import os
import tarfile
from pathlib import Path

import pytest

from cnb_python.archive import extract_tarball
from cnb_python.errors import UserError


def make_tar(path: Path, members: list[tuple[str, str, str | bytes]]) -> Path:
    """members: (kind, name, payload) with kind file|dir|symlink|hardlink|fifo."""
    with tarfile.open(path, "w:gz") as tar:
        for kind, name, payload in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                data = payload.encode() if isinstance(payload, str) else payload
                info.size = len(data)
                info.mode = 0o755 if name.endswith(".sh") else 0o644
                tar.addfile(info, io.BytesIO(data))
                continue
            if kind == "dir":
                info.type = tarfile.DIRTYPE
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, str(payload)
            elif kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, str(payload)
            elif kind == "fifo":
                info.type = tarfile.FIFOTYPE
            tar.addfile(info)
    return path


def test_extracts_stripping_the_top_directory(tmp_path):
    archive = make_tar(
        tmp_path / "a.tgz",
        [
            ("dir", "python", ""),
            ("dir", "python/bin", ""),
            ("file", "python/bin/run.sh", "#!/bin/sh\n"),
            ("symlink", "python/bin/python3", "python3.12"),
            ("file", "python/lib/data.txt", "hello"),
            ("hardlink", "python/lib/copy.txt", "python/lib/data.txt"),
        ],
    )
    dest = tmp_path / "layer"
    dest.mkdir()
    extract_tarball(archive, dest, strip_components=1, what="test")
    assert os.readlink(dest / "bin/python3") == "python3.12"
    assert (dest / "bin/run.sh").stat().st_mode & 0o777 == 0o755
    assert (dest / "lib/data.txt").stat().st_mode & 0o777 == 0o644
    # Hard links become independent copies.
    assert (dest / "lib/copy.txt").read_text() == "hello"
    assert (dest / "lib/copy.txt").stat().st_ino != (dest / "lib/data.txt").stat().st_ino


@pytest.mark.parametrize(
    "members",
    [
        [("file", "/etc/evil", "x")],
        [("file", "python/../../evil", "x")],
        [("symlink", "python/link", "/etc/passwd")],
        [("symlink", "python/link", "../../outside")],
        [("hardlink", "python/h", "/etc/passwd")],
        [("fifo", "python/pipe", "")],
        # A chain: each link looks inside on its own, together they reach out of the layer.
        [
            ("dir", "python/d1/d2", ""),
            ("symlink", "python/d1/d2/up", "../.."),
            ("symlink", "python/d1/d2/out", "up/.."),
        ],
        [("symlink", "python/here", "."), ("file", "python/here/../../x", "x")],
    ],
)
def test_refuses_unsafe_members(tmp_path, members):
    archive = make_tar(tmp_path / "bad.tgz", members)
    dest = tmp_path / "layer"
    dest.mkdir()
    with pytest.raises(UserError) as e:
        extract_tarball(archive, dest, strip_components=1, what="CPython 3.12.4")
    assert e.value.title == "Unable to unpack CPython 3.12.4"
    assert not (tmp_path / "evil").exists() and not (tmp_path / "x").exists()


def test_truncated_archive_is_a_titled_error(tmp_path):
    archive = make_tar(tmp_path / "a.tgz", [("file", "python/big", os.urandom(200_000))])
    archive.write_bytes(archive.read_bytes()[:5000])
    dest = tmp_path / "layer"
    dest.mkdir()
    with pytest.raises(UserError, match="Unable to unpack"):
        extract_tarball(archive, dest, strip_components=1, what="x")
