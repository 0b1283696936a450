"""uv workspaces and path sources (integration/fixtures/uv-workspace): which member is
installed, and a reuse key that covers every member and path source the install reads."""

import shutil
from pathlib import Path

import pytest

from cnb_python.errors import UserError
from cnb_python.managers import select_manager
from cnb_python.venv import install_inputs

FIXTURE = Path(__file__).parents[1] / "integration" / "fixtures" / "uv-workspace"


@pytest.fixture
def app(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURE, tmp_path / "app"))


def _choice(app: Path, env: dict[str, str]):
    choice = select_manager(app, env, [])
    assert choice.manager is not None and choice.installer is not None
    return choice


def _key(app: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    choice = _choice(app, env or {})
    return install_inputs(choice.manager, choice.installer, env or {})


def test_the_only_member_with_a_script_is_installed_by_default(app):
    installer = _choice(app, {}).installer
    assert installer.describe() == "uv (uv.lock, package web)"
    assert installer.project_scripts() == ("web",)
    assert installer.local == ("libs/motto", "packages/greeting", "packages/web")


def test_bp_uv_package_chooses_the_member(app):
    installer = _choice(app, {"BP_UV_PACKAGE": "Greeting"}).installer
    assert installer.describe() == "uv (uv.lock, package greeting)"
    assert installer.project_scripts() == ()


def test_a_root_project_is_installed_by_default(app):
    pyproject = app / "pyproject.toml"
    pyproject.write_text("[project]\nname = 'root'\nversion = '1'\n" + pyproject.read_text())
    installer = _choice(app, {}).installer
    assert installer.describe() == "uv (uv.lock)"
    assert installer.member is None


def test_editing_a_path_dependency_changes_the_key(app):
    before = _key(app)
    source = app / "libs" / "motto" / "src" / "motto" / "__init__.py"
    source.write_text(source.read_text().replace("Built", "Rebuilt"))
    after = _key(app)
    assert {name for name in before if before[name] != after[name]} == {"path:libs/motto"}


def test_editing_a_workspace_member_changes_the_key(app):
    before = _key(app)
    (app / "packages" / "greeting" / "src" / "greeting" / "extra.py").write_text("x = 1\n")
    after = _key(app)
    assert {name for name in before if before[name] != after[name]} == {"path:packages/greeting"}


def test_an_unrelated_change_keeps_the_key(app):
    before = _key(app)
    (app / "README.md").write_text("Edited notes\n")
    (app / "docs").mkdir()
    (app / "docs" / "notes.md").write_text("x\n")
    (app / "packages" / "web" / "src" / "web" / "__pycache__").mkdir()
    (
        app / "packages" / "web" / "src" / "web" / "__pycache__" / "server.cpython-312.pyc"
    ).write_bytes(b"x")
    assert _key(app) == before


def test_index_credentials_change_the_key_as_digests_only(app):
    env = {
        "UV_INDEX_PYPI_MIRROR_USERNAME": "deploy-user",
        "UV_INDEX_PYPI_MIRROR_PASSWORD": "s3cret-token",
    }
    key = _key(app, env)
    assert key != _key(app)
    assert "s3cret-token" not in repr(key) and "deploy-user" not in repr(key)


def test_a_lock_path_outside_the_app_is_an_error(app):
    lock = app / "uv.lock"
    lock.write_text(lock.read_text().replace('directory = "libs/motto"', 'directory = "../motto"'))
    with pytest.raises(UserError) as error:
        _choice(app, {})
    assert error.value.title == "uv.lock installs a path outside the app"
