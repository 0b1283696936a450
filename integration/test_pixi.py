"""pixi apps end to end: pixi.lock files written with py-rattler (pixi is not on PyPI) against
the session's local conda channel; the lock's PyPI packages come from PyPI. The contract every
manager keeps is in test_manager_contract.py."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from conftest import (
    FIXTURES,
    HELLO_PROJECT,
    HELLO_PY,
    PIXI_FLASK,
    assert_reproducible,
    conda_env_state,
    pixi_flask_app,
    venv_sbom_purls,
)
from testsupport.condachannel import Channel
from testsupport.pixilock import (
    GUNICORN,
    PACKAGING,
    LockedEnvironment,
    PypiPackage,
    write_pixi_lock,
)

ENV = "/layers/cnb-python_python/venv"


@pytest.fixture
def built(built_sample):
    return built_sample("pixi")


def test_env_has_no_history_and_no_trace_of_the_build(built):
    found = conda_env_state(built, "cnb-python-pixi")
    assert found == {"prefix": ENV, "conda_prefix": ENV, "history": False, "traces": []}


def test_sbom_lists_the_locked_conda_and_pypi_packages(built):
    purls = venv_sbom_purls(built)
    assert purls == [
        "pkg:conda/blinker@1.9.0",
        "pkg:conda/click@8.1.8",
        "pkg:conda/flask@3.1.2",
        "pkg:conda/itsdangerous@2.2.0",
        "pkg:conda/jinja2@3.1.6",
        "pkg:conda/libgreet@1.0.0",
        "pkg:conda/markupsafe@3.0.2",
        "pkg:conda/python@3.12.1",
        "pkg:conda/werkzeug@3.1.3",
        "pkg:pypi/gunicorn@23.0.0",
        "pkg:pypi/packaging@25.0",  # locked too: pip installs with --no-deps
    ]


def test_another_environment_rebuilds_from_empty_and_a_stale_lock_fails(
    tmp_path, buildpack, channel_url
):
    """BP_PIXI_ENVIRONMENT is an install input; a manifest changed after the lock is an error
    before anything is installed, and the previous env is reused once the lock is right."""
    app = pixi_flask_app(tmp_path, buildpack, channel_url)
    app.build_ok()
    other = app.build_ok(env={"BP_PIXI_ENVIRONMENT": "test"})
    assert "Package manager: pixi (pixi.lock, environment test, installed with py-rattler)" in (
        other.output
    )
    assert "Reusing cached virtual environment" not in other.output
    manifest = app.dir / "pixi.toml"
    good = manifest.read_text()
    manifest.write_text(good.replace('flask = ">=3.1,<4"', 'flask = ">=4"'))
    stale = app.build(env={"BP_PIXI_ENVIRONMENT": "test"})
    assert not stale.success
    error = stale.output[stale.output.index("[Error: ") :]
    assert error.startswith("[Error: pixi.lock is out of date]"), error
    assert "pixi.toml [dependencies]: flask >=4" in error and "Traceback" not in stale.output
    manifest.write_text(good)
    again = app.build_ok(env={"BP_PIXI_ENVIRONMENT": "test"})
    assert "Reusing cached virtual environment" in again.output


def test_conda_lock_yml_is_read_by_the_same_code(make_app, conda_channel, channel_url):
    """conda-lock's own format (version 1), which py-rattler's lock reader also parses."""
    packages = []
    for name, version, subdir in (("python", "3.12.1", "linux-64"), ("click", "8.1.8", "noarch")):
        path = conda_channel.package(name)
        packages.append(
            f"- name: {name}\n  version: {version}\n  manager: conda\n  platform: linux-64\n"
            f"  dependencies: {{}}\n  url: {channel_url}/{subdir}/{path.name}\n"
            f"  hash:\n    sha256: {hashlib.sha256(path.read_bytes()).hexdigest()}\n"
            f"  category: main\n  optional: false\n"
        )
    lock = (
        "version: 1\nmetadata:\n  content_hash:\n    linux-64: x\n  channels:\n"
        f"  - url: {channel_url}\n    used_env_vars: []\n  platforms:\n  - linux-64\n"
        "  sources:\n  - environment.yml\npackage:\n" + "".join(packages)
    )
    app = make_app(files={"conda-lock.yml": lock, "environment.yml": "dependencies: [click]\n"})
    result = app.build_ok()
    assert "Package manager: pixi (conda-lock.yml, environment default" in result.output
    assert "environment.yml (conda)" in result.output  # named in the warning: it lost
    assert app.python("import click; print(click.__version__)") == "8.1.8\n"


def test_verify_reproducible_on_a_pixi_app(conda_channel, buildpack, tmp_path):
    """scripts/verify-reproducible --warm (as CI runs it on the samples) on the Flask app, its
    lock pointing at a channel inside the app (file:///workspace/channel): no channel server."""
    app = tmp_path / "app"
    shutil.copytree(FIXTURES / "pixi-flask", app)
    with_channel_inside(app, app / "pixi.toml", conda_channel, PIXI_FLASK)
    assert_reproducible(app, buildpack, "--warm")


def with_channel_inside(
    app: Path, manifest: Path, channel: Channel, environments: dict[str, LockedEnvironment]
) -> None:
    """The test channel copied into the app, and the manifest and a pixi.lock of
    `environments` pointing at it (file:///workspace/channel): no channel server."""
    shutil.copytree(channel.path, app / "channel")
    manifest.write_text(manifest.read_text().replace("CHANNEL", "file:///workspace/channel"))
    lock = app / "pixi.lock"
    write_pixi_lock(lock, (app / "channel").as_uri(), environments)
    lock.write_text(lock.read_text().replace(str(app / "channel"), "/workspace/channel"))


_PYPROJECT = (
    HELLO_PROJECT
    + """
[tool.pixi.workspace]
channels = ["CHANNEL"]
platforms = ["linux-64"]

[tool.pixi.dependencies]
python = "3.12.*"
click = "*"

[tool.pixi.pypi-dependencies]
hello = { path = ".", editable = true }
"""
)
_HELLO_LOCK = {
    "default": LockedEnvironment(
        ("python 3.12.*", "click"), (GUNICORN, PACKAGING, PypiPackage("hello", "0.1.0", ".", ""))
    )
}


def test_pyproject_app_with_its_own_project(make_app, channel_url, tmp_path):
    """[tool.pixi] in pyproject.toml, the project itself locked as a path (as `pixi init
    --format pyproject` writes it): installed non-editable after the hashed PyPI packages, its
    script on PATH."""
    app = make_app(
        files={"pyproject.toml": _PYPROJECT.replace("CHANNEL", channel_url), "hello.py": HELLO_PY}
    )
    write_pixi_lock(app.dir / "pixi.lock", channel_url, _HELLO_LOCK)
    result = app.build_ok()
    assert "Installing the app's own projects (.)" in result.output
    proc = app.platform.run(command=["hello"], timeout=120)
    assert proc.stdout == "hello from the project\n", proc.stderr[-2000:]
    assert app.python("import gunicorn, click; print(gunicorn.__version__)") == "23.0.0\n"
    # A code change reinstalls the project alone: no py-rattler, no pip run of the lock.
    (app.dir / "hello.py").write_text("def main():\n    print('changed')\n")
    changed = app.build_ok().output
    assert "Reinstalling the app's own projects: their files changed" in changed
    assert "Installing dependencies with" not in changed
    proc = app.platform.run(command=["hello"], timeout=120)
    assert proc.stdout == "changed\n", proc.stderr[-2000:]


def test_a_code_change_to_a_pixi_project_gives_a_cold_builds_bytes(
    conda_channel, buildpack, tmp_path
):
    """scripts/verify-reproducible --code-change (as CI runs it on the package samples) on the
    pyproject app above, its lock pointing at a channel inside the app."""
    app = tmp_path / "app"
    app.mkdir()
    (app / "pyproject.toml").write_text(_PYPROJECT)
    (app / "hello.py").write_text(HELLO_PY)
    with_channel_inside(app, app / "pyproject.toml", conda_channel, _HELLO_LOCK)
    assert_reproducible(app, buildpack, "--code-change", "hello.py")
