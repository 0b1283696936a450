"""Where two byte strings part."""

from __future__ import annotations

_BLOCK = 1 << 16


def first_difference(a: bytes, b: bytes) -> int:
    """Offset of the first differing byte (the shorter length when one is a prefix)."""
    end = min(len(a), len(b))
    start = 0
    while start < end and a[start : start + _BLOCK] == b[start : start + _BLOCK]:
        start += _BLOCK  # skip equal blocks at C speed: shared libraries are megabytes
    return next((i for i in range(start, min(start + _BLOCK, end)) if a[i] != b[i]), end)


def describe_binary(a: bytes, b: bytes) -> str:
    offset = first_difference(a, b)
    return (
        f"sizes {len(a)} and {len(b)}; first difference at byte {offset}: "
        f"A {a[offset : offset + 16].hex(' ') or '(end)'} / "
        f"B {b[offset : offset + 16].hex(' ') or '(end)'}"
    )
