"""Deterministic, hash-based bytecode (PEP 552) for the files in a layer.

The exporter sets every mtime to 1980, so timestamp-based pycs would be stale in the image and
recompiled at every container start. Hash-based pycs stay valid.

Marshal output can depend on what the same process compiled before (cpython#129724: 3.9/3.10
were seen to vary with compile order) and on the hash seed (set and frozenset constants), so the
sorted file list is cut into chunks, each compiled in list order with a fixed PYTHONHASHSEED by
a child that one compiling process forks before it has compiled anything. Every core runs one
such child at a time, but which core runs a chunk, when, and how many cores there are, changes
no byte: the cuts depend on the files alone, and so does a chunk's output.

So a chunk's pycs are a function of its files: a rebuild whose chunk holds the same files as
the previous compile's (same paths, modes and bytes, same interpreter) takes that compile's
pycs instead of compiling again (Reuse), and gets the bytes a compile would give.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cnb_python.errors import UserError
from cnb_python.log import Logger

# Layers are immutable in the image, so checking the source hash at import buys nothing;
# measured (scripts/bench-stdlib-pyc startup), checked-hash starts 3-9% slower.
INVALIDATION_MODE = "UNCHECKED_HASH"
# Source bytes per chunk at most: enough to pay for its fork, few enough that the last chunks
# leave no core idle for long. Cut by bytes, not files: 100 files to a chunk put one package's
# big modules in a chunk that took the time of three.
CHUNK_BYTES = 400_000
# A chunk also ends after each file whose path digests to 0 modulo CUT_EVERY (one file in 32,
# at random): a cut that depends on that file alone. Between two such files the cuts depend on
# the files in between only, so a package added, removed or changed changes the chunks its
# files fall in, and no other: the others' pycs can be reused.
CUT_EVERY = 32
# The niceness of a background compilation's processes (the foreground's is 0).
BACKGROUND_NICENESS = 10
# The flags word of a pyc header (PEP 552) in each invalidation mode.
_PYC_FLAGS = {"TIMESTAMP": 0b00, "UNCHECKED_HASH": 0b01, "CHECKED_HASH": 0b11}
_OUR_FLAGS = _PYC_FLAGS[INVALIDATION_MODE]

# One process per compilation, which forks a child per chunk, up to one per core. A chunk's bytes
# depend on the state of the process that compiles it (cpython#129724); every child starts from
# the parent's state before it has compiled anything, so a chunk's bytes depend on its files
# alone, and a fork costs about 1 ms where a new interpreter cost 11. The compile is what
# py_compile.compile does for a hash-based pyc, with nothing imported: importing py_compile
# (enum, traceback, ...) from sources, as a cold build's compilers do before the stdlib has pycs,
# cost 0.1 s. The few modules Python itself imports at start-up are always read from their
# sources (-X pycache_prefix, a directory that does not exist): the state was not the same when
# they came from pycs (3.9-3.12, seen in the pycs of click, gunicorn and jinja2).
# argv: mode, workers, niceness, listings dir, chunk indexes (comma-separated), [real, shown].
# Prints "index failed" for each chunk; a child that dies makes the exit status 1.
_COMPILE_SCRIPT = """
import sys, _imp, _frozen_importlib_external as bx
sys.pycache_prefix = None
os, checked = bx._os, sys.argv[1] == "CHECKED_HASH"
workers, niceness, listings = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
chunks = [int(index) for index in sys.argv[5].split(",") if index]
real, shown = sys.argv[6:8] if len(sys.argv) > 7 else ("", "")

def makedirs(directory):
    if directory and not bx._path_isdir(directory):
        makedirs(bx._path_split(directory)[0])
        try:
            os.mkdir(directory)
        except FileExistsError:
            pass

def compile_chunk(index):
    failed = 0
    for path in open(f"{listings}/{index}", encoding="utf-8").read().split("\\0"):
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
    return failed

def reap():
    pid, status = os.wait()
    index = running.pop(pid)
    code = os.waitstatus_to_exitcode(status)
    if code:
        why = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
        os.write(2, f"chunk {index}: {why}\\n".encode())
    return code != 0

if niceness:
    os.nice(niceness)
running, died = {}, 0
for index in chunks:
    if len(running) >= workers:
        died += reap()
    pid = os.fork()
    if pid == 0:
        try:
            os.write(1, f"{index} {compile_chunk(index)}\\n".encode())
        except BaseException as error:
            os.write(2, f"chunk {index}: {error!r}\\n".encode())
            os._exit(1)
        os._exit(0)
    running[pid] = index
while running:
    died += reap()
sys.exit(1 if died else 0)
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


def chunked(files: Sequence[Path], shown_as: Sequence[str] = ()) -> list[Sequence[Path]]:
    """`files`, in order, cut after a file that ends a chunk by its path as it will be seen
    (CUT_EVERY; `shown_as`: _shown_as_args) and where a chunk reaches CHUNK_BYTES of sources."""
    chunks: list[Sequence[Path]] = []
    start, size = 0, 0
    for index, path in enumerate(files):
        size += path.stat().st_size
        if size >= CHUNK_BYTES or _cuts_after(_shown(path, shown_as)):
            chunks.append(files[start : index + 1])
            start, size = index + 1, 0
    if start < len(files):
        chunks.append(files[start:])
    return chunks


def _shown(path: Path, shown_as: Sequence[str]) -> str:
    """`path` as it will be seen at run time: a staging dir's path is not (it is random)."""
    text = str(path)
    if shown_as and text.startswith(shown_as[0]):
        return shown_as[1] + text[len(shown_as[0]) :]
    return text


def _cuts_after(path: str) -> bool:
    return hashlib.sha256(os.fsencode(path)).digest()[0] % CUT_EVERY == 0


def chunk_digest(chunk: Sequence[Path], compiler: str, shown_as: Sequence[str]) -> str:
    """What a chunk's pycs are made from: its files (paths as seen, modes, bytes), the
    interpreter (`compiler`, its version), the compile script and mode."""
    digest = hashlib.sha256(f"{compiler}\0{INVALIDATION_MODE}\0".encode())
    digest.update(hashlib.sha256(_COMPILE_SCRIPT.encode()).digest())
    for path in chunk:
        mode = path.stat().st_mode & 0o7777
        digest.update(b"\0%s\0%o\0" % (os.fsencode(_shown(path, shown_as)), mode))
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:32]


@dataclass(frozen=True)
class Reuse:
    """A previous compile's pycs: `old` holds what `root` held then (moved aside), `compiled`
    the digests of its chunks whose every file compiled."""

    root: Path
    old: Path
    compiled: frozenset[str]

    def take(self, chunk: Sequence[Path]) -> bool:
        """Moves the chunk's pycs from `old` into place; False (nothing moved) when one is
        missing or not ours."""
        moves: list[tuple[Path, Path]] = []
        listings: dict[Path, list[str]] = {}
        for path in chunk:
            try:
                old_cache = (self.old / path.relative_to(self.root)).parent / "__pycache__"
                if old_cache not in listings:
                    listings[old_cache] = os.listdir(old_cache)
                names = [n for n in listings[old_cache] if _is_pyc_of(n, path)]
                ours = len(names) == 1 and _pyc_flags(old_cache / names[0]) == _OUR_FLAGS
            except (ValueError, OSError):
                return False
            if not ours:
                return False
            moves.append((old_cache / names[0], path.parent / "__pycache__" / names[0]))
        for old_pyc, pyc in moves:
            pyc.parent.mkdir(exist_ok=True)
            os.replace(old_pyc, pyc)
        return True


def _is_pyc_of(name: str, source: Path) -> bool:
    """`name`, in the source's __pycache__, is a pyc of it (`<stem>.cpython-XY.pyc`)."""
    base, _, tag = name.removesuffix(".pyc").rpartition(".")
    return name.endswith(".pyc") and base == source.stem and tag.startswith("cpython-")


def _pyc_flags(pyc: Path) -> int:
    with open(pyc, "rb") as file:
        return int.from_bytes(file.read(8)[4:8], "little")


def workers() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    return len(os.sched_getaffinity(0))


class Compilation:
    """A compiling process running in the background, its children one per core; `wait`
    collects it.

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
        version: str | None = None,
        reuse: Reuse | None = None,
    ) -> None:
        """`version`, the interpreter's: the chunks' digests are kept (`compiled`), and the
        chunks `reuse` holds take its pycs instead of compiling."""
        self._python, self._files, self._what = python, files, what
        self._background = background
        self._tmp = tempfile.TemporaryDirectory(prefix="cnb-python-compile-")
        self._shown_as = _shown_as_args(shown_as)
        self._chunks = chunked(files, self._shown_as)
        for index, chunk in enumerate(self._chunks):
            Path(self._tmp.name, str(index)).write_text("\0".join(map(str, chunk)), "utf-8")
        # With pycs to reuse, the digests decide what the compiler is given; without, they are
        # only recorded, so they are read while it runs.
        digests = self._digests_of(version) if reuse else []
        self._taken = {
            index
            for index, digest in enumerate(digests)
            if reuse and digest in reuse.compiled and reuse.take(self._chunks[index])
        }
        left = [index for index in range(len(self._chunks)) if index not in self._taken]
        self._compiler = self._start(left) if left else None
        self._digests = digests if reuse else self._digests_of(version)
        self.compiled: list[str] = []  # after `wait`: the digests of the chunks compiled whole

    def _digests_of(self, version: str | None) -> list[str]:
        """Each chunk's digest (none without the interpreter's version)."""
        return [chunk_digest(chunk, version, self._shown_as) for chunk in self._chunks if version]

    def _start(self, chunks: Iterable[int]) -> subprocess.Popen[str]:
        # -B: the start-up's modules write no pycs. -S: no site (nor the .pth files of the
        # environment being compiled). Not -I or -E: they would ignore PYTHONHASHSEED.
        no_pycs = Path(self._tmp.name, "no-pycs")
        niceness = BACKGROUND_NICENESS if self._background else 0
        command = [str(self._python), "-B", "-S", "-X", f"pycache_prefix={no_pycs}", "-c"]
        command += [_COMPILE_SCRIPT, INVALIDATION_MODE, str(workers()), str(niceness)]
        command += [self._tmp.name, ",".join(map(str, chunks)), *self._shown_as]
        env = {"PYTHONHASHSEED": "0", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        return subprocess.Popen(
            command, env=env, cwd="/", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    def wait(self, log: Logger) -> None:
        try:
            failures = self._collect(self._compiler) if self._compiler else {}
            if self._background:
                # A tool that ran meanwhile may have imported a module before its pyc existed and
                # written a timestamp pyc over ours (PDM runs Python with -E, which ignores
                # PYTHONDONTWRITEBYTECODE). Its chunk is compiled again, whole, so the bytes are
                # what they would have been (cpython#129724).
                redo = {self._files[index] for index in overwritten(self._files)}
                chunks = [i for i, chunk in enumerate(self._chunks) if redo.intersection(chunk)]
                if chunks:
                    log.debug(f"recompiling {len(chunks)} chunks of {self._what}: overwritten")
                    failures.update(self._collect(self._start(chunks)))
        finally:
            if self._compiler and self._compiler.poll() is None:
                self._compiler.kill()
                self._compiler.wait()
            self._tmp.cleanup()
        self.compiled = [d for i, d in enumerate(self._digests) if not failures.get(i, 0)]
        total, failed = len(self._files), sum(failures.values())
        taken = sum(len(self._chunks[index]) for index in self._taken)
        reused = f" ({taken} taken from the previous compile)" if taken else ""
        log.debug(f"compiled {total - failed} of {total} files for {self._what}{reused}")

    def _collect(self, compiler: subprocess.Popen[str]) -> dict[int, int]:
        """Waits for `compiler`; by chunk, the number of files that were not valid Python."""
        stdout, stderr = compiler.communicate()
        if compiler.returncode != 0:
            raise UserError(
                f"Unable to compile bytecode for {self._what}",
                f"{self._python} exited with status {compiler.returncode}:\n"
                f"{stderr.strip()[-2000:]}",
                "This is a buildpack problem; please report it with the build log.",
            )
        return {int(index): int(failed) for index, failed in map(str.split, stdout.splitlines())}


def overwritten(files: Sequence[Path]) -> list[int]:
    """The indexes of `files` whose pyc is not in INVALIDATION_MODE (an import wrote it)."""
    listings: dict[Path, list[str]] = {}
    found = []
    for index, path in enumerate(files):
        cache = path.parent / "__pycache__"
        if cache not in listings:
            listings[cache] = sorted(os.listdir(cache)) if cache.is_dir() else []
        for name in listings[cache]:
            if _is_pyc_of(name, path) and _pyc_flags(cache / name) != _OUR_FLAGS:
                found.append(index)
    return found


def compile_files(
    python: Path,
    files: Sequence[Path],
    *,
    log: Logger,
    what: str,
    version: str | None = None,
    reuse: Reuse | None = None,
) -> list[str]:
    """Compiles `files` (see Compilation); the digests of the chunks compiled whole."""
    compilation = Compilation(python, files, what, version=version, reuse=reuse)
    compilation.wait(log)
    return compilation.compiled
