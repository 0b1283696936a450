"""Why two ``.pyc`` files differ, from their PEP 552 headers.

Header (16 bytes): magic (4), flags (4, little-endian), then either the source mtime and size
(flags 0, timestamp-based) or the 8-byte SipHash of the source (bit 0 set; bit 1 = check it).
"""

from __future__ import annotations

import datetime
import struct
from dataclasses import dataclass

from .binary import first_difference

HEADER_SIZE = 16
FLAG_HASH_BASED = 0b01
FLAG_CHECK_SOURCE = 0b10


@dataclass(frozen=True)
class PycHeader:
    magic: int  # the 16-bit magic number (one per bytecode version)
    flags: int
    mtime: int | None  # timestamp-based only
    source_size: int | None  # timestamp-based only
    source_hash: bytes | None  # hash-based only

    @property
    def kind(self) -> str:
        if not self.flags & FLAG_HASH_BASED:
            return "timestamp"
        return "checked-hash" if self.flags & FLAG_CHECK_SOURCE else "unchecked-hash"

    def describe(self) -> str:
        if self.source_hash is not None:
            return f"{self.kind}, source hash {self.source_hash.hex()}"
        assert self.mtime is not None
        moment = datetime.datetime.fromtimestamp(self.mtime, tz=datetime.timezone.utc)
        return f"timestamp, source mtime {moment:%Y-%m-%dT%H:%M:%SZ} size {self.source_size}"


def parse_header(data: bytes) -> PycHeader | None:
    """None when ``data`` is too short or lacks the ``\\r\\n`` that ends every pyc magic."""
    if len(data) < HEADER_SIZE or data[2:4] != b"\r\n":
        return None
    (magic,) = struct.unpack_from("<H", data, 0)
    (flags,) = struct.unpack_from("<I", data, 4)
    if flags & FLAG_HASH_BASED:
        return PycHeader(magic, flags, None, None, data[8:16])
    mtime, size = struct.unpack_from("<II", data, 8)
    return PycHeader(magic, flags, mtime, size, None)


def classify_pyc(a: bytes, b: bytes) -> tuple[str, str] | None:
    """(cause, detail) for two different pycs; None when either is not a pyc."""
    head_a, head_b = parse_header(a), parse_header(b)
    if head_a is None or head_b is None:
        return None
    if head_a.kind == "timestamp" or head_b.kind == "timestamp":
        return "pyc-timestamp", f"A: {head_a.describe()}; B: {head_b.describe()}"
    if (head_a.magic, head_a.flags) != (head_b.magic, head_b.flags):
        return (
            "pyc-header",
            f"A: magic {head_a.magic}, {head_a.describe()}; "
            f"B: magic {head_b.magic}, {head_b.describe()}",
        )
    if head_a.source_hash != head_b.source_hash:
        return "pyc-source-hash", f"A: {head_a.describe()}; B: {head_b.describe()}"
    return (
        "pyc-payload",
        f"{head_a.describe()} in both; marshalled code differs from byte "
        f"{first_difference(a, b)} (sizes {len(a)} and {len(b)})",
    )
