"""Poetry apps end to end, with real packages from PyPI."""

from __future__ import annotations

import json
import tarfile

import pytest
from conftest import BP_ID, LEAKED_SECRET, App, free_port, http_get

# Paths a launch-layer file must not point at: build-only layers, temp dirs, home dirs.
BUILD_ONLY_PATHS = (
    b"/tmp/",
    b"/layers/cnb-python_python/pip",
    b"/layers/cnb-python_python/poetry",
    b"/root/",
    b"/home/",
)


def build_paths_in_venv(app: App) -> list[str]:
    """Files of the venv layer, but for package code (.py, .pyc, .so: a package's own strings
    may name /tmp), that hold a build-only path: scripts, metadata, .pth, pyvenv.cfg."""
    image = app.platform.image
    assert image is not None
    found = []
    with tarfile.open(image.layers[f"{BP_ID}:venv"].tar) as tar:
        for member in tar:
            if not member.isfile() or member.name.endswith((".py", ".pyc", ".so")):
                continue
            data = tar.extractfile(member).read()  # type: ignore[union-attr]
            found += [f"{member.name}: {p.decode()}" for p in BUILD_ONLY_PATHS if p in data]
    return found


def installed(app: App) -> list[str]:
    return json.loads(
        app.python(
            "import importlib.metadata as m, json; "
            "print(json.dumps(sorted(d.metadata['Name'].lower() for d in m.distributions())))"
        )
    )


@pytest.fixture
def flask_app(built_sample):
    """The poetry-flask sample (non-package mode, Procfile), built once per session; the
    contract every manager keeps is in test_manager_contract.py."""
    return built_sample("poetry")


def test_only_the_main_group_for_this_platform_is_installed(flask_app):
    assert installed(flask_app) == [
        "blinker",
        "click",
        "flask",
        "gunicorn",
        "itsdangerous",
        "jinja2",
        "markupsafe",
        "packaging",
        "werkzeug",
    ]


def test_no_launch_file_points_at_a_build_only_path(flask_app):
    assert build_paths_in_venv(flask_app) == []


def test_package_mode_installs_the_project_and_its_script_is_the_web_process(make_app):
    """Poetry 1.x layout, no Procfile, an optional group selected, a Windows-only dependency;
    then a pyproject.toml change without `poetry lock`, a wrong hash in the lock and a lock
    format newer than the pinned Poetry fail with their titled errors."""
    app = make_app("poetry-package")
    result = app.build_ok(env={"BP_POETRY_INSTALL_ONLY": "main,web"})
    assert "Poetry (poetry.lock, groups main, web)" in result.output
    assert "Running 'pip install --no-input" in result.output
    assert " --no-deps --no-build-isolation .'" in result.output
    assert "web (default): hello-poetry" in result.output
    assert installed(app) == ["hello-poetry", "idna", "six"]  # pywin32 is Windows-only
    assert build_paths_in_venv(app) == []
    port = free_port()
    with app.platform.start("web", env={"PORT": str(port)}) as running:
        running.wait_for_port(port)
        assert http_get(f"http://127.0.0.1:{port}/") == (
            "Hello from hello-poetry (package mode) with six 1.17.0\n"
        )

    pyproject = (app.dir / "pyproject.toml").read_text()
    app.write({"pyproject.toml": pyproject.replace('six = "1.17.0"', 'six = "1.16.0"')})
    stale = app.build(env={"BP_POETRY_INSTALL_ONLY": "main,web"})
    assert not stale.success
    assert "[Error: poetry.lock is out of date]" in stale.output

    # A lock whose hashes for six are not the files PyPI serves: pip refuses to install it.
    lock = (app.dir / "poetry.lock").read_text()
    wheel, sdist = "4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274", "ff70335d"
    assert wheel in lock and sdist in lock
    app.write(
        {
            "pyproject.toml": pyproject,
            "poetry.lock": lock.replace(wheel, "0" * 64).replace(sdist, "00000000"),
        }
    )
    tampered = app.build()
    assert not tampered.success
    assert "[Error: A locked package does not match its hash]" in tampered.output

    app.write({"poetry.lock": lock.replace('lock-version = "2.1"', 'lock-version = "3.0"')})
    newer = app.build()
    assert not newer.success
    assert "[Error: poetry.lock is newer than this buildpack's Poetry]" in newer.output


def test_poetry2_corpus_app_with_a_path_dependency_and_named_sources(make_app):
    """integration/fixtures/poetry-corpus: Poetry 2 [project] metadata, a dev group left out,
    `explicit` and `supplemental` sources, `requires-poetry`, and a path dependency installed
    non-editable and keyed on its files: editing it rebuilds, an unrelated file does not."""
    app = make_app("poetry-corpus")
    secrets = {
        "POETRY_HTTP_BASIC_PYPI_EXPLICIT_USERNAME": "deploy-user",
        "POETRY_HTTP_BASIC_PYPI_EXPLICIT_PASSWORD": "s3cret-token",
    }
    first = app.build_ok(env=secrets)
    # The password never shows; the user name does, as log.redact_urls shows every URL's.
    assert "s3cret-token" not in first.output
    assert app.python(LEAKED_SECRET) == "[]\n"

    assert app.homepage() == "Hello from Poetry with itsdangerous! Built from a path dependency.\n"
    installed = app.python(
        "import importlib.metadata as m, importlib.util as u\n"
        "print(m.distribution('motto').read_text('direct_url.json'), u.find_spec('pytest'))"
    )
    assert installed == '{"dir_info": {}, "url": "file:///workspace/libs/motto"} None\n'
    (app.dir / "NOTES.md").write_text("an unrelated file\n")
    assert "Reusing cached virtual environment" in app.build_ok(env=secrets).output
    motto = app.dir / "libs" / "motto" / "motto" / "__init__.py"
    motto.write_text(motto.read_text().replace("Built", "Rebuilt"))
    edited = app.build_ok(env=secrets)
    assert "Reinstalling the app's own projects: their files changed" in edited.output
    assert (
        app.homepage() == "Hello from Poetry with itsdangerous! Rebuilt from a path dependency.\n"
    )


def test_requires_poetry_that_excludes_the_buildpacks_poetry(make_app):
    app = make_app("poetry-corpus")
    pyproject = app.dir / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('">=2.0"', '">=99"'))
    result = app.build()
    assert not result.success
    error = result.output[result.output.index("[Error: ") :]
    assert error.startswith("[Error: The project requires another Poetry version]")
    assert "BP_POETRY_VERSION" in error
