"""Launch layer size against a floor, both as the sum of regular-file sizes (the bytes an app
needs on disk; tar headers and padding left out).

floor = files of the CPython tarball the buildpack downloads (which has no bytecode), minus pip
      + files of a raw venv's site-packages as pip leaves it (with pip's timestamp pycs), minus
        pip. Our image carries no pip (it is a build-only layer), so neither does the floor.
"""

from __future__ import annotations

import os
import re
import tarfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from localcnb import Image

_PIP = re.compile(r"^pip(\d[\d.]*)?$|^pip-[^-]+\.dist-info$")


def is_pip(name: str) -> bool:
    """A path of pip itself: its package, dist-info or console scripts."""
    parts = PurePosixPath(name).parts
    return any(
        _PIP.match(part) and parent in ("site-packages", "bin")
        for parent, part in zip(parts, parts[1:])
    )


def tar_file_bytes(path: Path, skip: Callable[[str], bool] = lambda name: False) -> int:
    """Regular-file bytes in a tarball (plain or gzipped)."""
    with tarfile.open(path) as tar:
        return sum(m.size for m in tar if m.isreg() and not skip(m.name))


def cpython_floor_bytes(tarball: Path) -> int:
    return tar_file_bytes(tarball, is_pip)


def launch_layer_bytes(image: Image) -> dict[str, dict[str, int]]:
    """Files and bytecode bytes per buildpack launch layer (not the SBOM or app layers)."""
    return {
        ident: {
            "files": tar_file_bytes(layer.tar),
            "pyc": tar_file_bytes(layer.tar, lambda name: not name.endswith(".pyc")),
        }
        for ident, layer in image.layers.items()
        if layer.types.get("launch")
    }


def site_packages_bytes(site: Path) -> int:
    total = 0
    for directory, dirnames, filenames in os.walk(site):
        if Path(directory) == site:
            dirnames[:] = [name for name in dirnames if not _PIP.match(name)]
        for name in filenames:
            path = Path(directory, name)
            if not path.is_symlink():
                total += path.stat().st_size
    return total
