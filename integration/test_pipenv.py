"""Pipenv apps end to end, with real packages from PyPI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SAMPLES, VENV

from cnb_python.managers.pipfile_hash import pipfile_hash
from cnb_python.tools import pinned_set_version

REPO = Path(__file__).resolve().parents[1]


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


# Pipfiles whose hash the build computes as Pipenv does (cnb_python/managers/pipfile_hash.py).
HASHED_PIPFILES = {
    "no source": '[packages]\nflask = "*"\n',
    "everything": """\
# leading comment
[[source]]
name = "private"
url = "https://${USER}:${TOKEN}@pypi.example.com/simple"
verify_ssl = false

[[source]]
url = "https://pypi.org/simple"
name = "pypi"
verify_ssl = true

[packages]
"zope.interface" = {version = ">=6", index = "private"}
requests = {extras = ["socks", "security"], version = "~=2.31"}
pywin32 = {version = "*", markers = "sys_platform == 'win32'", os_name = "== 'nt'"}
hello = {path = "./src/hello", editable = true}
django.version = "<5"
unicode = "==1.0"  # ünïcødé comment

[dev-packages]
pytest = ">=8"

[docs]
sphinx = "*"

[requires]
python_version = "3.12"
python_full_version = "3.12.1"

[scripts]
serve = "gunicorn app:app"

[pipenv]
allow_prereleases = true
""",
    "description with unicode": '[packages]\nsix = {version = "*", index = "pypi"}\n'
    '\n["custom-ü"]\nx = "==1"\n',
}


def test_the_build_hashes_pipfiles_as_the_pinned_pipenv_does(tmp_path):
    """Against the real thing: the pinned Pipenv's own hash (its vendored plette)."""
    pinned = pinned_set_version("pipenv", REPO)
    target = tmp_path / "pipenv"
    install = [sys.executable, "-m", "pip", "install", "--isolated", "-q", "--no-deps"]
    subprocess.run([*install, "--target", str(target), f"pipenv=={pinned}"], check=True)
    paths = []
    for number, text in enumerate(HASHED_PIPFILES.values()):
        paths.append(tmp_path / f"Pipfile{number}")
        paths[-1].write_text(text, encoding="utf-8")
    theirs = subprocess.run(
        [sys.executable, "-c", PLETTE_HASHES, *map(str, paths)],
        env={"PYTHONPATH": str(target), "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
    )
    assert theirs.returncode == 0, theirs.stderr[-3000:]
    ours = [pipfile_hash(path.read_text(encoding="utf-8")) for path in paths]
    assert ours == theirs.stdout.split()


PLETTE_HASHES = """
import sys
from pipenv.vendor import plette
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        print(plette.Pipfile.load(f).get_hash().value)
"""
