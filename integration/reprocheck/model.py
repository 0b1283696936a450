"""What a comparison finds: one :class:`Difference` per differing thing, each with a cause."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

# Every cause the comparison can name, with the one-line explanation printed in summaries.
CAUSES: dict[str, str] = {
    "only-in-a": "present only in build A",
    "only-in-b": "present only in build B",
    "type": "file type differs (file, dir, symlink, ...)",
    "mode": "permission bits differ",
    "owner": "uid/gid (or user/group name) in the tar header differ",
    "mtime": "mtime in the tar header differs",
    "symlink-target": "symlink points elsewhere",
    "hardlink-target": "hard link points elsewhere",
    "order": "entries are in a different order in the tar",
    "pyc-timestamp": "timestamp-based pyc (PEP 552 flags 0): embeds the source mtime and size",
    "pyc-source-hash": "hash-based pyc of a different source file",
    "pyc-header": "pyc magic number or PEP 552 flags differ",
    "pyc-payload": "same pyc header, different marshalled code",
    "zip-timestamps": "zip/wheel entries carry different timestamps (date_time)",
    "zip-content": "zip/wheel entries differ in names, order or content",
    "elf-debug-path": "build path in debug info: the DWARF names a build directory that differs",
    "elf-data-path": "build path in the program's data (__FILE__ or a path compiled in)",
    "elf-embedded-time": "embedded time: a build date or time in the program (__DATE__, __TIME__)",
    "elf-build-id": "the GNU build-id differs, and no build path or time explains it",
    "elf-sections": "ELF sections differ, with no build path, time or build-id to explain it",
    "ar-member-order": "a static library's members are in a different order",
    "ar-member-times": "static library member headers differ: mtime, uid, gid or mode (no ar D)",
    "text": "text file content differs",
    "binary": "binary file content differs",
    "tar-encoding": "the tar bytes differ but no entry does (header encoding, padding)",
    "layer-missing": "layer present in only one image",
    "layer-order": "layers are in a different order in the image",
    "layer-metadata": "layer [metadata] differs",
    "layer-types": "layer types (launch/build/cache) differ",
    "config": "image config field differs",
}


@dataclass(frozen=True)
class Difference:
    where: str  # layer id ("cnb-python/python:venv"), or "config"
    path: str  # file path inside the layer, or the config key
    cause: str  # a key of CAUSES
    detail: str  # what differs, A then B; may be several lines (a short diff)

    def __post_init__(self) -> None:
        if self.cause not in CAUSES:
            raise ValueError(f"unknown cause {self.cause!r}")

    def as_json(self) -> dict[str, Any]:
        return asdict(self)
