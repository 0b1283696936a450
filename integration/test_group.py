"""Our buildpack in a group with a later buildpack that builds on our Python."""

from __future__ import annotations

import pytest
from testsupport.later_buildpack import make_later_buildpack

from localcnb import Platform

CPYTHON = "/layers/cnb-python_python/cpython"


def test_a_later_buildpack_gets_python_and_the_venv_at_build_time(tmp_path, buildpack, make_app):
    later = make_later_buildpack(
        tmp_path / "later",
        "python -c \"import six, sys; print('later sees', sys.version_info[:2], six.__version__)\"",
        cpython_version="3.12.*",
    )
    app = make_app(files={"requirements.txt": "six==1.16.0\n"})
    result = Platform(tmp_path / "platform", [buildpack, later]).build(app.dir)
    assert result.success, result.output
    assert result.group == ["cnb-python/python", "test/later"]
    assert "later sees (3, 12) 1.16.0" in result.output


# A later buildpack's build script: compile a tiny extension with the builder's cc and the flags
# python3-config gives, import it, and show what pkg-config and sysconfig say.
COMPILE_WITH_PYTHON3_CONFIG = """\
cd "$(mktemp -d)"
cat > hello.c <<'C'
#include <Python.h>
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "hello", NULL, -1, NULL};
PyMODINIT_FUNC PyInit_hello(void) { return PyModule_Create(&module); }
C
cc -shared -fPIC -o "hello$(python3-config --extension-suffix)" hello.c \\
  $(python3-config --cflags --ldflags)
python -c "import hello; print('later imported', hello.__name__)"
echo "pkg-config: $(pkg-config --variable=prefix python3) $(pkg-config --variable=libdir python3)"
python -c "import sysconfig; print('sysconfig:', sysconfig.get_config_var('CC'))"
"""


@pytest.mark.parametrize("patched", [True, False], ids=["patched", "unpatched"])
def test_a_later_buildpack_compiles_an_extension_with_python3_config(
    tmp_path, buildpack, unpatched_buildpack, make_app, patched
):
    later = make_later_buildpack(tmp_path / "later", COMPILE_WITH_PYTHON3_CONFIG)
    app = make_app(files={"app.py": "print('hi')\n"})
    ours = buildpack if patched else unpatched_buildpack
    result = Platform(tmp_path / "platform", [ours, later]).build(app.dir)
    if patched:
        assert result.success, result.output
        assert "later imported hello" in result.output
        # Variables: pkgconf leaves out the -I and -L of dirs in CPATH and LIBRARY_PATH, which
        # the layer's build env sets.
        assert f"pkg-config: {CPYTHON} {CPYTHON}/lib\n" in result.output
        assert "sysconfig: cc -pthread" in result.output
    else:  # PBS's python3-config gives clang-only flags, which the builder's gcc rejects
        assert not result.success
        assert "-fdebug-default-version=4" in result.output
        assert "later imported" not in result.output
