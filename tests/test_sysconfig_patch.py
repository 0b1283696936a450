"""sysconfig_patch: a PBS-like install's build settings point at its layer and at gcc."""

from __future__ import annotations

import importlib.util
import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from cnb_python.log import Logger
from cnb_python.sysconfig_patch import Patcher, patch_install

MINOR = "3.12"
SYSCONFIGDATA = "lib/python3.12/_sysconfigdata__linux_x86_64-linux-gnu.py"
MAKEFILE = "lib/python3.12/config-3.12-x86_64-linux-gnu/Makefile"
PC = "lib/pkgconfig/python-3.12.pc"
CONFIG = "bin/python3.12-config"

# Shaped like PBS's x86_64 files: pprint output, long values split over lines.
QUIRKY_SYSCONFIGDATA = """\
# system configuration generated and used by the sysconfig module
build_time_vars = {'AR': '/tools/llvm/bin/llvm-ar',
 'BLDSHARED': 'clang -pthread -shared -L/install/lib -Wl,-rpath,/install/lib',
 'CC': 'clang -pthread',
 'CFLAGS': ('-Wsign-compare -DNDEBUG -g -fwrapv -O3 -Wall -fdebug-default-version=4 '
            '-fprofile-instr-use=/build/default.profdata'),
 'CONFIGURE_CFLAGS': '-fdebug-default-version=4',
 'CONFIG_ARGS': "'--prefix=/install' 'CC=clang' 'CFLAGS=-fdebug-default-version=4'",
 'CXX': 'clang++ -pthread',
 'INCLUDEPY': '/install/include/python3.12',
 'LDCXXSHARED': 'clang++ -pthread -shared',
 'LDSHARED': 'clang -pthread -shared -L/tools/deps/lib',
 'LIBDIR': '/install/lib',
 'LINKCC': 'clang -pthread',
 'OTHER': 'clang -fdebug-default-version=4 /installer/lib ./install /tools/install',
 'Py_ENABLE_SHARED': 1,
 'exec_prefix': '/install',
 'prefix': '/install'}
"""

QUIRKY_MAKEFILE = """\
# Generated automatically from Makefile.pre by makesetup.
prefix=\t\t/install
exec_prefix=\t${prefix}
CC=\t\tclang -pthread
CXX=\t\tclang++ -pthread
AR=\t\t/tools/llvm/bin/llvm-ar
CONFIGURE_CFLAGS=\t-fdebug-default-version=4 -fno-plt
CONFIG_ARGS=\t '--prefix=/install' 'CC=clang'
LIBPC=\t\t$(LIBDIR)/pkgconfig
install:
\t$(INSTALL) python /install/bin/python3.12
"""

QUIRKY_PC = """\
# See: man pkg-config
prefix=/install
exec_prefix=${prefix}
libdir=${exec_prefix}/lib
includedir=${prefix}/include

Name: Python
Description: Build a C extension for Python
Version: 3.12
Libs:
Cflags: -I${includedir}/python3.12
"""

QUIRKY_CONFIG = """\
#!/bin/sh
installed_prefix ()
{
    RESULT=$(dirname $(cd $(dirname "$1") && pwd -P))
    echo $RESULT
}
prefix_real=$(installed_prefix "$0")
prefix="/install"
includedir=$(echo "${prefix}/include" | sed "s#$prefix#$prefix_real#")
CFLAGS=$(echo "-fdebug-default-version=4 -I/install/include" | sed "s#$prefix#$prefix_real#")
OPT="-DNDEBUG -g -O3 -Wall"
for ARG in "$@"
do
    case "$ARG" in
        --cflags)
            echo "-I$includedir/python3.12 $CFLAGS $OPT"
        ;;
        --prefix)
            echo "$prefix_real"
        ;;
    esac
done
"""


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / CONFIG).chmod(0o755)
    (root / "bin" / "python3-config").symlink_to("python3.12-config")
    (root / "lib" / "pkgconfig" / "python3.pc").symlink_to("python-3.12.pc")
    return root


def _quirky(root: Path) -> Path:
    return _tree(
        root,
        {
            SYSCONFIGDATA: QUIRKY_SYSCONFIGDATA,
            MAKEFILE: QUIRKY_MAKEFILE,
            PC: QUIRKY_PC,
            CONFIG: QUIRKY_CONFIG,
        },
    )


def _load_vars(path: Path) -> dict[str, object]:
    spec = importlib.util.spec_from_file_location("sysconfigdata", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_time_vars


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes() if not p.is_symlink() else b"->"
        for p in sorted(root.rglob("*"))
        if p.is_file() or p.is_symlink()
    }


def _patch(root: Path, debug: bool = False) -> str:
    out = io.StringIO()
    patch_install(root, MINOR, Logger(out=out, err=out, debug=debug))
    return out.getvalue()


def test_sysconfigdata_points_at_the_layer_and_at_cc(tmp_path: Path) -> None:
    home = _quirky(tmp_path / "cpython")
    _patch(home)
    h = str(home)
    assert _load_vars(home / SYSCONFIGDATA) == {
        "AR": "ar",
        "BLDSHARED": f"cc -pthread -shared -L{h}/lib -Wl,-rpath,{h}/lib",
        "CC": "cc -pthread",
        "CFLAGS": "-Wsign-compare -DNDEBUG -g -fwrapv -O3 -Wall",
        "CONFIGURE_CFLAGS": "",
        "CONFIG_ARGS": "'--prefix=/install' 'CC=clang' 'CFLAGS=-fdebug-default-version=4'",
        "CXX": "c++ -pthread",
        "INCLUDEPY": f"{h}/include/python3.12",
        "LDCXXSHARED": "c++ -pthread -shared",
        "LDSHARED": "cc -pthread -shared -L/tools/deps/lib",
        "LIBDIR": f"{h}/lib",
        "LINKCC": "cc -pthread",
        # Not a compiler variable: clang stays; other paths that merely contain "install" too.
        "OTHER": "clang /installer/lib ./install /tools/install",
        "Py_ENABLE_SHARED": 1,
        "exec_prefix": h,
        "prefix": h,
    }


def test_sysconfigdata_keeps_the_bytes_of_unchanged_values(tmp_path: Path) -> None:
    home = _quirky(tmp_path / "cpython")
    _patch(home)
    lines = (home / SYSCONFIGDATA).read_text().splitlines()
    original = QUIRKY_SYSCONFIGDATA.splitlines()
    assert lines[0] == original[0]
    assert lines[1] == "build_time_vars = {'AR': 'ar',"
    assert " 'Py_ENABLE_SHARED': 1," in lines
    # The CFLAGS value split over two lines is one string now, still in its parentheses.
    assert " 'CFLAGS': ('-Wsign-compare -DNDEBUG -g -fwrapv -O3 -Wall')," in lines
    assert len(lines) == len(original) - 1


def test_makefile_variables_and_recipe_paths(tmp_path: Path) -> None:
    home = _quirky(tmp_path / "cpython")
    _patch(home)
    assert (home / MAKEFILE).read_text() == (
        "# Generated automatically from Makefile.pre by makesetup.\n"
        f"prefix=\t\t{home}\n"
        "exec_prefix=\t${prefix}\n"
        "CC=\t\tcc -pthread\n"
        "CXX=\t\tc++ -pthread\n"
        "AR=\t\tar\n"
        "CONFIGURE_CFLAGS=\t-fno-plt\n"
        "CONFIG_ARGS=\t '--prefix=/install' 'CC=clang'\n"
        "LIBPC=\t\t$(LIBDIR)/pkgconfig\n"
        "install:\n"
        f"\t$(INSTALL) python {home}/bin/python3.12\n"
    )


def test_pkgconfig_prefix_is_the_layer_and_symlinks_are_left_alone(tmp_path: Path) -> None:
    home = _quirky(tmp_path / "cpython")
    _patch(home)
    assert (home / PC).read_text() == QUIRKY_PC.replace("prefix=/install", f"prefix={home}")
    assert os.readlink(home / "lib" / "pkgconfig" / "python3.pc") == "python-3.12.pc"
    if shutil.which("pkg-config"):
        out = subprocess.run(
            ["pkg-config", "--cflags", "python3"],
            env={"PKG_CONFIG_PATH": str(home / "lib" / "pkgconfig"), "PATH": os.environ["PATH"]},
            capture_output=True,
            text=True,
            check=True,
        )
        assert out.stdout.strip() == f"-I{home}/include/python3.12"


def test_python_config_gives_gcc_flags_and_the_layer(tmp_path: Path) -> None:
    home = _quirky(tmp_path / "cpython")
    _patch(home)
    text = (home / CONFIG).read_text()
    assert f'prefix="{home}"\n' in text
    assert f'CFLAGS=$(echo "-I{home}/include" | sed' in text
    run = subprocess.run(
        ["sh", str(home / "bin" / "python3-config"), "--cflags", "--prefix"],
        capture_output=True,
        text=True,
        check=True,
    )
    real = os.path.realpath(home)
    assert run.stdout == (
        f"-I{real}/include/python3.12 -I{real}/include -DNDEBUG -g -O3 -Wall\n{real}\n"
    )


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("CFLAGS", "-fdebug-default-version=4", ""),
        ("CFLAGS", "-O3 -fdebug-default-version=4 -Wall", "-O3 -Wall"),
        ("CFLAGS", "-fdebug-default-version=4 -O3", "-O3"),
        ("PY_CFLAGS", "-O3 -fprofile-instr-use=/b/x.profdata", "-O3"),
        ("PY_CFLAGS_NODIST", "-fprofile-instr-generate -flto=thin -O3", "-O3"),
        ("LDFLAGS", "-Qunused-arguments -Wl,--exclude-libs,ALL", "-Wl,--exclude-libs,ALL"),
        # gcc accepts these: kept.
        ("CFLAGS", "-flto -fno-semantic-interposition -Wno-unused-command-line-argument", None),
        ("LDFLAGS", "-fuse-ld=lld -g -fprofile-use", None),
        ("CONFIG_ARGS", "'CFLAGS=-fdebug-default-version=4'", None),
        ("LDSHARED", "/opt/clang-17/bin/clang-17 -shared", "cc -shared"),
        ("CXX", "clang++-17 -pthread", "c++ -pthread"),
        ("AR", "/tools/llvm/bin/llvm-ar", "ar"),
        ("CC", "/usr/bin/aarch64-linux-gnu-gcc", "cc"),
        ("CXX", "/usr/bin/x86_64-linux-gnu-g++", "c++"),
        ("CC", "gcc -pthread", None),
        ("CC", "myclang", None),
    ],
)
def test_variable_rules(name: str, value: str, expected: str | None) -> None:
    patcher = Patcher("/install", "/layers/x/cpython")
    assert patcher.variable(name, value) == (value if expected is None else expected)


def test_an_install_without_quirks_is_unchanged_and_nothing_is_logged(tmp_path: Path) -> None:
    home = tmp_path / "cpython"
    h = str(home)
    _tree(
        home,
        {
            SYSCONFIGDATA: QUIRKY_SYSCONFIGDATA.replace("/install", h)
            .replace("/tools/llvm/bin/llvm-ar", "ar")
            .replace("clang++", "g++")
            .replace("clang", "gcc")
            .replace(" -fdebug-default-version=4", "")
            .replace("-fdebug-default-version=4", "")
            .replace(" '\n            '-fprofile-instr-use=/build/default.profdata'", "'"),
            MAKEFILE: "prefix=\t\t" + h + "\nCC=\t\tgcc -pthread\n",
            PC: QUIRKY_PC.replace("/install", h),
            CONFIG: QUIRKY_CONFIG.replace("/install", h).replace("-fdebug-default-version=4 ", ""),
        },
    )
    before = _snapshot(home)
    assert _patch(home, debug=True) == "      [debug] build settings: nothing to patch\n"
    assert _snapshot(home) == before


def test_patching_is_deterministic_and_idempotent(tmp_path: Path) -> None:
    home = tmp_path / "cpython"
    results = []
    for _ in range(2):
        shutil.rmtree(home, ignore_errors=True)
        _patch(_quirky(home))
        results.append(_snapshot(home))
    assert results[0] == results[1]
    assert _patch(home) == ""  # already patched: nothing left to do
    assert _snapshot(home) == results[0]


def test_one_line_says_what_was_patched_and_debug_gives_each_variable(tmp_path: Path) -> None:
    home = _quirky(tmp_path / "cpython")
    plain = _patch(home)
    assert plain == (
        f"    Patched the build settings of 4 files: prefix /install -> {home}; "
        "/tools/llvm/bin/llvm-ar -> ar, clang -> cc, clang++ -> c++; "
        "dropped -fdebug-default-version=4 -fprofile-instr-use=/build/default.profdata\n"
    )
    again = _quirky(tmp_path / "again")
    debug = _patch(again, debug=True).splitlines()
    assert debug[0].startswith("    Patched the build settings of 4 files: ")
    assert f"      [debug] {SYSCONFIGDATA}: CC: 'clang -pthread' -> 'cc -pthread'" in debug
    assert f"      [debug] {PC}: prefix: '/install' -> '{again}'" in debug
    assert f"      [debug] {MAKEFILE}: AR: '\\t\\t/tools/llvm/bin/llvm-ar' -> '\\t\\tar'" in debug
    assert f"      [debug] {CONFIG}: prefix: '\"/install\"' -> '\"{again}\"'" in debug


def test_without_sysconfigdata_the_prefix_is_left_alone(tmp_path: Path) -> None:
    home = _quirky(tmp_path / "cpython")
    (home / SYSCONFIGDATA).unlink()
    _patch(home)
    # No recorded prefix: only the compiler and flag rules apply.
    assert "prefix=/install" in (home / PC).read_text()
    assert "CC=\t\tcc -pthread" in (home / MAKEFILE).read_text()
