"""reprocheck's content classifiers on their own: PEP 552 headers, zip timestamps, diffs, bytes."""

from __future__ import annotations

import io
import py_compile
import struct
import zipfile
from pathlib import Path

import pytest
from reprocheck.binary import first_difference
from reprocheck.content import classify_content
from reprocheck.pyc import parse_header
from reprocheck.text import MAX_DIFF_LINES, short_diff


@pytest.mark.parametrize(
    ("mode", "kind"),
    [
        (py_compile.PycInvalidationMode.TIMESTAMP, "timestamp"),
        (py_compile.PycInvalidationMode.CHECKED_HASH, "checked-hash"),
        (py_compile.PycInvalidationMode.UNCHECKED_HASH, "unchecked-hash"),
    ],
)
def test_pep_552_header_kinds(
    tmp_path: Path, mode: py_compile.PycInvalidationMode, kind: str
) -> None:
    source = tmp_path / "m.py"
    source.write_text("x = 1\n")
    data = Path(py_compile.compile(str(source), invalidation_mode=mode)).read_bytes()
    header = parse_header(data)
    assert header is not None and header.kind == kind
    if kind == "timestamp":
        assert header.mtime == int(source.stat().st_mtime) and header.source_size == 6
    else:
        assert header.source_hash is not None and len(header.source_hash) == 8


def test_not_a_pyc_falls_back_to_text() -> None:
    assert parse_header(b"short") is None
    assert classify_content("x.pyc", b"not a pyc at all, just text", b"other text")[0] == "text"


def test_zip_extended_timestamp_is_found_when_date_time_agrees() -> None:
    def wheel(mtime: int) -> bytes:
        info = zipfile.ZipInfo("m.py", date_time=(2020, 1, 1, 0, 0, 0))
        info.extra = struct.pack("<HHBI", 0x5455, 5, 1, mtime)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(info, b"x = 1\n")
        return buffer.getvalue()

    cause, detail = classify_content("w.whl", wheel(1700000000), wheel(1700000099))
    assert cause == "zip-timestamps"
    assert "(extra mtime 1700000000) vs 2020-01-01 00:00:00 (extra mtime 1700000099)" in detail


def test_zip_member_order_is_named() -> None:
    def archive(names: list[str]) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as out:
            for name in names:
                out.writestr(zipfile.ZipInfo(name), b"")
        return buffer.getvalue()

    assert classify_content("a.zip", archive(["a", "b"]), archive(["b", "a"])) == (
        "zip-content",
        "members are in a different order",
    )


def test_short_diff_is_cut() -> None:
    a = "\n".join(f"line {i}" for i in range(100))
    b = "\n".join(f"LINE {i}" for i in range(100))
    lines = short_diff(a, b).splitlines()
    assert len(lines) == MAX_DIFF_LINES + 1
    assert lines[-1].startswith("... (") and lines[-1].endswith(" more diff lines)")


def test_final_newline_only_difference_is_still_named() -> None:
    assert classify_content("f.txt", b"x\n", b"x") == (
        "text",
        "differs only in line endings or the final newline",
    )


def test_first_difference_beyond_the_first_block_and_at_a_prefix() -> None:
    a = bytes(200_000)
    assert first_difference(a, a[:150_000] + b"\x01" + a[150_001:]) == 150_000
    assert first_difference(a, a[:10]) == 10
