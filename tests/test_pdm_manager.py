"""PDM: what selects it, what it runs, and what its reuse key covers."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnb_python.errors import UserError
from cnb_python.managers import found_signals, select_manager
from cnb_python.managers.pdm import CONTROLLED, MANAGER, PdmManager, pdm_settings
from cnb_python.tools import _unpinned
from cnb_python.venv import install_inputs

PYPROJECT = """\
[project]
name = "app"
version = "1"
requires-python = ">=3.9"
dependencies = ["flask==3.1.3"]
[project.optional-dependencies]
Web = ["gunicorn==23.0.0"]
[project.scripts]
serve = "app:main"
[dependency-groups]
dev = ["pytest==8.4.2"]
[tool.pdm.dev-dependencies]
lint = ["ruff"]
"""
BUILD_SYSTEM = '[build-system]\nrequires = ["pdm-backend"]\nbuild-backend = "pdm.backend"\n'
LOCK = '[metadata]\ngroups = ["default", "dev", "lint", "web"]\nlock_version = "4.5.0"\n'


def pdm(
    app: Path, pyproject: str = PYPROJECT, env: dict[str, str] | None = None, **files: str
) -> PdmManager:
    for name, content in {"pyproject.toml": pyproject, "pdm.lock": LOCK, **files}.items():
        (app / name).write_text(content)
    manager = select_manager(app, env or {}, []).installer
    assert isinstance(manager, PdmManager)
    return manager


def test_pdm_lock_comes_after_poetry_lock_and_before_pipfile_lock(tmp_path):
    for name in ("pyproject.toml", "pdm.lock", "Pipfile.lock", "requirements.txt"):
        (tmp_path / name).write_text("")
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "pdm.lock").write_text(LOCK)
    (tmp_path / "Pipfile.lock").write_text('{"_meta": {}, "default": {}}')
    choice = select_manager(tmp_path, {}, [])
    assert choice.manager is not None and choice.manager.name == "pdm"
    assert [f.signal.what for f in choice.ignored] == ["Pipfile.lock", "requirements.txt"]
    (tmp_path / "poetry.lock").write_text("")
    assert [f.signal.what for f in found_signals(tmp_path, {})][:2] == ["poetry.lock", "pdm.lock"]


@pytest.mark.parametrize(
    ("tool_pdm", "manager"),
    [
        ("[tool.pdm]\ndistribution = false\n", "pdm"),  # PDM's settings: run `pdm lock`
        ("[tool.pdm.build]\nincludes = ['app']\n", "pip"),  # pdm-backend's, used without PDM
        ("[tool.pdm.version]\nsource = 'scm'\n", "pip"),
    ],
)
def test_tool_pdm_without_a_lock_selects_pdm_only_for_pdms_own_settings(
    tmp_path, tool_pdm, manager
):
    project = PYPROJECT[: PYPROJECT.index("[tool.pdm.dev-dependencies]")]
    (tmp_path / "pyproject.toml").write_text(project + tool_pdm + BUILD_SYSTEM)
    if manager == "pdm":
        with pytest.raises(UserError, match=r"pdm\.lock not found"):
            select_manager(tmp_path, {}, [])
    else:
        chosen = select_manager(tmp_path, {}, []).manager
        assert chosen is not None and chosen.name == manager


@pytest.mark.parametrize(
    ("groups", "options"),
    [
        ("", ["--prod"]),  # the main dependencies: none of PDM's default dev groups
        ("web", ["--prod", "--group=web"]),  # an optional-dependency group only
        ("dev, Web", ["--group=dev", "--group=Web"]),  # PDM then takes only the named dev groups
        ("LINT", ["--group=LINT"]),  # [tool.pdm.dev-dependencies] too; names are canonical
    ],
)
def test_the_groups_pick_the_export(tmp_path, groups, options):
    manager = pdm(tmp_path, env={"BP_PDM_INSTALL_GROUPS": groups})
    assert manager.export_options() == ["--format=requirements", "--expandvars", *options]


def test_describe_names_the_lock_and_the_selection(tmp_path):
    assert pdm(tmp_path).describe() == "PDM (pdm.lock, default group)"
    manager = pdm(tmp_path, env={"BP_PDM_INSTALL_GROUPS": "dev,web"})
    assert manager.describe() == "PDM (pdm.lock, groups dev, web)"


@pytest.mark.parametrize(
    ("extra", "package"),
    [
        ("", False),  # no [build-system]: an app, not a distribution
        (BUILD_SYSTEM, True),
        (BUILD_SYSTEM + "[tool.pdm]\ndistribution = false\n", False),
    ],
)
def test_a_distribution_installs_the_project_and_its_files_are_in_the_key(tmp_path, extra, package):
    manager = pdm(tmp_path, PYPROJECT + extra)
    assert manager.package is package
    assert manager.project_scripts() == (("serve",) if package else ())
    inputs = manager.inputs()
    assert set(inputs) == {"file:pyproject.toml", "file:pdm.lock", "groups"}
    assert manager.projects() == ((".",) if package else ())


def test_the_key_covers_the_lock_the_project_config_the_groups_and_pdm_settings(tmp_path):
    manager = pdm(tmp_path, PYPROJECT + BUILD_SYSTEM, **{"pdm.toml": "[pypi]\nverify_ssl = true\n"})
    assert "file:pdm.toml" in manager.inputs()
    base = install_inputs_of(manager, {})
    (tmp_path / "pdm.lock").write_text(LOCK + "# changed\n")
    assert install_inputs_of(manager, {}) != base
    (tmp_path / "pdm.lock").write_text(LOCK)
    assert install_inputs_of(manager, {}) == base
    assert install_inputs_of(manager, {"PDM_PYPI_URL": "https://mirror.example/simple"}) != base
    (tmp_path / "pdm.toml").write_text("[pypi]\nurl = 'https://mirror.example/simple'\n")
    assert install_inputs_of(manager, {}) != base


def install_inputs_of(manager: PdmManager, env: dict[str, str]) -> dict[str, str]:
    return install_inputs(MANAGER, manager, env)


def test_pdm_runs_with_the_venvs_python_and_temp_dirs_only(tmp_path):
    settings = pdm_settings({"PDM_PYPI_URL": "https://mirror.example/simple"}, Path("/v"), tmp_path)
    assert settings["PDM_PYPI_URL"] == "https://mirror.example/simple"  # the user's own reach PDM
    assert settings["PDM_PYTHON"] == "/v/bin/python"
    assert settings["PDM_CHECK_UPDATE"] == "false"
    for name in ("PDM_CACHE_DIR", "PDM_CONFIG_FILE", "PDM_LOG_DIR", "HOME"):
        assert settings[name].startswith(str(tmp_path))
    # What the buildpack does not set itself, PDM runs without (the gate removed the user's).
    unset = set(CONTROLLED) - set(settings)
    assert unset == {
        "PDM_PROJECT",
        "PDM_LOCKFILE",
        "PDM_IN_VENV",
        "PDM_VENV_IN_PROJECT",
        "PDM_VENV_BACKEND",
        "PDM_IGNORE_ACTIVE_VENV",
        "PDM_IGNORE_SAVED_PYTHON",  # it would make PDM skip PDM_PYTHON and create a venv
    }


def test_another_pdm_release_keeps_the_locked_extra():
    """BP_PDM_VERSION: pdm[locked] takes the dependency pins that release was made with (an
    older PDM breaks with a newer hishel)."""
    buildpack = Path(__file__).resolve().parents[1]
    assert _unpinned("pdm", "2.26.8", buildpack) == ["pdm[locked]==2.26.8"]
