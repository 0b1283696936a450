"""PDM apps end to end, with the pinned PDM and real packages from PyPI; the contract every
manager keeps is in test_manager_contract.py."""

from __future__ import annotations

import json

from conftest import SAMPLES, App
from test_poetry import installed

MAIN = [
    "blinker",
    "click",
    "flask",
    "gunicorn",
    "itsdangerous",
    "jinja2",
    "markupsafe",
    "packaging",
    "pdm-flask",
    "werkzeug",
]


def test_the_main_dependencies_and_the_project_non_editable_are_installed(built_sample):
    """No dev group, no Windows-only package; the project itself from a built wheel, whose one
    console script is the web process; PDM left nothing in the app dir."""
    app = built_sample("pdm")
    assert installed(app) == MAIN
    assert "web (default): pdm-flask" in app.first.output
    # PDM runs with the venv's interpreter, and makes no environment of its own.
    assert "creating a virtualenv" not in app.first.output
    direct_url = json.loads(
        app.python(
            "import importlib.metadata as m; print(m.distribution('pdm-flask').read_text("
            "'direct_url.json'))"
        )
    )
    assert direct_url == {"dir_info": {}, "url": "file:///workspace"}
    assert sorted(p.name for p in app.dir.iterdir()) == sorted(
        p.name for p in (SAMPLES / "pdm-flask").iterdir()
    )


def test_groups_and_bad_locks_with_the_real_pdm(tmp_path, buildpack):
    """A dependency group; then the texts the real PDM and pip print for a pyproject.toml
    changed without `pdm lock`, a lock_version newer than the pinned PDM's, and a locked
    release the index does not have select their titled errors."""
    app = App(tmp_path / "app", buildpack, SAMPLES / "pdm-flask")
    result = app.build_ok(env={"BP_PDM_INSTALL_GROUPS": "dev"})
    assert "PDM (pdm.lock, groups dev)" in result.output
    assert "Running 'pdm export --format=requirements --expandvars --group=dev'" in result.output
    assert {"pytest", "pluggy", "iniconfig"} <= set(installed(app))

    pyproject = (app.dir / "pyproject.toml").read_text()
    lock = (app.dir / "pdm.lock").read_text()
    app.write({"pyproject.toml": pyproject.replace('"gunicorn==23.0.0",', '"gunicorn==22.0.0",')})
    stale = app.build()
    assert not stale.success
    assert "[Error: pdm.lock is out of date]" in stale.output
    assert "Lockfile hash doesn't match pyproject.toml" in stale.output

    app.write(
        {
            "pyproject.toml": pyproject,
            "pdm.lock": lock.replace('lock_version = "4.5.0"', 'lock_version = "4.6.0"'),
        }
    )
    newer = app.build()
    assert not newer.success
    assert "[Error: pdm.lock is not a lock this buildpack's PDM reads]" in newer.output

    assert lock.count('version = "1.9.0"') == 1  # blinker's
    app.write({"pdm.lock": lock.replace('version = "1.9.0"', 'version = "1.9.99"')})
    missing = app.build()
    assert not missing.success
    assert "[Error: A locked package is not on the index]" in missing.output
    assert "No matching distribution found for blinker==1.9.99" in missing.output
