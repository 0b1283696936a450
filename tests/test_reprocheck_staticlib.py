"""reprocheck on two builds of one static library: member order, member header times (ar
without D) and an object's contents are each named."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from reprocheck.content import classify_content
from reprocheck.staticlib import classify_archive, members

pytestmark = pytest.mark.skipif(not shutil.which("ar"), reason="needs binutils")


def _archive(work: Path, key: str, names: list[str], mtime: int = 1000) -> bytes:
    work.mkdir(parents=True, exist_ok=True)
    for name in names:
        (work / name).write_bytes(name.encode() * 8)
        os.utime(work / name, (mtime, mtime))
    subprocess.run(["ar", key, "lib.a", *names], cwd=work, check=True)
    return (work / "lib.a").read_bytes()


def test_members_in_another_order_are_named(tmp_path):
    a = _archive(tmp_path / "a", "rcD", ["x.o", "y.o"])
    b = _archive(tmp_path / "b", "rcD", ["y.o", "x.o"])
    assert classify_archive(a, b) == ("ar-member-order", "A x.o y.o; B y.o x.o")


def test_real_member_times_are_named(tmp_path):
    a = _archive(tmp_path / "a", "rcU", ["x.o"], mtime=1000)
    b = _archive(tmp_path / "b", "rcU", ["x.o"], mtime=2000)
    cause, detail = classify_content("lib.a", a, b)
    assert cause == "ar-member-times"
    assert detail.startswith("member x.o: A mtime 1000 uid ")
    assert "B mtime 2000 uid " in detail


def test_deterministic_archives_of_the_same_members_parse_alike(tmp_path):
    a = _archive(tmp_path / "a", "rcD", ["x.o", "y.o"], mtime=1000)
    b = _archive(tmp_path / "b", "rcD", ["x.o", "y.o"], mtime=2000)
    assert a == b
    assert [(m.name, m.mtime, m.uid, m.data) for m in members(a)] == [
        ("x.o", "0", "0", b"x.o" * 8),
        ("y.o", "0", "0", b"y.o" * 8),
    ]


def test_an_object_with_its_build_directory_is_named_through_the_member(tmp_path):
    libs = []
    for build in ("one", "two"):
        work = tmp_path / build
        work.mkdir()
        (work / "a.c").write_text("int f(int x) { return x + 1; }\n")
        subprocess.run(["gcc", "-g", "-c", "a.c"], cwd=work, check=True)
        subprocess.run(["ar", "rcD", "lib.a", "a.o"], cwd=work, check=True)
        libs.append((work / "lib.a").read_bytes())
    cause, detail = classify_archive(*libs)
    assert cause == "elf-debug-path"
    assert detail.startswith(
        f"in member a.o: build path in debug info: A {tmp_path}/one; B {tmp_path}/two"
    )


def test_the_symbol_index_time_alone_is_named_as_such(tmp_path):
    (tmp_path / "a.c").write_text("int f(void) { return 1; }\n")
    subprocess.run(["gcc", "-c", "a.c"], cwd=tmp_path, check=True)
    subprocess.run(["ar", "rcsD", "lib.a", "a.o"], cwd=tmp_path, check=True)
    a = (tmp_path / "lib.a").read_bytes()
    assert members(a)[0].name == "/"
    b = bytearray(a)
    index = len(b"!<arch>\n")
    b[index + 16 : index + 28] = b"12345".ljust(12)  # what `ar U` writes: the archive's time
    cause, detail = classify_archive(a, bytes(b))
    assert (cause, detail.split(":")[0]) == ("ar-member-times", "the symbol index")
