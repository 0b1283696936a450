"""The CPython layer: a relocatable python-build-standalone CPython, verified, trimmed, its build
settings patched for this layer and the builder's gcc, and its stdlib compiled to deterministic
hash-based bytecode."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cnb_python import bytecode, pid1, sysconfig_patch
from cnb_python.archive import extract_tarball
from cnb_python.buildenv import DEFAULT_SOURCE_DATE_EPOCH
from cnb_python.cnb.bindings import Binding
from cnb_python.cnb.layers import Layer, LayerTypes
from cnb_python.dependencies import Dependency
from cnb_python.download import BUILDPACK_DIR, download, resolve_source
from cnb_python.log import Logger
from cnb_python.run import run

LAYER_NAME = "cpython"
# Bump when the post-processing below changes, so older cached layers are rebuilt.
LAYER_FORMAT = 4

# Build tools must not reach the launch image; pip runs from its own build-only layer.
_BUILD_TOOLS = ("pip", "pip3", "easy_install", "wheel")
# Test suites and GUI tools nobody runs in a container.
_STDLIB_DROP = ("test", "idlelib", "turtledemo")
_STDLIB_DROP_NESTED = frozenset({"test", "tests", "idle_test"})


def minor_version(version: str) -> str:
    """3.12.1 -> 3.12"""
    return ".".join(version.split(".")[:2])


@dataclass(frozen=True)
class CPython:
    home: Path
    version: str

    @property
    def minor(self) -> str:
        return minor_version(self.version)

    @property
    def python(self) -> Path:
        return self.home / "bin" / "python3"

    @property
    def stdlib(self) -> Path:
        return self.home / "lib" / f"python{self.minor}"

    def create_venv(self, path: Path, *, env: Mapping[str, str], log: Logger, what: str) -> None:
        """An empty venv at `path` (the app's, or a build tool's), with no pip in it."""
        run(
            [str(self.python), "-m", "venv", "--without-pip", str(path)],
            env=env,
            log=log,
            show="python -m venv --without-pip",
            error_title=f"Unable to create {what}",
            error_fix="This is a buildpack problem; please report it with the build log.",
        )


def layer_metadata(dep: Dependency) -> dict[str, object]:
    return {
        "version": dep.version,
        "arch": dep.arch,
        "sha256": dep.sha256,
        "format": LAYER_FORMAT,
        "pid1_hook": pid1.HOOK_DIGEST,
    }


class CPythonLayer:
    """The CPython layer of this build. A fresh install leaves the stdlib compiling in the
    background, so the rest of the build overlaps it; `finish` waits, then declares the layer."""

    def __init__(
        self,
        layer: Layer,
        cpython: CPython,
        types: LayerTypes,
        metadata: dict[str, object],
        compilation: bytecode.Compilation | None,
    ) -> None:
        self.layer, self.cpython = layer, cpython
        self._types, self._metadata, self._compilation = types, metadata, compilation

    def finish(self, log: Logger) -> None:
        if self._compilation is not None:
            self._compilation.wait(log)
        self.layer.write(self._types, self._metadata)


def provide_cpython(
    layer: Layer,
    dep: Dependency,
    types: LayerTypes,
    *,
    env: Mapping[str, str],
    bindings: Sequence[Binding],
    log: Logger,
) -> CPythonLayer:
    cpython = CPython(layer.path, dep.version)
    wanted = layer_metadata(dep)
    restored = layer.restored_metadata()
    compilation = None
    if restored == wanted and cpython.python.exists():
        log.section(f"Reusing cached CPython {dep.version}")
    else:
        if restored:
            log.section(f"Discarding cached CPython since: {_changes(restored, wanted)}")
        log.section(f"Installing CPython {dep.version}")
        with log.timed():
            layer.reset()
            compilation = install_cpython(
                cpython, dep, env=env, bindings=bindings, log=log, pid1_hook=True
            )
            _write_env(layer, cpython)
    return CPythonLayer(layer, cpython, types, wanted, compilation)


def _changes(old: Mapping[str, object], new: Mapping[str, object]) -> str:
    changed = [f"{k} {old.get(k)!s} -> {new[k]!s}" for k in new if old.get(k) != new[k]]
    return "; ".join(changed) or "the layer is incomplete"


def install_cpython(
    cpython: CPython,
    dep: Dependency,
    *,
    env: Mapping[str, str],
    bindings: Sequence[Binding],
    log: Logger,
    buildpack_dir: Path = BUILDPACK_DIR,
    compile_stdlib: bool = True,
    shown_home: str | None = None,
    pid1_hook: bool = False,
) -> bytecode.Compilation:
    """Download, verify and unpack `dep` into the empty directory `cpython.home`, drop what an
    app never needs, and start compiling the stdlib. Also used for the buildpack's runtime/
    (`buildpack_dir` is where bundled downloads are looked up; `compile_stdlib` is off when
    packaging for another arch, whose interpreter cannot run here; `shown_home` is where the
    home will be at run time, recorded in the pycs instead of a staging path; `pid1_hook` is on
    for the image's CPython only, see pid1.py)."""
    what = f"CPython {dep.version}"
    with tempfile.TemporaryDirectory(prefix="cnb-python-") as tmp:
        archive = Path(tmp, "cpython.tar.gz")
        source = resolve_source(dep.url, dep.sha256, env, bindings, buildpack_dir=buildpack_dir)
        download(source, dep.sha256, archive, what=what, log=log)
        # python-build-standalone archives hold a single top-level python/ directory.
        extract_tarball(
            archive,
            cpython.home,
            strip_components=1,
            what=what,
            leave_out=lambda name, is_dir: _left_out(name, is_dir, cpython.minor),
        )
    python = cpython.home / "bin" / "python"
    if not python.exists() and not python.is_symlink():
        python.symlink_to("python3")
    # Before compiling: the patched _sysconfigdata_*.py must get its pyc from the new source.
    sysconfig_patch.patch_install(cpython.home, cpython.minor, log, prefix=shown_home)
    # site-packages was left out but its README: the hook is its only source.
    hooks = [pid1.install_hook(cpython.stdlib / "site-packages")] if pid1_hook else []
    files: list[Path] = []
    if compile_stdlib:
        log.step("Compiling the standard library to hash-based bytecode (in the background)")
        stdlib = bytecode.stdlib_sources([cpython.stdlib])
        files = sorted([*stdlib, *hooks])
    shown_as = (cpython.home, shown_home) if shown_home else None
    return bytecode.Compilation(cpython.python, files, what, shown_as, background=True)


def _left_out(name: str, is_dir: bool, minor: str) -> bool:
    """Whether the archive's member `name` (relative to the home) stays out of the layer: the
    build tools, IDLE and 2to3 in bin/; the archive's bytecode under lib/ (the stdlib's is
    compiled here); in the stdlib, site-packages but its README, and the test suites. Left out
    as the archive is read, so none of it is written."""
    parts = name.split("/")
    if parts[0] == "bin":
        return len(parts) == 2 and parts[1].startswith((*_BUILD_TOOLS, "idle", "2to3"))
    if parts[0] != "lib":
        return False
    directories = parts if is_dir else parts[:-1]  # the directories it is, or is in
    if "__pycache__" in directories:
        return True
    if parts[1:2] != [f"python{minor}"]:
        return False
    if parts[2:3] == ["site-packages"]:
        return len(parts) > 3 and parts[3] != "README.txt"
    in_stdlib = directories[2:]
    return (len(in_stdlib) > 0 and in_stdlib[0] in _STDLIB_DROP) or (
        len(in_stdlib) > 1 and in_stdlib[1] in _STDLIB_DROP_NESTED
    )


def _write_env(layer: Layer, cpython: CPython) -> None:
    # Defaults, so users can override them at build (pack --env) and at launch (docker run -e).
    layer.shared_env.default("PYTHONUNBUFFERED", "1")
    # For later buildpacks that build C extensions or call pkg-config.
    layer.build_env.prepend("CPATH", str(cpython.home / "include" / f"python{cpython.minor}"), ":")
    layer.build_env.prepend("PKG_CONFIG_PATH", str(cpython.home / "lib" / "pkgconfig"), ":")
    # Later buildpacks that run Python tools must not write timestamp pycs into their layers.
    layer.build_env.default("PYTHONPYCACHEPREFIX", "/tmp")
    layer.build_env.default("SOURCE_DATE_EPOCH", str(DEFAULT_SOURCE_DATE_EPOCH))
