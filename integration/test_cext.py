"""C extensions compiled from source by pip, on a PBS-like CPython with gcc as the only compiler:
the build settings patch is what makes them build."""

from __future__ import annotations

import re
import shutil

import pytest
from conftest import SAMPLES, App, free_port, http_get

CPYTHON = "/layers/cnb-python_python/cpython"
SYSCONFIG = (
    "import sysconfig; v = sysconfig.get_config_var; "
    "print(v('prefix'), v('CC'), v('LIBDIR'), v('INCLUDEPY'), sep='|')"
)


def test_the_build_machine_has_gcc_and_no_clang() -> None:
    # What the tests below rely on: PBS's compiler is not here, the builder's gcc is.
    assert shutil.which("cc") and shutil.which("gcc")
    assert not shutil.which("clang") and not shutil.which("clang++")


@pytest.fixture(scope="module")
def cext_app(tmp_path_factory, buildpack):
    app = App(tmp_path_factory.mktemp("cext"), buildpack, SAMPLES / "pip-cext")
    app.output = app.build_ok().output
    return app


def test_the_c_extensions_build_from_source_and_import(cext_app):
    assert f"Patched the build settings of 5 files: prefix /install -> {CPYTHON}" in (
        cext_app.output
    )
    assert "Building wheel for mmh3 (pyproject.toml)" in cext_app.output
    out = cext_app.python(
        "import glob, greet, mmh3, sys; print(greet.hello('gcc'), mmh3.hash('cnb-python'), "
        "[p.split('/')[-2:] for p in sorted(glob.glob(sys.prefix + '/lib/*/site-packages/"
        "mmh3-*.dist-info/WHEEL'))])"
    )
    hash_ = out.split()[4]
    assert out == f"Hello, gcc, from C {hash_} [['mmh3-5.3.1.dist-info', 'WHEEL']]\n"
    wheel = cext_app.python(
        "import importlib.metadata as m; print(m.distribution('mmh3').read_text('WHEEL'))"
    )
    assert "Tag: cp312-cp312-linux_x86_64" in wheel  # built here, not a manylinux wheel


def test_the_sample_answers_http(cext_app):
    port = free_port()
    with cext_app.platform.start("web", env={"PORT": str(port)}) as running:
        running.wait_for_port(port)
        assert http_get(f"http://127.0.0.1:{port}/").startswith("Hello, world, from C; mmh3 ")


def test_sysconfig_in_the_image_names_the_layer_and_cc(cext_app):
    proc = cext_app.platform.run(command=[f"{CPYTHON}/bin/python3", "-c", SYSCONFIG], timeout=60)
    assert proc.returncode == 0, proc.stderr
    include = f"{CPYTHON}/include/python3.12"
    assert proc.stdout == f"{CPYTHON}|cc -pthread|{CPYTHON}/lib|{include}\n"
    # The app's `python` (the venv's) reads the same patched settings.
    assert cext_app.python(SYSCONFIG) == proc.stdout


def test_the_patched_sysconfigdata_has_a_pyc_of_its_patched_source(cext_app):
    # The layer's pycs are unchecked-hash: one compiled before the patch would be used anyway.
    out = cext_app.python(
        "import importlib.util as u, sysconfig; "
        "m = u.find_spec(sysconfig._get_sysconfigdata_name()); "
        "src = open(m.origin, 'rb').read(); pyc = open(m.cached, 'rb').read(); "
        "print(pyc[8:16] == u.source_hash(src), b\"'CC': 'cc -pthread'\" in src)"
    )
    assert out == "True True\n"


def test_without_the_patch_the_same_build_fails(tmp_path, unpatched_buildpack):
    app = App(tmp_path, unpatched_buildpack, SAMPLES / "pip-cext")
    result = app.build()
    assert not result.success
    assert "Not patching the build settings (test buildpack)" in result.output
    assert "[Error: Unable to install dependencies using pip]" in result.output
    assert "error: command 'clang' failed: No such file or directory" in result.output


def test_the_clean_variant_builds_too_and_only_its_prefix_is_rewritten(tmp_path, clean_buildpack):
    app = App(tmp_path, clean_buildpack).write({"requirements.txt": "./greet\n"})
    shutil.copytree(SAMPLES / "pip-cext" / "greet", app.dir / "greet")
    result = app.build_ok()
    patched = re.search(r"Patched the build settings of \d+ files: (.*)", result.output)
    assert patched, result.output
    # The prefix the source interpreter recorded, and nothing about compilers or flags.
    recorded = re.fullmatch(rf"prefix (/\S+) -> {CPYTHON}", patched[1])
    assert recorded and recorded[1] != "/install"
    assert app.python("import greet; print(greet.hello('clean'))") == "Hello, clean, from C\n"
    cc = app.python("import sysconfig; print(sysconfig.get_config_var('CC'))")
    assert cc == "gcc\n"
