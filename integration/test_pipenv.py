"""Pipenv apps end to end, with real packages from PyPI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SAMPLES, VENV


@pytest.fixture
def flask_app(built_sample):
    """The pipenv-flask sample, built once per session; the contract every manager keeps is in
    test_manager_contract.py."""
    return built_sample("pipenv")


def test_windows_only_and_dev_packages_are_absent(flask_app):
    out = flask_app.python(
        "import importlib.util as u; print([m for m in ('colorama', 'pytest', 'flask') "
        "if u.find_spec(m)])"
    )
    assert out == "['flask']\n"


def test_app_dir_is_left_as_it_was(flask_app):
    assert sorted(p.name for p in flask_app.dir.iterdir()) == sorted(
        p.name for p in (SAMPLES / "pipenv-flask").iterdir()
    )


def test_pipenvs_virtualenv_is_not_in_the_launch_image(flask_app):
    out = flask_app.python("import importlib.util as u; print(u.find_spec('virtualenv'))")
    assert out == "None\n"


PIPFILE = """[[source]]
url = "https://pypi.org/simple"
verify_ssl = true
name = "pypi"

[packages]
six = "==1.16.0"

[requires]
python_version = "3.12"
"""


def test_pipfile_only_app_is_locked_at_build_time_with_a_warning(make_app):
    app = make_app(files={"Pipfile": PIPFILE, "app.py": ""})
    result = app.build_ok()
    assert "[Warning: Pipfile.lock not found: this build is not reproducible]" in result.output
    assert "Running 'pipenv lock'" in result.output
    assert app.python("import six; print(six.__version__)") == "1.16.0\n"
    assert sorted(p.name for p in app.dir.iterdir()) == ["Pipfile", "app.py"]


def test_stale_lock_fails_and_a_source_credential_never_leaks(make_app):
    """A [[source]] URL with ${VAR} credentials from a `pipenv` binding; the lock is stale."""
    secret = "s3cr3t-t0ken-value"
    sample = SAMPLES / "pipenv-flask"
    lock = json.loads((sample / "Pipfile.lock").read_text())
    lock["_meta"]["sources"][0]["url"] = "https://builder:${PYPI_TOKEN}@pypi.org/simple"
    app = make_app(files={"Pipfile.lock": json.dumps(lock), "Pipfile": PIPFILE, "app.py": ""})
    failed = app.build(bindings={"idx": {"type": "pipenv", "PYPI_TOKEN": secret}})
    assert not failed.success
    assert "[Error: Pipfile.lock is out of date]" in failed.output
    # The same lock against its own Pipfile: the credential is used, and shows nowhere.
    app.write({"Pipfile": (sample / "Pipfile").read_text()})
    result = app.build_ok(bindings={"idx": {"type": "pipenv", "PYPI_TOKEN": secret}})
    assert "Running 'pip install --require-hashes" in result.output
    assert secret not in result.output
    image = result.image
    assert secret not in json.dumps(image.config)
    for record in [*image.layers.values(), image.sbom_layer, image.app_layer]:
        assert secret.encode() not in Path(record.tar).read_bytes()


def test_vendor_dir_installs_offline_with_another_pipenv(make_app):
    app = make_app("pipenv-six", files={"app.py": ""})
    download = [sys.executable, "-m", "pip", "download", "--isolated", "--no-deps", "-q"]
    subprocess.run([*download, "-d", str(app.dir / "vendor"), "six==1.16.0"], check=True)
    result = app.build_ok(env={"BP_PIPENV_VERSION": "2025.0.3"})
    assert "Installing pipenv 2025.0.3" in result.output
    assert "BP_PIPENV_VERSION=2025.0.3: pipenv and its dependencies are not hash-pinned" in (
        result.output
    )
    assert "--no-index --find-links=/workspace/vendor" in result.output
    assert app.python("import six; print(six.__version__)") == "1.16.0\n"


def test_a_hash_the_index_does_not_serve_fails_and_nothing_is_reused(make_app):
    app = make_app("pipenv-six", files={"app.py": ""})
    good = (app.dir / "Pipfile.lock").read_text()
    lock = json.loads(good)
    lock["default"]["six"]["hashes"] = ["sha256:" + "0" * 64]
    app.write({"Pipfile.lock": json.dumps(lock)})
    failed = app.build()
    assert not failed.success
    assert "[Error: A package does not match the hashes in Pipfile.lock]" in failed.output
    app.write({"Pipfile.lock": good})
    retry = app.build_ok()
    assert "Installing dependencies with Pipenv" in retry.output
    assert "Reusing cached virtual environment" not in retry.output


def test_the_apps_own_project_from_a_path_entry_is_installed_non_editable(make_app):
    app = make_app("pipenv-project")
    result = app.build_ok()
    assert "Running 'pip install --no-input" in result.output
    assert " --no-deps --no-build-isolation .'" in result.output
    out = app.python("import hello, six; hello.main(); print(hello.__file__)")
    assert out == f"hello with six 1.16.0\n{VENV}/lib/python3.12/site-packages/hello/__init__.py\n"
    assert sorted(p.name for p in app.dir.iterdir()) == [
        "Pipfile",
        "Pipfile.lock",
        "pyproject.toml",
        "src",
    ]
    assert [p.name for p in (app.dir / "src").iterdir()] == ["hello"]
