"""The cause of a content difference between two versions of one file."""

from __future__ import annotations

from .binary import describe_binary
from .elf import classify_elf, is_elf
from .pyc import classify_pyc
from .staticlib import classify_archive, is_archive
from .text import as_text, short_diff
from .zips import classify_zip, is_zip


def classify_content(name: str, a: bytes, b: bytes) -> tuple[str, str]:
    """(cause, detail) for two different contents of the file ``name``."""
    if name.endswith(".pyc"):
        found = classify_pyc(a, b)
        if found:
            return found
    if is_elf(a) and is_elf(b):
        found = classify_elf(a, b)
        if found:
            return found
    if is_archive(a) and is_archive(b):
        found = classify_archive(a, b)
        if found:
            return found
    if is_zip(a) and is_zip(b):
        found = classify_zip(a, b)
        if found:
            return found
    text_a, text_b = as_text(a), as_text(b)
    if text_a is not None and text_b is not None:
        diff = short_diff(text_a, text_b)
        return "text", diff or "differs only in line endings or the final newline"
    return "binary", describe_binary(a, b)
