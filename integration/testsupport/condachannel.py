"""A local conda channel of real packages, because the tests cannot reach conda-forge.

Packages are made with conda-package-handling (the archive formats) and indexed with py-rattler's
own indexer (repodata.json), the same library the buildpack installs with:

- `python`: the test CPython tarball of one minor, as a linux-64 `.conda` (pip left out, as in
  conda-forge's python);
- flask and its dependencies: `noarch: python` `.tar.bz2` packages made from their PyPI wheels
  (markupsafe, which has a C extension, is a linux-64 package for that Python minor);
- `libgreet`: a C shared library (lib/libgreet.so) compiled here, the native library that pip
  wheels would lack.

Wheels are pinned by sha256 and cached under .cache/conda-wheels. Every file in an archive gets
one mtime, so two channels built from the same inputs hold the same package bytes.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from conda_package_handling import api as cph
from rattler.index import index_fs

from testsupport.cpython import ARCHIVE_MTIME, REPO_ROOT, TestCPython

WHEEL_CACHE = REPO_ROOT / ".cache" / "conda-wheels"
_TIMESTAMP_MS = ARCHIVE_MTIME * 1000
_FILES = "https://files.pythonhosted.org/packages"


@dataclass(frozen=True)
class Wheel:
    name: str
    version: str
    url: str
    sha256: str
    depends: tuple[str, ...]
    license: str

    @property
    def pure(self) -> bool:
        return self.url.endswith("-none-any.whl")


WHEELS = (
    Wheel(
        "flask",
        "3.1.2",
        f"{_FILES}/ec/f9/7f9263c5695f4bd0023734af91bedb2ff8209e8de6ead162f35d8dc762fd/"
        "flask-3.1.2-py3-none-any.whl",
        "ca1d8112ec8a6158cc29ea4858963350011b5c846a414cdb7a954aa9e967d03c",
        (
            "blinker >=1.9.0",
            "click >=8.1.3",
            "itsdangerous >=2.2.0",
            "jinja2 >=3.1.2",
            "markupsafe >=2.1.1",
            "werkzeug >=3.1.0",
        ),
        "BSD-3-Clause",
    ),
    Wheel(
        "werkzeug",
        "3.1.3",
        f"{_FILES}/52/24/ab44c871b0f07f491e5d2ad12c9bd7358e527510618cb1b803a88e986db1/"
        "werkzeug-3.1.3-py3-none-any.whl",
        "54b78bf3716d19a65be4fceccc0d1d7b89e608834989dfae50ea87564639213e",
        ("markupsafe >=2.1.1",),
        "BSD-3-Clause",
    ),
    Wheel(
        "jinja2",
        "3.1.6",
        f"{_FILES}/62/a1/3d680cbfd5f4b8f15abc1d571870c5fc3e594bb582bc3b64ea099db13e56/"
        "jinja2-3.1.6-py3-none-any.whl",
        "85ece4451f492d0c13c5dd7c13a64681a86afae63a5f347908daf103ce6d2f67",
        ("markupsafe >=2.0",),
        "BSD-3-Clause",
    ),
    Wheel(
        "itsdangerous",
        "2.2.0",
        f"{_FILES}/04/96/92447566d16df59b2a776c0fb82dbc4d9e07cd95062562af01e408583fc4/"
        "itsdangerous-2.2.0-py3-none-any.whl",
        "c6242fc49e35958c8b15141343aa660db5fc54d4f13a1db01a3f5891b98700ef",
        (),
        "BSD-3-Clause",
    ),
    Wheel(
        "click",
        "8.1.8",
        f"{_FILES}/7e/d4/7ebdbd03970677812aac39c869717059dbb71a4cfc033ca6e5221787892c/"
        "click-8.1.8-py3-none-any.whl",
        "63c132bbbed01578a06712a2d1f497bb62d9c1c0d329b7903a866228027263b2",
        (),
        "BSD-3-Clause",
    ),
    Wheel(
        "blinker",
        "1.9.0",
        f"{_FILES}/10/cb/f2ad4230dc2eb1a74edf38f1a38b9b52277f75bef262d8908e60d957e13c/"
        "blinker-1.9.0-py3-none-any.whl",
        "ba0efaa9080b619ff2f3459d1d500c57bddea4a6b424b60a91141db6fd2f08bc",
        (),
        "MIT",
    ),
    # An older blinker than flask allows: `flask` with `blinker<1.9` is a conflict.
    Wheel(
        "blinker",
        "1.8.2",
        f"{_FILES}/bb/2a/10164ed1f31196a2f7f3799368a821765c62851ead0e630ab52b8e14b4d0/"
        "blinker-1.8.2-py3-none-any.whl",
        "1779309f71bf239144b9399d06ae925637cf6634cf6bd131104184531bf67c01",
        (),
        "MIT",
    ),
    Wheel(
        "markupsafe",
        "3.0.2",
        f"{_FILES}/f3/f0/89e7aadfb3749d0f52234a0c8c7867877876e0a20b60e2188e9850794c17/"
        "MarkupSafe-3.0.2-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "e17c96c14e19278594aa4841ec148115f9c7615a47382ecb6b82bd8fea3ab0c8",
        (),
        "BSD-3-Clause",
    ),
)
# The minor of the CPython that markupsafe's C extension is built for.
PYTHON_MINOR = "3.12"

_GREET_C = """\
const char *greet(void) { return "Hello from libgreet"; }
"""


@dataclass(frozen=True)
class Channel:
    path: Path  # holds noarch/ and linux-64/, each with repodata.json

    @property
    def file_url(self) -> str:
        return self.path.as_uri()

    def packages(self) -> list[Path]:
        return sorted(p for p in self.path.glob("*/*") if p.name.endswith((".conda", ".tar.bz2")))

    def package(self, name: str) -> Path:
        """The newest (by file name) package called `name`."""
        return [p for p in self.packages() if p.name.startswith(f"{name}-")][-1]


def build_channel(dest: Path, cpython: TestCPython) -> Channel:
    """A channel in `dest` with python (from `cpython`), flask and its dependencies, libgreet."""
    assert cpython.minor == PYTHON_MINOR, cpython
    for subdir in ("noarch", "linux-64"):
        (dest / subdir).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="condachannel-") as tmp:
        work = Path(tmp)
        _python_package(work / "python", cpython, dest / "linux-64")
        for wheel in WHEELS:
            _wheel_package(work / f"{wheel.name}-{wheel.version}", wheel, dest)
        _libgreet_package(work / "libgreet", dest / "linux-64")
    asyncio.run(index_fs(dest, write_zst=False, write_shards=False))
    return Channel(dest)


def _python_package(stage: Path, cpython: TestCPython, out: Path) -> None:
    with tarfile.open(cpython.path) as archive:
        archive.extractall(stage, filter="tar")
    prefix = stage / "python"
    shutil.rmtree(prefix / "lib" / f"python{cpython.minor}" / "site-packages" / "pip")
    for pip in prefix.glob("lib/python*/site-packages/pip-*.dist-info"):
        shutil.rmtree(pip)
    for script in prefix.glob("bin/pip*"):
        script.unlink()
    index = {
        "name": "python",
        "version": cpython.version,
        "build": "h0_cnbtest",
        "build_number": 0,
        "depends": [],
        "license": "Python-2.0",
        "subdir": "linux-64",
        "arch": "x86_64",
        "platform": "linux",
        "timestamp": _TIMESTAMP_MS,
    }
    _package(prefix, index, out / f"python-{cpython.version}-h0_cnbtest.conda")


def _wheel_package(stage: Path, wheel: Wheel, channel: Path) -> None:
    site = stage / "site-packages"
    with zipfile.ZipFile(_cached_wheel(wheel)) as archive:
        archive.extractall(site)
    dist_info = next(site.glob("*.dist-info"))
    (dist_info / "RECORD").unlink()
    (dist_info / "INSTALLER").write_text("conda\n")
    entry_points = _console_scripts(dist_info)
    if wheel.pure:
        subdir, build = "noarch", "pyh_0"
        depends = ["python >=3.9", *wheel.depends]
        link = {"noarch": {"type": "python", "entry_points": entry_points}}
        extra = {"noarch": "python"}
    else:
        # A platform package lays its files out at their installed place.
        lib = stage / "lib" / f"python{PYTHON_MINOR}"
        lib.mkdir(parents=True)
        site.rename(lib / "site-packages")
        subdir, build = "linux-64", f"py{PYTHON_MINOR.replace('.', '')}_0"
        depends = [f"python {PYTHON_MINOR}.*", *wheel.depends]
        link = None
        extra = {"arch": "x86_64", "platform": "linux"}
    index = {
        "name": wheel.name,
        "version": wheel.version,
        "build": build,
        "build_number": 0,
        "depends": depends,
        "license": wheel.license,
        "subdir": subdir,
        "timestamp": _TIMESTAMP_MS,
        **extra,
    }
    if link:
        (stage / "info").mkdir()
        (stage / "info" / "link.json").write_text(
            json.dumps({**link, "package_metadata_version": 1}, indent=2)
        )
    _package(stage, index, channel / subdir / f"{wheel.name}-{wheel.version}-{build}.tar.bz2")


def _console_scripts(dist_info: Path) -> list[str]:
    path = dist_info / "entry_points.txt"
    if not path.is_file():
        return []
    scripts, section = [], ""
    for line in path.read_text().splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[console_scripts]" and "=" in line:
            name, target = (part.strip() for part in line.split("=", 1))
            scripts.append(f"{name} = {target}")
    return scripts


def _libgreet_package(stage: Path, out: Path) -> None:
    (stage / "lib").mkdir(parents=True)
    (stage / "include").mkdir()
    source = stage / "greet.c"
    source.write_text(_GREET_C)
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-O2", "-o", str(stage / "lib" / "libgreet.so"), str(source)],
        check=True,
    )
    source.unlink()
    (stage / "include" / "greet.h").write_text("const char *greet(void);\n")
    index = {
        "name": "libgreet",
        "version": "1.0.0",
        "build": "h0",
        "build_number": 0,
        "depends": [],
        "license": "MIT",
        "subdir": "linux-64",
        "arch": "x86_64",
        "platform": "linux",
        "timestamp": _TIMESTAMP_MS,
    }
    _package(stage, index, out / "libgreet-1.0.0-h0.conda")


def _package(prefix: Path, index: dict[str, object], out: Path) -> None:
    """Write info/ (index.json, paths.json, files, about.json) and archive `prefix` to `out`."""
    info = prefix / "info"
    info.mkdir(exist_ok=True)
    payload = sorted(
        p.relative_to(prefix).as_posix()
        for p in prefix.rglob("*")
        if (p.is_file() or p.is_symlink()) and p.relative_to(prefix).parts[0] != "info"
    )
    paths = []
    for name in payload:
        path = prefix / name
        if path.is_symlink():
            paths.append({"_path": name, "path_type": "softlink", "size_in_bytes": 0})
        else:
            data = path.read_bytes()
            paths.append(
                {
                    "_path": name,
                    "path_type": "hardlink",
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "size_in_bytes": len(data),
                }
            )
    (info / "index.json").write_text(json.dumps(index, indent=2, sort_keys=True))
    (info / "paths.json").write_text(json.dumps({"paths": paths, "paths_version": 1}, indent=2))
    (info / "files").write_text("".join(f"{name}\n" for name in payload))
    (info / "about.json").write_text(json.dumps({"license": index["license"]}, indent=2))
    files = sorted(p.relative_to(prefix).as_posix() for p in info.iterdir()) + payload
    for name in files:
        os.utime(prefix / name, (ARCHIVE_MTIME, ARCHIVE_MTIME), follow_symlinks=False)
    cph.create(str(prefix), files, out.name, out_folder=str(out.parent))


def _cached_wheel(wheel: Wheel) -> Path:
    path = WHEEL_CACHE / wheel.url.rsplit("/", 1)[1]
    if path.is_file() and _sha256(path) == wheel.sha256:
        return path
    WHEEL_CACHE.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    with urllib.request.urlopen(wheel.url, timeout=60) as response:
        partial.write_bytes(response.read())
    if _sha256(partial) != wheel.sha256:
        partial.unlink()
        raise RuntimeError(f"{wheel.url}: sha256 mismatch")
    partial.replace(path)  # atomic: parallel sessions never see a partial wheel
    return path


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
