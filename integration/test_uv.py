"""uv apps end to end, with real packages from PyPI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import LEAKED_SECRET, SAMPLES, VENV, App, free_port, http_get, sigterm


@pytest.fixture
def fastapi_app(built_sample):
    """The uv-fastapi sample, built once per session (the contract: test_manager_contract.py)."""
    return built_sample("uv")


def test_uvicorn_as_pid1_stops_gracefully_on_sigterm(fastapi_app):
    port = free_port()
    with fastapi_app.platform.start("web", env={"PORT": str(port)}) as running:
        running.wait_for_port(port)
        code, took = sigterm(running)
        output = running.output()
    # uvicorn shuts down gracefully, then restores the handler it found (the PID 1 hook's) and
    # raises the signal again, to end as SIGTERM's default action would: 143, as under --init.
    print(f"uvicorn (Procfile, uv): exit {code} after {took:.2f} s")
    assert code == 143, output
    assert "Finished server process" in output


def test_dev_dependencies_are_left_out(fastapi_app):
    out = fastapi_app.python(
        "import importlib.util as u, sys; print(u.find_spec('pytest'), sys.prefix)"
    )
    assert out == f"None {VENV}\n"


_SCAN_VENV = """
import os, sys
LINK_OK = ("/layers/", "python", "lib")
BUILD_PATHS = ("/tmp/", "cnb-python-uv", "/home/", "/root/", "/cache/", ".cache")
# Build-only layers and uv's temp dirs: no launch file may point there.
BUILD_ONLY = (b"/layers/cnb-python_python/uv", b"/layers/cnb-python_python/pip", b"cnb-python-uv")
found = []
for d, dirs, files in os.walk(sys.prefix):
    for n in dirs + files:
        p = os.path.join(d, n)
        if n in (".lock", "uv_cache.json", "uv_build.json"):
            found.append(p)
        if os.path.islink(p) and not os.readlink(p).startswith(LINK_OK):
            found.append(p + " -> " + os.readlink(p))
        if os.path.isfile(p) and not os.path.islink(p):
            data = open(p, "rb").read()
            if any(s in data for s in BUILD_ONLY):
                found.append(p + " mentions a build-only path")
        if n.endswith((".pth", "RECORD", "INSTALLER", "direct_url.json")):
            text = open(p, errors="replace").read()
            if any(s in text for s in BUILD_PATHS):
                found.append(p)
print(found)
"""


def test_no_build_path_time_or_uv_stamp_in_the_venv(fastapi_app):
    """uv's lock file and build stamps are gone; every .pth, RECORD, INSTALLER, direct_url.json
    and symlink mentions only the layers, never a cache, temp dir or home; and no file of the
    venv mentions a build-only layer or uv's temp dirs."""
    out = fastapi_app.python(_SCAN_VENV)
    assert out == "[]\n"


def test_a_change_rebuilds_from_empty(tmp_path, buildpack):
    """An unchanged rebuild reuses everything (test_manager_contract.py); a change does not."""
    app = App(tmp_path, buildpack, SAMPLES / "uv-fastapi")
    app.build_ok()
    # A dev group asked for: the key changes, the venv is rebuilt with pytest in it.
    grouped = app.build_ok(env={"BP_UV_INSTALL_GROUPS": "dev"})
    assert (
        "Rebuilding the virtual environment: groups, the package manager's variables changed"
    ) in grouped.output
    assert "--group=dev" in grouped.output
    assert app.python("import pytest; print(pytest.__version__)") == "8.4.2\n"
    # A stale lock: pyproject.toml asks for something uv.lock does not have.
    pyproject = app.dir / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('"uvicorn==0.34.3",', '"uvicorn==0.34.3",\n    "six",')
    )
    stale = app.build(env={"BP_UV_INSTALL_GROUPS": "dev"})
    assert not stale.success
    error = stale.output[stale.output.index("[Error: ") :]
    assert error.startswith("[Error: uv.lock is out of date]")
    assert "Run `uv lock`" in error and "Traceback" not in stale.output
    # The failed build left the cache as the last good build made it.
    pyproject.write_text((SAMPLES / "uv-fastapi" / "pyproject.toml").read_text())
    restored = app.build_ok(env={"BP_UV_INSTALL_GROUPS": "dev"})
    assert "Reusing cached virtual environment" in restored.output


def test_package_project_runs_its_one_script_as_web(make_app):
    app = make_app("uv-package")
    result = app.build_ok()
    assert "Assigning launch processes (the project's one script, hello-server)" in result.output
    assert "web (default): hello-server" in result.output
    port = free_port()
    with app.platform.start("web", env={"PORT": str(port)}) as running:
        running.wait_for_port(port)
        assert http_get(f"http://127.0.0.1:{port}/") == "Hello from hello-server with six 1.17.0\n"
        code, took = sigterm(running)  # a console script as PID 1 (docs/pid1.md)
    print(f"console script hello-server (default, uv): exit {code} after {took:.2f} s")
    assert code == 143
    record = app.python(
        "import importlib.metadata as m; d = m.distribution('hello-server'); "
        "print(d.read_text('direct_url.json'), d.read_text('INSTALLER'))"
    )
    assert record == '{"url":"file:///workspace","dir_info":{}} uv\n'


@pytest.mark.parametrize(
    ("files", "title", "says"),
    [
        (
            {"uv.lock": "version = 1\n[[package]\n"},
            "Invalid uv.lock",
            "(at line 2, column 10)",
        ),
        (
            {"uv.lock": 'version = 2\nrevision = 1\nrequires-python = ">=3.11"\n'},
            "uv.lock is newer than this buildpack's uv",
            "unsupported schema version",
        ),
        (
            {"uv.lock": None},
            "uv.lock not found",
            "Run `uv lock`",
        ),
    ],
    ids=["not-toml", "lock-version", "no-lock"],
)
def test_bad_uv_input_is_a_titled_error(make_app, files, title, says):
    app = make_app("uv-package")
    for name, content in files.items():
        if content is None:
            (app.dir / name).unlink()
        else:
            (app.dir / name).write_text(content)
    if "uv.lock" not in files or files["uv.lock"] is None:
        pyproject = app.dir / "pyproject.toml"
        pyproject.write_text(pyproject.read_text() + "\n[tool.uv]\npackage = true\n")
    result = app.build()
    assert not result.success and result.phase == "build"
    error = result.output[result.output.index("[Error: ") :]
    assert error.startswith(f"[Error: {title}]")
    assert says in error and "How to fix:" in error and "Traceback" not in result.output


def test_a_dependency_that_cannot_be_downloaded_is_a_titled_error(make_app):
    app = make_app("uv-package")
    result = app.build(env={"UV_INDEX_URL": "http://127.0.0.1:9/simple"})
    assert not result.success
    error = result.output[result.output.index("[Error: ") :]
    assert error.startswith("[Error: Unable to install dependencies using uv (sync)]")
    assert "127.0.0.1:9" in error and "How to fix:" in error


def test_vendor_dir_installs_offline(make_app):
    app = make_app("uv-package")
    vendor = app.dir / "vendor"
    for requirement in ("six==1.17.0", "hatchling==1.27.0"):
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--isolated",
                "-q",
                "-d",
                str(vendor),
                "--only-binary",
                ":all:",
                requirement,
            ],
            check=True,
        )
    result = app.build_ok(env={"UV_INDEX_URL": "http://127.0.0.1:9/unreachable"})
    assert "--offline --no-index --find-links=/workspace/vendor" in result.output
    assert app.python("import hello_server, six; print(six.__version__)") == "1.17.0\n"
    assert app.python("import importlib.util as u; print(u.find_spec('hatchling'))") == "None\n"


def test_credentials_never_reach_log_layers_or_metadata(make_app):
    secret = "s3cr3t-uv-t0ken"
    index = f"https://builder:{secret}@pypi.org/simple"
    app = make_app("uv-package")
    result = app.build_ok(
        env={"UV_INDEX_URL": index},
        bindings={"uv": {"type": "uv", "uv.toml": f'extra-index-url = ["{index}"]\n'}},
    )
    assert secret not in result.output
    image = result.image
    assert secret not in json.dumps(image.config)
    for record in [*image.layers.values(), image.sbom_layer, image.app_layer]:
        assert secret.encode() not in Path(record.tar).read_bytes()


def test_bp_uv_version_takes_another_release_for_the_arch_from_the_index(make_app):
    app = make_app("uv-package")
    result = app.build_ok(env={"BP_UV_VERSION": "0.13.8"})
    assert "BP_UV_VERSION asks for uv '0.13.8'" in result.output
    assert "Installing uv 0.13.8" in result.output
    assert "manylinux_2_17_x86_64" in result.output or "manylinux_2_17_aarch64" in result.output


def test_workspace_member_serves_and_its_path_sources_are_in_the_key(make_app):
    """integration/fixtures/uv-workspace: a virtual root, the web app as a member with a
    workspace library and a path source outside the workspace, one dependency from an explicit
    named index with credentials set. Editing the path source rebuilds; an unrelated file keeps
    the venv."""
    app = make_app("uv-workspace")
    secrets = {
        "UV_INDEX_PYPI_MIRROR_USERNAME": "deploy-user",
        "UV_INDEX_PYPI_MIRROR_PASSWORD": "s3cret-token",
    }
    first = app.build_ok(env=secrets)
    assert "--package=web" in first.output
    assert "web (default): web" in first.output
    assert "s3cret-token" not in first.output and "deploy-user" not in first.output
    assert app.python(LEAKED_SECRET) == "[]\n"

    assert app.homepage() == "Hello from uv workspace! Built from path sources.\n"
    (app.dir / "NOTES.md").write_text("an unrelated file\n")
    unrelated = app.build_ok(env=secrets)
    assert "Reusing cached virtual environment" in unrelated.output
    motto = app.dir / "libs" / "motto" / "src" / "motto" / "__init__.py"
    motto.write_text(motto.read_text().replace("Built", "Rebuilt"))
    edited = app.build_ok(env=secrets)
    assert "Rebuilding the virtual environment: libs/motto changed" in edited.output
    assert app.homepage() == "Hello from uv workspace! Rebuilt from path sources.\n"


def test_required_version_that_excludes_the_buildpacks_uv(make_app):
    app = make_app("uv-workspace")
    pyproject = app.dir / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('">=0.5"', '">=99"'))
    result = app.build()
    assert not result.success
    error = result.output[result.output.index("[Error: ") :]
    assert error.startswith("[Error: The project requires another uv version]")
    assert "BP_UV_VERSION" in error
