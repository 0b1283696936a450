"""pip apps end to end, with real packages from PyPI."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BP_ID, SAMPLES, VENV, free_port, http_get


def test_django_sample_answers_http(make_app):
    """pip-flask keeps the contract (test_manager_contract.py); the Django sample is served too."""
    app = make_app(SAMPLES / "pip-django")
    result = app.build_ok()
    assert "Installing dependencies with pip (requirements.txt)" in result.output
    assert set(result.image.layers) == {f"{BP_ID}:cpython", f"{BP_ID}:venv"}  # pip: build only
    port = free_port()
    with app.platform.start("web", env={"PORT": str(port)}) as running:
        running.wait_for_port(port)
        assert http_get(f"http://127.0.0.1:{port}/").startswith("Hello from Django 6.1")


@pytest.fixture
def flask_app(built_sample):
    """The pip-flask sample, built once per session."""
    return built_sample("pip")


def test_setuptools_and_wheel_are_not_in_the_launch_environment(flask_app):
    # pip itself is checked for every manager in test_manager_contract.py; the run image base
    # has none.
    out = flask_app.python(
        "import glob, importlib.util, os; "
        "print([m for m in ('setuptools', 'wheel') if importlib.util.find_spec(m)], "
        "[p for d in os.environ['PATH'].split(':') if d.startswith('/layers/') "
        "for p in glob.glob(d + '/easy_install*')])"
    )
    assert out == "[] []\n"


def test_venv_is_first_on_path_and_virtual_env_is_set(flask_app):
    env = json.loads(flask_app.python("import json, os; print(json.dumps(dict(os.environ)))"))
    assert env["VIRTUAL_ENV"] == VENV
    assert env["PATH"].split(":")[:2] == [f"{VENV}/bin", "/layers/cnb-python_python/cpython/bin"]


def test_venv_sbom_lists_exactly_what_is_installed(flask_app):
    import sbom_validation

    installed = json.loads(
        flask_app.python(
            "import importlib.metadata as m, json; "
            "print(json.dumps(sorted((d.metadata['Name'].lower(), d.version) "
            "for d in m.distributions())))"
        )
    )
    files = flask_app.platform.image.sbom_files
    prefix = "cnb-python_python/venv/sbom."
    docs = {
        name[len(prefix) :]: json.loads(data)
        for name, data in files.items()
        if name.startswith(prefix)
    }
    assert set(docs) == {"cdx.json", "spdx.json", "syft.json"}
    assert sbom_validation.all_errors(docs) == {"cdx.json": [], "spdx.json": [], "syft.json": []}
    in_sbom = sorted((c["name"].lower(), c["version"]) for c in docs["cdx.json"]["components"])
    assert in_sbom == [tuple(d) for d in installed]
    assert [
        c["name"].lower()
        for c in json.loads(files["cnb-python_python/cpython/sbom.cdx.json"])["components"]
    ] == ["cpython"]


def test_a_change_rebuilds_the_venv_from_empty(make_app):
    app = make_app(files={"requirements.txt": "six==1.16.0\nidna==3.10\n"})
    app.build_ok()
    app.write({"requirements.txt": "six==1.16.0\n"})
    changed = app.build_ok()
    assert "Rebuilding the virtual environment: requirements.txt changed" in changed.output
    assert app.python("import importlib.util as u; print(u.find_spec('idna'))") == "None\n"
    assert app.python("import six; print(six.__version__)") == "1.16.0\n"


def test_a_rebuild_of_the_same_packages_takes_every_pyc_of_the_old_environment(make_app):
    """The bytes are a compile's: scripts/verify-reproducible --lock-change, run in CI."""
    requirements = "six==1.16.0\nidna==3.10\n"
    app = make_app(files={"requirements.txt": requirements})
    app.build_ok()
    app.write({"requirements.txt": requirements + "\n"})
    changed = app.build_ok(env={"BP_LOG_LEVEL": "DEBUG"})
    assert "Rebuilding the virtual environment: requirements.txt changed" in changed.output
    found = re.search(
        r"compiled (\d+) of (\d+) files for the dependencies \((\d+) taken", changed.output
    )
    assert found and found[1] == found[2] == found[3], changed.output
    assert app.python("import idna, six; print(six.__version__)") == "1.16.0\n"


def test_nested_requirement_files_are_part_of_the_key(make_app):
    app = make_app(files={"requirements.txt": "-r base.txt\n", "base.txt": "six==1.16.0\n"})
    app.build_ok()
    app.write({"base.txt": "six==1.17.0\n"})
    result = app.build_ok()
    assert "Running 'pip install" in result.output
    assert app.python("import six; print(six.__version__)") == "1.17.0\n"


def test_project_is_installed_with_pip_install_dot(make_app):
    app = make_app(
        files={
            "pyproject.toml": '[build-system]\nrequires = ["setuptools>=70"]\n'
            'build-backend = "setuptools.build_meta"\n[project]\nname = "hello-proj"\n'
            'version = "1.0"\ndependencies = ["six==1.16.0"]\n[project.scripts]\n'
            'hello = "hello_proj:main"\n',
            "hello_proj/__init__.py": "def main():\n    print('hello from the project')\n",
            "Procfile": "web: hello\n",
        }
    )
    result = app.build_ok()
    assert "Installing dependencies with pip (the app's own project metadata)" in result.output
    assert app.platform.run(timeout=60).stdout == "hello from the project\n"
    # pip's in-tree build leaves nothing behind in the app dir.
    listing = app.platform.run(command=["sh", "-c", "ls -A /workspace"]).stdout.split()
    assert sorted(listing) == ["Procfile", "hello_proj", "pyproject.toml"]


def test_require_hashes_works(make_app):
    app = make_app(
        files={
            "requirements.txt": "six==1.16.0 --hash=sha256:"
            "8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254\n"
        }
    )
    app.build_ok()
    assert app.python("import six; print(six.__version__)") == "1.16.0\n"


@pytest.mark.parametrize(
    ("files", "env", "pip_says"),
    [
        ({"requirements.txt": "flask=>3\n"}, {}, "Invalid requirement"),
        (
            {"requirements.txt": "no-such-package-cnb-python-test==1.0\n"},
            {},
            "No matching distribution found for no-such-package-cnb-python-test",
        ),
        ({"requirements.txt": "six==1.16.0\nsix==1.17.0\n"}, {}, "conflicting dependencies"),
        (
            {"requirements.txt": "six==1.16.0 --hash=sha256:" + "0" * 64 + "\n"},
            {},
            "THESE PACKAGES DO NOT MATCH THE HASHES",
        ),
        (
            {"requirements.txt": "six==1.16.0\n", "vendor/README": "no wheels here\n"},
            {},
            "No matching distribution found for six==1.16.0",
        ),
    ],
    ids=["syntax", "missing-package", "conflict", "hash-mismatch", "vendor-missing-wheel"],
)
def test_pip_failures_are_titled_with_pips_output(make_app, files, env, pip_says):
    app = make_app(files=files)
    result = app.build(env=env)
    assert not result.success and result.phase == "build"
    error = result.output[result.output.index("[Error: ") :]
    assert error.startswith("[Error: Unable to install dependencies using pip]")
    assert "exited with status 1" in error
    assert pip_says in error  # the tail of pip's output is in the error block
    assert "How to fix:" in error and "Traceback" not in result.output


def test_missing_file_in_bp_pip_requirement(make_app):
    app = make_app(files={"requirements.txt": "six\n"})
    result = app.build(env={"BP_PIP_REQUIREMENT": "requirements.txt requirements-prod.txt"})
    assert "[Error: Requirements file not found]" in result.output
    assert "requirements-prod.txt" in result.output


def test_vendor_dir_installs_offline(make_app, tmp_path):
    app = make_app(files={"requirements.txt": "six==1.16.0\n"})
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--isolated",
            "--no-deps",
            "-q",
            "-d",
            str(app.dir / "vendor"),
            "six==1.16.0",
        ],
        check=True,
    )
    result = app.build_ok(env={"PIP_INDEX_URL": "http://127.0.0.1:9/unreachable"})
    assert "--no-index --find-links=/workspace/vendor" in result.output
    assert app.python("import six; print(six.__version__)") == "1.16.0\n"


@pytest.mark.parametrize(
    ("env", "outcome"),
    [
        ({"PYTHONPATH": "/invalid"}, "builds"),
        ({"PYTHONHOME": "/invalid"}, "builds"),
        ({"VIRTUAL_ENV": "/invalid"}, "builds"),
        ({"PIP_TARGET": "/tmp/elsewhere"}, "Unsafe environment variables found"),
        ({"PIP_USER": "1"}, "Unsafe environment variables found"),
    ],
)
def test_hostile_build_env(make_app, env, outcome):
    app = make_app(files={"requirements.txt": "six==1.16.0\n", "app.py": "import six\n"})
    result = app.build(env=env)
    if outcome == "builds":
        assert result.success, result.output
        assert "[Warning: Ignoring variables that would redirect Python]" in result.output
        assert app.python("import six, sys; print(six.__file__.startswith(sys.prefix))") == (
            "True\n"
        )
    else:
        assert not result.success
        assert f"[Error: {outcome}]" in result.output


def test_bp_pip_version_takes_another_release_from_the_index(make_app):
    app = make_app(files={"requirements.txt": "six==1.16.0\n"})
    result = app.build_ok(env={"BP_PIP_VERSION": "25.3"})
    assert "Installing pip 25.3" in result.output


def test_credentials_never_reach_log_layers_or_metadata(make_app, tmp_path):
    """A private index with a password in its URL, through the env and a pip binding."""
    secret = "s3cr3t-t0ken-value"
    index = f"https://builder:{secret}@pypi.org/simple"
    app = make_app(files={"requirements.txt": "six==1.16.0\n"})
    result = app.build_ok(
        env={"PIP_INDEX_URL": index},
        bindings={"pip": {"type": "pip", "pip.conf": f"[global]\nextra-index-url = {index}\n"}},
    )
    assert secret not in result.output
    image = result.image
    assert secret not in json.dumps(image.config)
    for record in [*image.layers.values(), image.sbom_layer, image.app_layer]:
        assert secret.encode() not in Path(record.tar).read_bytes()
