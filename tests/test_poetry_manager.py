"""Poetry: what selects it, what it installs, and what its reuse key covers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from standins import install_with, stand_in_tool

from cnb_python.cnb.bindings import Binding
from cnb_python.errors import UserError
from cnb_python.managers import poetry as poetry_module
from cnb_python.managers import select_manager
from cnb_python.managers.poetry import PoetryManager, poetry_env, without_packages
from cnb_python.tools import _unpinned
from cnb_python.venv import install_inputs

POETRY2 = """\
[project]
name = "app"
version = "1"
requires-python = ">=3.11"
dependencies = ["six==1.17.0"]
[project.optional-dependencies]
Fast = ["ujson"]
[project.scripts]
serve = "app:main"
[tool.poetry.group.web.dependencies]
idna = "3.10"
[build-system]
requires = ["poetry-core==2.2.1"]
build-backend = "poetry.core.masonry.api"
"""
POETRY1 = """\
[tool.poetry]
name = "app"
version = "1"
[tool.poetry.dependencies]
python = "^3.11"
[tool.poetry.extras]
fast = ["ujson"]
[tool.poetry.scripts]
serve = "app:main"
admin = { reference = "app.cli:run", type = "console" }
notes = { reference = "notes.sh", type = "file" }
[build-system]
requires = ["poetry-core>=1.0.0"]
build-backend = "poetry.core.masonry.api"
"""


def poetry(app: Path, files: dict[str, str], env: dict[str, str] | None = None) -> PoetryManager:
    for name, content in {"poetry.lock": "", **files}.items():
        (app / name).write_text(content)
    manager = select_manager(app, env or {}, []).installer
    assert isinstance(manager, PoetryManager)
    return manager


def key(manager: PoetryManager, env: dict[str, str]) -> dict[str, str]:
    return install_inputs(poetry_module.MANAGER, manager, env)


def test_poetry2_package_mode_installs_the_project_and_its_scripts(tmp_path):
    manager = poetry(tmp_path, {"pyproject.toml": POETRY2})
    assert manager.package and manager.project_scripts() == ("serve",)
    assert manager.describe() == "Poetry (poetry.lock, main group)"
    assert set(key(manager, {})) == {
        "file:poetry.lock",
        "file:pyproject.toml",
        "groups",
        "extras",
        "env",
    }


def test_poetry1_scripts_leave_out_file_scripts(tmp_path):
    manager = poetry(tmp_path, {"pyproject.toml": POETRY1})
    assert manager.project_scripts() == ("admin", "serve")


def test_non_package_mode_installs_dependencies_only(tmp_path):
    non_package = POETRY1.replace("[tool.poetry]\n", "[tool.poetry]\npackage-mode = false\n")
    manager = poetry(tmp_path, {"pyproject.toml": non_package})
    assert not manager.package and manager.project_scripts() == ()
    assert "path:." not in key(manager, {})


def test_groups_and_extras_select_what_poetry_exports(tmp_path):
    env = {"BP_POETRY_INSTALL_ONLY": "main, Web", "BP_POETRY_INSTALL_EXTRAS": "fast"}
    manager = poetry(tmp_path, {"pyproject.toml": POETRY2}, env)
    assert manager.describe() == "Poetry (poetry.lock, groups main, Web, extras fast)"
    assert manager.export_options() == [
        "--format=requirements.txt",
        "--with-credentials",
        "--no-interaction",
        "--only=main,Web",
        "--extras=fast",
    ]
    main_only = poetry(tmp_path, {})
    assert key(manager, {})["groups"] != key(main_only, {})["groups"]
    assert key(manager, {})["extras"] != key(main_only, {})["extras"]


@pytest.mark.parametrize(
    ("pyproject", "env", "title"),
    [
        (POETRY2, {"BP_POETRY_INSTALL_EXTRAS": "slow"}, "Unknown Poetry extra in"),
        (POETRY1, {"BP_POETRY_INSTALL_ONLY": "web"}, "Unknown Poetry group in"),
    ],
)
def test_unknown_groups_and_extras_are_errors_before_any_install(tmp_path, pyproject, env, title):
    with pytest.raises(UserError) as error:
        poetry(tmp_path, {"pyproject.toml": pyproject}, env)
    assert error.value.title.startswith(title)


def test_path_dependencies_outside_the_app_are_a_clear_error(tmp_path):
    lock = '[[package]]\nname = "lib"\n[package.source]\ntype = "directory"\nurl = "../lib"\n'
    with pytest.raises(UserError) as error:
        poetry(tmp_path, {"pyproject.toml": POETRY1, "poetry.lock": lock})
    assert error.value.title == "poetry.lock installs a path outside the app"


def test_path_dependencies_inside_the_app_are_keyed_on_their_files(tmp_path):
    lock = '[[package]]\nname = "My_Lib"\n[package.source]\ntype = "directory"\nurl = "libs/lib"\n'
    (tmp_path / "libs" / "lib").mkdir(parents=True)
    (tmp_path / "libs" / "lib" / "lib.py").write_text("x = 1\n")
    app = {"pyproject.toml": "[tool.poetry]\npackage-mode = false\n", "poetry.lock": lock}
    manager = poetry(tmp_path, app)
    assert manager.local == {"my-lib": "libs/lib"}
    # The project step (projects.py) installs it, keyed on its files apart from the lock's.
    assert manager.projects() == ("libs/lib",)
    assert not any(name.startswith("path:") for name in key(manager, {}))


def test_path_dependencies_leave_the_exported_requirements():
    exported = (
        "--extra-index-url https://pypi.org/simple\n\n"
        'itsdangerous==2.2.0 ; python_version >= "3.12" \\\n    --hash=sha256:aa\n'
        'my-lib @ file:///workspace/libs/lib ; python_version >= "3.12"\n'
        "zope-interface==7.0 \\\n    --hash=sha256:bb\n"
    )
    assert without_packages(exported, {"my-lib"}) == (
        "--extra-index-url https://pypi.org/simple\n\n"
        'itsdangerous==2.2.0 ; python_version >= "3.12" \\\n    --hash=sha256:aa\n'
        "zope-interface==7.0 \\\n    --hash=sha256:bb\n"
    )
    assert without_packages(exported, {"itsdangerous"}).startswith(
        "--extra-index-url https://pypi.org/simple\n\nmy-lib @"
    )


def test_key_hashes_poetry_credentials_without_keeping_them(tmp_path):
    manager = poetry(tmp_path, {"pyproject.toml": POETRY1})
    secret = {"POETRY_HTTP_BASIC_CORP_PASSWORD": "s3cret"}
    assert key(manager, secret)["env"] != key(manager, {})["env"]
    assert "s3cret" not in repr(key(manager, secret))
    before = key(manager, {})["file:poetry.lock"]
    (tmp_path / "poetry.lock").write_text("# relocked\n")
    assert key(manager, {})["file:poetry.lock"] != before


def test_poetry_writes_only_into_the_build_temp_dir(tmp_path):
    env = poetry_env(
        {"POETRY_CACHE_DIR": "/home/u/.cache", "POETRY_HTTP_BASIC_X_USERNAME": "u"}, tmp_path
    )
    assert env["POETRY_CACHE_DIR"] == str(tmp_path / "cache")
    assert env["POETRY_CONFIG_DIR"] == str(tmp_path / "config")
    assert env["POETRY_DATA_DIR"] == str(tmp_path / "data")
    assert env["POETRY_HTTP_BASIC_X_USERNAME"] == "u"
    assert env["POETRY_KEYRING_ENABLED"] == "false"


def test_an_older_poetry_gets_a_plugin_that_fits_it():
    """BP_POETRY_VERSION=1.8.5: the pinned poetry-plugin-export 1.9 needs Poetry 2, so only
    the tool keeps a version and pip resolves the plugin."""
    buildpack = Path(__file__).parents[1]
    assert _unpinned("poetry", "1.8.5", buildpack) == ["poetry==1.8.5", "poetry-plugin-export"]
    assert _unpinned("poetry", ">=2.3", buildpack) == ["poetry>=2.3", "poetry-plugin-export"]


FAKE_POETRY = """\
cat "$POETRY_CONFIG_DIR/auth.toml" > "$RECORD/auth.toml"
echo "$@" > "$RECORD/poetry"
for arg; do
  case $arg in --output=*) echo "six==1.17.0 --hash=sha256:abc" > "${arg#--output=}";; esac
done
"""
FAKE_PIP = """\
echo "$@" | sed "s|/tmp/cnb-python-poetry-[^/]*/|TMP/|" >> "$RECORD/pip"
"""


def test_install_exports_with_the_poetry_binding_then_installs_hash_checked(tmp_path):
    """The orchestration, with stand-ins for Poetry and pip that record what they are given."""
    app, record, tools_dir = tmp_path / "app", tmp_path / "record", tmp_path / "tools"
    for directory in (app, record, tools_dir):
        directory.mkdir()
    (tools_dir / "auth.toml").write_text('[http-basic.corp]\nusername = "u"\n')
    binding = Binding("b", "poetry", "", tools_dir, {"auth.toml": tools_dir / "auth.toml"})
    (app / "poetry.lock").write_text("")
    (app / "pyproject.toml").write_text(POETRY2)
    manager = select_manager(app, {}, [binding]).installer
    assert isinstance(manager, PoetryManager)
    assert "poetry:auth.toml" in key(manager, {})
    tools = {
        name: stand_in_tool(tools_dir, name, script, version="1")
        for name, script in (("poetry", FAKE_POETRY), ("pip", FAKE_PIP))
    }
    env = {"PATH": "/usr/bin:/bin", "RECORD": str(record)}
    install_with(manager, tmp_path / "venv", tools, env)

    assert (record / "auth.toml").read_text() == '[http-basic.corp]\nusername = "u"\n'
    assert (
        (record / "poetry")
        .read_text()
        .startswith(
            "export --format=requirements.txt --with-credentials --no-interaction --output=/tmp/"
        )
    )
    common = "install --no-input --disable-pip-version-check --no-compile --progress-bar=off"
    assert (record / "pip").read_text().splitlines() == [
        f"{common} --no-cache-dir --require-hashes --no-deps --requirement TMP/requirements.txt",
    ]  # the project itself is the project step's (projects.py)
    assert manager.projects() == (".",)


def sample_app(tmp_path: Path) -> Path:
    app = tmp_path / "app"
    shutil.copytree(Path(__file__).resolve().parents[1] / "samples/poetry-flask", app)
    return app


def test_a_fresh_lock_it_reads_itself_needs_no_poetry(tmp_path):
    """poetry-flask's lock is exported here (poetry_export.py): only pip installs it."""
    app, record, tools_dir = sample_app(tmp_path), tmp_path / "record", tmp_path / "tools"
    record.mkdir()
    tools_dir.mkdir()
    manager = select_manager(app, {}, []).installer
    assert isinstance(manager, PoetryManager)
    assert poetry_module.MANAGER.tools_of(manager) == ("pip",)
    pip = stand_in_tool(
        tools_dir, "pip", FAKE_PIP + 'for last; do :; done; cp "$last" "$RECORD/exported"\n', "1"
    )
    install_with(
        manager, tmp_path / "venv", {"pip": pip}, {"PATH": "/usr/bin:/bin", "RECORD": str(record)}
    )
    assert (record / "exported").read_text() == manager.exported
    assert "flask==3.1.3 ; " in (record / "exported").read_text()


@pytest.mark.parametrize(
    "env", [{"BP_POETRY_VERSION": "2.1.4"}, {"BP_POETRY_INSTALL_EXTRAS": "fast"}]
)
def test_another_poetry_or_extras_run_poetry_itself(tmp_path, env):
    app = sample_app(tmp_path)
    pyproject = app / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + '\n[project.optional-dependencies]\nfast = ["x"]\n'
    )
    manager = poetry(app, {}, env)
    assert manager.exported is None
    assert poetry_module.MANAGER.tools_of(manager) == ("pip", "poetry")
