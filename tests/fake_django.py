"""A stand-in for Django in an app dir, enough for cnb_python.django: settings with STATIC_ROOT
(from FAKE_STATIC_ROOT) and INSTALLED_APPS (FAKE_APPS), a manifest storage, and a manage.py
whose collectstatic writes a manifest in unsorted order (or fails with FAKE_FAIL, or the
settings with FAKE_BAD_SETTINGS). Settings that misbehave: FAKE_HANG starts a child (its pid
in the file FAKE_HANG names) and waits forever, as one waiting for a database would;
FAKE_EXIT_NOISE prints at exit; FAKE_SETTINGS_EXIT exits with status 0 when imported."""

from __future__ import annotations

import io
import sys
from pathlib import Path

from cnb_python.django import DjangoApp, find_django
from cnb_python.log import Logger

FILES = {
    "django/__init__.py": "",
    "django/conf.py": """\
import atexit, os, subprocess, sys, time
if os.environ.get("FAKE_BAD_SETTINGS"):
    raise ImportError("No module named 'environ'")
if os.environ.get("FAKE_HANG"):
    with open(os.environ["FAKE_HANG"], "w") as f:
        f.write(str(subprocess.Popen(["sleep", "300"]).pid))
    time.sleep(300)
if os.environ.get("FAKE_EXIT_NOISE"):
    atexit.register(print, "Exception ignored in: <socket.socket fd=3>")
if os.environ.get("FAKE_SETTINGS_EXIT"):
    print("settings: nothing to do here")
    sys.exit(0)
class Settings:
    STATIC_ROOT = os.environ.get("FAKE_STATIC_ROOT") or None
    INSTALLED_APPS = os.environ.get("FAKE_APPS", "django.contrib.staticfiles").split()
settings = Settings()
""",
    "django/contrib/__init__.py": "",
    "django/contrib/staticfiles/__init__.py": "",
    "django/contrib/staticfiles/storage.py": """\
class Storage:
    manifest_name = "staticfiles.json"
staticfiles_storage = Storage()
""",
    "manage.py": """\
import json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
if os.environ.get("FAKE_FAIL"):
    print("django.core.exceptions.ImproperlyConfigured: bad STORAGES")
    sys.exit(1)
root = os.environ["FAKE_STATIC_ROOT"]
os.makedirs(root, exist_ok=True)
paths = {"b.css": "b.2.css", "a.css": "a.1.css"}
with open(os.path.join(root, "staticfiles.json"), "w") as fh:
    fh.write(json.dumps({"paths": paths, "version": "1.1"}))
print(f"2 static files copied to '{root}', 2 post-processed.")
""",
    "shop/__init__.py": "",
    "shop/settings.py": "",
    "shop/wsgi.py": "",
}


def make_app(root: Path) -> DjangoApp:
    for name, content in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(content)
    app = find_django(root, [root])  # the fake django/ stands in for site-packages
    assert app is not None
    return app


def python() -> Path:
    return Path(sys.executable)


def logger() -> tuple[Logger, io.StringIO]:
    out = io.StringIO()
    return Logger(out, out), out
