"""Our buildpack in a group with later buildpacks that build on our Python or our processes."""

from __future__ import annotations

import pytest
from testsupport.later_buildpack import make_later_buildpack

from localcnb import Platform

# What the later buildpack prints, one `name=value` per line, for the test to read.
REPORT = """
echo "python=$(command -v python)"
echo "pycache_prefix=${PYTHONPYCACHEPREFIX:-unset}"
echo "source_date_epoch=${SOURCE_DATE_EPOCH:-unset}"
python -c "import sys; print('version=%d.%d' % sys.version_info[:2])"
python -c "import six; print('six=' + six.__version__)"
"""
CPYTHON = "/layers/cnb-python_python/cpython"


# A Procfile-style buildpack: its own `web` process, the image's default.
PROCFILE_STYLE = """
cat > "$CNB_LAYERS_DIR/launch.toml" <<'TOML'
[[processes]]
type = "web"
command = ["echo", "web from the later buildpack"]
default = true
TOML
"""


@pytest.fixture(scope="module")
def group_build(tmp_path_factory, buildpack):
    """One build with a later buildpack that requires cpython 3.12.* for build."""
    root = tmp_path_factory.mktemp("group")
    later = make_later_buildpack(root / "later", REPORT, cpython_version="3.12.*")
    app = root / "app"
    app.mkdir()
    (app / "requirements.txt").write_text("six==1.16.0\n")
    (app / "app.py").write_text("print('web from cnb-python')\n")
    return Platform(root / "platform", [buildpack, later]).build(app)


def reported(output: str) -> dict[str, str]:
    lines = (line.strip().partition("=") for line in output.splitlines())
    return {key: value for key, sep, value in lines if sep and " " not in key}


def test_a_later_buildpack_gets_python_our_build_env_and_the_venv(group_build):
    assert group_build.success, group_build.output
    assert group_build.group == ["cnb-python/python", "test/later"]
    seen = reported(group_build.output)
    # Python on PATH is the app's venv (whose python links to our CPython), at the version the
    # later buildpack's requirement narrowed the app's request to.
    assert seen["python"].startswith("/layers/cnb-python_python/venv/"), seen
    assert seen["version"] == "3.12"
    assert seen["six"] == "1.16.0"
    assert seen["pycache_prefix"] == "/tmp"
    assert seen["source_date_epoch"] == "315532801"


def test_a_procfile_buildpack_after_ours_overrides_web(tmp_path, buildpack):
    later = make_later_buildpack(tmp_path / "procfile", PROCFILE_STYLE, build=False)
    app = tmp_path / "app"
    app.mkdir()
    (app / "app.py").write_text("print('web from cnb-python')\n")
    platform = Platform(tmp_path / "platform", [buildpack, later])
    result = platform.build(app)
    assert result.success, result.output
    image = result.image
    assert image is not None
    web = [p for p in image.processes if p["type"] == "web"]
    assert len(web) == 1 and web[0]["buildpack_id"] == "test/later", image.processes
    assert image.default_process == "web"
    assert platform.run(timeout=60).stdout == "web from the later buildpack\n"


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
