import json
import os
import time

import fake_django
import pytest

from cnb_python.django import collect_static, collectstatic_timeout, default_process, find_django
from cnb_python.errors import UserError
from cnb_python.run import alive


def env(**values: str) -> dict[str, str]:
    return {"PATH": os.environ["PATH"], **values}


def test_collectstatic_runs_and_sorts_the_manifest(tmp_path):
    app = fake_django.make_app(tmp_path)
    log, out = fake_django.logger()
    collect_static(app, fake_django.python(), env(FAKE_STATIC_ROOT="staticfiles"), log)
    manifest = (tmp_path / "staticfiles" / "staticfiles.json").read_text()
    assert manifest == json.dumps(
        {"paths": {"a.css": "a.1.css", "b.css": "b.2.css"}, "version": "1.1"}
    )
    assert "Running 'python manage.py collectstatic --noinput'" in out.getvalue()
    assert "2 static files copied to 'staticfiles', 2 post-processed." in out.getvalue()


def test_a_warning_printed_at_exit_is_not_the_result(tmp_path):
    app = fake_django.make_app(tmp_path)
    log, out = fake_django.logger()
    run_env = env(FAKE_STATIC_ROOT="staticfiles", FAKE_EXIT_NOISE="1")
    collect_static(app, fake_django.python(), run_env, log)
    assert (tmp_path / "staticfiles" / "staticfiles.json").is_file()
    assert "2 static files copied to 'staticfiles', 2 post-processed." in out.getvalue()


def test_settings_that_hang_are_stopped_at_the_deadline_with_what_they_started(tmp_path):
    app = fake_django.make_app(tmp_path / "app")
    log, _ = fake_django.logger()
    child = tmp_path / "child.pid"
    run_env = env(FAKE_HANG=str(child), BP_COLLECTSTATIC_TIMEOUT="1")
    started = time.monotonic()
    with pytest.raises(UserError, match="Django's collectstatic timed out"):
        collect_static(app, fake_django.python(), run_env, log)
    assert time.monotonic() - started < 30  # stopped, not waited out (300 s)
    assert not alive(int(child.read_text()))


@pytest.mark.parametrize("value", ["", " "])
def test_the_default_deadline_is_ten_minutes(value):
    assert collectstatic_timeout({"BP_COLLECTSTATIC_TIMEOUT": value}) == 600
    assert collectstatic_timeout({"BP_COLLECTSTATIC_TIMEOUT": "1200"}) == 1200


@pytest.mark.parametrize("value", ["0", "-5", "ten minutes", "nan", "inf"])
def test_an_invalid_deadline_is_a_user_error(value):
    with pytest.raises(UserError, match="Invalid BP_COLLECTSTATIC_TIMEOUT"):
        collectstatic_timeout({"BP_COLLECTSTATIC_TIMEOUT": value})


def test_collectstatic_is_skipped_without_static_root(tmp_path):
    app = fake_django.make_app(tmp_path)
    log, out = fake_django.logger()
    collect_static(app, fake_django.python(), env(), log)
    assert "Skipping collectstatic: STATIC_ROOT is not set in the Django settings" in (
        out.getvalue()
    )
    assert "manage.py collectstatic" not in out.getvalue()


def test_collectstatic_is_skipped_without_the_staticfiles_app(tmp_path):
    app = fake_django.make_app(tmp_path)
    log, out = fake_django.logger()
    run_env = env(FAKE_STATIC_ROOT="staticfiles", FAKE_APPS="django.contrib.auth")
    collect_static(app, fake_django.python(), run_env, log)
    assert (
        "Skipping collectstatic: django.contrib.staticfiles is not in INSTALLED_APPS"
        in out.getvalue()
    )
    assert not (tmp_path / "staticfiles").exists()


@pytest.mark.parametrize("value", ["true", "TRUE", "1"])
def test_bp_disable_collectstatic(tmp_path, value):
    app = fake_django.make_app(tmp_path)
    log, out = fake_django.logger()
    collect_static(
        app,
        fake_django.python(),
        env(FAKE_STATIC_ROOT="staticfiles", BP_DISABLE_COLLECTSTATIC=value),
        log,
    )
    assert out.getvalue().strip() == (
        "Skipping Django collectstatic: BP_DISABLE_COLLECTSTATIC is set"
    )
    assert not (tmp_path / "staticfiles").exists()


def test_not_django_without_manage_py_or_django(tmp_path):
    fake_django.make_app(tmp_path)
    assert find_django(tmp_path, [tmp_path / "elsewhere"]) is None
    (tmp_path / "manage.py").unlink()
    assert find_django(tmp_path, [tmp_path]) is None


def test_default_process_is_gunicorn_on_the_projects_wsgi(tmp_path):
    app = fake_django.make_app(tmp_path)
    assert app.settings_module == "shop.settings"
    assert default_process(app, [tmp_path]) is None  # no gunicorn in the venv
    (tmp_path / "gunicorn").mkdir()
    process = default_process(app, [tmp_path])
    assert process is not None and process.default and process.type == "web"
    assert process.command == (
        "sh",
        "-c",
        "exec gunicorn shop.wsgi --bind 0.0.0.0:${PORT:-8080}",
    )


def test_wsgi_module_of_split_settings(tmp_path):
    fake_django.make_app(tmp_path)
    (tmp_path / "manage.py").write_text(
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'shop.settings.production')\n"
    )
    split = find_django(tmp_path, [tmp_path])
    assert split is not None and split.wsgi_module == "shop.wsgi"
    (tmp_path / "shop" / "wsgi.py").unlink()
    assert split.wsgi_module is None
