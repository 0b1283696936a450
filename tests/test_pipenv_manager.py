import io
import json
import shutil
from pathlib import Path

import pytest

from cnb_python.cnb.bindings import Binding
from cnb_python.errors import UserError
from cnb_python.log import Logger
from cnb_python.managers import pipenv, select_manager
from cnb_python.managers.gate import check_settings
from cnb_python.managers.pipenv import PipenvManager
from cnb_python.managers.pipfile_lock import (
    export_requirements,
    local_paths,
    lock_sections,
    read_lock,
    source_variable_values,
)
from cnb_python.venv import install_inputs

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "pipenv-flask"


def pipenv_manager(app: Path, env: dict[str, str], bindings: list[Binding]) -> PipenvManager:
    return pipenv.pipenv_manager(app, env, bindings, pipenv.MANAGER.signals[0])


def key(manager: PipenvManager, env: dict[str, str]) -> dict[str, str]:
    return install_inputs(pipenv.MANAGER, manager, env)


def sample_app(tmp_path: Path) -> Path:
    app = tmp_path / "app"
    shutil.copytree(SAMPLE, app)
    return app


def test_pipfile_lock_selects_pipenv_with_the_default_category(tmp_path):
    manager = select_manager(sample_app(tmp_path), {}, []).installer
    assert isinstance(manager, PipenvManager)
    assert manager.describe() == "Pipenv (Pipfile.lock)"
    assert manager.categories == ("packages",)


def test_pipfile_only_is_locked_at_build_time(tmp_path):
    app = sample_app(tmp_path)
    (app / "Pipfile.lock").unlink()
    manager = select_manager(app, {"BP_PIPENV_INSTALL_CATEGORIES": "dev-packages"}, []).installer
    assert manager is not None
    assert manager.describe() == (
        "Pipenv (Pipfile, locked at build time, categories packages, dev-packages)"
    )


def test_export_has_every_hash_and_keeps_windows_only_packages_for_pip_to_skip(tmp_path):
    lock = read_lock(SAMPLE / "Pipfile.lock")
    # Locked on Linux without a pin, a Windows-only package has no version and no hashes.
    lock["default"]["pywin32"] = {"markers": "sys_platform == 'win32'", "version": "*"}
    text, secrets = export_requirements(lock, lock_sections(["packages"]), {}, offline=False)
    lines = text.splitlines()
    assert lines[0] == "--index-url https://pypi.org/simple"
    assert "pywin32; sys_platform == 'win32'" in lines
    colorama = next(line for line in lines if line.startswith("colorama"))
    assert colorama.startswith("colorama==0.4.6; sys_platform == 'win32' --hash=sha256:")
    flask = next(line for line in lines if line.startswith("flask=="))
    assert flask.count("--hash=sha256:") == len(lock["default"]["flask"]["hashes"]) >= 1
    assert not any(line.startswith("pytest") for line in lines)
    assert secrets == set()


def test_categories_map_to_lock_sections_and_add_packages():
    assert lock_sections(["packages", "dev-packages", "docs"]) == ("default", "develop", "docs")
    lock = read_lock(SAMPLE / "Pipfile.lock")
    text, _ = export_requirements(lock, ("default", "develop"), {}, offline=True)
    assert not text.startswith("--index-url")
    assert any(line.startswith("pytest==") for line in text.splitlines())


def test_source_credentials_come_from_env_or_a_pipenv_binding(tmp_path):
    lock = {
        "_meta": {
            "sources": [
                {"url": "https://${USER_NAME}:${TOKEN}@example.org/simple"},
                {"url": "http://mirror.local/simple", "verify_ssl": False},
            ]
        },
        "default": {"six": {"version": "==1.16.0", "hashes": ["sha256:ab"]}},
    }
    text, secrets = export_requirements(
        lock, ("default",), {"USER_NAME": "me", "TOKEN": "t0ken"}, offline=False
    )
    assert text.splitlines() == [
        "--index-url https://me:t0ken@example.org/simple",
        "--extra-index-url http://mirror.local/simple",
        "--trusted-host mirror.local",
        "six==1.16.0 --hash=sha256:ab",
    ]
    assert secrets == {"me", "t0ken"}
    pypi = {"_meta": {"sources": [{"url": "https://pypi.org/simple"}, *lock["_meta"]["sources"]]}}
    mirrored, _ = export_requirements(
        {**pypi, "default": {}},
        ("default",),
        {"PIPENV_PYPI_MIRROR": "https://mirror.corp/simple", "USER_NAME": "me", "TOKEN": "t"},
        offline=False,
    )
    assert mirrored.splitlines()[:2] == [
        "--index-url https://mirror.corp/simple",
        "--extra-index-url https://me:t@example.org/simple",
    ]
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "TOKEN").write_text("from-binding\n")
    binding = Binding("b", "pipenv", "", tmp_path / "b", {"TOKEN": tmp_path / "b" / "TOKEN"})
    manager = pipenv_manager(sample_app(tmp_path), {}, [binding])
    assert manager.source_env == {"TOKEN": "from-binding"}


def test_pipenv_runs_with_temp_home_and_the_buildpacks_pipfile(tmp_path):
    app = sample_app(tmp_path)
    manager = pipenv_manager(app, {}, [])
    out = io.StringIO()
    user_env = {
        "HOME": "/root",
        "PIPENV_VENV_IN_PROJECT": "1",
        "PIPENV_PIPFILE": "/elsewhere/Pipfile",
        "PIPENV_CACHE_DIR": "/root/.cache/pipenv",
        "PIPENV_TIMEOUT": "60",
    }
    gated = check_settings(pipenv.MANAGER, user_env, Logger(out, out))
    env = manager._env(gated, tmp_path / "venv", app / "Pipfile", tmp_path / "t")
    assert env["PIPENV_PIPFILE"] == str(app / "Pipfile")
    assert env["VIRTUAL_ENV"] == str(tmp_path / "venv")
    assert env["HOME"] == str(tmp_path / "t" / "home")
    assert env["PIPENV_CACHE_DIR"] == str(tmp_path / "t" / "cache")
    assert "PIPENV_VENV_IN_PROJECT" not in env
    assert env["PIPENV_TIMEOUT"] == "60"  # not controlled: passed through
    assert "[Warning: Ignoring Pipenv settings the buildpack controls]" in out.getvalue()
    assert "PIPENV_CACHE_DIR, PIPENV_PIPFILE, PIPENV_VENV_IN_PROJECT would move" in out.getvalue()


def test_reuse_key_covers_the_lock_the_categories_and_pipenv_and_pip_variables(tmp_path):
    app = sample_app(tmp_path)
    manager = pipenv_manager(app, {}, [])
    base = key(manager, {})
    assert key(manager, {"PIPENV_TIMEOUT": "1"}) != base
    assert key(manager, {"PIP_INDEX_URL": "https://x"}) != base
    assert key(manager, {"OTHER": "1"}) == base
    develop = {"BP_PIPENV_INSTALL_CATEGORIES": "develop"}
    assert key(pipenv_manager(app, develop, []), develop) != base
    lock = json.loads((app / "Pipfile.lock").read_text())
    lock["default"]["flask"]["hashes"].pop()
    (app / "Pipfile.lock").write_text(json.dumps(lock))
    assert key(manager, {}) != base
    assert "secret" not in json.dumps(key(manager, {"PIP_INDEX_URL": "https://u:secret@x"}))


def test_values_of_source_url_variables_are_found_for_redaction():
    pipfile = {"source": [{"url": "https://${USER_NAME}:$TOKEN@example.org/simple"}]}
    binding, env = {"TOKEN": "from-binding"}, {"TOKEN": "from-env", "USER_NAME": "me", "X": "y"}
    assert source_variable_values(pipfile, binding, env) == {"from-binding", "me"}
    assert source_variable_values({}, env) == set()


def test_path_entries_are_installed_after_the_hashed_ones_and_must_be_in_the_app(tmp_path):
    (tmp_path / "libs" / "util").mkdir(parents=True)
    lock = {
        "_meta": {},
        "default": {
            "app": {"path": ".", "editable": True},
            "util": {"path": "./libs/util"},
            "six": {"version": "==1.16.0", "hashes": ["sha256:ab"]},
        },
    }
    text, _ = export_requirements(lock, ("default",), {}, offline=True)
    assert text == "six==1.16.0 --hash=sha256:ab\n"
    assert local_paths(lock, ("default",), tmp_path) == (".", "libs/util")
    lock["default"]["util"]["path"] = "../elsewhere"
    with pytest.raises(UserError) as e:
        local_paths(lock, ("default",), tmp_path)
    assert e.value.title == "Pipfile.lock installs a path outside the app"


def test_a_lock_whose_hash_matches_needs_no_pipenv(tmp_path):
    app = sample_app(tmp_path)
    manager = pipenv_manager(app, {}, [])
    assert manager.hash_matches
    assert pipenv.MANAGER.tools_of(manager) == ("pip",)


@pytest.mark.parametrize("case", ["stale lock", "lock without a hash", "another Pipenv"])
def test_pipenv_checks_the_lock_itself_when_the_hash_is_not_known_to_match(tmp_path, case):
    app = sample_app(tmp_path)
    env = {}
    if case == "stale lock":
        (app / "Pipfile").write_text((app / "Pipfile").read_text() + '\n[docs]\nx = "*"\n')
    elif case == "lock without a hash":
        lock = json.loads((app / "Pipfile.lock").read_text())
        del lock["_meta"]["hash"]
        (app / "Pipfile.lock").write_text(json.dumps(lock))
    else:
        env = {"BP_PIPENV_VERSION": "2025.0.3"}
    manager = pipenv_manager(app, env, [])
    assert not manager.hash_matches
    assert pipenv.MANAGER.tools_of(manager) == ("pip", "pipenv")
