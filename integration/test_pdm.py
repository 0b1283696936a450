"""PDM apps end to end, with the pinned PDM and real packages from PyPI; the contract every
manager keeps is in test_manager_contract.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomli_w
from conftest import SAMPLES, App
from test_poetry import installed
from testsupport.toolset import pinned_set_venv

from cnb_python.cnb.toml import loads_toml
from cnb_python.managers.pdm import pdm_manager, pdm_settings
from cnb_python.managers.pdm_export import content_hash as pdm_content_hash

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
    # The lock passes PDM's check, so the build exports it itself (pdm_export.py).
    assert "pdm.lock is up to date: its content_hash is pyproject.toml's" in result.output
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


# Against the real thing: the pinned PDM's `pdm lock --check` and `pdm export` on projects
# whose locks are written here, with the content_hash the build computes.
MODERN_PYPROJECT = """\
[project]
name = "modern"
version = "0.1.0"
description = "ünïcødé"
requires-python = ">=3.10"
dependencies = ["flask>=3", "uvicorn[standard]", "colorama ; sys_platform == 'win32'"]

[project.optional-dependencies]
Speed_Ups = ["ujson"]

[dependency-groups]
Lint = ["ruff"]
test = ["pytest"]

[tool.pdm.dev-dependencies]
Test = ["coverage"]

[tool.pdm.resolution]
allow-prereleases = false

[tool.pdm.scripts]
serve = "flask run"
"""
# name -> (groups, marker, extras)
MODERN_LOCKED = {
    "flask": (["default"], "", []),
    "uvicorn": (["default"], "", []),
    "uvicorn-extra": (["default"], "", ["standard"]),
    "colorama": (["default", "test"], 'sys_platform == "win32"', []),
    "ujson": (["speed-ups"], 'platform_python_implementation == "CPython"', []),
    "ruff": (["lint"], "", []),
    "pytest": (["test"], "", []),
    "coverage": (["test"], 'python_version < "3.13"', []),
    "tomli": (["lint", "test"], 'python_full_version <= "3.11.0a6"', []),
    "grouped-nowhere": ([], "", []),
}
PDM_EXPORTS = {
    "pdm-flask": [(), ("dev",)],
    "modern": [(), ("speed-ups",), ("lint",), ("Lint", "test")],
}


def _pdm_lock(pyproject: str) -> str:
    packages = []
    names = sorted({key.removesuffix("-extra") for key in MODERN_LOCKED})
    for number, (key, (groups, marker, extras)) in enumerate(sorted(MODERN_LOCKED.items())):
        package: dict[str, object] = {
            "name": key.removesuffix("-extra"),
            "version": f"1.{names.index(key.removesuffix('-extra'))}",
            "requires_python": ">=3.8",
            "summary": "",
            "groups": groups,
            "files": [
                {"file": f"{key}-1.{number}-py3-none-any.whl", "hash": f"sha256:{number:064x}"},
                {"file": f"{key}-1.{number}.tar.gz", "hash": f"sha256:{number + 100:064x}"},
            ],
        }
        if marker:
            package["marker"] = marker
        if extras:
            package["extras"] = extras
        packages.append(package)
    metadata = {
        "groups": ["default", "lint", "speed-ups", "test"],
        "strategy": ["inherit_metadata"],
        "lock_version": "4.5.0",
        "content_hash": pdm_content_hash(loads_toml(pyproject)),
        "targets": [{"requires_python": ">=3.10"}],
    }
    return tomli_w.dumps({"metadata": metadata, "package": packages})


@pytest.fixture(scope="module")
def pinned_pdm(tmp_path_factory) -> Path:
    return pinned_set_venv("pdm", tmp_path_factory.mktemp("pdm") / "venv")


def _pdm(venv: Path, project: Path, arguments: list[str], tmp: Path) -> subprocess.CompletedProcess:
    env = pdm_settings({"PATH": os.environ["PATH"]}, Path(sys.executable).parents[1], tmp)
    command = [str(venv / "bin/pdm"), *arguments]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)


def test_the_build_checks_and_exports_locks_as_the_pinned_pdm_does(pinned_pdm, tmp_path):
    """PDM passes the lock the build found fresh, and fails it once pyproject.toml changes;
    the exports list the same packages, versions, hashes and markers."""
    projects = {"pdm-flask": tmp_path / "pdm-flask", "modern": tmp_path / "modern"}
    shutil.copytree(SAMPLES / "pdm-flask", projects["pdm-flask"])
    projects["modern"].mkdir()
    (projects["modern"] / "pyproject.toml").write_text(MODERN_PYPROJECT, encoding="utf-8")
    (projects["modern"] / "pdm.lock").write_text(_pdm_lock(MODERN_PYPROJECT))
    for number, (name, groups) in enumerate(
        (name, groups) for name, selections in PDM_EXPORTS.items() for groups in selections
    ):
        project = projects[name]
        check = _pdm(pinned_pdm, project, ["lock", "--check"], tmp_path / f"c{number}")
        assert check.returncode == 0, check.stderr[-3000:]
        manager = pdm_manager(project, {"BP_PDM_INSTALL_GROUPS": ",".join(groups)}, [], None)
        assert manager.exported is not None, (name, groups)
        output = tmp_path / f"export{number}.txt"
        exported = _pdm(
            pinned_pdm,
            project,
            ["export", *manager.export_options(), f"--output={output}"],
            tmp_path / f"e{number}",
        )
        assert exported.returncode == 0, exported.stderr[-3000:]
        theirs = [line for line in output.read_text().splitlines() if not line.startswith("#")]
        assert manager.exported.splitlines() == [line for line in theirs if line], (name, groups)

    pyproject = projects["modern"] / "pyproject.toml"
    pyproject.write_text(MODERN_PYPROJECT.replace('test = ["pytest"]', 'test = ["pytest>=8"]'))
    assert pdm_manager(projects["modern"], {}, [], None).exported is None
    stale = _pdm(pinned_pdm, projects["modern"], ["lock", "--check"], tmp_path / "stale")
    assert stale.returncode == 1
