"""The C toolchain a dependency install runs: what identifies it, for reuse keys, and shims that
make the native code it compiles independent of the build's directories.

For one install, shims named like the builder's tools (cc, gcc, c++, g++, clang, clang++,
gfortran, ar, ranlib, and the names CC, CXX, AR and RANLIB give) come first on PATH. A compiler
shim runs the real compiler with the build's own arguments and appends prefix maps for the
directories the build works in, so debug info and __FILE__ name "." instead of pip's or a build
backend's random directory; `ar` and `ranlib` shims force deterministic mode. Every build
system that finds its compiler on PATH gets them, whatever flags it adds. Why this design, and
its limits: docs/reproducibility.md.

The shims are written into a directory of the layers dir that has no <name>.toml, so the
lifecycle neither exports nor caches it, at a fixed path (a tool that records its compiler's
path records the same one every time), and removed when the install ends.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cnb_python.log import Logger
from cnb_python.run import probe

# Bump when the shims change what they pass, so venvs with compiled code are rebuilt.
FORMAT = 1
# Next to the layers: a directory without a toml is neither exported nor cached.
DIRECTORY = "build-toolchain"

COMPILERS = ("cc", "gcc", "c++", "g++", "clang", "clang++", "gfortran")
ARCHIVERS = ("ar",)
RANLIBS = ("ranlib",)
# Each names a tool; its first word, when it is a bare name, gets a shim too.
TOOL_VARIABLES = {"CC": COMPILERS, "CXX": COMPILERS, "AR": ARCHIVERS, "RANLIB": RANLIBS}
# What a compiled file depends on besides its sources: these variables, the compilers' identity
# and the distro of the build image, whose libraries and headers it links against.
FLAG_VARIABLES = ("CC", "CXX", "CFLAGS", "CXXFLAGS", "CPPFLAGS", "LDFLAGS")
IDENTIFIED_COMPILERS = {"CC": "cc", "CXX": "c++"}  # variable -> default command
TARGET_VARIABLES = ("CNB_TARGET_DISTRO_NAME", "CNB_TARGET_DISTRO_VERSION")
# Build tools put their random directories below these (TMPDIR too, when set).
TEMP_ROOTS = ("/tmp", "/var/tmp")

_SCRIPTS = Path(__file__).parent / "toolscripts"
_BODIES = {
    COMPILERS: "compiler-wrapper.sh",
    ARCHIVERS: "archiver-wrapper.sh",
    RANLIBS: "ranlib-wrapper.sh",
}
_DIGEST = "sha256:{}".format


def key_inputs(env: Mapping[str, str]) -> dict[str, str]:
    """Digests (never values) of everything outside the app that changes a compiled file, run
    with `env`, the environment of the install: every venv is keyed on them, since any
    dependency may be built from source."""
    inputs = {name: _digest(env.get(name, "")) for name in FLAG_VARIABLES}
    for variable, default in IDENTIFIED_COMPILERS.items():
        command = _words(env.get(variable, "")) or [default]
        inputs[f"compiler:{variable}"] = _digest(compiler_identity(command, env))
    target = "\0".join(env.get(name, "") for name in TARGET_VARIABLES)
    inputs["target-distro"] = _digest(target)
    inputs["toolchain-shims"] = str(FORMAT)
    return inputs


def compiler_identity(command: list[str], env: Mapping[str, str]) -> str:
    """The first line of `<compiler> --version` ("gcc (Debian 12.2.0-14) 12.2.0"), or "none"."""
    output = probe([*command, "--version"], env=env)
    lines = output.splitlines() if output else []
    return lines[0].strip() if lines else "none"


def _words(command: str) -> list[str]:
    """A command variable split as a shell would; an unbalanced quote (the build will report
    it) splits at blanks."""
    try:
        return shlex.split(command)
    except ValueError:
        return command.split()


def _digest(value: str) -> str:
    return _DIGEST(hashlib.sha256(value.encode()).hexdigest())


@dataclass(frozen=True)
class Shim:
    name: str
    real: Path
    body: str
    map_options: tuple[str, ...] = ()


@contextmanager
def wrapped_toolchain(
    directory: Path, env: Mapping[str, str], log: Logger
) -> Iterator[dict[str, str]]:
    """`env` with the shims in `directory`/bin first on PATH, for the duration of the block."""
    bin_dir = directory / "bin"
    shutil.rmtree(directory, ignore_errors=True)  # a killed build's leftovers
    shims = find_shims(env, bin_dir)
    try:
        if shims:
            write_shims(bin_dir, shims, temp_roots(env))
            log.step(
                f"Compilers and archivers run through shims ({', '.join(s.name for s in shims)}) "
                "that write the build's directories as '.' and make archives deterministic"
            )
            yield {**env, "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"}
        else:
            log.debug("no C toolchain on PATH: nothing to wrap")
            yield dict(env)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def find_shims(env: Mapping[str, str], bin_dir: Path) -> list[Shim]:
    """A shim for each tool name found on PATH (not in `bin_dir`), in a fixed order."""
    path = os.pathsep.join(
        entry for entry in env.get("PATH", "").split(os.pathsep) if Path(entry) != bin_dir
    )
    names: dict[str, tuple[str, ...]] = {}
    for group in _BODIES:
        for name in group:
            names[name] = group
    for variable, group in TOOL_VARIABLES.items():
        words = _words(env.get(variable, ""))
        if words and "/" not in words[0]:
            names.setdefault(words[0], group)
    shims = []
    supported: dict[Path, tuple[str, ...]] = {}
    for name, group in names.items():
        found = shutil.which(name, path=path)
        if not found:
            continue
        real = Path(found)
        map_options: tuple[str, ...] = ()
        if group == COMPILERS:
            key = real.resolve()
            if key not in supported:
                supported[key] = prefix_map_options(real, env)
            map_options = supported[key]
        shims.append(Shim(name, real, _BODIES[group], map_options))
    return shims


def prefix_map_options(compiler: Path, env: Mapping[str, str]) -> tuple[str, ...]:
    """-ffile-prefix-map (gcc 8, clang 10) maps __FILE__ and debug info; gcc before 13 passes
    only -fdebug-prefix-map on to the assembler, so both are given. An older compiler gets
    -fdebug-prefix-map alone."""
    check = [
        "-ffile-prefix-map=/cnb-python-check=.",
        "-E",
        "-x",
        "c",
        "/dev/null",
        "-o",
        "/dev/null",
    ]
    if probe([str(compiler), *check], env=env) is not None:
        return ("-ffile-prefix-map", "-fdebug-prefix-map")
    return ("-fdebug-prefix-map",)


def temp_roots(env: Mapping[str, str]) -> tuple[str, ...]:
    roots = list(TEMP_ROOTS)
    tmpdir = env.get("TMPDIR", "").rstrip("/")
    if tmpdir.startswith("/") and tmpdir not in roots:
        roots.append(tmpdir)
    return tuple(roots)


def write_shims(bin_dir: Path, shims: list[Shim], roots: tuple[str, ...]) -> None:
    bin_dir.mkdir(parents=True)
    for shim in shims:
        header = [
            "#!/bin/sh",
            f"# cnb-python's {shim.name} for one install: cnb_python/toolchain.py",
            f"real={shlex.quote(str(shim.real))}",
            f"temp_roots={shlex.quote(chr(10).join(roots))}",
            f"map_options={shlex.quote(chr(10).join(shim.map_options))}",
        ]
        path = bin_dir / shim.name
        path.write_text("\n".join(header) + "\n" + (_SCRIPTS / shim.body).read_text())
        path.chmod(0o755)
