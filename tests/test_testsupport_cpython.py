"""testsupport.cpython: PBS-shaped, deterministic, relocatable test CPython tarballs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from testsupport.cpython import (
    ARCHIVE_MTIME,
    CACHE_DIR,
    CLANG_ONLY_FLAG,
    CLEAN,
    OLDEST_MINOR,
    PBS,
    PBS_AR,
    PBS_PREFIX,
    TestCPython,
    available_sources,
    build_test_cpython,
    host_arch,
    source_version,
)

SOURCES = available_sources()
SOURCE_IDS = [source.name for source in SOURCES]
BUILD_USER = ["setpriv", "--reuid=1001", "--regid=1000", "--clear-groups"]


@pytest.fixture(scope="module")
def built() -> dict[Path, TestCPython]:
    return {source: build_test_cpython(source, CACHE_DIR) for source in SOURCES}


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A fresh directory that uid 1001 can read (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="testsupport-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


def test_available_sources_are_supported_interpreters_oldest_first() -> None:
    versions = [tuple(int(p) for p in source_version(s).split(".")) for s in SOURCES]
    assert versions
    assert versions == sorted(versions)
    assert all(v[:2] >= (3, OLDEST_MINOR) for v in versions)


@pytest.mark.parametrize("source", SOURCES, ids=SOURCE_IDS)
def test_tarball_is_shaped_like_pbs_install_only(
    built: dict[Path, TestCPython], source: Path
) -> None:
    cpython = built[source]
    xy = cpython.minor
    assert cpython.version == source_version(source)
    assert cpython.arch == host_arch()
    assert re.fullmatch(r"[0-9a-f]{64}", cpython.sha256)

    with tarfile.open(cpython.path) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    by_name = {m.name: m for m in members}

    assert names[0] == "python"
    assert all(n == "python" or n.startswith("python/") for n in names)
    assert {n.split("/")[1] for n in names[1:]} == {"bin", "include", "lib"}
    bin_names = {
        n.split("/")[2] for n in names if n.count("/") == 2 and n.startswith("python/bin/")
    }
    assert bin_names == {
        *("python", "python3", f"python{xy}", "pip", "pip3", f"pip{xy}"),
        *(f"python{xy}-config", "python3-config"),
    }
    links = {"python": f"python{xy}", "python3": f"python{xy}"}
    links["python3-config"] = f"python{xy}-config"
    for link, target in links.items():
        assert by_name[f"python/bin/{link}"].issym()
        assert by_name[f"python/bin/{link}"].linkname == target
    assert by_name[f"python/bin/python{xy}"].mode == 0o755
    assert f"python/lib/python{xy}/os.py" in by_name
    assert any(re.fullmatch(rf"python/lib/libpython{xy}\.so.*", n) for n in names)

    stdlib = f"python/lib/python{xy}/"
    site = f"{stdlib}site-packages/"
    for name in names:
        parts = name.split("/")
        assert "__pycache__" not in parts and not name.endswith(".pyc"), name
        if name.startswith(stdlib) and not name.startswith(site):
            assert not {"test", "tests", "idle_test", "idlelib"} & set(parts), name
    site_top = {n[len(site) :].split("/")[0] for n in names if n.startswith(site)}
    assert "pip" in site_top
    assert all(
        n in {"", "README.txt", "pip"} or re.fullmatch(r"pip-.+\.dist-info", n) for n in site_top
    )


@pytest.mark.parametrize("source", SOURCES, ids=SOURCE_IDS)
def test_tarball_is_normalized(built: dict[Path, TestCPython], source: Path) -> None:
    path = built[source].path
    header = path.read_bytes()[:10]
    assert header[4:8] == b"\0\0\0\0"  # gzip MTIME
    assert not header[3] & 0x08  # no original file name stored
    with tarfile.open(path) as tar:
        members = tar.getmembers()
    assert {(m.uid, m.gid, m.uname, m.gname, m.mtime) for m in members} == {
        (0, 0, "", "", ARCHIVE_MTIME)
    }
    assert {m.mode for m in members if m.isfile()} <= {0o644, 0o755}
    names = [m.name for m in members]
    assert names == sorted(names, key=lambda n: n.split("/"))  # parents first, siblings sorted


def test_rebuild_gives_identical_bytes(built: dict[Path, TestCPython], tmp_path: Path) -> None:
    source = SOURCES[0]
    again = build_test_cpython(source, tmp_path)
    assert again.path != built[source].path
    assert again.sha256 == built[source].sha256


def test_existing_tarball_is_reused(built: dict[Path, TestCPython]) -> None:
    source = SOURCES[-1]
    before = built[source].path.stat()
    again = build_test_cpython(source, CACHE_DIR)
    assert again == built[source]
    after = again.path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root to switch to uid 1001"
)
@pytest.mark.parametrize("source", SOURCES, ids=SOURCE_IDS)
def test_extracted_tree_runs_anywhere_as_the_build_user(
    built: dict[Path, TestCPython], source: Path, shared_dir: Path
) -> None:
    cpython = built[source]
    home = shared_dir / "home"
    home.mkdir()
    os.chown(home, 1001, 1000)
    subprocess.run(["tar", "-xzf", cpython.path, "-C", shared_dir], check=True)
    python = shared_dir / "python" / "bin" / "python3"
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PYTHONPYCACHEPREFIX": str(home / "pycache"),  # the tree ships no bytecode
    }

    def run(*args: str | Path) -> str:
        proc = subprocess.run([*BUILD_USER, *args], env=env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    if shutil.which("readelf"):
        dynamic = subprocess.run(
            ["readelf", "-d", python.resolve()], check=True, capture_output=True, text=True
        ).stdout
        assert "Library runpath: [$ORIGIN/../lib]" in dynamic

    imports = "import ssl, sqlite3, ctypes, zlib, lzma, bz2, json, venv, sys"
    out = run(python, "-c", f"{imports}; print(sys.prefix); print(ssl.OPENSSL_VERSION)")
    assert out.splitlines()[0] == str(shared_dir / "python")

    venv = home / "venv"
    run(python, "-m", "venv", "--without-pip", venv)
    out = run(venv / "bin" / "python", "-c", "import sys; print(sys.prefix, sys.base_prefix)")
    assert out.split() == [str(venv), str(shared_dir / "python")]

    site = shared_dir / "python" / "lib" / f"python{cpython.minor}" / "site-packages"
    assert f"from {site / 'pip'} " in run(python, "-m", "pip", "--version")
    assert f"from {site / 'pip'} " in run(shared_dir / "python" / "bin" / "pip", "--version")


def _quirk_files(cpython: TestCPython) -> dict[str, str]:
    """The four kinds of files PBS records its build machine in, by kind."""
    xy = cpython.minor
    wanted = {
        "sysconfigdata": rf"python/lib/python{xy}/_sysconfigdata_.*\.py",
        "makefile": rf"python/lib/python{xy}/config-{xy}-.*/Makefile",
        "pc": rf"python/lib/pkgconfig/python-{xy}\.pc",
        "config": rf"python/bin/python{xy}-config",
    }
    found = {}
    with tarfile.open(cpython.path) as tar:
        for member in tar.getmembers():
            for kind, pattern in wanted.items():
                if member.isfile() and re.fullmatch(pattern, member.name):
                    handle = tar.extractfile(member)
                    assert handle is not None
                    found[kind] = handle.read().decode()
    assert set(found) == set(wanted)
    return found


def test_pbs_variant_records_pbs_quirks_and_clean_variant_does_not(
    built: dict[Path, TestCPython],
) -> None:
    source = SOURCES[-1]
    pbs, clean = built[source], build_test_cpython(source, CACHE_DIR, CLEAN)
    assert (pbs.variant, clean.variant) == (PBS, CLEAN)
    assert pbs.path.name != clean.path.name and f"-{PBS}-" in pbs.path.name
    quirky, plain = _quirk_files(pbs), _quirk_files(clean)

    assert "'prefix': '/install'" in quirky["sysconfigdata"]
    assert f"prefix=\t\t{PBS_PREFIX}\n" in quirky["makefile"]
    assert f"prefix={PBS_PREFIX}\n" in quirky["pc"]
    assert f'prefix="{PBS_PREFIX}"\n' in quirky["config"]
    for text in quirky.values():
        assert str(source) not in text
    if pbs.arch == "amd64":
        assert "'CC': 'clang -pthread'" in quirky["sysconfigdata"]
        assert "'CXX': 'clang++ -pthread'" in quirky["sysconfigdata"]
        assert "'LDSHARED': 'clang -pthread -shared" in quirky["sysconfigdata"]
        assert f"'AR': '{PBS_AR}'" in quirky["sysconfigdata"]
        assert "CC=\t\tclang -pthread\n" in quirky["makefile"]
        assert f"AR=\t\t{PBS_AR}\n" in quirky["makefile"]
        for kind in ("sysconfigdata", "makefile", "config"):
            assert CLANG_ONLY_FLAG in quirky[kind], kind
    assert not shutil.which("clang") and not Path(PBS_AR).exists()  # as on a gcc-only builder

    assert f"'prefix': '{source}'" in plain["sysconfigdata"]
    assert "'CC': 'gcc" in plain["sysconfigdata"] and "CC=\t\tgcc" in plain["makefile"]
    for text in plain.values():
        assert PBS_PREFIX + "/" not in text and "clang -pthread" not in text
        assert PBS_AR not in text and CLANG_ONLY_FLAG not in text
