"""A Django app with static files and no Procfile, end to end."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from conftest import SAMPLES, App

SAMPLE = SAMPLES / "pip-django-static"


@pytest.fixture(scope="module")
def django_app(tmp_path_factory, buildpack):
    app = App(tmp_path_factory.mktemp("django"), buildpack, SAMPLE)
    app.result = app.build_ok()
    return app


def test_collectstatic_runs_and_the_default_process_is_gunicorn(django_app):
    output = django_app.result.output
    assert "Collecting Django static files" in output
    assert "Running 'python manage.py collectstatic --noinput'" in output
    assert "Assigning launch processes (a Django app with gunicorn):" in output
    web = next(p for p in django_app.platform.image.processes if p["type"] == "web")
    assert web["command"] == ["sh", "-c", "exec gunicorn project.wsgi --bind 0.0.0.0:${PORT:-8080}"]
    assert django_app.platform.image.default_process == "web"


HASHED_STYLESHEET = r"Stylesheet: /static/css/site\.[0-9a-f]{12}\.css\n"


def test_answers_http_with_hashed_static_names(django_app):
    body = django_app.homepage()
    assert re.fullmatch(HASHED_STYLESHEET, body), body


def test_collected_files_are_in_the_image_under_static_root(django_app):
    found = json.loads(
        django_app.python(
            "import json, os; root = '/workspace/staticfiles'; "
            "files = sorted(os.path.relpath(os.path.join(d, f), root) "
            "for d, _, fs in os.walk(root) for f in fs); "
            "manifest = json.load(open(root + '/staticfiles.json')); "
            "css = open(root + '/' + manifest['paths']['css/site.css']).read(); "
            "print(json.dumps({'files': files, 'manifest': manifest, 'css': css}))"
        )
    )
    paths = found["manifest"]["paths"]
    assert {paths["css/site.css"], paths["img/logo.svg"], "admin/css/base.css"} <= set(
        found["files"]
    )
    assert paths["admin/css/base.css"] in found["files"]
    assert list(paths) == sorted(paths)
    assert paths["img/logo.svg"].split("/")[-1] in found["css"]  # url() rewritten to hashed


def test_a_project_in_a_subdirectory_behind_symlinks(tmp_path, buildpack):
    """A backend/frontend monorepo, as heroku/buildpacks-python's django_staticfiles fixtures
    have it: manage.py and requirements.txt at the root are symlinks into backend/, where the
    settings package lives. `python manage.py` puts backend/ on sys.path; so does the build."""
    app = App(tmp_path, buildpack)
    shutil.copytree(SAMPLE, app.dir / "backend")
    (app.dir / "frontend").mkdir()
    (app.dir / "frontend" / "index.html").write_text("<p>frontend</p>\n")
    for name in ("manage.py", "requirements.txt"):
        (app.dir / name).symlink_to(f"backend/{name}")
    result = app.build_ok()
    assert "Running 'python manage.py collectstatic --noinput'" in result.output
    web = next(p for p in app.platform.image.processes if p["type"] == "web")
    assert "gunicorn project.wsgi --chdir backend --bind" in web["command"][-1]
    body = app.homepage()
    assert re.fullmatch(HASHED_STYLESHEET, body), body
