import json
import os

import fake_django
import pytest

from cnb_python.django import collect_static, default_process, find_django


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
