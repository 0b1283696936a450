"""Why two ELF files (shared libraries, programs, objects) differ: a build path in the debug info
or in the data, an embedded build time, a build-id alone, or which sections.

Only the section table is read (32/64-bit, either byte order); SHF_COMPRESSED zlib sections are
inflated. Strings are runs of printable bytes, as `strings` finds them: DWARF keeps directory and
file names as NUL-terminated strings (.debug_str, .debug_line_str, .debug_line, .debug_info).
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass

MAGIC = b"\x7fELF"
SHT_NOBITS = 8
SHF_COMPRESSED = 0x800
ELFCOMPRESS_ZLIB = 1
BUILD_ID_SECTION = ".note.gnu.build-id"
SHOWN = 3  # differing strings shown per build

_STRING = re.compile(rb"[\x20-\x7e]{4,}")
# An absolute path of two or more parts, wherever it starts in a string.
_PATH = re.compile(r"(?<![\w./-])/[\w.+@~-]+(?:/[\w.+@~-]+)+")
# __DATE__ ("Dec  3 2025"), __TIME__ ("08:01:02"), and ISO dates with a time.
_TIME = re.compile(
    r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 0-3]\d \d{4}\b"
    r"|\b[0-2]\d:[0-5]\d:[0-6]\d\b"
    r"|\b\d{4}-[01]\d-[0-3]\d[T ][0-2]\d:[0-5]\d"
)


@dataclass(frozen=True)
class Elf:
    sections: dict[str, bytes]  # name -> contents (inflated); NOBITS sections are empty

    @property
    def build_id(self) -> str | None:
        note = self.sections.get(BUILD_ID_SECTION)
        if note is None or len(note) < 12:
            return None
        namesz, descsz = struct.unpack_from("<II", note, 0)
        if namesz > 64 or descsz > 64:  # big-endian file: the sizes read byte-swapped
            namesz, descsz = struct.unpack_from(">II", note, 0)
        start = 12 + (namesz + 3) // 4 * 4
        return note[start : start + descsz].hex() or None


def is_elf(data: bytes) -> bool:
    return data[:4] == MAGIC


def parse(data: bytes) -> Elf | None:
    """The sections of an ELF file, or None when its headers do not hold together."""
    try:
        return _parse(data)
    except (struct.error, IndexError, ValueError, zlib.error):
        return None


def _parse(data: bytes) -> Elf | None:
    if not is_elf(data) or data[4] not in (1, 2) or data[5] not in (1, 2):
        return None
    wide = data[4] == 2
    order = "<" if data[5] == 1 else ">"
    if wide:
        (shoff,) = struct.unpack_from(order + "Q", data, 0x28)
        entsize, count, names_index = struct.unpack_from(order + "HHH", data, 0x3A)
        header = order + "IIQQQQ"  # name, type, flags, addr, offset, size
    else:
        (shoff,) = struct.unpack_from(order + "I", data, 0x20)
        entsize, count, names_index = struct.unpack_from(order + "HHH", data, 0x2E)
        header = order + "IIIIII"
    if not shoff or not count or names_index >= count:
        return None
    raw = []
    for index in range(count):
        name, kind, flags, _, offset, size = struct.unpack_from(
            header, data, shoff + index * entsize
        )
        contents = b"" if kind == SHT_NOBITS else data[offset : offset + size]
        if flags & SHF_COMPRESSED:
            contents = _inflate(contents, wide, order)
        raw.append((name, contents))
    names = raw[names_index][1]
    sections = {}
    for name, contents in raw:
        end = names.index(b"\0", name)
        sections[names[name:end].decode("latin-1")] = contents
    return Elf(sections)


def _inflate(contents: bytes, wide: bool, order: str) -> bytes:
    """An SHF_COMPRESSED section (Elf_Chdr, then the stream); a zstd one stays as it is."""
    (kind,) = struct.unpack_from(order + "I", contents, 0)
    if kind != ELFCOMPRESS_ZLIB:
        return contents
    return zlib.decompress(contents[24 if wide else 12 :])


def strings(contents: bytes) -> set[str]:
    return {match.decode("ascii") for match in _STRING.findall(contents)}


def _is_debug(name: str) -> bool:
    return name.startswith((".debug", ".zdebug"))


def _differing_strings(a: Elf, b: Elf, debug: bool) -> tuple[set[str], set[str]]:
    def collect(elf: Elf) -> set[str]:
        found: set[str] = set()
        for name, contents in elf.sections.items():
            if _is_debug(name) == debug and name != BUILD_ID_SECTION:
                found |= strings(contents)
        return found

    in_a, in_b = collect(a), collect(b)
    return in_a - in_b, in_b - in_a


def _paths(texts: set[str]) -> list[str]:
    """Paths in the strings, outermost only: a build directory stands for the files below it,
    which are counted ("/tmp/pip-req-build-x (and 3 paths below)")."""
    found = sorted({match for text in texts for match in _PATH.findall(text)})
    outermost: list[str] = []
    for path in found:  # sorted: a directory comes before the paths below it
        if not any(path.startswith(f"{outer}/") for outer in outermost):
            outermost.append(path)
    below = {outer: sum(p.startswith(f"{outer}/") for p in found) for outer in outermost}
    return [
        f"{outer} (and {below[outer]} paths below)" if below[outer] else outer
        for outer in outermost
    ]


def _times(texts: set[str]) -> list[str]:
    return sorted({text for text in texts if _TIME.search(text)})


def _shown(items: list[str]) -> str:
    more = f" (and {len(items) - SHOWN} more)" if len(items) > SHOWN else ""
    return ", ".join(items[:SHOWN]) + more


def _pair(what: str, a: list[str], b: list[str]) -> str:
    return f"{what}: A {_shown(a) or '(none)'}; B {_shown(b) or '(none)'}"


def differing_sections(a: Elf, b: Elf) -> list[str]:
    names = sorted(set(a.sections) | set(b.sections))
    return [name for name in names if a.sections.get(name) != b.sections.get(name)]


def classify_elf(data_a: bytes, data_b: bytes) -> tuple[str, str] | None:
    """(cause, detail) for two different ELF files; None when either is not one."""
    a, b = parse(data_a), parse(data_b)
    if a is None or b is None:
        return None
    ids = ""
    if a.build_id != b.build_id:
        ids = f"\nso the build-id differs too: A {a.build_id}; B {b.build_id}"
    debug_a, debug_b = _differing_strings(a, b, debug=True)
    paths_a, paths_b = _paths(debug_a), _paths(debug_b)
    if paths_a or paths_b:
        return "elf-debug-path", _pair("build path in debug info", paths_a, paths_b) + ids
    data_a_only, data_b_only = _differing_strings(a, b, debug=False)
    paths_a, paths_b = _paths(data_a_only), _paths(data_b_only)
    if paths_a or paths_b:
        return "elf-data-path", _pair("build path in the program's data", paths_a, paths_b) + ids
    times_a, times_b = _times(data_a_only | debug_a), _times(data_b_only | debug_b)
    if times_a or times_b:
        return "elf-embedded-time", _pair("embedded time", times_a, times_b) + ids
    others = [name for name in differing_sections(a, b) if name != BUILD_ID_SECTION]
    if a.build_id != b.build_id:
        what = (
            f"other differing sections: {', '.join(others)}"
            if others
            else "no other section differs: the build-id does not derive from the contents "
            "(a random one, as --build-id=uuid gives)"
        )
        return "elf-build-id", f"build-id: A {a.build_id}; B {b.build_id}; {what}"
    return "elf-sections", f"differing sections: {', '.join(others) or '(none: headers only)'}"
