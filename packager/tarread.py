"""A tar reader that reports names as Go's archive/tar Reader does: raw, trailing '/' kept (Python's
tarfile strips it from directories, and pack's ToNLayerTar looks at the raw name), PAX and GNU
long-name records applied, checksums checked (format.go getFormat), end at two zero blocks or at
a clean end of input, and a short read anywhere else an error.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

BLOCK = 512


class TarReadError(ValueError):
    pass


@dataclass(frozen=True)
class RawHeader:
    name: str
    typeflag: str
    mode: int
    uid: int
    gid: int
    uname: str
    gname: str
    mtime: int
    size: int
    linkname: str


def _string(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _number(field: bytes) -> int:
    if field and field[0] & 0x80:  # base-256 (GNU)
        value = int.from_bytes(bytes([field[0] & 0x7F]) + field[1:], "big")
        return value - (1 << (8 * len(field) - 1)) if field[0] & 0x40 else value
    text = field.strip(b" \0").split(b"\0", 1)[0]
    try:
        return int(text, 8) if text else 0
    except ValueError:
        raise TarReadError(f"bad number field {field!r}") from None


def _read_exact(f: IO[bytes], n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = f.read(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def _pax_records(data: bytes) -> dict[str, str]:
    records: dict[str, str] = {}
    while data:
        size_text = data.partition(b" ")[0]
        try:
            size = int(size_text)
        except ValueError:
            raise TarReadError("bad PAX record") from None
        record, data = data[len(size_text) + 1 : size], data[size:]
        key, _, value = record.rstrip(b"\n").partition(b"=")
        records[key.decode()] = value.decode("utf-8", "surrogateescape")
    return records


def headers(f: IO[bytes]) -> Iterator[RawHeader]:
    """Each entry's header in order; the caller need not read the data (it is skipped)."""
    pax: dict[str, str] = {}
    long_name = long_link = None
    while True:
        block = _read_exact(f, BLOCK)
        if not block:
            return  # a clean end of input, as Go accepts
        if len(block) < BLOCK:
            raise TarReadError("unexpected end of data in a header")
        if block == bytes(BLOCK):
            following = _read_exact(f, BLOCK)
            if not following or following == bytes(BLOCK):
                return
            raise TarReadError("a zero block followed by a header")
        chksum = _number(block[148:156])
        unsigned = sum(block[:148]) + 8 * 32 + sum(block[156:])
        signed = unsigned - 2 * sum(b for b in block if b >= 0x80)
        if chksum not in (unsigned, signed):
            raise TarReadError("header checksum mismatch")
        typeflag = chr(block[156]) if block[156] else "0"
        size = int(pax["size"]) if "size" in pax else _number(block[124:136])
        data_size = 0 if typeflag in "123456" else size
        if typeflag in ("x", "g", "L", "K"):
            data = _read_exact(f, data_size)
            if len(data) < data_size:
                raise TarReadError("unexpected end of data")
            _skip(f, -data_size % BLOCK)
            if typeflag == "x":
                pax = _pax_records(data)
            elif typeflag == "L":
                long_name = _string(data)
            elif typeflag == "K":
                long_link = _string(data)
            continue
        name = _string(block[:100])
        prefix = _string(block[345:500]) if block[257:263] == b"ustar\0" else ""
        if prefix:
            name = f"{prefix}/{name}"
        yield RawHeader(
            name=pax.get("path") or long_name or name,
            typeflag=typeflag,
            mode=_number(block[100:108]),
            uid=int(pax.get("uid") or _number(block[108:116])),
            gid=int(pax.get("gid") or _number(block[116:124])),
            uname=pax.get("uname", _string(block[265:297])),
            gname=pax.get("gname", _string(block[297:329])),
            mtime=int(float(pax.get("mtime") or _number(block[136:148]))),
            size=size,
            linkname=pax.get("linkpath") or long_link or _string(block[157:257]),
        )
        pax, long_name, long_link = {}, None, None
        _skip(f, data_size + (-data_size % BLOCK))


def _skip(f: IO[bytes], n: int) -> None:
    while n > 0:
        chunk = f.read(min(n, 1 << 20))
        if not chunk:
            raise TarReadError("unexpected end of data")
        n -= len(chunk)
