"""A tar writer that encodes headers byte for byte as Go's archive/tar Writer does, so a layer we
write has the diffID of the one pack writes (pack is Go; Python's tarfile differs: it adds a '/'
to directory names, never splits long names into the USTAR prefix in PAX mode, and pads the
archive to 10 KiB records).

The rules, from golang/go src/archive/tar (writer.go, common.go, strconv.go, format.go), are
written down in docs/distribution.md. Only what a buildpack layer holds is supported: regular
files, directories and symlinks, owned by 0:0 with empty user and group names, whole-second
times. A header whose fields need the GNU format (which Go only picks when neither USTAR nor PAX
can hold it) raises TarEncodingError, as does any header Go itself refuses.
"""

from __future__ import annotations

import enum
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO

BLOCK = 512
NAME_SIZE = 100
PREFIX_SIZE = 155
REG, SYMLINK, DIR, PAX_HEADER = b"0", b"2", b"5", b"x"
_HEADER_ONLY = frozenset({b"1", SYMLINK, b"3", b"4", DIR, b"6"})
# PAX keys with a field of their own in Header (common.go basicKeys).
_BASIC_KEYS = frozenset({b"path", b"linkpath", b"size", b"uid", b"gid", b"uname", b"gname"})
_BASIC_KEYS |= {b"mtime", b"atime", b"ctime"}
_CHUNK = 1 << 20


class Format(enum.Enum):
    UNKNOWN = "unknown"
    USTAR = "USTAR"
    PAX = "PAX"
    GNU = "GNU"


class TarEncodingError(ValueError):
    """A header Go's archive/tar refuses to write (so pack would fail on it too)."""


@dataclass
class Header:
    """The fields of Go's tar.Header that a buildpack layer uses. `format` and `pax_records`
    are what tar.Reader returns for an entry read back from a tar (pack rewrites such headers)."""

    name: bytes
    typeflag: bytes
    mode: int
    mtime: int
    size: int = 0
    linkname: bytes = b""
    format: Format = Format.UNKNOWN
    pax_records: Mapping[bytes, bytes] = field(default_factory=dict)


def is_ascii(value: bytes) -> bool:
    """strconv.go isASCII: no NUL and no byte (rune) >= 0x80."""
    return all(0 < byte < 0x80 for byte in value)


def _to_ascii(value: bytes) -> bytes:
    # Dropping every byte >= 0x80 drops exactly the non-ASCII runes (and invalid bytes) of UTF-8.
    return bytes(byte for byte in value if 0 < byte < 0x80)


def _fits_octal(size: int, value: int) -> bool:
    return value >= 0 and (size >= 22 or value < 1 << ((size - 1) * 3))


def split_ustar_path(name: bytes) -> tuple[bytes, bytes] | None:
    """writer.go splitUSTARPath: (prefix, suffix) when a long ASCII name fits the two fields."""
    length = len(name)
    if length <= NAME_SIZE or not is_ascii(name):
        return None
    if length > PREFIX_SIZE + 1:
        length = PREFIX_SIZE + 1
    elif name[length - 1 : length] == b"/":
        length -= 1
    i = name.rfind(b"/", 0, length)
    suffix_length, prefix_length = len(name) - i - 1, i
    if i <= 0 or suffix_length > NAME_SIZE or suffix_length == 0 or prefix_length > PREFIX_SIZE:
        return None
    return name[:i], name[i + 1 :]


def go_clean(name: bytes) -> bytes:
    """path.Clean for the names we handle (posixpath keeps a leading '//', Go does not)."""
    cleaned = posixpath.normpath(name)
    return b"/" + cleaned.lstrip(b"/") if cleaned.startswith(b"//") else cleaned


def allowed_formats(header: Header) -> tuple[set[Format], dict[bytes, bytes]]:
    """common.go Header.allowedFormats, for our fields: the formats that can hold `header`, and
    the PAX records it needs. Raises TarEncodingError where Go returns an error."""
    formats = {Format.USTAR, Format.PAX, Format.GNU}
    pax: dict[bytes, bytes] = {}
    why: list[str] = []
    records = header.pax_records

    def verify_string(value: bytes, size: int, what: str, key: bytes) -> None:
        too_long = len(value) > size
        if b"\0" in value or (too_long and key not in (b"path", b"linkpath")):
            formats.discard(Format.GNU)
        if not is_ascii(value) or too_long:
            if key != b"path" or split_ustar_path(value) is None:
                why.append(f"USTAR cannot encode {what}={value!r}")
                formats.discard(Format.USTAR)
            pax[key] = value
        if records.get(key) == value:
            pax[key] = value

    def verify_numeric(value: int, size: int, what: str, key: bytes | None) -> None:
        if not _fits_octal(size, value):
            why.append(f"USTAR cannot encode {what}={value}")
            formats.discard(Format.USTAR)
            if key is None:
                formats.discard(Format.PAX)
            else:
                pax[key] = str(value).encode()
        if key is not None and records.get(key) == str(value).encode():
            pax[key] = str(value).encode()

    verify_string(header.name, NAME_SIZE, "Name", b"path")
    verify_string(header.linkname, NAME_SIZE, "Linkname", b"linkpath")
    verify_numeric(header.mode, 8, "Mode", None)
    verify_numeric(header.size, 12, "Size", b"size")
    verify_numeric(header.mtime, 12, "ModTime", b"mtime")
    if header.typeflag == REG and header.name.endswith(b"/"):
        raise TarEncodingError(
            "archive/tar: cannot encode header: filename may not have trailing slash"
        )
    if records:
        for key, value in records.items():
            if key not in pax and key not in _BASIC_KEYS and not key.startswith(b"GNU.sparse."):
                pax[key] = value
        why.append("only PAX supports PAXRecords")
        formats &= {Format.PAX}
    for key, value in pax.items():
        if not key or b"=" in key or (key in (b"path", b"linkpath") and b"\0" in value):
            raise TarEncodingError(f"archive/tar: cannot encode header: invalid PAX record {key!r}")
    if header.format is not Format.UNKNOWN:
        wanted = {header.format}
        if header.format is Format.PAX:
            wanted.add(Format.USTAR)  # PAX implies USTAR allowed too (no sub-second times here)
        formats &= wanted
        if not formats:
            raise TarEncodingError(
                "archive/tar: cannot encode header: "
                + "; and ".join([f"Format specifies {header.format.value}", *why])
            )
    return formats, pax


class GoTarWriter:
    """tar.NewWriter(out): WriteHeader, the file's bytes, and Close (two zero blocks)."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out

    def add(self, header: Header, data: IO[bytes] | None = None) -> None:
        formats, pax = allowed_formats(header)
        if Format.USTAR in formats:
            self._write_ustar(header)
        elif Format.PAX in formats:
            self._write_pax(header, pax)
        else:
            raise TarEncodingError(
                f"{header.name!r} would need the GNU format, which we never write"
            )
        if header.typeflag in _HEADER_ONLY or not header.size:
            return
        if data is None:
            raise ValueError(f"{header.name!r}: {header.size} bytes announced, none given")
        written = 0
        while chunk := data.read(min(_CHUNK, header.size - written)):
            self._out.write(chunk)
            written += len(chunk)
        if written != header.size:
            raise ValueError(f"{header.name!r}: {written} bytes instead of {header.size}")
        self._out.write(bytes(-written % BLOCK))

    def close(self) -> None:
        self._out.write(bytes(2 * BLOCK))

    def _write_ustar(self, header: Header) -> None:
        name, prefix = header.name, b""
        split = split_ustar_path(header.name)
        if split is not None:
            prefix, name = split
        block = _template(header, name, ascii_only=False)
        _format_string(block, 345, 155, prefix)
        self._out.write(_finish(block))

    def _write_pax(self, header: Header, pax: Mapping[bytes, bytes]) -> None:
        if pax:
            data = b"".join(_pax_record(key, pax[key]) for key in sorted(pax))
            # path.Join(path.Split(name)[0], "PaxHeaders.0", path.Split(name)[1])
            directory, slash, base = header.name.rpartition(b"/")
            parts = [part for part in (directory + slash, b"PaxHeaders.0", base) if part]
            name = _to_ascii(go_clean(b"/".join(parts)))[:NAME_SIZE].rstrip(b"/")
            block = bytearray(BLOCK)
            block[156:157] = PAX_HEADER
            _format_string(block, 0, 100, name)
            fields = ((100, 8, 0), (108, 8, 0), (116, 8, 0), (124, 12, len(data)), (136, 12, 0))
            for offset, size, value in fields:  # mode, uid, gid, size, mtime
                _format_octal(block, offset, size, value)
            self._out.write(_finish(block))
            self._out.write(data + bytes(-len(data) % BLOCK))
        self._out.write(_finish(_template(header, header.name, ascii_only=True)))


def _template(header: Header, name: bytes, *, ascii_only: bool) -> bytearray:
    """writer.go templateV7Plus: the V7 fields plus uname, gname and the device numbers."""
    text = _to_ascii if ascii_only else (lambda value: value)
    block = bytearray(BLOCK)
    block[156:157] = header.typeflag
    _format_string(block, 0, 100, text(name))
    _format_string(block, 157, 100, text(header.linkname))
    for offset, size, value in (
        (100, 8, header.mode), (108, 8, 0), (116, 8, 0), (124, 12, header.size),
        (136, 12, header.mtime), (329, 8, 0), (337, 8, 0),
    ):  # fmt: skip
        _format_octal(block, offset, size, value)
    # uname (265) and gname (297) are empty: formatString writes a single NUL, already there.
    return block


def _format_string(block: bytearray, offset: int, size: int, value: bytes) -> None:
    """strconv.go formatString: copy, NUL-terminate when shorter, and never leave a trailing
    '/' at the end of a truncated name (some readers would take a file for a directory)."""
    block[offset : offset + min(len(value), size)] = value[:size]
    if len(value) < size:
        block[offset + len(value)] = 0
    if len(value) > size and block[offset + size - 1] == ord("/"):
        block[offset + len(value[: size - 1].rstrip(b"/"))] = 0


def _format_octal(block: bytearray, offset: int, size: int, value: int) -> None:
    if not _fits_octal(size, value):
        value = 0  # Go writes zero when a PAX record carries the real value
    _format_string(block, offset, size, f"{value:o}".rjust(size - 1, "0").encode())


def _finish(block: bytearray) -> bytes:
    """format.go setFormat for USTAR and PAX: the magic, then the checksum (NUL, space)."""
    block[257:263] = b"ustar\0"
    block[263:265] = b"00"
    checksum = sum(block[:148]) + 8 * ord(" ") + sum(block[156:])
    _format_octal(block, 148, 7, checksum)
    block[155] = ord(" ")
    return bytes(block)


def _pax_record(key: bytes, value: bytes) -> bytes:
    """strconv.go formatPAXRecord: '<size> <key>=<value>\\n', size counting its own digits."""
    size = len(key) + len(value) + 3
    size += len(str(size))
    record = b"%d %s=%s\n" % (size, key, value)
    if len(record) != size:
        record = b"%d %s=%s\n" % (len(record), key, value)
    return record
