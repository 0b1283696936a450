"""Text files: recognising them and a short unified diff."""

from __future__ import annotations

import difflib

MAX_DIFF_LINES = 20
MAX_LINE = 200


def as_text(data: bytes) -> str | None:
    """The decoded text, or None for binary data (NUL bytes or not UTF-8)."""
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def short_diff(a: str, b: str, *, label_a: str = "A", label_b: str = "B") -> str:
    """A unified diff with one line of context, cut to MAX_DIFF_LINES lines."""
    lines = list(
        difflib.unified_diff(
            a.splitlines(), b.splitlines(), fromfile=label_a, tofile=label_b, n=1, lineterm=""
        )
    )
    shown = [_clip(line) for line in lines[:MAX_DIFF_LINES]]
    if len(lines) > MAX_DIFF_LINES:
        shown.append(f"... ({len(lines) - MAX_DIFF_LINES} more diff lines)")
    return "\n".join(shown)


def _clip(line: str) -> str:
    return line if len(line) <= MAX_LINE else line[:MAX_LINE] + "..."
