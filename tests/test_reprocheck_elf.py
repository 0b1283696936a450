"""reprocheck on two builds of one shared library that differ in one way each: the cause is named
with what differs (the build path in the debug info, a path or time in the data, the build-id)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from reprocheck.content import classify_content
from reprocheck.elf import classify_elf, parse

SOURCE = "const char *stamp(void) { return STAMP; }\nint twice(int x) { return 2 * x; }\n"

pytestmark = pytest.mark.skipif(not shutil.which("gcc"), reason="needs gcc")


def _library(tmp_path: Path, build_dir: str, *flags: str, stamp: str = '"fixed"') -> bytes:
    """lib.so built in `build_dir` (below tmp_path) from a source there, with `flags`."""
    work = tmp_path / build_dir
    work.mkdir(parents=True)
    (work / "lib.c").write_text(SOURCE)
    command = [
        "gcc",
        "-O2",
        "-shared",
        "-fPIC",
        f"-DSTAMP={stamp}",
        *flags,
        "lib.c",
        "-o",
        "lib.so",
    ]
    subprocess.run(command, cwd=work, check=True, env={"PATH": "/usr/bin:/bin"})
    return (work / "lib.so").read_bytes()


def test_a_build_directory_in_the_debug_info_is_named_with_both_paths(tmp_path):
    a = _library(tmp_path, "pip-install-aaaa/pkg", "-g")
    b = _library(tmp_path, "pip-install-bbbb/pkg", "-g")
    cause, detail = classify_elf(a, b)
    assert cause == "elf-debug-path"
    first, second = detail.splitlines()
    assert first == (
        f"build path in debug info: A {tmp_path}/pip-install-aaaa/pkg; "
        f"B {tmp_path}/pip-install-bbbb/pkg"
    )
    assert second.startswith("so the build-id differs too: A ")
    # The same through the content classifier verify-reproducible uses for every file.
    assert classify_content("lib.so", a, b) == (cause, detail)


def test_compressed_debug_sections_are_read_too(tmp_path):
    a = _library(tmp_path, "one/pkg", "-g", "-gz")
    b = _library(tmp_path, "two/pkg", "-g", "-gz")
    assert classify_elf(a, b)[0] == "elf-debug-path"


def test_a_path_in_the_data_is_named(tmp_path):
    a = _library(tmp_path, "a", stamp=f'"{tmp_path}/one/file.c"')
    b = _library(tmp_path, "b", stamp=f'"{tmp_path}/two/file.c"')
    cause, detail = classify_elf(a, b)
    assert cause == "elf-data-path"
    assert detail.startswith(
        f"build path in the program's data: A {tmp_path}/one/file.c; B {tmp_path}/two/file.c"
    )


def test_an_embedded_time_is_named(tmp_path):
    a = _library(tmp_path, "a", stamp='"built Dec  3 2025 08:01:02"')
    b = _library(tmp_path, "b", stamp='"built Dec  3 2025 08:01:07"')
    cause, detail = classify_elf(a, b)
    assert cause == "elf-embedded-time"
    assert detail.startswith(
        "embedded time: A built Dec  3 2025 08:01:02; B built Dec  3 2025 08:01:07"
    )


def test_a_random_build_id_alone_is_named(tmp_path):
    a = _library(tmp_path, "a", "-Wl,--build-id=uuid")
    b = _library(tmp_path, "b", "-Wl,--build-id=uuid")
    cause, detail = classify_elf(a, b)
    assert cause == "elf-build-id"
    ids = (parse(a).build_id, parse(b).build_id)
    assert detail == (
        f"build-id: A {ids[0]}; B {ids[1]}; no other section differs: the build-id does not "
        "derive from the contents (a random one, as --build-id=uuid gives)"
    )


def test_other_section_differences_are_listed(tmp_path):
    a = _library(tmp_path, "a", "-Wl,--build-id=none")
    b = _library(tmp_path, "b", "-Wl,--build-id=none", "-O0")
    cause, detail = classify_elf(a, b)
    assert cause == "elf-sections"
    assert detail.startswith("differing sections: ") and ".text" in detail


def test_files_that_are_not_elf_are_left_to_the_other_classifiers():
    assert classify_elf(b"\x7fELF broken", b"\x7fELF broken too") is None
    assert classify_content("a.bin", b"\x00\x01", b"\x00\x02")[0] == "binary"
