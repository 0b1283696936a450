"""The C toolchain shims (cnb_python/toolchain.py and the sh bodies in toolscripts/): what they
pass to the real tools, that real gcc and ar then give the same bytes in different directories,
and the reuse-key inputs of the toolchain."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from cnb_python import toolchain
from cnb_python.log import Logger

MAPS = ("-ffile-prefix-map", "-fdebug-prefix-map")
# A stand-in for a tool: prints its arguments, one per line.
ECHO = '#!/bin/sh\nfor arg; do printf "%s\\n" "$arg"; done\n'

pytestmark = pytest.mark.skipif(not shutil.which("gcc"), reason="needs gcc")


def _shim(tmp_path: Path, body: str, roots: tuple[str, ...], maps: tuple[str, ...] = MAPS) -> Path:
    real = tmp_path / "real-tool"
    real.write_text(ECHO)
    real.chmod(0o755)
    bin_dir = tmp_path / "shims"
    toolchain.write_shims(bin_dir, [toolchain.Shim("tool", real, body, maps)], roots)
    return bin_dir / "tool"


def _run(shim: Path, *args: str, cwd: Path, env: dict[str, str] | None = None) -> list[str]:
    proc = subprocess.run(
        [str(shim), *args],
        cwd=cwd,
        env={"PATH": os.environ["PATH"], **(env or {})},
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout.splitlines()


def _maps(*dirs: str) -> list[str]:
    return [f"{option}={d}=." for d in dirs for option in MAPS]


def test_the_compiler_gets_the_builds_arguments_then_maps_of_its_directories(tmp_path):
    root = tmp_path / "tmp"
    build = root / "pip-install-abc" / "pkg_123"
    (build / "src").mkdir(parents=True)
    (build / "include").mkdir()
    (root / "pip-build-env-x" / "overlay" / "include").mkdir(parents=True)
    elsewhere = tmp_path / "workspace"
    (elsewhere / "src").mkdir(parents=True)
    shim = _shim(tmp_path, "compiler-wrapper.sh", (str(root),))
    args = [
        "-O2",
        "-g",
        "-Iinclude",  # relative: below the working directory, already mapped
        f"-I{build}/include",  # below the working directory too
        f"-I{root}/pip-build-env-x/overlay/include",
        f"{elsewhere}/src/a.c",  # not below a temp root: a fixed path, left alone
        f"{root}/other/b.c",  # a file: its directory
        f"-ffile-prefix-map={root}/x=/y",  # the build's own map: never a directory to map
        "-o",
        f"{root}/out.o",  # directly in the temp root: never mapped
    ]
    got = _run(shim, *args, cwd=build)
    assert got == args + _maps(
        str(build), f"{root}/pip-build-env-x/overlay/include", f"{root}/other"
    )


def test_only_the_outermost_directories_are_mapped(tmp_path):
    root = tmp_path / "tmp"
    build = root / "tmpabc" / "build"
    build.mkdir(parents=True)
    source = root / "pip-install-x" / "pkg_1"
    (source / "src" / "deep").mkdir(parents=True)
    shim = _shim(tmp_path, "compiler-wrapper.sh", (str(root),))
    # The deeper directory comes first, then one that holds it.
    args = [f"{source}/src/deep/a.c", f"-I{source}"]
    assert _run(shim, *args, cwd=build) == args + _maps(str(build), str(source))


def test_a_response_file_and_cpath_count_too(tmp_path):
    root = tmp_path / "tmp"
    (root / "rsp-dir").mkdir(parents=True)
    (root / "cpath-dir").mkdir()
    work = tmp_path / "work"
    work.mkdir()
    (work / "args.rsp").write_text(f"-I{root}/rsp-dir -O2\n")
    shim = _shim(tmp_path, "compiler-wrapper.sh", (str(root),))
    got = _run(shim, "@args.rsp", cwd=work, env={"CPATH": f"{root}/cpath-dir"})
    assert got == ["@args.rsp", *_maps(str(work), f"{root}/rsp-dir", f"{root}/cpath-dir")]


def test_a_working_directory_that_is_or_holds_a_temp_root_is_not_mapped(tmp_path):
    root = tmp_path / "tmp"
    root.mkdir()
    shim = _shim(tmp_path, "compiler-wrapper.sh", (str(root),))
    assert _run(shim, "-c", "a.c", cwd=root) == ["-c", "a.c"]
    assert _run(shim, "-c", "a.c", cwd=tmp_path) == ["-c", "a.c"]


def test_an_old_compiler_gets_the_debug_map_alone(tmp_path):
    shim = _shim(tmp_path, "compiler-wrapper.sh", ("/nonexistent",), ("-fdebug-prefix-map",))
    assert _run(shim, "-c", "a.c", cwd=tmp_path) == [
        "-c",
        "a.c",
        f"-fdebug-prefix-map={tmp_path}=.",
    ]


def _compile_in(root: Path, bin_dir: Path | None, name: str) -> bytes:
    """Compile a file with -g and __FILE__ in a new random directory below `root`, as pip does."""
    build = Path(tempfile.mkdtemp(prefix="pip-install-", dir=root)) / "pkg"
    (build / "src").mkdir(parents=True)
    (build / "src" / "a.c").write_text(
        '#include "a.h"\nconst char *where(void) { return __FILE__ " " __DATE__; }\n'
    )
    (build / "src" / "a.h").write_text("int answer(void);\n")
    env = {**os.environ, "SOURCE_DATE_EPOCH": "315532801"}
    if bin_dir:
        env["PATH"] = f"{bin_dir}:{env['PATH']}"
    output = root / name
    # Absolute paths, as CMake gives them, and the build's own -g after its flags.
    command = ["cc", "-O2", "-g", "-c", str(build / "src" / "a.c"), "-o", str(output)]
    subprocess.run(command, cwd=build, env=env, check=True)
    return output.read_bytes()


def test_gcc_through_the_shim_gives_the_same_object_in_any_directory(tmp_path):
    root = tmp_path / "tmp"
    root.mkdir()
    env = {"PATH": os.environ["PATH"], "TMPDIR": str(root)}
    bin_dir = tmp_path / "shims"
    toolchain.write_shims(bin_dir, toolchain.find_shims(env, bin_dir), toolchain.temp_roots(env))
    assert _compile_in(root, None, "a1.o") != _compile_in(root, None, "a2.o")
    wrapped = _compile_in(root, bin_dir, "b1.o")
    assert wrapped == _compile_in(root, bin_dir, "b2.o")
    assert str(root).encode() not in wrapped
    assert b"./src/a.c Jan  1 1980" in wrapped


def test_ar_is_deterministic_sorts_an_insertion_and_passes_the_rest(tmp_path):
    shim = _shim(tmp_path, "archiver-wrapper.sh", ())
    run = lambda *args: _run(shim, *args, cwd=tmp_path)  # noqa: E731
    assert run("rcsU", "lib.a", "b.o", "a.o") == ["rcsD", "lib.a", "a.o", "b.o"]
    assert run("-qc", "lib.a", "b.o", "a.o") == ["-qcD", "lib.a", "a.o", "b.o"]
    assert run("--plugin", "lto.so", "rcs", "lib.a", "b.o", "a.o") == [
        "--plugin",
        "lto.so",
        "rcsD",
        "lib.a",
        "a.o",
        "b.o",
    ]
    # A position (b: before a member) or a member that looks like an option: order as given.
    assert run("rb", "x.o", "lib.a", "b.o", "a.o") == ["rbD", "x.o", "lib.a", "b.o", "a.o"]
    assert run("rcs", "lib.a", "b.o", "@more") == ["rcsD", "lib.a", "b.o", "@more"]
    assert run("d", "lib.a", "a.o") == ["dD", "lib.a", "a.o"]
    assert run("t", "lib.a") == ["t", "lib.a"]
    assert run("--version") == ["--version"]
    assert run() == []


def test_ranlib_is_deterministic(tmp_path):
    shim = _shim(tmp_path, "ranlib-wrapper.sh", ())
    assert _run(shim, "-U", "lib.a", cwd=tmp_path) == ["-D", "lib.a"]


def test_real_ar_through_the_shim_gives_the_same_archive(tmp_path):
    env = {"PATH": os.environ["PATH"]}
    bin_dir = tmp_path / "shims"
    toolchain.write_shims(bin_dir, toolchain.find_shims(env, bin_dir), ())
    archives = []
    for run, order in enumerate((["a.o", "b.o"], ["b.o", "a.o"])):
        work = tmp_path / f"run{run}"
        work.mkdir()
        for name in order:  # made in another order, at another time
            (work / name).write_bytes(name.encode() * 10)
            os.utime(work / name, (1000 + run, 1000 + run))
        path = {"PATH": f"{bin_dir}:{env['PATH']}"}
        subprocess.run(["ar", "rcU", "lib.a", *order], cwd=work, env=path, check=True)
        subprocess.run(["ranlib", "-U", "lib.a"], cwd=work, env=path, check=True)
        archives.append((work / "lib.a").read_bytes())
    assert archives[0] == archives[1]


def test_shims_are_made_for_the_tools_found_and_the_names_cc_and_ar_give(tmp_path):
    tools = tmp_path / "tools"
    tools.mkdir()
    for name in ("cc", "gcc-13", "ar", "llvm-ranlib"):
        (tools / name).write_text(ECHO)
        (tools / name).chmod(0o755)
    bin_dir = tmp_path / "shims"
    bin_dir.mkdir()
    (bin_dir / "gcc").write_text(ECHO)  # the shims' own directory is never a real tool
    (bin_dir / "gcc").chmod(0o755)
    env = {
        "PATH": f"{bin_dir}:{tools}",
        "CC": "gcc-13 -m64",
        "CXX": "/opt/bin/g++",  # a path: the build runs it as given, no shim can stand in
        "RANLIB": "llvm-ranlib",
    }
    shims = toolchain.find_shims(env, bin_dir)
    assert [(s.name, s.real, s.body) for s in shims] == [
        ("cc", tools / "cc", "compiler-wrapper.sh"),
        ("ar", tools / "ar", "archiver-wrapper.sh"),
        ("gcc-13", tools / "gcc-13", "compiler-wrapper.sh"),
        ("llvm-ranlib", tools / "llvm-ranlib", "ranlib-wrapper.sh"),
    ]
    # The echo "compiler" accepts any option, so it is taken for one that knows both maps.
    assert shims[0].map_options == MAPS


def test_temp_roots_add_an_absolute_tmpdir():
    assert toolchain.temp_roots({}) == ("/tmp", "/var/tmp")
    assert toolchain.temp_roots({"TMPDIR": "/scratch/"}) == ("/tmp", "/var/tmp", "/scratch")
    assert toolchain.temp_roots({"TMPDIR": "relative"}) == ("/tmp", "/var/tmp")


def test_the_shims_come_first_on_path_during_the_block_and_are_gone_after(tmp_path):
    out = io.StringIO()
    directory = tmp_path / "layers" / toolchain.DIRECTORY
    env = {"PATH": os.environ["PATH"]}
    with toolchain.wrapped_toolchain(directory, env, Logger(out)) as wrapped:
        assert wrapped["PATH"] == f"{directory / 'bin'}:{env['PATH']}"
        assert (directory / "bin" / "cc").is_file()
    assert not directory.exists()
    assert out.getvalue().startswith("    Compilers and archivers run through shims (cc, gcc")


def test_with_no_toolchain_on_path_nothing_is_wrapped(tmp_path):
    out = io.StringIO()
    env = {"PATH": str(tmp_path)}
    with toolchain.wrapped_toolchain(tmp_path / "tc", env, Logger(out)) as wrapped:
        assert wrapped == env
    assert out.getvalue() == ""


def _fake_cc(tmp_path: Path, version: str) -> dict[str, str]:
    tools = tmp_path / "tools"
    tools.mkdir(exist_ok=True)
    (tools / "cc").write_text(f"#!/bin/sh\necho '{version}'\necho 'Copyright'\n")
    (tools / "cc").chmod(0o755)
    return {"PATH": str(tools)}


def test_the_key_inputs_cover_flags_compilers_and_the_target_as_digests(tmp_path):
    env = _fake_cc(tmp_path, "gcc (Debian 12.2.0-14) 12.2.0")
    base = toolchain.key_inputs(env)
    assert set(base) == {
        *toolchain.FLAG_VARIABLES,
        "compiler:CC",
        "compiler:CXX",
        "target-distro",
        "toolchain-shims",
    }
    secret = "-DTOKEN=s3cret-value"
    flagged = toolchain.key_inputs({**env, "CFLAGS": secret})
    assert [name for name in base if base[name] != flagged[name]] == ["CFLAGS"]
    assert all(secret not in value for value in flagged.values())
    target = toolchain.key_inputs({**env, "CNB_TARGET_DISTRO_VERSION": "13"})
    assert [name for name in base if base[name] != target[name]] == ["target-distro"]
    upgraded = toolchain.key_inputs(_fake_cc(tmp_path, "gcc (Debian 13.1.0-1) 13.1.0"))
    assert [name for name in base if base[name] != upgraded[name]] == ["compiler:CC"]


def test_the_compiler_identity_is_the_first_line_of_its_version(tmp_path):
    env = _fake_cc(tmp_path, "gcc (Debian 12.2.0-14) 12.2.0")
    assert toolchain.compiler_identity(["cc"], env) == "gcc (Debian 12.2.0-14) 12.2.0"
    assert toolchain.compiler_identity(["no-such-cc"], env) == "none"


def test_a_compiler_variable_with_an_unbalanced_quote_is_split_at_blanks(tmp_path):
    env = {**_fake_cc(tmp_path, "gcc 12"), "CC": "cc -DX='unbalanced"}
    assert (
        toolchain.key_inputs(env)["compiler:CC"]
        == toolchain.key_inputs({**env, "CC": "cc"})["compiler:CC"]
    )
    assert [s.name for s in toolchain.find_shims(env, tmp_path / "shims")] == ["cc"]
