"""The bytecode compiler's output does not depend on whether its interpreter's stdlib has pycs
yet. On a cold build the stdlib compiles in the background while the dependencies compile, so
either state can occur (cpython#129724). Seen: on 3.9 and 3.10 a compiler that imported
py_compile wrote other bytes for some files when those imports came from sources; on 3.12 one
that imported nothing did, for 13 of the stdlib's files, when encodings came from sources."""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

import pytest
from testsupport.cpython import TestCPython

from cnb_python import bytecode
from cnb_python.log import Logger


def _pycs(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.pyc"))}


def _compile(python: Path, root: Path) -> dict[str, bytes]:
    bytecode.remove_bytecode([root])
    files = bytecode.python_sources([root])
    bytecode.compile_files(python, files, log=Logger(io.StringIO()), what="the tree")
    return _pycs(root)


MINORS = ["3.9", "3.10", "3.11", "3.12", "3.13"]


def _unpacked(
    tmp_path: Path, test_cpythons: list[TestCPython], minor: str
) -> tuple[Path, Path, Path]:
    """The test CPython `minor` unpacked: its python, its stdlib, and a copy of the stdlib to
    compile, whose own pycs come and go."""
    cpython = next((c for c in test_cpythons if c.minor == minor), None)
    if cpython is None:
        pytest.skip(f"no test CPython {minor} on this machine")
    with tarfile.open(cpython.path) as archive:
        archive.extractall(tmp_path, filter="tar")
    home = tmp_path / "python"
    stdlib = home / "lib" / f"python{minor}"
    assert not list(stdlib.rglob("*.pyc")), "the test tarball ships no pycs"
    tree = tmp_path / "tree"
    shutil.copytree(stdlib, tree, ignore=shutil.ignore_patterns("site-packages"))
    return home / "bin" / "python3", stdlib, tree


@pytest.mark.parametrize("minor", MINORS)
def test_pycs_are_the_same_before_and_after_the_stdlib_is_compiled(tmp_path, test_cpythons, minor):
    python, stdlib, tree = _unpacked(tmp_path, test_cpythons, minor)

    cold = _compile(python, tree)
    stdlib_files = bytecode.stdlib_sources([stdlib])
    bytecode.compile_files(python, stdlib_files, log=Logger(io.StringIO()), what="the stdlib")
    warm = _compile(python, tree)

    assert len(cold) > 500
    assert warm == cold


@pytest.mark.parametrize("minor", MINORS)
def test_a_chunk_compiles_to_the_same_bytes_first_or_after_others(
    tmp_path, test_cpythons, minor, monkeypatch
):
    """Each chunk is compiled by a child forked from one compiling process, some after others
    have ended, some alongside: a chunk compiled alone, by a process of its own, gives the same
    bytes as the same chunk in a compile of the whole tree."""
    python, _, tree = _unpacked(tmp_path, test_cpythons, minor)
    monkeypatch.setattr(bytecode, "workers", lambda: 3)
    whole = _compile(python, tree)
    bytecode.remove_bytecode([tree])
    chunks = bytecode.chunked(bytecode.python_sources([tree]))
    for chunk in reversed(chunks):
        bytecode.compile_files(python, chunk, log=Logger(io.StringIO()), what="a chunk")
    assert len(chunks) > 10
    assert _pycs(tree) == whole
