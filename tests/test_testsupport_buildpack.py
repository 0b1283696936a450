"""testsupport.buildpack: a buildpack copy whose CPython downloads are local test tarballs."""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import io
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import tomli
from testsupport.buildpack import make_test_buildpack, rewrite_buildpack_toml
from testsupport.cpython import CACHE_DIR, TestCPython, available_sources, build_test_cpython
from testsupport.server import DownloadServer

from cnb_python.log import Logger

PROD_URL = "https://example.invalid/cpython-{v}-{a}.tar.gz"


def prod_entry(version: str, arch: str) -> str:
    url = PROD_URL.format(v=version, a=arch)
    return f"""\
[[metadata.dependencies]]
id = "cpython"
name = "CPython"
version = "{version}"
arch = "{arch}"
os = "linux"
url = "{url}"
sha256 = "{"0" * 64}"
purl = "pkg:generic/cpython@{version}?checksum=sha256:{"0" * 64}&download_url=x"
cpe = "cpe:2.3:a:python:python:{version}:*:*:*:*:*:*:*"
licenses = ["PSF-2.0"]
"""


# The shape the production file has: [metadata] with the default version, end-of-life
# dates, and the dependency entries between comment markers.
BUILDPACK_TOML = f"""\
api = "0.12"

[buildpack]
id = "example/python"
version = "0.1.0"
sbom-formats = ["application/vnd.cyclonedx+json"]

[[targets]]
os = "linux"
arch = "amd64"

[metadata]
# The minor version used when the app names none.
default-python-version = "3.14"

[[metadata.python-end-of-life]]
minor = "3.9"
date = "2025-10-31"

[[metadata.python-end-of-life]]
minor = "3.10"
date = "2026-10-31"

# --- BEGIN dependencies (generated) ---
{prod_entry("3.14.0", "amd64")}
{prod_entry("3.14.0", "arm64")}
[[metadata.dependencies]]
id = "uv"
name = "uv"
version = "0.9.0"
arch = "amd64"
os = "linux"
url = "https://example.invalid/uv.tar.gz"
sha256 = "{"1" * 64}"
purl = "pkg:generic/uv@0.9.0"
cpe = "cpe:2.3:a:astral:uv:0.9.0:*:*:*:*:*:*:*"
licenses = ["MIT"]

{prod_entry("3.13.9", "amd64")}# --- END dependencies ---
"""

FAKES = [
    TestCPython("3.12.1", Path("/cache/cpython-3.12.1-amd64-abc.tar.gz"), "a" * 64, "amd64"),
    TestCPython("3.9.18", Path("/cache/cpython-3.9.18-amd64-def.tar.gz"), "b" * 64, "amd64"),
]
BASE_URL = "http://127.0.0.1:8765"


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A stand-in checkout with every part of a buildpack."""
    repo = tmp_path / "repo"
    for rel, text in {
        "buildpack.toml": BUILDPACK_TOML,
        "bin/build": "#!/bin/sh\n",
        "bin/detect": "#!/bin/sh\n",
        "cnb_python/__init__.py": "",
        "cnb_python/__pycache__/__init__.cpython-311.pyc": "",
        "vendor/tomli/__init__.py": "",
        "requirements/tools/poetry.txt": "poetry==2.0\n",
        "requirements/dev.txt": "pytest\n",
        "runtime/python/bin/python3": "",
        "README.md": "not part of the buildpack\n",
    }.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    for script in ("build", "detect"):
        (repo / "bin" / script).chmod(0o755)
    return repo


def cpython_entries(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [d for d in doc["metadata"]["dependencies"] if d["id"] == "cpython"]


def test_copies_the_buildpack_parts_only(source: Path, tmp_path: Path) -> None:
    dest = make_test_buildpack(tmp_path / "bp", base_url=BASE_URL, cpythons=FAKES, source=source)
    files = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert files == [
        "bin/build",
        "bin/detect",
        "buildpack.toml",
        "cnb_python/__init__.py",
        "requirements/tools/poetry.txt",
        "vendor/tomli/__init__.py",
    ]
    assert (dest / "bin" / "build").stat().st_mode & 0o111


def test_runtime_is_copied_on_request(source: Path, tmp_path: Path) -> None:
    dest = make_test_buildpack(
        tmp_path / "bp", base_url=BASE_URL, cpythons=FAKES, source=source, include_runtime=True
    )
    assert (dest / "runtime" / "python" / "bin" / "python3").is_file()


def test_cpython_entries_point_at_the_test_tarballs(source: Path, tmp_path: Path) -> None:
    dest = make_test_buildpack(tmp_path / "bp", base_url=BASE_URL, cpythons=FAKES, source=source)
    doc = tomli.loads((dest / "buildpack.toml").read_text())
    url = f"{BASE_URL}/cpython-3.12.1-amd64-abc.tar.gz"
    assert cpython_entries(doc)[0] == {
        "id": "cpython",
        "name": "CPython",
        "version": "3.12.1",
        "arch": "amd64",
        "os": "linux",
        "url": url,
        "sha256": "a" * 64,
        "purl": "pkg:generic/cpython@3.12.1?checksum=sha256:"
        + "a" * 64
        + "&download_url=http%3A%2F%2F127.0.0.1%3A8765%2Fcpython-3.12.1-amd64-abc.tar.gz",
        "cpe": "cpe:2.3:a:python:python:3.12.1:*:*:*:*:*:*:*",
        "licenses": ["PSF-2.0"],
    }
    assert [(d["version"], d["sha256"]) for d in cpython_entries(doc)] == [
        ("3.12.1", "a" * 64),
        ("3.9.18", "b" * 64),
    ]


def test_everything_else_is_kept(source: Path, tmp_path: Path) -> None:
    dest = make_test_buildpack(tmp_path / "bp", base_url=BASE_URL, cpythons=FAKES, source=source)
    text = (dest / "buildpack.toml").read_text()
    before, after = tomli.loads(BUILDPACK_TOML), tomli.loads(text)
    assert after["metadata"]["default-python-version"] == "3.12"  # newest minor among FAKES
    assert [d["id"] for d in after["metadata"]["dependencies"]] == ["cpython", "cpython", "uv"]
    for doc in (before, after):
        doc["metadata"]["dependencies"] = [
            d for d in doc["metadata"]["dependencies"] if d["id"] != "cpython"
        ]
        del doc["metadata"]["default-python-version"]
    assert after == before
    for line in BUILDPACK_TOML.splitlines():  # comments and layout outside the entries survive
        if line.startswith(("#", "[buildpack]", "[[metadata.python-end-of-life]]")):
            assert line in text.splitlines()
    assert PROD_URL.format(v="3.14.0", a="amd64") not in text
    assert "\n\n\n" not in text


def test_default_python_can_be_chosen(source: Path, tmp_path: Path) -> None:
    dest = make_test_buildpack(
        tmp_path / "bp", base_url=BASE_URL, cpythons=FAKES, default_python="3.9", source=source
    )
    doc = tomli.loads((dest / "buildpack.toml").read_text())
    assert doc["metadata"]["default-python-version"] == "3.9"


def test_entries_are_added_when_there_were_none() -> None:
    text = '[buildpack]\nid = "x"\n\n[metadata]\nfoo = 1\n'
    entry = {"id": "cpython", "version": "3.12.1"}
    doc = tomli.loads(rewrite_buildpack_toml(text, [copy.deepcopy(entry)], "3.12"))
    assert doc["metadata"] == {
        "foo": 1,
        "default-python-version": "3.12",
        "dependencies": [entry],
    }


def test_a_buildpack_toml_without_metadata_is_refused() -> None:
    with pytest.raises(ValueError, match=r"no \[metadata\]"):
        rewrite_buildpack_toml('[buildpack]\nid = "x"\n', [], "3.12")


def test_served_tarball_matches_its_entry(source: Path, tmp_path: Path) -> None:
    cpython = build_test_cpython(available_sources()[-1], CACHE_DIR)
    with DownloadServer(CACHE_DIR) as server:
        dest = make_test_buildpack(
            tmp_path / "bp", base_url=server.base_url, cpythons=[cpython], source=source
        )
        (entry,) = cpython_entries(tomli.loads((dest / "buildpack.toml").read_text()))
        with urllib.request.urlopen(entry["url"], timeout=30) as response:
            assert hashlib.sha256(response.read()).hexdigest() == entry["sha256"]


def _load_copy(dest: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """cnb_python/<name>.py of a test copy, imported; the copy only adds to the module's end."""
    copied = dest / "cnb_python" / f"{name}.py"
    original = Path(__file__).resolve().parents[1] / "cnb_python" / f"{name}.py"
    assert copied.read_text().startswith(original.read_text())
    spec = importlib.util.spec_from_file_location(f"copied_{name}", copied)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look the module up
    spec.loader.exec_module(module)
    return module


def test_a_copy_can_leave_the_build_settings_unpatched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = Path(__file__).resolve().parents[1]
    dest = make_test_buildpack(
        tmp_path / "bp", base_url=BASE_URL, cpythons=FAKES, patch_build_settings=False
    )
    original = (repo / "cnb_python" / "sysconfig_patch.py").read_text()
    module = _load_copy(dest, "sysconfig_patch", monkeypatch)
    home = tmp_path / "home"
    (home / "lib" / "pkgconfig").mkdir(parents=True)
    (home / "lib" / "pkgconfig" / "python-3.12.pc").write_text("prefix=/install\n")
    out = io.StringIO()
    module.patch_install(home, "3.12", Logger(out))
    assert out.getvalue() == "    Not patching the build settings (test buildpack)\n"
    assert (home / "lib" / "pkgconfig" / "python-3.12.pc").read_text() == "prefix=/install\n"
    assert (repo / "cnb_python" / "sysconfig_patch.py").read_text() == original


def test_an_unknown_build_settings_entry_point_is_refused(source: Path, tmp_path: Path) -> None:
    (source / "cnb_python" / "sysconfig_patch.py").write_text("def renamed(): ...\n")
    with pytest.raises(RuntimeError, match="no longer has the patch_install"):
        make_test_buildpack(
            tmp_path / "bp",
            base_url=BASE_URL,
            cpythons=FAKES,
            source=source,
            patch_build_settings=False,
        )


def test_a_copy_can_run_the_compilers_without_the_toolchain_shims(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = make_test_buildpack(
        tmp_path / "bp", base_url=BASE_URL, cpythons=FAKES, wrap_toolchain=False
    )
    module = _load_copy(dest, "toolchain", monkeypatch)
    out = io.StringIO()
    env = {"PATH": "/usr/bin:/bin"}
    with module.wrapped_toolchain(tmp_path / "tc", env, Logger(out)) as wrapped:
        assert wrapped == env
    assert out.getvalue() == "    Not wrapping the compilers (test buildpack)\n"
    assert not (tmp_path / "tc").exists()
