"""reprocheck on two deliberately different layers: each difference is named with its cause.

Trees are made in tmp dirs and tarred by localcnb's own exporter (so only what the exporter keeps
can differ); header-level differences it normalizes away (owner, mtime, order) are crafted
directly with tarfile."""

from __future__ import annotations

import io
import os
import py_compile
import tarfile
import zipfile
from pathlib import Path

from reprocheck import compare_tars
from reprocheck.model import Difference

from localcnb.tarball import write_layer

LAYER = "/layers/bp/layer"
WHERE = "bp:layer"


def _pyc(tmp: Path, name: str, source: str, mode: py_compile.PycInvalidationMode) -> bytes:
    path = tmp / f"{name}.py"
    path.write_text(source)
    return Path(
        py_compile.compile(str(path), cfile=str(path) + "c", invalidation_mode=mode)
    ).read_bytes()


def _zip(members: dict[str, bytes], date_time: tuple[int, ...]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=date_time), data)
    return buffer.getvalue()


def _tree(root: Path, files: dict[str, bytes | str], modes: dict[str, int]) -> None:
    """Files (bytes), symlinks ("-> target") and directories ("/") below root/LAYER."""
    base = root / LAYER.lstrip("/")
    base.mkdir(parents=True)
    for name, value in files.items():
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if value == "/":
            path.mkdir()
        elif isinstance(value, str):
            path.symlink_to(value.removeprefix("-> "))
            continue  # Linux symlinks have no mode of their own
        else:
            path.write_bytes(value)
        os.chmod(path, modes.get(name, 0o755 if value == "/" else 0o644))


def _export(tmp: Path, name: str, files: dict[str, bytes | str], modes: dict[str, int]) -> Path:
    root = tmp / name
    _tree(root, files, modes)
    (tmp / f"{name}-out").mkdir()
    sha = write_layer(tmp / f"{name}-out", root, LAYER, 1001, 1000)
    return tmp / f"{name}-out" / f"{sha}.tar"


def _causes(found: list[Difference]) -> dict[str, str]:
    return {d.path.removeprefix(LAYER + "/"): d.cause for d in found}


def test_every_kind_of_file_difference_is_named_with_its_cause(tmp_path: Path) -> None:
    unchecked = py_compile.PycInvalidationMode.UNCHECKED_HASH
    timestamp = py_compile.PycInvalidationMode.TIMESTAMP
    hashed_one = _pyc(tmp_path, "one", "x = 1\n", unchecked)
    hashed_two = _pyc(tmp_path, "two", "x = 2\n", unchecked)
    same_header_other_code = hashed_one[:16] + hashed_two[16:]
    wheel_files = {"pkg/__init__.py": b"", "pkg-1.0.dist-info/RECORD": b"pkg/__init__.py,,\n"}
    common: dict[str, bytes | str] = {
        "same.txt": b"unchanged\n",
        "same-link": "-> same.txt",
    }
    a: dict[str, bytes | str] = {
        **common,
        "only-a.txt": b"a\n",
        "conf.ini": b"[x]\nvalue = 1\nother = 3\n",
        "run.sh": b"#!/bin/sh\n",
        "current": "-> v1",
        "switch": b"a file\n",
        "pkg/mod.py": b"x = 1\n",
        "pkg/__pycache__/mod.cpython-312.pyc": hashed_one,
        "pkg/__pycache__/stamped.cpython-312.pyc": hashed_one,
        "pkg/__pycache__/flaky.cpython-312.pyc": hashed_one,
        "dist/pkg-1.0-py3-none-any.whl": _zip(wheel_files, (2024, 1, 2, 3, 4, 6)),
        "dist/data.zip": _zip({"a.txt": b"1"}, (1980, 1, 1, 0, 0, 0)),
        "lib/native.so": b"\x7fELF\x00\x01\x02\x03",
    }
    b: dict[str, bytes | str] = {
        **common,
        "only-b.txt": b"b\n",
        "conf.ini": b"[x]\nvalue = 2\nother = 3\n",
        "run.sh": b"#!/bin/sh\n",
        "current": "-> v2",
        "switch": "/",
        "pkg/mod.py": b"x = 2\n",
        "pkg/__pycache__/mod.cpython-312.pyc": hashed_two,
        "pkg/__pycache__/stamped.cpython-312.pyc": _pyc(tmp_path, "stamped", "x = 1\n", timestamp),
        "pkg/__pycache__/flaky.cpython-312.pyc": same_header_other_code,
        "dist/pkg-1.0-py3-none-any.whl": _zip(wheel_files, (2025, 6, 7, 8, 9, 10)),
        "dist/data.zip": _zip({"a.txt": b"2"}, (1980, 1, 1, 0, 0, 0)),
        "lib/native.so": b"\x7fELF\x00\x01\xff\x03",
    }
    found = compare_tars(
        WHERE,
        _export(tmp_path, "a", a, {"run.sh": 0o755}),
        _export(tmp_path, "b", b, {"run.sh": 0o644}),
    )

    assert _causes(found) == {
        "only-a.txt": "only-in-a",
        "only-b.txt": "only-in-b",
        "conf.ini": "text",
        "run.sh": "mode",
        "current": "symlink-target",
        "switch": "type",
        "pkg/mod.py": "text",
        "pkg/__pycache__/mod.cpython-312.pyc": "pyc-source-hash",
        "pkg/__pycache__/stamped.cpython-312.pyc": "pyc-timestamp",
        "pkg/__pycache__/flaky.cpython-312.pyc": "pyc-payload",
        "dist/pkg-1.0-py3-none-any.whl": "zip-timestamps",
        "dist/data.zip": "zip-content",
        "lib/native.so": "binary",
    }
    assert all(d.where == WHERE for d in found)
    detail = {d.path.removeprefix(LAYER + "/"): d.detail for d in found}
    assert "-value = 1" in detail["conf.ini"] and "+value = 2" in detail["conf.ini"]
    assert detail["run.sh"] == "0755 vs 0644"
    assert detail["current"] == "-> v1 vs -> v2"
    assert detail["switch"] == "file vs dir"
    assert f"its source {LAYER}/pkg/mod.py differs" in detail["pkg/__pycache__/mod.cpython-312.pyc"]
    assert "A: unchecked-hash" in detail["pkg/__pycache__/stamped.cpython-312.pyc"]
    assert "B: timestamp, source mtime" in detail["pkg/__pycache__/stamped.cpython-312.pyc"]
    assert "marshalled code differs" in detail["pkg/__pycache__/flaky.cpython-312.pyc"]
    wheel = detail["dist/pkg-1.0-py3-none-any.whl"]
    assert "2 of 2 members" in wheel and "2024-01-02 03:04:06 vs 2025-06-07 08:09:10" in wheel
    assert "content differs: a.txt" in detail["dist/data.zip"]
    assert "first difference at byte 6" in detail["lib/native.so"]


def test_identical_trees_give_identical_tars_and_no_differences(tmp_path: Path) -> None:
    files: dict[str, bytes | str] = {"a.txt": b"x\n", "link": "-> a.txt", "d": "/"}
    tar_a = _export(tmp_path, "a", files, {})
    tar_b = _export(tmp_path, "b", files, {})
    assert compare_tars(WHERE, tar_a, tar_b) == []


def _crafted(path: Path, entries: list[tuple[tarfile.TarInfo, bytes]], fmt: int) -> Path:
    with tarfile.open(path, "w", format=fmt) as tar:
        for info, data in entries:
            info.size = len(data) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return path


def _info(name: str, kind: bytes = tarfile.REGTYPE, **fields: object) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode, info.uid, info.gid, info.mtime = 0o644, 1001, 1000, 315532801
    for key, value in fields.items():
        setattr(info, key, value)
    return info


def test_header_differences_order_and_hard_links_are_named(tmp_path: Path) -> None:
    a = [
        (_info("/l/owned", uid=1001, gid=1000), b"same"),
        (_info("/l/stamped"), b"same"),
        (_info("/l/x"), b"1"),
        (_info("/l/y"), b"2"),
        (_info("/l/hard", tarfile.LNKTYPE, linkname="/l/x"), b""),
    ]
    b = [
        (_info("/l/owned", uid=0, gid=0, uname="root"), b"same"),
        (_info("/l/stamped", mtime=1764100000), b"same"),
        (_info("/l/y"), b"2"),
        (_info("/l/x"), b"1"),
        (_info("/l/hard", tarfile.LNKTYPE, linkname="/l/y"), b""),
    ]
    found = compare_tars(
        WHERE,
        _crafted(tmp_path / "a.tar", a, tarfile.PAX_FORMAT),
        _crafted(tmp_path / "b.tar", b, tarfile.PAX_FORMAT),
    )
    by_cause = {d.cause: d for d in found}
    assert sorted(by_cause) == ["hardlink-target", "mtime", "order", "owner"]
    assert by_cause["owner"].path == "/l/owned"
    assert by_cause["owner"].detail == "1001:1000 vs 0:0 (root:)"
    assert by_cause["mtime"].detail == "1980-01-01T00:00:01Z vs 2025-11-25T19:46:40Z"
    assert by_cause["order"].path == "/l/x"
    assert by_cause["order"].detail == "common entry #2: A has /l/x, B has /l/y"
    assert by_cause["hardlink-target"].detail == "-> /l/x vs -> /l/y"


def test_same_entries_in_another_tar_encoding_are_reported_as_such(tmp_path: Path) -> None:
    entries = [(_info("/l/file"), b"data")]
    found = compare_tars(
        WHERE,
        _crafted(tmp_path / "pax.tar", entries, tarfile.PAX_FORMAT),
        _crafted(tmp_path / "gnu.tar", entries, tarfile.GNU_FORMAT),
    )
    assert [(d.cause, d.path) for d in found] == [("tar-encoding", "")]
