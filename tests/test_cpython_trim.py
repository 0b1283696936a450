"""What of a python-build-standalone archive stays out of the CPython layer: left out as the
archive is read (cpython._left_out), never written."""

from test_archive import make_tar

from cnb_python.archive import extract_tarball
from cnb_python.cpython import _left_out


def test_the_build_tools_tests_site_packages_and_bytecode_are_never_written(tmp_path):
    kept = [
        "bin/python3.12",
        "bin/python3.12-config",
        "include/python3.12/Python.h",
        "lib/libpython3.12.so",
        "lib/python3.12/os.py",
        "lib/python3.12/ctypes/__init__.py",
        "lib/python3.12/unittest/case.py",  # unittest itself is no test suite
        "lib/python3.12/site-packages/README.txt",
        "lib/python3.12/lib2to3/fixer_base.py",
        "lib/python3.12/email/test",  # a file of that name is no test suite
    ]
    left_out = [
        "bin/pip3",
        "bin/pip3.12",
        "bin/wheel",
        "bin/idle3.12",
        "bin/2to3-3.12",
        "lib/python3.12/__pycache__/os.cpython-312.pyc",
        "lib/python3.12/ctypes/__pycache__/__init__.cpython-312.opt-1.pyc",
        "lib/python3.12/site-packages/pip/__init__.py",
        "lib/python3.12/site-packages/pip-24.0.dist-info/RECORD",
        "lib/python3.12/idlelib/idle.py",
        "lib/python3.12/turtledemo/clock.py",
        "lib/python3.12/ctypes/test/test_x.py",
        "lib/python3.12/unittest/test/test_case.py",
        "lib/python3.12/lib2to3/tests/data/x.py",
        "lib/python3.12/tkinter/idle_test/x.py",
    ]
    dirs = ["lib/python3.12/test/", "lib/python3.12/sqlite3/test/"]  # empty, left out too
    members = [("file", f"python/{name}", name) for name in kept + left_out]
    members += [("dir", f"python/{name}", "") for name in dirs]
    members.append(("symlink", "python/bin/pip", "pip3.12"))
    members.append(("symlink", "python/bin/python3", "python3.12"))
    archive = make_tar(tmp_path / "cpython.tar.gz", members)
    home = tmp_path / "cpython"
    home.mkdir()

    def leave_out(name: str, is_dir: bool) -> bool:
        return _left_out(name, is_dir, "3.12")

    extract_tarball(archive, home, strip_components=1, what="CPython", leave_out=leave_out)
    found = sorted(
        path.relative_to(home).as_posix()
        for path in home.rglob("*")
        if path.is_file() or path.is_symlink()
    )
    assert found == sorted([*kept, "bin/python3"])
    assert not (home / "lib/python3.12/sqlite3/test").exists()
    assert not (home / "lib/python3.12/__pycache__").exists()


def test_only_the_layers_own_python_version_is_its_stdlib():
    assert not _left_out("lib/python3.11/test/x.py", False, "3.12")
    assert _left_out("lib/python3.11/__pycache__/x.pyc", False, "3.12")
    assert not _left_out("share/man/man1/python3.12.1", False, "3.12")
    assert not _left_out("bin/python3", False, "3.12")
    assert not _left_out("lib/python3.12/site-packages", True, "3.12")
