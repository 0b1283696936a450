"""Golden text of the errors users see: the exact title, explanation and fix.

A change to any message must be deliberate, so these compare whole renders.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Callable
from pathlib import Path

import fake_django
import pytest
from packaging.version import Version

from cnb_python import python_version as pv
from cnb_python.cnb.context import build_context
from cnb_python.django import collect_static
from cnb_python.download import Source, download, resolve_source
from cnb_python.errors import UserError
from cnb_python.log import Logger
from cnb_python.managers import select_manager
from cnb_python.processes import app_processes

AVAILABLE = [Version(v) for v in ("3.10.20", "3.11.16", "3.12.14", "3.13.15", "3.14.7")]
EOL = pv.parse_eol_table([{"version": "3.9", "date": "2025-10-31", "after": "error"}])


def app_with(root: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        (root / name).write_text(content)
    return root


def collectstatic(**env: str) -> Callable[[Path], object]:
    def run(root: Path) -> object:
        app = fake_django.make_app(root)
        log, _ = fake_django.logger()
        full_env = {"PATH": "/usr/bin:/bin", **env}
        return collect_static(app, fake_django.python(), full_env, log)

    return run


def select(files: dict[str, str], env: dict[str, str] | None = None) -> Callable[[Path], object]:
    def run(root: Path) -> object:
        requests = pv.gather_requests(app_with(root, files), env or {}, "3.14")
        return pv.select_version(requests[0], [], AVAILABLE, EOL, datetime.date(2026, 11, 25))

    return run


def checksum(root: Path) -> None:
    (root / "cpython.tar.gz").write_bytes(b"abc")
    source = Source(f"file://{root}/cpython.tar.gz", "")
    download(source, "0" * 64, root / "out", what="CPython 3.12.14", log=Logger(io.StringIO()))


GOLDEN: dict[str, tuple[Callable[[Path], object], str]] = {
    "version unavailable": (
        select({".python-version": "3.15"}),
        """[Error: The requested Python version isn't available]

  .python-version asks for Python '3.15', and no version this buildpack provides satisfies it.
  Available versions: 3.10.20, 3.11.16, 3.12.14, 3.13.15, 3.14.7.

  How to fix:
    Request one of the available versions in .python-version. A minor version such as `3.14` always gets the newest patch release.""",
    ),
    "end of life": (
        select({".python-version": "3.9"}),
        """[Error: The requested Python version has reached end-of-life]

  .python-version asks for Python '3.9'. Python 3.9 reached its end of life on 2025-10-31 and this buildpack no longer supports it.

  How to fix:
    Move the app to a supported Python, ideally 3.14, and update .python-version (for example to `3.14`).""",
    ),
    "malformed .python-version": (
        select({".python-version": "python-3.12"}),
        """[Error: Invalid Python version in .python-version]

  .python-version asks for Python 'python-3.12'. Only plain CPython versions are understood here.

  How to fix:
    Write a version such as `3.14` (newest 3.14 release) or `3.14.7` (exactly that).""",
    ),
    "empty .python-version": (
        select({".python-version": "# pinned later\n"}),
        """[Error: No Python version in .python-version]

  .python-version exists but holds no version (only blank lines or # comments).

  How to fix:
    Put a version such as `3.14` on the first line, or delete the file.""",
    ),
    "malformed runtime.txt": (
        select({"runtime.txt": "3.12"}),
        """[Error: Invalid Python version in runtime.txt]

  runtime.txt holds '3.12'; the format is `python-<version>`.

  How to fix:
    Write for example `python-3.14.7`, or move to a .python-version file holding `3.14`.""",
    ),
    "malformed BP_CPYTHON_VERSION": (
        select({}, {"BP_CPYTHON_VERSION": "3.12,,<"}),
        """[Error: Invalid Python version in BP_CPYTHON_VERSION]

  BP_CPYTHON_VERSION asks for Python '3.12,,<', which is not a valid version constraint.

  How to fix:
    Use a version such as `3.14` or `3.14.7`, or a PEP 440 range such as `>=3.12,<3.15`.""",
    ),
    "malformed pyproject.toml": (
        select({"pyproject.toml": "[project\n"}),
        """[Error: Invalid pyproject.toml]

  pyproject.toml is not valid TOML: Expected ']' at the end of a table declaration (at line 1, column 9)

  How to fix:
    Fix the syntax of pyproject.toml; `python -c "import tomllib; tomllib.load(open('pyproject.toml', 'rb'))"` shows the same error locally.""",
    ),
    "plain http mirror": (
        lambda root: resolve_source(
            "https://x/y", "0" * 64, {"BP_DEPENDENCY_MIRROR": "http://m"}, []
        ),
        """[Error: Invalid BP_DEPENDENCY_MIRROR]

  BP_DEPENDENCY_MIRROR must be an https:// or file:// URL, not http.

  How to fix:
    Point it at an HTTPS mirror or a file:// directory laid out like the original host.""",
    ),
    "checksum mismatch": (
        checksum,
        """[Error: Checksum mismatch for CPython 3.12.14]

  The file from file://ROOT/cpython.tar.gz has sha256 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad, but the buildpack expects 0000000000000000000000000000000000000000000000000000000000000000.

  How to fix:
    Retry the build. If it fails again, the server or mirror serves different bytes than the buildpack was released with: check BP_DEPENDENCY_MIRROR and dependency-mapping bindings, or use a buildpack version whose metadata matches.""",
    ),
    "unsafe pip variables": (
        lambda root: select_manager(
            app_with(root, {"requirements.txt": ""}), {"PIP_TARGET": "/x", "PIP_USER": "1"}, []
        ),
        """[Error: Unsafe environment variables found]

  PIP_TARGET, PIP_USER would make pip install outside the app's virtual environment, so the image would not contain the dependencies.

  How to fix:
    Unset PIP_TARGET, PIP_USER (pack build --env sets them; so can an earlier buildpack).""",
    ),
    "missing requirements file": (
        lambda root: select_manager(
            app_with(root, {"requirements.txt": ""}), {"BP_PIP_REQUIREMENT": "a.txt b.txt"}, []
        ),
        """[Error: Requirements file not found]

  BP_PIP_REQUIREMENT names a.txt, b.txt, which the app does not contain.

  How to fix:
    Fix the paths in BP_PIP_REQUIREMENT (space-separated, relative to the app root).""",
    ),
    "unsupported manager": (
        lambda root: select_manager(
            app_with(root, {"uv.lock": "", "requirements.txt": ""}), {}, []
        ),
        """[Error: uv projects aren't supported yet]

  The app has uv.lock, which this version of the buildpack cannot install from. It also has pip requirements, so which manager to use is ambiguous.

  How to fix:
    Install with pip for now: export the dependencies to requirements.txt,
      uv: `uv export --no-hashes --format requirements-txt -o requirements.txt`
    then remove the other manager's files, or leave them out of the build with `exclude` in the `[io.buildpacks]` table of project.toml.""",
    ),
    "malformed Procfile": (
        lambda root: app_processes(app_with(root, {"Procfile": "web gunicorn app:app\n"})),
        """[Error: Invalid Procfile]

  Line 1 of the Procfile is not `<type>: <command>`: 'web gunicorn app:app'

  How to fix:
    Write one process per line, for example `web: gunicorn app:app`.""",
    ),
    "unreadable Django settings": (
        collectstatic(FAKE_BAD_SETTINGS="1"),
        """[Error: Unable to read the Django settings]

  The command 'python -c <read STATIC_ROOT from the Django settings>' exited with status 1.

  The end of its output:
    Traceback (most recent call last):
      File "<string>", line 2, in <module>
      File "ROOT/django/conf.py", line 3, in <module>
        raise ImportError("No module named 'environ'")
    ImportError: No module named 'environ'

  How to fix:
    Make the settings importable at build time: read secrets and service URLs from the environment with build-safe defaults, or pass them with `pack build --env`. Set BP_DISABLE_COLLECTSTATIC=true to skip collectstatic.""",
    ),
    "collectstatic fails": (
        collectstatic(FAKE_STATIC_ROOT="staticfiles", FAKE_FAIL="1"),
        """[Error: Django's collectstatic failed]

  The command 'python manage.py collectstatic --noinput' exited with status 1.

  The end of its output:
    django.core.exceptions.ImproperlyConfigured: bad STORAGES

  How to fix:
    Fix the error in Django's output above; `python manage.py collectstatic --noinput` reproduces it locally. Set BP_DISABLE_COLLECTSTATIC=true to skip collectstatic.""",
    ),
    "STATIC_ROOT outside the app": (
        collectstatic(FAKE_STATIC_ROOT="/var/www/static"),
        """[Error: STATIC_ROOT is outside the app]

  STATIC_ROOT is /var/www/static: files collected there would not be in the image, which holds only the app directory and the buildpack's layers.

  How to fix:
    Point STATIC_ROOT into the app, e.g. `STATIC_ROOT = BASE_DIR / 'staticfiles'`.""",
    ),
    "not under a lifecycle": (
        lambda root: build_context([], {}),
        """[Error: Not run by a CNB lifecycle]

  The variable CNB_PLATFORM_DIR is not set and no legacy argument gives it.

  How to fix:
    Run this buildpack with a CNB platform, such as `pack build --buildpack <dir>`.""",
    ),
}


@pytest.mark.parametrize("case", list(GOLDEN))
def test_error_text(tmp_path, case):
    trigger, expected = GOLDEN[case]
    with pytest.raises(UserError) as error:
        trigger(tmp_path)
    assert error.value.render().replace(str(tmp_path), "ROOT") == expected
