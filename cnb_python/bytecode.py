"""Deterministic, hash-based bytecode (PEP 552) for the files in a layer.

The exporter sets every mtime to 1980, so timestamp-based pycs would be stale in the image and
recompiled at every container start. Hash-based pycs stay valid.

Marshal output can depend on what the same process compiled before (cpython#129724: 3.9/3.10
were seen to vary with compile order) and on the hash seed (set and frozenset constants), so the
sorted file list is cut into fixed chunks, each compiled by a fresh process in list order with a
fixed PYTHONHASHSEED. Every core runs one such process at a time, but which core runs a chunk,
and how many cores there are, changes no byte: a chunk's output depends on its files alone.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from cnb_python.errors import UserError
from cnb_python.log import Logger

# Layers are immutable in the image, so checking the source hash at import buys nothing;
# measured (scripts/bench-stdlib-pyc startup), checked-hash starts 3-9% slower.
INVALIDATION_MODE = "UNCHECKED_HASH"
# Files per compiler process: enough to pay for its start-up (about 20 ms), few enough that the
# stdlib (about 2,000 files) keeps a many-core machine busy.
CHUNK_FILES = 100
# The niceness of a background compilation's processes (the foreground's is 0).
BACKGROUND_NICENESS = 10
# The flags word of a pyc header (PEP 552) in each invalidation mode.
_PYC_FLAGS = {"TIMESTAMP": 0b00, "UNCHECKED_HASH": 0b01, "CHECKED_HASH": 0b11}

# What py_compile.compile does for a hash-based pyc, with nothing imported: importing
# py_compile (enum, traceback, ...) from sources, as a cold build's compilers do before the
# stdlib has pycs, cost each process 0.1 s. The few modules Python itself imports at start-up
# are always read from their sources (-X pycache_prefix, a directory that does not exist): a
# chunk's bytes depend on the process's state (cpython#129724), which was not the same when
# they came from pycs (3.9-3.12, seen in the pycs of click, gunicorn and jinja2).
_COMPILE_SCRIPT = """
import sys, _imp, _frozen_importlib_external as bx
sys.pycache_prefix = None
os, checked = bx._os, sys.argv[1] == "CHECKED_HASH"
real, shown = sys.argv[3:5] if len(sys.argv) > 4 else ("", "")

def makedirs(directory):
    if directory and not bx._path_isdir(directory):
        makedirs(bx._path_split(directory)[0])
        try:
            os.mkdir(directory)
        except FileExistsError:
            pass

failed = 0
for path in open(sys.argv[2], encoding="utf-8").read().split("\\0"):
    if path:
        dfile = shown + path[len(real):] if real and path.startswith(real) else path
        try:
            cfile = bx.cache_from_source(path)
            try:  # py_compile's refusal to write through a symlink or a special file
                if os.lstat(cfile).st_mode & 0o170000 != 0o100000:
                    raise FileExistsError(cfile)
            except FileNotFoundError:
                pass
            with open(path, "rb") as source_file:
                source = source_file.read()
            code = compile(source, dfile, "exec", dont_inherit=True)
            source_hash = _imp.source_hash(bx._RAW_MAGIC_NUMBER, source)
            makedirs(bx._path_split(cfile)[0])
            pyc = bx._code_to_hash_pyc(code, source_hash, checked)
            bx._write_atomic(cfile, pyc, bx._calc_mode(path))
        except Exception:  # a file that is not valid Python for this interpreter
            failed += 1
print(failed)
"""


def _shown_as_args(shown_as: tuple[Path, str] | None) -> list[str]:
    if shown_as is None:
        return []
    real, shown = shown_as
    return [str(real), shown.rstrip("/")]


def python_sources(roots: Iterable[Path], skip_dirs: frozenset[str] = frozenset()) -> list[Path]:
    """Every regular .py file under `roots`, sorted, skipping directories named in `skip_dirs`."""
    found: list[Path] = []
    for root in roots:
        for directory, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in skip_dirs and d != "__pycache__")
            for filename in sorted(filenames):
                path = Path(directory, filename)
                if filename.endswith(".py") and not path.is_symlink():
                    found.append(path)
    return sorted(found)


def stdlib_sources(stdlibs: Iterable[Path]) -> list[Path]:
    """The .py files of a Python's stdlib directories (lib/pythonX.Y), without site-packages,
    which is compiled with the environment that fills it."""
    return python_sources(stdlibs, skip_dirs=frozenset({"site-packages"}))


def remove_bytecode(roots: Iterable[Path]) -> None:
    """Drop every existing pyc: installers write timestamp-based ones."""
    for root in roots:
        for directory, dirnames, _ in os.walk(root):
            if "__pycache__" in dirnames:
                shutil.rmtree(Path(directory, "__pycache__"))
                dirnames.remove("__pycache__")


def workers() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    return len(os.sched_getaffinity(0))


class Compilation:
    """Compiler processes running in the background, one per core; `wait` collects them.

    `shown_as` (real dir, path it will have) records source paths as they will be seen at run
    time, for files compiled somewhere else than where they will live. `background`: the
    compilers run at a lower priority (nice), so that the build's next steps, which wait for
    them only at the end, get the cores first and the compilers fill the time those steps spend
    waiting on the network."""

    def __init__(
        self,
        python: Path,
        files: Sequence[Path],
        what: str,
        shown_as: tuple[Path, str] | None = None,
        *,
        background: bool = False,
    ) -> None:
        self._python, self._total, self._what = python, len(files), what
        self._tmp = tempfile.TemporaryDirectory(prefix="cnb-python-compile-")
        env = {"PYTHONHASHSEED": "0", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        # -B: the start-up's modules write no pycs. -S: no site (nor the .pth files of the
        # environment being compiled). Not -I or -E: they would ignore PYTHONHASHSEED.
        no_pycs = Path(self._tmp.name, "no-pycs")
        command = [str(python), "-B", "-S", "-X", f"pycache_prefix={no_pycs}"]
        command += ["-c", _COMPILE_SCRIPT, INVALIDATION_MODE]

        def compile_chunk(index: int) -> subprocess.CompletedProcess[str]:
            listing = Path(self._tmp.name, f"files-{index}")
            chunk = files[index * CHUNK_FILES : (index + 1) * CHUNK_FILES]
            listing.write_text("\0".join(map(str, chunk)), encoding="utf-8")
            args = [*command, str(listing), *_shown_as_args(shown_as)]
            with subprocess.Popen(
                args,
                env=env,
                cwd="/",
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            ) as proc:
                if background:
                    _lower_priority(proc.pid)
                stdout, stderr = proc.communicate()
            return subprocess.CompletedProcess(args, proc.returncode, stdout, stderr)

        chunks = range(-(-len(files) // CHUNK_FILES))
        self._files, self._background, self._compile_chunk = files, background, compile_chunk
        self._pool = ThreadPoolExecutor(max_workers=workers())
        self._results = [self._pool.submit(compile_chunk, index) for index in chunks]

    def wait(self, log: Logger) -> None:
        try:
            failed = self._collect(self._results)
            if self._background:
                # A tool that ran meanwhile may have imported a module before its pyc existed and
                # written a timestamp pyc over ours (PDM runs Python with -E, which ignores
                # PYTHONDONTWRITEBYTECODE). Its chunk is compiled again, whole, so the bytes are
                # what they would have been (cpython#129724).
                chunks = sorted({index // CHUNK_FILES for index in overwritten(self._files)})
                if chunks:
                    log.debug(f"recompiling {len(chunks)} chunks of {self._what}: overwritten")
                    self._collect([self._pool.submit(self._compile_chunk, i) for i in chunks])
        finally:
            self._pool.shutdown(cancel_futures=True)
            self._tmp.cleanup()
        log.debug(f"compiled {self._total - failed} of {self._total} files for {self._what}")

    def _collect(self, results: Sequence[Future[subprocess.CompletedProcess[str]]]) -> int:
        """Waits for `results`; the number of files that were not valid Python."""
        failed = 0
        for result in results:
            proc = result.result()
            if proc.returncode != 0:
                raise UserError(
                    f"Unable to compile bytecode for {self._what}",
                    f"{self._python} exited with status {proc.returncode}:\n"
                    f"{proc.stderr.strip()[-2000:]}",
                    "This is a buildpack problem; please report it with the build log.",
                )
            failed += int(proc.stdout.strip() or 0)
        return failed


def overwritten(files: Sequence[Path]) -> list[int]:
    """The indexes of `files` whose pyc is not in INVALIDATION_MODE (an import wrote it)."""
    wanted = _PYC_FLAGS[INVALIDATION_MODE]
    listings: dict[Path, list[str]] = {}
    found = []
    for index, path in enumerate(files):
        cache = path.parent / "__pycache__"
        if cache not in listings:
            listings[cache] = sorted(os.listdir(cache)) if cache.is_dir() else []
        for name in listings[cache]:
            base, _, tag = name.removesuffix(".pyc").rpartition(".")
            if name.endswith(".pyc") and base == path.stem and tag.startswith("cpython-"):
                with open(cache / name, "rb") as pyc:
                    flags = int.from_bytes(pyc.read(8)[4:8], "little")
                if flags != wanted:
                    found.append(index)
    return found


def _lower_priority(pid: int) -> None:
    with contextlib.suppress(OSError):  # the process has already exited
        os.setpriority(os.PRIO_PROCESS, pid, BACKGROUND_NICENESS)


def compile_files(python: Path, files: Sequence[Path], *, log: Logger, what: str) -> None:
    Compilation(python, files, what).wait(log)
