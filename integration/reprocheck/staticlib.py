"""Why two static libraries (`ar` archives, "!<arch>\\n") differ: their members' order, the
times, owners or modes in the member headers (`ar` without D), or a member's contents (named
with the ELF cause when it is an object file).

Member header (60 bytes): name 16, mtime 12, uid 6, gid 6, mode 8 (octal), size 10, "`\\n".
"""

from __future__ import annotations

from dataclasses import dataclass

from .elf import classify_elf, is_elf

MAGIC = b"!<arch>\n"
HEADER = 60
# Special members: the symbol index ("/", "/SYM64/") and the long-name table ("//").
_INDEX_NAMES = ("/", "/SYM64/", "//")


@dataclass(frozen=True)
class Member:
    name: str
    mtime: str
    uid: str
    gid: str
    mode: str
    data: bytes

    def stamp(self) -> str:
        return f"mtime {self.mtime} uid {self.uid} gid {self.gid} mode {self.mode}"


def is_archive(data: bytes) -> bool:
    return data.startswith(MAGIC)


def members(data: bytes) -> list[Member] | None:
    """The members, in order; None when the headers do not hold together."""
    found, offset = [], len(MAGIC)
    try:
        while offset + HEADER <= len(data):
            header = data[offset : offset + HEADER].decode("ascii")
            if header[58:60] != "`\n":
                return None
            size = int(header[48:58])
            body = data[offset + HEADER : offset + HEADER + size]
            fields = [header[start:end].strip() for start, end in ((16, 28), (28, 34), (34, 40))]
            name = header[:16].strip()
            if not name.startswith("/"):  # GNU ends a short name with "/"; "/123": a long one
                name = name.removesuffix("/")
            found.append(Member(name, *fields, header[40:48].strip(), body))
            offset += HEADER + size + size % 2
    except (UnicodeDecodeError, ValueError):
        return None
    return found


def classify_archive(a: bytes, b: bytes) -> tuple[str, str] | None:
    """(cause, detail) for two different archives; None when either is not one."""
    members_a, members_b = members(a), members(b)
    if members_a is None or members_b is None:
        return None
    names_a = [m.name for m in members_a if m.name not in _INDEX_NAMES]
    names_b = [m.name for m in members_b if m.name not in _INDEX_NAMES]
    if names_a != names_b and sorted(names_a) == sorted(names_b):
        return "ar-member-order", f"A {' '.join(names_a)}; B {' '.join(names_b)}"
    pairs = list(zip(members_a, members_b))
    # An object's header first: the symbol index's mtime is the archive's time.
    for one, other in sorted(pairs, key=lambda pair: pair[0].name in _INDEX_NAMES):
        if one.stamp() != other.stamp():
            what = "the symbol index" if one.name in _INDEX_NAMES else f"member {one.name}"
            return "ar-member-times", f"{what}: A {one.stamp()}; B {other.stamp()}"
    for one, other in pairs:
        if one.data != other.data and one.name not in _INDEX_NAMES and is_elf(one.data):
            found = classify_elf(one.data, other.data)
            if found:
                return found[0], f"in member {one.name}: {found[1]}"
    return None
