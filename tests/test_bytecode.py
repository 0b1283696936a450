import importlib.util
import io
import py_compile
import struct
import subprocess
import sys
from pathlib import Path

from golden import Golden, error_text_test

from cnb_python import bytecode
from cnb_python.bytecode import compile_files, python_sources, remove_bytecode
from cnb_python.log import Logger

SOURCES = {
    "pkg/__init__.py": "VALUES = {'a', 'b', 'c'}\nFROZEN = frozenset({1, 'x', 2.5})\n",
    "pkg/mod.py": "def f(x):\n    return {x, 'y', 'z'}\n",
    "pkg/broken.py": "def (:\n",
    "pkg/__pycache__/stale.cpython-311.pyc": "junk",
    "pkg/data.txt": "not python",
}


def make_tree(root: Path) -> Path:
    for name, content in SOURCES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return root


def compile_tree(root: Path) -> dict[str, bytes]:
    remove_bytecode([root])
    compile_files(Path(sys.executable), python_sources([root]), log=Logger(io.StringIO()), what="t")
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.pyc"))}


def test_compiles_unchecked_hash_pycs_and_drops_stale_ones(tmp_path):
    pycs = compile_tree(make_tree(tmp_path / "a"))
    tag = sys.implementation.cache_tag
    assert sorted(pycs) == [f"pkg/__pycache__/__init__.{tag}.pyc", f"pkg/__pycache__/mod.{tag}.pyc"]
    for data in pycs.values():
        assert data[:4] == importlib.util.MAGIC_NUMBER
        # PEP 552 flags: bit 0 = hash-based, bit 1 = check_source.
        assert struct.unpack("<I", data[4:8])[0] == 0b01


def test_output_does_not_depend_on_the_callers_hash_seed(tmp_path, monkeypatch):
    root = make_tree(tmp_path / "a")
    monkeypatch.setenv("PYTHONHASHSEED", "1")
    first = compile_tree(root)
    monkeypatch.setenv("PYTHONHASHSEED", "2")
    assert compile_tree(root) == first


def test_sources_skip_symlinks_and_named_dirs(tmp_path):
    make_tree(tmp_path)
    (tmp_path / "pkg/link.py").symlink_to("mod.py")
    (tmp_path / "site-packages").mkdir()
    (tmp_path / "site-packages/x.py").write_text("")
    found = [
        p.relative_to(tmp_path).as_posix()
        for p in python_sources([tmp_path], frozenset({"site-packages"}))
    ]
    assert found == ["pkg/__init__.py", "pkg/broken.py", "pkg/mod.py"]


def test_output_does_not_depend_on_the_number_of_cores(tmp_path, monkeypatch):
    """cpython#129724: pyc bytes may depend on what the same process compiled before. Chunks
    are fixed by the sorted file list and its sizes, so one core or many give the same bytes."""
    root = make_tree(tmp_path / "a")
    for index in range(7):
        (root / f"pkg/m{index}.py").write_text(f"X = ('shared', {index}, frozenset({{'a'}}))\n")
    monkeypatch.setattr(bytecode, "CHUNK_BYTES", 60)  # about two files of the seven
    monkeypatch.setattr(bytecode, "workers", lambda: 1)
    one = compile_tree(root)
    monkeypatch.setattr(bytecode, "workers", lambda: 3)
    assert compile_tree(root) == one
    assert len(one) == 9  # every chunk ran: __init__, mod and m0..m6


def test_a_pyc_an_import_wrote_over_a_background_compile_is_compiled_again(tmp_path, monkeypatch):
    """A tool run that ignores PYTHONDONTWRITEBYTECODE (`python -E`) can write a timestamp pyc
    over one the background compilers wrote; `wait` compiles its chunk again, alone, to the same
    bytes."""
    monkeypatch.setattr(bytecode, "CHUNK_BYTES", 1)  # a chunk per file: mod.py's is not first
    root = make_tree(tmp_path / "a")
    remove_bytecode([root])
    files = python_sources([root])
    expected = compile_tree(root)
    remove_bytecode([root])
    compilation = bytecode.Compilation(Path(sys.executable), files, "t", background=True)
    compilation._compiler.wait()  # the compilers are done; the tool writes now
    mod = root / "pkg" / "mod.py"
    pyc = importlib.util.cache_from_source(str(mod))
    py_compile.compile(str(mod), pyc, invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
    assert bytecode.overwritten(files) == [files.index(mod)]
    compilation.wait(Logger(io.StringIO()))
    assert bytecode.overwritten(files) == []
    pycs = {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.pyc"))}
    assert pycs == expected


def test_pycs_are_what_py_compile_writes(tmp_path):
    """The compiler reimplements py_compile.compile without its imports; on 3.11 and later,
    where the compiling process's state does not change the bytes, they must be identical."""
    root = make_tree(tmp_path / "a")
    ours = compile_tree(root)
    remove_bytecode([root])
    script = (
        "import py_compile, sys\n"
        "mode = py_compile.PycInvalidationMode.UNCHECKED_HASH\n"
        "for path in sys.argv[1:]:\n"
        "    py_compile.compile(path, invalidation_mode=mode)\n"
    )
    files = [str(p) for p in python_sources([root]) if p.name != "broken.py"]
    env = {"PYTHONHASHSEED": "0"}
    subprocess.run([sys.executable, "-B", "-c", script, *files], check=True, env=env)
    assert ours == {
        p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.pyc"))
    }


def test_a_pyc_path_that_is_a_symlink_is_not_written_through(tmp_path):
    root = make_tree(tmp_path / "a")
    remove_bytecode([root])
    target = tmp_path / "elsewhere.pyc"
    target.write_bytes(b"keep")
    pyc = Path(importlib.util.cache_from_source(str(root / "pkg" / "mod.py")))
    pyc.parent.mkdir()
    pyc.symlink_to(target)
    log = io.StringIO()
    compile_files(
        Path(sys.executable), python_sources([root]), log=Logger(log, debug=True), what="t"
    )
    assert target.read_bytes() == b"keep"
    assert "compiled 1 of 3 files for t" in log.getvalue()  # __init__; not broken.py nor mod.py


def test_chunks_are_cut_by_source_bytes_in_file_order(tmp_path, monkeypatch):
    """Balanced chunks: a chunk closes once its sources reach CHUNK_BYTES, so a big file ends its
    chunk early and small ones share one; the cuts depend on the files alone."""
    monkeypatch.setattr(bytecode, "CHUNK_BYTES", 100)
    monkeypatch.setattr(bytecode, "_cuts_after", lambda path: False)
    sizes = {"a.py": 30, "b.py": 30, "c.py": 50, "d.py": 250, "e.py": 10, "f.py": 20}
    files = []
    for name, size in sizes.items():
        (tmp_path / name).write_text("#" * size)
        files.append(tmp_path / name)
    chunks = [[path.name for path in chunk] for chunk in bytecode.chunked(files)]
    assert chunks == [["a.py", "b.py", "c.py"], ["d.py"], ["e.py", "f.py"]]
    assert bytecode.chunked([]) == []


def test_about_one_file_in_cut_every_ends_a_chunk_by_its_path():
    paths = [f"/layers/cnb-python/venv/lib/m{index}.py" for index in range(3200)]
    cuts = sum(map(bytecode._cuts_after, paths))
    assert 3200 / bytecode.CUT_EVERY * 0.7 < cuts < 3200 / bytecode.CUT_EVERY * 1.3


def test_cuts_by_path_use_the_path_the_files_will_have_not_a_staging_dirs(tmp_path):
    """A packaged runtime is compiled in a random staging dir: its chunks, and so its bytes
    (cpython#129724), must not depend on that dir."""
    chunks = []
    for staging in ("a", "b"):
        for index in range(300):
            (tmp_path / staging / f"m{index:03}.py").parent.mkdir(exist_ok=True)
            (tmp_path / staging / f"m{index:03}.py").write_text("X = 1\n")
        files = python_sources([tmp_path / staging])
        shown_as = [str(tmp_path / staging), "/cnb/buildpacks/python/runtime"]
        chunks.append([[p.name for p in chunk] for chunk in bytecode.chunked(files, shown_as)])
    assert chunks[0] == chunks[1]
    assert len(chunks[0]) > 1


def test_a_file_added_changes_only_the_chunk_it_falls_in(tmp_path, monkeypatch):
    """A cut by path depends on that file alone, and a cut by bytes on the files since the last
    cut: a file added changes the chunks between the cuts by path around it, and no other."""
    monkeypatch.setattr(bytecode, "_cuts_after", lambda path: path.endswith("4.py"))
    monkeypatch.setattr(bytecode, "CHUNK_BYTES", 25)  # three files of 10 bytes
    for index in range(40):
        (tmp_path / f"m{index:02}.py").write_text("X = 12345\n")
    before = bytecode.chunked(python_sources([tmp_path]))
    (tmp_path / "m17a.py").write_text("X = 12345\n")
    after = bytecode.chunked(python_sources([tmp_path]))
    names = [[[p.stem for p in chunk] for chunk in chunks] for chunks in (before, after)]
    # m14 and m24 end chunks by their paths: only the chunks between them change.
    assert [c for c in names[0] if c not in names[1]] == [
        ["m18", "m19", "m20"],
        ["m21", "m22", "m23"],
        ["m24"],
    ]
    assert [c for c in names[1] if c not in names[0]] == [
        ["m17a", "m18", "m19"],
        ["m20", "m21", "m22"],
        ["m23", "m24"],
    ]


def _numbered_tree(root: Path, changed: int | None = None) -> list[Path]:
    for index in range(20):
        value = "'changed'" if index == changed else index
        path = root / "pkg" / f"m{index:02}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"X = ({value}, frozenset({{'a', 'b'}}), 'shared')\n")
    return python_sources([root])


def _pycs(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.pyc"))}


def test_a_rebuild_takes_the_pycs_of_unchanged_chunks_and_gets_the_bytes_of_a_compile(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(bytecode, "_cuts_after", lambda path: path.endswith(("4.py", "9.py")))
    python, root, old = Path(sys.executable), tmp_path / "venv", tmp_path / "old"
    first = compile_files(python, _numbered_tree(root), log=Logger(), what="t", version="3.x")
    assert len(first) == 4  # m00-m04, m05-m09, m10-m14, m15-m19
    old.mkdir()
    root.rename(old / "venv")  # the next build moves the old environment aside
    sources = _numbered_tree(root, changed=12)
    log = io.StringIO()
    reuse = bytecode.Reuse(root, old / "venv", frozenset(first))
    again = compile_files(
        python, sources, log=Logger(log, debug=True), what="t", version="3.x", reuse=reuse
    )
    assert "compiled 20 of 20 files for t (15 taken from the previous compile)" in log.getvalue()
    assert again[:2] + again[3:] == first[:2] + first[3:]
    assert again[2] != first[2]
    assert sorted(p.name for p in (old / "venv").rglob("*.pyc"))[0].startswith("m10.")
    taken = _pycs(root)
    assert len(taken) == 20
    assert taken == compile_tree(root)  # what a compile of the new tree writes


def test_no_pyc_is_taken_from_another_interpreter_or_that_is_not_ours(tmp_path):
    python, root, old = Path(sys.executable), tmp_path / "venv", tmp_path / "old"
    first = compile_files(python, _numbered_tree(root), log=Logger(), what="t", version="3.x")
    old.mkdir()
    root.rename(old / "venv")
    reuse = bytecode.Reuse(root, old / "venv", frozenset(first))
    for version in ("3.y", "3.x"):
        if version == "3.x":  # a timestamp pyc where ours was: the chunks are all compiled
            for source in python_sources([old / "venv"]):
                py_compile.compile(
                    str(source), invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP
                )
        log = io.StringIO()
        compile_files(
            python,
            _numbered_tree(root),
            log=Logger(log, debug=True),
            what="t",
            version=version,
            reuse=reuse,
        )
        assert "compiled 20 of 20 files for t\n" in log.getvalue()
        remove_bytecode([root])


def _dying_compiler(root: Path) -> None:
    """A compiler whose chunk process died, as the compiling process reports it."""
    python = root / "python"
    python.write_text("#!/bin/sh\necho 'chunk 0: killed by signal 11' >&2\nexit 1\n")
    python.chmod(0o755)
    (root / "m.py").write_text("X = 1\n")
    compile_files(python, [root / "m.py"], log=Logger(io.StringIO()), what="the dependencies")


GOLDEN: Golden = {
    "compiler died": (
        _dying_compiler,
        """[Error: Unable to compile bytecode for the dependencies]

  ROOT/python exited with status 1:
  chunk 0: killed by signal 11

  How to fix:
    This is a buildpack problem; please report it with the build log.""",
    ),
}
test_error_text = error_text_test(GOLDEN)
