"""Why two zip archives (wheels, eggs, jars) differ: member timestamps, or members themselves.

A zip stores each member's local time (``date_time``, 2-second resolution) and, often, an
"extended timestamp" extra field (id 0x5455, Unix seconds): both leak the build's wall clock.
"""

from __future__ import annotations

import io
import struct
import zipfile

EXTENDED_TIMESTAMP = 0x5455
MAX_EXAMPLES = 5


def is_zip(data: bytes) -> bool:
    return data[:4] in (b"PK\x03\x04", b"PK\x05\x06")


def classify_zip(a: bytes, b: bytes) -> tuple[str, str] | None:
    """(cause, detail), or None when either side is not a readable zip."""
    try:
        with zipfile.ZipFile(io.BytesIO(a)) as za, zipfile.ZipFile(io.BytesIO(b)) as zb:
            infos_a, infos_b = za.infolist(), zb.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError):
        return None
    by_a = {info.filename: info for info in infos_a}
    by_b = {info.filename: info for info in infos_b}
    common = [name for name in by_a if name in by_b]
    stamped = [
        f"{name}: {_stamp(by_a[name])} vs {_stamp(by_b[name])}"
        for name in common
        if _stamp(by_a[name]) != _stamp(by_b[name])
    ]
    changed = [
        name
        for name in common
        if (by_a[name].CRC, by_a[name].file_size) != (by_b[name].CRC, by_b[name].file_size)
    ]
    only_a = [name for name in by_a if name not in by_b]
    only_b = [name for name in by_b if name not in by_a]
    reordered = common != [name for name in by_b if name in by_a]
    content = []
    if only_a:
        content.append(f"only in A: {_examples(only_a)}")
    if only_b:
        content.append(f"only in B: {_examples(only_b)}")
    if changed:
        content.append(f"content differs: {_examples(changed)}")
    if reordered:
        content.append("members are in a different order")
    if stamped:
        detail = f"{len(stamped)} of {len(common)} members: " + "; ".join(stamped[:MAX_EXAMPLES])
        if len(stamped) > MAX_EXAMPLES:
            detail += "; ..."
        return "zip-timestamps", "; also ".join([detail, *content])
    return "zip-content", "; ".join(content) or "same members; the archive bytes differ"


def _stamp(info: zipfile.ZipInfo) -> str:
    """The member's date_time, plus the extended-timestamp mtime when there is one."""
    text = "{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}".format(*info.date_time)
    mtime = _extended_mtime(info.extra)
    return text if mtime is None else f"{text} (extra mtime {mtime})"


def _extended_mtime(extra: bytes) -> int | None:
    pos = 0
    while pos + 4 <= len(extra):
        header_id, size = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4 : pos + 4 + size]
        if header_id == EXTENDED_TIMESTAMP and len(body) >= 5 and body[0] & 1:
            return int(struct.unpack_from("<I", body, 1)[0])
        pos += 4 + size
    return None


def _examples(names: list[str]) -> str:
    shown = ", ".join(names[:MAX_EXAMPLES])
    return shown + (f" (+{len(names) - MAX_EXAMPLES} more)" if len(names) > MAX_EXAMPLES else "")
