"""Django apps: `manage.py collectstatic` at build time, and a default gunicorn web process.

An app is a Django app when it has `manage.py` and its venv has Django. Rules (also in the
README):
- collectstatic runs after the install, with the app's settings, unless
  BP_DISABLE_COLLECTSTATIC=true; it is skipped, with a log line, when STATIC_ROOT is unset. The
  files land in the app dir, so in the app layer. A manifest (ManifestStaticFilesStorage) is
  rewritten with sorted keys, because Django writes it in directory-listing order.
- The step (reading the settings, then collectstatic) has a deadline, BP_COLLECTSTATIC_TIMEOUT
  seconds (default 600): settings that connect to a service at import must not hang the build.
- Without a Procfile, an app whose venv has gunicorn gets `web: gunicorn <project>.wsgi`.
- `manage.py` may be a symlink into a subdirectory (a backend/frontend monorepo): the project
  lives where its real file is, as for `python manage.py`, which puts that directory first on
  sys.path. The settings are read from there, and gunicorn starts with `--chdir` to it.
"""

from __future__ import annotations

import json
import re
import shlex
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnb_python.cnb.launch import Process
from cnb_python.errors import UserError
from cnb_python.log import Logger
from cnb_python.processes import exec_simple_command
from cnb_python.run import TAIL_LINES, Deadline, output_tail, run

_SETTINGS_DEFAULT = re.compile(r"""DJANGO_SETTINGS_MODULE['"]\s*,\s*['"]([A-Za-z_][\w.]*)['"]""")
TIMEOUT_VARIABLE = "BP_COLLECTSTATIC_TIMEOUT"
DEFAULT_TIMEOUT = 600
# Writes what the build needs from the settings as JSON to the file named by argv[1]: a file of
# its own, since the settings may print anything, even at exit.
_READ_SETTINGS = """\
import json, sys
sys.path[0] = sys.argv[2]  # as `python manage.py` sets it: the project's directory
from django.conf import settings
apps = [a for a in settings.INSTALLED_APPS if a.startswith("django.contrib.staticfiles")]
root = settings.STATIC_ROOT if apps else None
manifest = None
if root:  # ManifestStaticFilesStorage and its subclasses write a manifest into STATIC_ROOT
    from django.contrib.staticfiles.storage import staticfiles_storage
    manifest = getattr(staticfiles_storage, "manifest_name", None)
found = {"staticfiles": bool(apps), "static_root": str(root) if root else None,
         "manifest": manifest}
with open(sys.argv[1], "w") as f:
    json.dump(found, f)
"""
_SETTINGS_FIX = (
    "Make the settings importable at build time: read secrets and service URLs from the "
    "environment with build-safe defaults, or pass them with `pack build --env`. Set "
    "BP_DISABLE_COLLECTSTATIC=true to skip collectstatic."
)


@dataclass(frozen=True)
class DjangoApp:
    app: Path
    settings_module: str  # "" when manage.py sets no default
    project: Path  # the real directory of manage.py: the app, or a directory in it

    @property
    def wsgi_module(self) -> str | None:
        """`<project>.wsgi` for the closest package of the settings module with a wsgi.py."""
        parts = self.settings_module.split(".")[:-1]
        while parts:
            if (self.project.joinpath(*parts) / "wsgi.py").is_file():
                return ".".join([*parts, "wsgi"])
            parts.pop()
        return None


def find_django(app: Path, site_packages: Sequence[Path]) -> DjangoApp | None:
    manage = app / "manage.py"
    if not manage.is_file() or not any((sp / "django").is_dir() for sp in site_packages):
        return None
    match = _SETTINGS_DEFAULT.search(manage.read_text(errors="replace"))
    project = manage.resolve().parent
    if not project.is_relative_to(app.resolve()):  # outside the app: not in the image
        project = app
    return DjangoApp(app, match.group(1) if match else "", project)


def collect_static(django: DjangoApp, python: Path, env: Mapping[str, str], log: Logger) -> None:
    """`manage.py collectstatic --noinput`, run by `python` (the venv's) in the app dir."""
    log.blank()
    if env.get("BP_DISABLE_COLLECTSTATIC", "").strip().lower() in ("true", "1", "yes"):
        log.section("Skipping Django collectstatic: BP_DISABLE_COLLECTSTATIC is set")
        return
    log.section("Collecting Django static files")
    run_env = dict(env)
    if django.settings_module:
        run_env.setdefault("DJANGO_SETTINGS_MODULE", django.settings_module)
    step = _Step(django, python, run_env, _deadline(collectstatic_timeout(env)), log)
    found = _read_settings(step)
    if not found["staticfiles"]:
        log.step("Skipping collectstatic: django.contrib.staticfiles is not in INSTALLED_APPS")
        return
    if not found["static_root"]:
        log.step("Skipping collectstatic: STATIC_ROOT is not set in the Django settings")
        return
    static_root = (django.app / found["static_root"]).resolve()
    if not static_root.is_relative_to(django.app.resolve()):
        raise UserError(
            "STATIC_ROOT is outside the app",
            f"STATIC_ROOT is {found['static_root']}: files collected there would not be in the "
            "image, which holds only the app directory and the buildpack's layers.",
            "Point STATIC_ROOT into the app, e.g. `STATIC_ROOT = BASE_DIR / 'staticfiles'`.",
        )
    with log.timed():
        output = step.run_python(
            ["manage.py", "collectstatic", "--noinput"],
            "python manage.py collectstatic --noinput",
            "Django's collectstatic failed",
            "Fix the error in Django's output above; `python manage.py collectstatic --noinput` "
            "reproduces it locally. Set BP_DISABLE_COLLECTSTATIC=true to skip collectstatic.",
        )
        summary = [line for line in output.splitlines() if _COLLECTED.search(line)]
        log.detail(summary[-1].strip() if summary else "done")
    if found["manifest"]:
        _sort_manifest(static_root / found["manifest"])


# collectstatic's summary line: "3 static files copied to '/workspace/static'."
_COLLECTED = re.compile(r"\d+ static files? (copied|symlinked)")


def collectstatic_timeout(env: Mapping[str, str]) -> float:
    value = env.get(TIMEOUT_VARIABLE, "").strip()
    if not value:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0
    if not 0 < seconds < float("inf"):
        raise UserError(
            f"Invalid {TIMEOUT_VARIABLE}",
            f"{TIMEOUT_VARIABLE} is {value!r}, not a number of seconds above 0.",
            f"Set {TIMEOUT_VARIABLE} to the seconds collectstatic may take, e.g. 1200, or "
            f"unset it for the default ({DEFAULT_TIMEOUT}).",
        )
    return seconds


def _deadline(seconds: float) -> Deadline:
    """One deadline for the step: reading the settings and collectstatic share its time."""
    return Deadline(
        time.monotonic() + seconds,
        seconds,
        "Django's collectstatic timed out",
        "The Django settings may wait for a database or another service at import: make them "
        "importable at build time without one (read service URLs from the environment with "
        f"build-safe defaults). Raise {TIMEOUT_VARIABLE} (seconds) if it only needs more "
        "time, or set BP_DISABLE_COLLECTSTATIC=true to skip collectstatic.",
    )


@dataclass(frozen=True)
class _Step:
    """What every python run of the step shares: the app, its venv's python, the settings
    module in the environment, and one deadline."""

    django: DjangoApp
    python: Path
    env: Mapping[str, str]
    deadline: Deadline
    log: Logger

    def run_python(self, args: list[str], show: str, error_title: str, error_fix: str) -> str:
        """`python <args>` in the app dir, its output kept for the error rather than shown."""
        return run(
            [str(self.python), *args],
            env=self.env,
            cwd=self.django.app,
            log=self.log,
            show=show,
            stream=False,
            error_title=error_title,
            error_fix=error_fix,
            deadline=self.deadline,
        )


def _read_settings(step: _Step) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cnb-python-django-") as tmp:
        result = Path(tmp, "settings.json")
        output = step.run_python(
            ["-c", _READ_SETTINGS, str(result), str(step.django.project)],
            "python -c <read STATIC_ROOT from the Django settings>",
            "Unable to read the Django settings",
            _SETTINGS_FIX,
        )
        try:
            found = json.loads(result.read_text())
        except (OSError, ValueError):
            found = None
    if not isinstance(found, dict):  # the settings ended the process early, with status 0
        raise UserError(
            "Unable to read the Django settings",
            "Reading STATIC_ROOT from the Django settings ended before it was read: the "
            "settings module exits when it is imported."
            + output_tail(output.splitlines()[-TAIL_LINES:]),
            _SETTINGS_FIX,
        )
    return found


def _sort_manifest(path: Path) -> None:
    """Same content, keys in a fixed order: Django reads it with json.loads."""
    if path.is_file():
        doc = json.loads(path.read_text())
        path.write_text(json.dumps(doc, sort_keys=True))


def default_process(django: DjangoApp, site_packages: Sequence[Path]) -> Process | None:
    """`web: gunicorn <project>.wsgi` when the venv has gunicorn (exec'd under sh for $PORT)."""
    module = django.wsgi_module
    if module is None or not any((sp / "gunicorn").is_dir() for sp in site_packages):
        return None
    where = django.project.relative_to(django.app.resolve())
    chdir = f" --chdir {shlex.quote(where.as_posix())}" if where.parts else ""
    command = exec_simple_command(f"gunicorn {module}{chdir} --bind 0.0.0.0:${{PORT:-8080}}")
    return Process("web", ("sh", "-c", command), default=True)
