"""Native code compiled from source, by three build systems that each pick a new directory per
build, comes out with debug info and no build directory in it; the shims that do it never reach
the image; and the venv is rebuilt when something that changes compiled code does
(docs/reproducibility.md). `.ci/run` proves samples/pip-native bit-identical across builds."""

from __future__ import annotations

import dataclasses
import re

import pytest
from conftest import SAMPLES, App, free_port, http_get

from localcnb.buildpacks import HostTarget

# Each module's file: its debug sections, and whether a build directory is in it.
SCAN_MODULES = """
import cmakeext, handbuilt, mesonext
for module in (cmakeext, handbuilt, mesonext):
    data = open(module.__file__, "rb").read()
    print(module.__name__, b".debug_info" in data, b"/tmp/" in data, b".mesonpy-" in data)
"""
# The static library handbuilt ships: each member's name, mtime, uid and gid, in order.
SCAN_ARCHIVE = """
import os, handbuilt
path = os.path.join(os.path.dirname(handbuilt.__file__), "handbuilt_static", "libhelpers.a")
data, offset, found = open(path, "rb").read(), 8, []
while offset < len(data):
    header = data[offset : offset + 60].decode()
    size = int(header[48:58])
    fields = [header[start:end].strip() for start, end in ((0, 16), (16, 28), (28, 34), (34, 40))]
    if fields[0] != "/":
        found.append(tuple(fields))
    offset += 60 + size + size % 2
print(found)
"""
# Any directory or file content in /layers that names the shims' directory.
SCAN_LAYERS = """
import os
found = []
for top, dirs, files in os.walk("/layers"):
    found += [os.path.join(top, d) for d in dirs if d == "build-toolchain"]
    for name in files:
        path = os.path.join(top, name)
        if not os.path.islink(path) and b"build-toolchain" in open(path, "rb").read():
            found.append(path)
print(found)
"""
# Files of the hook that lets pip's build backends keep their pycs (set_bytecode.keep_pycs).
SCAN_PYC_HOOK = """
import os
print(sorted(n for _, _, files in os.walk("/layers") for n in files if "cnb_python_set_pycs" in n))
"""


@pytest.fixture(scope="module")
def native_app(tmp_path_factory, buildpack):
    app = App(tmp_path_factory.mktemp("native"), buildpack, SAMPLES / "pip-native")
    app.output = app.build_ok().output
    return app


def test_the_three_build_systems_compile_through_the_shims(native_app):
    shims = re.search(
        r"Compilers and archivers run through shims \((.*)\) that write", native_app.output
    )
    assert shims, native_app.output
    assert {"cc", "gcc", "ar", "ranlib"} <= set(shims[1].split(", "))
    assert (
        "that write the build's directories as '.' and make archives deterministic"
    ) in native_app.output
    assert "Building wheel for mesonext (pyproject.toml)" in native_app.output
    assert "Building wheel for cmakeext (pyproject.toml)" in native_app.output
    port = free_port()
    with native_app.platform.start("web", env={"PORT": str(port)}) as running:
        running.wait_for_port(port)
        # The date and time come from SOURCE_DATE_EPOCH; __FILE__ was an absolute path in
        # pip's temp directory.
        body = http_get(f"http://127.0.0.1:{port}/")
    assert body == "10 + 10 + 18 = 38; built Jan  1 1980 00:00:01 ./src/stamp.c\n"


def test_the_modules_keep_debug_info_without_a_build_directory(native_app):
    assert native_app.python(SCAN_MODULES) == (
        "cmakeext True False False\nhandbuilt True False False\nmesonext True False False\n"
    )


def test_the_shipped_static_library_is_deterministic(native_app):
    # The script asked ar for real mtimes (U) and gave the members in directory order.
    assert native_app.python(SCAN_ARCHIVE) == (
        "[('stamp.o/', '0', '0', '0'), ('tally.o/', '0', '0', '0')]\n"
    )


def test_the_shims_never_reach_the_image(native_app):
    assert native_app.python(SCAN_LAYERS) == "[]\n"


def test_the_hook_that_keeps_the_backends_pycs_never_reaches_the_image(native_app):
    assert native_app.python(SCAN_PYC_HOOK) == "[]\n"


def test_a_change_of_cflags_rebuilds_the_venv_and_says_so(make_app):
    app = make_app(files={"requirements.txt": "six==1.16.0\n"})
    app.build_ok()
    assert "Reusing cached virtual environment" in app.build_ok().output
    changed = app.build_ok(env={"CFLAGS": "-O1"})
    assert "Rebuilding the virtual environment: CFLAGS changed" in changed.output
    assert "Reusing cached virtual environment" in app.build_ok(env={"CFLAGS": "-O1"}).output


def test_a_new_target_distro_rebuilds_the_venv_and_says_so(make_app):
    app = make_app(files={"requirements.txt": "six==1.16.0\n"})
    app.build_ok()
    host = HostTarget.detect()
    upgraded = dataclasses.replace(host, distro_version=f"{host.distro_version}.1")
    result = app.build_ok(target=upgraded)
    assert "Rebuilding the virtual environment: the target distro changed" in result.output
