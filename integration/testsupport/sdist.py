"""A source tree packed as an sdist (<name>-<version>.tar.gz with PKG-INFO), byte for byte the
same each time, for sample apps that need pip to build in its own temp directory (a local
directory is built in place): samples/pip-native/sdist/ is made from samples/pip-native/handbuilt/.

usage: python -m testsupport.sdist SOURCE_DIR DEST_DIR
"""

from __future__ import annotations

import gzip
import io
import sys
import tarfile
from pathlib import Path

from testsupport.cpython import REPO_ROOT

if str(REPO_ROOT / "vendor") not in sys.path:
    sys.path.append(str(REPO_ROOT / "vendor"))

import tomli

MTIME = 315532800  # 1980-01-01


def sdist_name(source: Path) -> str:
    project = tomli.loads((source / "pyproject.toml").read_text())["project"]
    return f"{project['name']}-{project['version']}"


def sdist_members(source: Path) -> dict[str, bytes]:
    """Every file of the sdist by its name in the archive, PKG-INFO included."""
    project = tomli.loads((source / "pyproject.toml").read_text())["project"]
    base = sdist_name(source)
    members = {
        f"{base}/PKG-INFO": (
            "Metadata-Version: 2.1\n"
            f"Name: {project['name']}\n"
            f"Version: {project['version']}\n"
            f"Summary: {project.get('description', '')}\n"
        ).encode()
    }
    for path in sorted(source.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            members[f"{base}/{path.relative_to(source).as_posix()}"] = path.read_bytes()
    return dict(sorted(members.items()))


def write_sdist(source: Path, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / f"{sdist_name(source)}.tar.gz"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, data in sdist_members(source).items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), MTIME, 0o644
            archive.addfile(info, io.BytesIO(data))
    with target.open("wb") as raw, gzip.GzipFile("", "wb", fileobj=raw, mtime=0) as packed:
        packed.write(buffer.getvalue())
    return target


def read_sdist(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as archive:
        return {
            member.name: archive.extractfile(member).read()  # type: ignore[union-attr]
            for member in archive.getmembers()
            if member.isfile()
        }


if __name__ == "__main__":
    print(write_sdist(Path(sys.argv[1]), Path(sys.argv[2])))
