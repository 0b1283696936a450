"""Relocatable CPython tarballs shaped like python-build-standalone "install_only", built from
interpreters on this machine, because the tests cannot reach the real PBS downloads.

Layout of a tarball (one top-level dir, as PBS has it):

    python/bin/{python3.X, python3 -> python3.X, python -> python3.X, pip, pip3, pip3.X,
                python3.X-config, python3-config -> python3.X-config}
    python/include/python3.X/...
    python/lib/{libpython3.X.so*, libpython3.so, pkgconfig/, python3.X/}

The stdlib keeps no tests, idlelib, turtledemo or bytecode (the buildpack compiles its own), and
site-packages holds only pip. ELF RUNPATHs that point into the source prefix are rewritten
relative to $ORIGIN, so the tree runs from any directory as any uid.

Two variants. "pbs" (the default) has PBS's build-time quirks in `_sysconfigdata_*.py`,
`config-3.X-*/Makefile`, `lib/pkgconfig/*.pc` and `bin/python3.X-config`: the prefix `/install`
on every arch and, on amd64, clang in the compiler and linker variables, an llvm-ar path that
does not exist here, and the clang-only flag `-fdebug-default-version=4` in the CFLAGS. "clean"
keeps what the source interpreter recorded: its own prefix and gcc.
"""

from __future__ import annotations

import ast
import fcntl
import gzip
import hashlib
import os
import platform
import pprint
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = REPO_ROOT / ".cache" / "test-cpython"
# Every archive entry gets the mtime the image exporter uses; any constant would do.
ARCHIVE_MTIME = 315532801  # 1980-01-01T00:00:01Z
OLDEST_MINOR = 9  # the buildpack supports Python 3.9+

_ARCHES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
_STDLIB_DROP = {"test", "idlelib", "turtledemo"}
_TEST_DIRS = {"test", "tests", "idle_test"}

PBS, CLEAN = "pbs", "clean"
VARIANTS = (PBS, CLEAN)
# What PBS records (see the module docstring): its install prefix and its LLVM toolchain.
PBS_PREFIX = "/install"
PBS_AR = "/tools/llvm/bin/llvm-ar"
CLANG_ONLY_FLAG = "-fdebug-default-version=4"


@dataclass(frozen=True)
class TestCPython:
    __test__ = False  # not a pytest test class

    version: str
    path: Path
    sha256: str
    arch: str
    variant: str = PBS

    @property
    def minor(self) -> str:
        return _minor(self.version)


def host_arch() -> str:
    machine = platform.machine().lower()
    if machine not in _ARCHES:
        raise RuntimeError(f"unsupported host architecture {machine!r}")
    return _ARCHES[machine]


def available_sources() -> list[Path]:
    """pyenv interpreters (3.9+) on this machine, oldest first; else the one running us."""
    versions = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = []
    for prefix in versions.glob("3.*"):
        match = re.fullmatch(r"3\.(\d+)\.(\d+)", prefix.name)
        if match and int(match[1]) >= OLDEST_MINOR and (prefix / "bin" / "python3").exists():
            found.append(((int(match[1]), int(match[2])), prefix))
    return [prefix for _, prefix in sorted(found)] or [Path(sys.base_prefix)]


def source_version(source_prefix: Path) -> str:
    """The full version ("3.12.1") of the interpreter installed at source_prefix."""
    out = subprocess.run(
        [source_prefix / "bin" / "python3", "-I", "-S", "-c", "import sys; print(sys.version)"],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.split()[0]


def build_test_cpython(source_prefix: Path, out_dir: Path, variant: str = PBS) -> TestCPython:
    """Build (or reuse) the tarball of `variant` for source_prefix in out_dir.

    The file name carries the variant and a fingerprint of the source and of this recipe, so
    out_dir doubles as a cache: an existing file with that name is returned as is. The build is
    deterministic, so the sha256 is the same on every run for the same source.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown test CPython variant {variant!r}")
    version = source_version(source_prefix)
    arch = host_arch()
    fingerprint = _fingerprint(source_prefix, version)
    name = f"cpython-{version}-{arch}-{variant}-{fingerprint}.tar.gz"
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / name
    with _locked(out_dir / f".{name}.lock"):  # parallel test workers build each tarball once
        if not target.exists():
            with tempfile.TemporaryDirectory(dir=out_dir, prefix=".build-") as tmp:
                stage = Path(tmp) / "python"
                _stage(source_prefix, stage, _minor(version))
                if variant == PBS:
                    _add_pbs_quirks(source_prefix, stage, _minor(version), arch)
                partial = Path(tmp) / name
                _write_archive(stage, partial)
                os.replace(partial, target)
    return TestCPython(
        version=version, path=target, sha256=_sha256(target), arch=arch, variant=variant
    )


def build_available(out_dir: Path = CACHE_DIR, variant: str = PBS) -> list[TestCPython]:
    """Tarballs for every available source, built once and then taken from out_dir."""
    return [build_test_cpython(prefix, out_dir, variant) for prefix in available_sources()]


def build_minor(minor: str, out_dir: Path = CACHE_DIR, variant: str = PBS) -> TestCPython:
    """The tarball for the newest available source of `minor` ("3.12")."""
    for prefix in reversed(available_sources()):
        if _minor(source_version(prefix)) == minor:
            return build_test_cpython(prefix, out_dir, variant)
    raise LookupError(f"no interpreter for Python {minor} on this machine")


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _fingerprint(source_prefix: Path, version: str) -> str:
    """Cheap identity of source and recipe: sizes and mtimes of key files, not their contents."""
    xy = _minor(version)
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(version.encode())
    site = source_prefix / "lib" / f"python{xy}" / "site-packages"
    for path in [
        source_prefix / "bin" / f"python{xy}",
        source_prefix / "lib" / f"libpython{xy}.so.1.0",
        source_prefix / "lib" / f"python{xy}" / "os.py",
        *sorted(site.glob("pip*")),
    ]:
        if path.exists():
            st = path.stat()
            digest.update(f"{path}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:12]


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- staging -------------------------------------------------------------------------------------

# PBS-style trampoline: sh runs the exec line; Python reads lines 2-3 as a string literal.
# realpath makes it work through symlinks to the script, too.
_PIP_SCRIPT = """\
#!/bin/sh
'''exec' "$(dirname -- "$(realpath -- "$0")")/{python}" "$0" "$@"
' '''
import sys

from pip._internal.cli.main import main

sys.exit(main())
"""


def _stage(source: Path, stage: Path, xy: str) -> None:
    python = f"python{xy}"
    bin_dir = stage / "bin"
    bin_dir.mkdir(parents=True)
    shutil.copy(source / "bin" / python, bin_dir / python)
    for link in ("python3", "python"):
        (bin_dir / link).symlink_to(python)
    for script in ("pip", "pip3", f"pip{xy}"):
        (bin_dir / script).write_text(_PIP_SCRIPT.format(python=python))
        (bin_dir / script).chmod(0o755)
    shutil.copy(source / "bin" / f"{python}-config", bin_dir / f"{python}-config")
    (bin_dir / "python3-config").symlink_to(f"{python}-config")
    shutil.copytree(source / "include" / python, stage / "include" / python, symlinks=True)
    shutil.copytree(
        source / "lib", stage / "lib", symlinks=True, ignore=_LibFilter(source / "lib", python)
    )
    if not any((stage / "lib" / python / "site-packages").glob("pip-*.dist-info")):
        raise RuntimeError(f"{source} has no pip in site-packages; PBS ships one")

    elves = [p for p in _walk(stage) if p.is_file() and not p.is_symlink() and _is_elf(p)]
    # Size only: PBS ships stripped binaries. Without binutils the tarball is just bigger.
    if shutil.which("strip"):
        subprocess.run(["strip", "--strip-unneeded", *map(str, elves)], check=True)
    roots = {str(source), str(source.resolve())}
    for elf in elves:
        _relocate_runpath(elf, roots, stage)


class _LibFilter:
    """copytree ignore= callback for <prefix>/lib. Only Python's own files: the prefix may be
    shared with other software (/usr when falling back to the running interpreter)."""

    def __init__(self, lib: Path, python: str) -> None:
        self.lib = lib
        self.python = python
        self.stdlib = lib / python
        self.site = self.stdlib / "site-packages"

    def __call__(self, directory: str, names: list[str]) -> set[str]:
        here = Path(directory)
        drop = {n for n in names if n == "__pycache__" or n.endswith((".pyc", ".pyo"))}
        if here == self.lib:
            drop |= {
                n
                for n in names
                if n not in (self.python, "pkgconfig") and not n.startswith("libpython")
            }
        elif here == self.lib / "pkgconfig":
            drop |= {n for n in names if not n.startswith("python")}
        elif here == self.site:
            keep = {"README.txt", "pip"}
            drop |= {
                n for n in names if n not in keep and not re.fullmatch(r"pip-[^-]+\.dist-info", n)
            }
        elif here == self.stdlib:
            drop |= _STDLIB_DROP & set(names)
        elif here.is_relative_to(self.stdlib) and not here.is_relative_to(self.site):
            drop |= {n for n in names if n in _TEST_DIRS and (here / n).is_dir()}
            if here.name.startswith("config-"):
                drop |= {n for n in names if n.endswith(".a")}  # static libpython, ~60 MB
        return drop


def _walk(root: Path) -> Iterator[Path]:
    """Everything below root, directories before their contents, names sorted at each level."""
    for child in sorted(root.iterdir()):
        yield child
        if child.is_dir() and not child.is_symlink():
            yield from _walk(child)


def _is_elf(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == b"\x7fELF"


def _write_archive(stage: Path, dest: Path) -> None:
    """A tar.gz of stage whose bytes depend only on the staged names, contents and exec bits."""
    with (
        dest.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for path in [stage, *_walk(stage)]:
            info = tarfile.TarInfo(path.relative_to(stage.parent).as_posix())
            info.mtime = ARCHIVE_MTIME
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if path.is_symlink():
                info.type, info.linkname, info.mode = tarfile.SYMTYPE, os.readlink(path), 0o777
                tar.addfile(info)
            elif path.is_dir():
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                info.size = path.stat().st_size
                info.mode = 0o755 if path.stat().st_mode & 0o111 else 0o644
                with path.open("rb") as handle:
                    tar.addfile(info, handle)


# --- PBS quirks ----------------------------------------------------------------------------------

# Compiler and linker variables as PBS's amd64 builds record them: clang with -pthread.
_CLANG = {"gcc": "clang -pthread", "g++": "clang++ -pthread"}
_CLANG_VARIABLES = ("CC", "CXX", "LDSHARED", "BLDSHARED", "LDCXXSHARED", "LINKCC", "MAINCC")
_CLANG_FLAG_VARIABLES = (
    "CFLAGS",
    "CONFIGURE_CFLAGS",
    "PY_CFLAGS",
    "PY_CORE_CFLAGS",
    "PY_STDMODULE_CFLAGS",
    "PY_BUILTIN_MODULE_CFLAGS",
)
_MAKEFILE_LINE = re.compile(
    r"^(?P<name>CC|CXX|AR|CONFIGURE_CFLAGS)=(?P<blank>[ \t]*)(?P<value>.*)$", re.M
)


def _add_pbs_quirks(source: Path, stage: Path, xy: str, arch: str) -> None:
    """Record the prefix /install and, on amd64, PBS's clang toolchain, in the four kinds of
    files PBS has them in."""
    roots = sorted({str(source), str(source.resolve())}, key=len, reverse=True)
    clang = arch == "amd64"

    def install_prefix(text: str) -> str:
        for root in roots:
            text = text.replace(root, PBS_PREFIX)
        return text

    stdlib = stage / "lib" / f"python{xy}"
    for path in stdlib.glob("_sysconfigdata_*.py"):
        values = _read_build_time_vars(path)
        values = {k: install_prefix(v) if isinstance(v, str) else v for k, v in values.items()}
        if clang:
            for name in _CLANG_VARIABLES:
                if name in values:
                    values[name] = _clang_command(values[name])
            values["AR"] = PBS_AR
            for name in _CLANG_FLAG_VARIABLES:
                if name in values:
                    values[name] = f"{values[name]} {CLANG_ONLY_FLAG}".strip()
        path.write_text(
            "# system configuration generated and used by the sysconfig module\n"
            f"build_time_vars = {pprint.pformat(values)}\n"
        )
    for path in [*stdlib.glob("config-*/Makefile"), *stdlib.glob("config-*/python-config.py")]:
        text = install_prefix(path.read_text())
        if clang and path.name == "Makefile":
            text = _MAKEFILE_LINE.sub(_clang_makefile_line, text)
        path.write_text(text)
    for path in (stage / "lib" / "pkgconfig").glob("*.pc"):
        if not path.is_symlink():
            path.write_text(install_prefix(path.read_text()))
    config = stage / "bin" / f"python{xy}-config"
    text = install_prefix(config.read_text())
    if clang:
        text = re.sub(
            r'^CFLAGS=\$\(echo "(.*?)"',
            lambda m: f'CFLAGS=$(echo "{(m[1] + " ") if m[1].strip() else ""}{CLANG_ONLY_FLAG}"',
            text,
            count=1,
            flags=re.M,
        )
    config.write_text(text)


def _clang_makefile_line(match: re.Match[str]) -> str:
    name, value = match["name"], match["value"]
    if name == "AR":
        value = PBS_AR
    elif name == "CONFIGURE_CFLAGS":
        value = f"{value} {CLANG_ONLY_FLAG}".strip()
    else:
        value = _clang_command(value)
    return f"{name}={match['blank']}{value}"


def _clang_command(command: str) -> str:
    """ "gcc -shared" -> "clang -pthread -shared"; older CPythons record "gcc -pthread" already."""
    first, _, rest = command.partition(" ")
    if first not in _CLANG:
        return command
    rest = rest.removeprefix("-pthread").strip()
    return f"{_CLANG[first]} {rest}".strip()


def _read_build_time_vars(path: Path) -> dict[str, object]:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "build_time_vars":
            return ast.literal_eval(node.value)
    raise ValueError(f"{path} has no build_time_vars")


# --- ELF RUNPATH relocation ----------------------------------------------------------------------
# patchelf is not needed: the relative RUNPATH is never longer than the absolute one it replaces,
# so it is written over the old string in .dynstr and NUL-padded. Nothing moves in the file.

_DT_NULL, _DT_NEEDED, _DT_SONAME, _DT_RPATH, _DT_RUNPATH = 0, 1, 14, 15, 29
_SHT_DYNAMIC, _SHT_DYNSYM = 6, 11


def _runpath_strings(data: bytes) -> list[tuple[int, int]]:
    """File offset and length of each DT_RUNPATH/DT_RPATH string in a 64-bit ELF image."""
    if data[:4] != b"\x7fELF" or data[4] != 2:
        raise ValueError("not a 64-bit ELF file")
    order = "<" if data[5] == 1 else ">"
    (shoff,) = struct.unpack_from(order + "Q", data, 0x28)
    shentsize, shnum = struct.unpack_from(order + "HH", data, 0x3A)
    # (sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size, sh_link, sh_info, align, entsize)
    sections = [
        struct.unpack_from(order + "IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)
    ]
    dynamic = next((s for s in sections if s[1] == _SHT_DYNAMIC), None)
    if dynamic is None:
        return []
    dynstr = sections[dynamic[6]][4]
    paths, other_refs = [], []
    for pos in range(dynamic[4], dynamic[4] + dynamic[5], 16):
        tag, value = struct.unpack_from(order + "qQ", data, pos)
        if tag == _DT_NULL:
            break
        if tag in (_DT_RPATH, _DT_RUNPATH):
            paths.append(value)
        elif tag in (_DT_NEEDED, _DT_SONAME):
            other_refs.append(value)
    for sec in sections:
        if sec[1] == _SHT_DYNSYM and sec[6] == dynamic[6]:
            other_refs += [
                struct.unpack_from(order + "I", data, sec[4] + i)[0]
                for i in range(0, sec[5], sec[9])
            ]
    found = []
    for offset in paths:
        length = data.index(b"\0", dynstr + offset) - dynstr - offset
        # A linker may share string tails; overwriting would then corrupt another name.
        if any(offset < ref < offset + length for ref in other_refs):
            raise ValueError("RUNPATH string shares bytes with another dynamic string")
        found.append((dynstr + offset, length))
    return found


def _relocate_runpath(elf: Path, roots: set[str], stage: Path) -> None:
    data = bytearray(elf.read_bytes())
    changed = False
    for start, length in _runpath_strings(data):
        old = data[start : start + length].decode()
        new = ":".join(_relative_entry(entry, roots, stage, elf.parent) for entry in old.split(":"))
        if new == old:
            continue
        if len(new) > length:
            raise ValueError(
                f"{elf}: RUNPATH {new!r} is longer than {old!r}; cannot patch in place"
            )
        data[start : start + length] = new.encode().ljust(length, b"\0")
        changed = True
    if changed:
        elf.write_bytes(data)


def _relative_entry(entry: str, roots: set[str], stage: Path, origin: Path) -> str:
    for root in roots:
        if entry == root or entry.startswith(root + "/"):
            target = stage / os.path.relpath(entry, root)
            rel = os.path.relpath(target, origin)
            return "$ORIGIN" if rel == "." else f"$ORIGIN/{rel}"
    return entry
