"""A requirement set's interpreter writes the pycs of its own files, and only those
(cnb_python/set_bytecode.py, toolscripts/set_pycs.py); they stay valid after a cache restore
changes the sources' mtimes. The lock-change rebuilds that read them are in
integration/test_tool_pycs.py."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from cnb_python import bytecode, set_bytecode

TAG = sys.implementation.cache_tag


@pytest.fixture
def set_venv(tmp_path: Path) -> Path:
    """A venv standing for a set layer, with a module of its own in site-packages."""
    venv = tmp_path / "set"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = venv / "lib" / f"python{sysconfig.get_python_version()}" / "site-packages"
    (site / "inside.py").write_text("VALUE = 1\n")
    return venv


def site_of(venv: Path) -> Path:
    return next((venv / "lib").glob("python*/site-packages"))


def run_tool(venv: Path, outside: Path) -> None:
    """The set's python imports its own module and one outside its layer, with writing off
    as the build's tool runs have it (buildenv.tool_env)."""
    (outside / "outside.py").write_text("VALUE = 2\n")
    env = {"PATH": os.environ["PATH"], "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(outside)}
    subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import inside, outside"], env=env, check=True
    )


def pyc(directory: Path, module: str) -> Path:
    return directory / "__pycache__" / f"{module}.{TAG}.pyc"


@pytest.mark.parametrize("hooked", [True, False])
def test_only_the_sets_own_files_get_pycs(set_venv, tmp_path, hooked):
    if hooked:
        set_bytecode.install_hook([site_of(set_venv)])
    outside = tmp_path / "app"
    outside.mkdir()
    run_tool(set_venv, outside)
    assert pyc(site_of(set_venv), "inside").is_file() == hooked
    assert not (outside / "__pycache__").exists()


def test_the_pycs_stay_valid_when_a_restore_gives_the_sources_new_mtimes(set_venv, tmp_path):
    set_bytecode.install_hook([site_of(set_venv)])
    set_bytecode.fix_source_mtimes(set_venv)
    outside = tmp_path / "app"
    outside.mkdir()
    run_tool(set_venv, outside)
    written = pyc(site_of(set_venv), "inside").stat()
    source = site_of(set_venv) / "inside.py"
    assert source.stat().st_mtime == set_bytecode.SOURCE_MTIME

    def restored_and_run(fixed: bool) -> bool:
        """Whether the next run wrote the pyc again (a new file replaces it)."""
        before = pyc(site_of(set_venv), "inside").stat().st_ino
        os.utime(source)  # the restorer writes files at the time of the restore
        if fixed:
            set_bytecode.fix_source_mtimes(set_venv)
        run_tool(set_venv, outside)
        return pyc(site_of(set_venv), "inside").stat().st_ino != before

    assert not restored_and_run(fixed=True)
    assert pyc(site_of(set_venv), "inside").stat().st_ino == written.st_ino
    assert restored_and_run(fixed=False)  # what the fixed mtimes spare


def test_fixed_mtimes_leave_links_alone(tmp_path):
    layer = tmp_path / "layer"
    layer.mkdir()
    target = tmp_path / "elsewhere.py"
    target.write_text("")
    (layer / "link.py").symlink_to(target)
    (layer / "module.py").write_text("")
    set_bytecode.fix_source_mtimes(layer)
    assert (layer / "module.py").stat().st_mtime == set_bytecode.SOURCE_MTIME
    assert target.stat().st_mtime != set_bytecode.SOURCE_MTIME


def import_below(venv: Path, *directories: Path) -> None:
    """The venv's python imports a module from each directory (a pip build environment's
    backend, the app), writing off as in the build's tool runs."""
    for number, directory in enumerate(directories):
        (directory / f"module{number}.py").write_text("VALUE = 1\n")
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": os.pathsep.join(map(str, directories)),
    }
    names = ", ".join(f"module{n}" for n in range(len(directories)))
    subprocess.run([str(venv / "bin" / "python"), "-c", f"import {names}"], env=env, check=True)


def test_a_pip_run_keeps_the_pycs_below_the_temp_roots_alone(set_venv, tmp_path):
    temp, app = tmp_path / "temp", tmp_path / "app"
    (temp / "pip-build-env").mkdir(parents=True)
    app.mkdir()
    sources = bytecode.python_sources([site_of(set_venv)])
    with set_bytecode.keep_pycs(set_venv, [str(temp)]):
        import_below(set_venv, temp / "pip-build-env", app)
        # The dependencies compile while the backends install: nothing new for them to take.
        assert bytecode.python_sources([site_of(set_venv)]) == sources
    assert pyc(temp / "pip-build-env", "module0").is_file()
    assert not (app / "__pycache__").exists()
    assert sorted(p.name for p in site_of(set_venv).iterdir()) == ["inside.py"]
    (temp / "later").mkdir()
    import_below(set_venv, temp / "later")
    assert not (temp / "later" / "__pycache__").exists()


def test_overlapping_runs_keep_the_roots_of_every_run_until_the_last_ends(set_venv, tmp_path):
    temp, backends = tmp_path / "temp", tmp_path / "backends"
    for directory in (temp / "a", temp / "b", temp / "c", backends / "a", backends / "b"):
        directory.mkdir(parents=True)
    with set_bytecode.keep_pycs(set_venv, [str(backends)]):
        with set_bytecode.keep_pycs(set_venv, [str(temp)]):
            import_below(set_venv, temp / "a", backends / "a")
        import_below(set_venv, temp / "b", backends / "b")
    import_below(set_venv, temp / "c")
    assert pyc(temp / "a", "module0").is_file()
    assert pyc(backends / "a", "module1").is_file()
    assert not (temp / "b" / "__pycache__").exists()  # its run had ended
    assert pyc(backends / "b", "module1").is_file()
    assert not (temp / "c" / "__pycache__").exists()
    assert sorted(p.name for p in site_of(set_venv).iterdir()) == ["inside.py"]


def test_no_hook_when_the_environment_is_below_a_temp_root(set_venv, tmp_path):
    with set_bytecode.keep_pycs(set_venv, [str(set_venv.parent)]):
        assert sorted(p.name for p in site_of(set_venv).iterdir()) == ["inside.py"]
        import_below(set_venv, tmp_path)
    assert not (tmp_path / "__pycache__").exists()
