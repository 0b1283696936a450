"""Golden text of the errors users see: the exact title, explanation and fix.

A change to any message must be deliberate, so these compare whole renders.
"""

from __future__ import annotations

import asyncio
import datetime
import os
import shlex
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import fake_django
from golden import Golden, conda_fails, error_text_test, fails, repodata_channel
from packaging.version import Version
from standins import app_with, install_with, quiet_logger, stand_in_tool, tool_saying

from cnb_python import __main__
from cnb_python import python_version as pv
from cnb_python.cnb.bindings import read_bindings
from cnb_python.cnb.context import build_context
from cnb_python.django import collect_static
from cnb_python.download import Source, bundled_path, download, resolve_source
from cnb_python.managers import pip, pipenv, pipfile_lock, poetry, select_manager, uv
from cnb_python.managers.gate import check_settings
from cnb_python.processes import app_processes
from cnb_python.run import run as run_command
from cnb_python.toolscripts import conda_env

AVAILABLE = [Version(v) for v in ("3.10.20", "3.11.16", "3.12.14", "3.13.15", "3.14.7")]
REPO = Path(__file__).resolve().parents[1]
EOL = pv.parse_eol_table([{"version": "3.9", "date": "2025-10-31", "after": "error"}])


def app_with_bytes(root: Path, files: dict[str, bytes]) -> Path:
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
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
        today = datetime.date(2026, 11, 25)
        return pv.select_version(requests[0], [], AVAILABLE, EOL, today, requests[1:-1])

    return run


def corrupted_bundle(root: Path) -> None:
    url = "https://example.org/cpython-3.12.14.tar.gz"
    bundled = bundled_path(root, url, "0" * 64)
    bundled.parent.mkdir(parents=True)
    bundled.write_bytes(b"abc")
    source = resolve_source(url, "0" * 64, {}, [], buildpack_dir=root)
    download(source, "0" * 64, root / "out", what="CPython 3.12.14", log=quiet_logger())


def missing_vendored_module(root: Path) -> None:
    raise __main__.incomplete_buildpack("tomli_w")


def checksum(root: Path) -> None:
    (root / "cpython.tar.gz").write_bytes(b"abc")
    source = Source(f"file://{root}/cpython.tar.gz", "")
    download(source, "0" * 64, root / "out", what="CPython 3.12.14", log=quiet_logger())


def uv_fails(message: str) -> Callable[[Path], object]:
    """uv failing with `message`, run as the build runs it (a stand-in executable)."""

    def run_uv(root: Path) -> object:
        fake = stand_in_tool(root, "uv", f"echo {shlex.quote(message)}\nexit 2\n").executable
        command = [str(fake), "sync", "--locked", "--no-default-groups", "--no-editable"]
        log = quiet_logger()
        return uv.run_uv(command, env={"PATH": "/usr/bin:/bin"}, cwd=root, log=log, verb="sync")

    return run_uv


def conda_solve(specs: list[str]) -> Callable[[Path], object]:
    """Solve `specs` against a tiny channel of repodata only: a needs b>=2, b has only 1.0."""

    def solve(root: Path) -> object:
        packages = [("a", "1.0", ["b >=2"]), ("b", "1.0", [])]
        channel = repodata_channel(root / "ch", packages, ["linux-64"])
        condarc = conda_env.read_condarc(None)
        return asyncio.run(conda_env.solve([channel], specs, "linux-64", root, condarc))

    return solve


def conda_environment(text: str) -> Callable[[Path], object]:
    def read(root: Path) -> object:
        (root / "environment.yml").write_text(text)
        return conda_env.read_environment(root / "environment.yml")

    return read


def conda_explicit(text: str) -> Callable[[Path], object]:
    def read(root: Path) -> object:
        (root / "package-list.txt").write_text(text)
        return conda_env.read_explicit(root / "package-list.txt")

    return read


def conda_condarc(root: Path) -> object:
    (root / ".condarc").write_text("channels: [a\n")
    return conda_env.read_condarc(root / ".condarc")


def conda_defaults_off(root: Path) -> object:
    (root / ".condarc").write_text("channels:\n  - conda-forge\n  - nodefaults\n")
    condarc = conda_env.read_condarc(root / ".condarc")
    return conda_env.resolve_channels(["defaults"], ["conda-forge"], condarc)


def conda_unknown_channel(root: Path) -> object:
    """A channel name under a channel_alias whose index has no such channel."""
    (root / "alias" / "conda-forge" / "noarch").mkdir(parents=True)
    (root / ".condarc").write_text(f"channel_alias: file://{root}/alias\n")
    condarc = conda_env.read_condarc(root / ".condarc")
    return asyncio.run(conda_env.solve(["conda-forgee"], ["flask"], "linux-64", root, condarc))


def conda_checksum(root: Path) -> object:
    (root / "click-8.1.8-pyh_0.tar.bz2").write_bytes(b"abc")
    url = f"file://{root}/click-8.1.8-pyh_0.tar.bz2"
    (root / "downloads").mkdir()
    return asyncio.run(conda_env.fetch_explicit([(url, "sha256", "0" * 64)], root / "downloads"))


def conda_unreachable(root: Path) -> object:
    condarc = conda_env.read_condarc(None)
    return asyncio.run(
        conda_env.solve(["http://127.0.0.1:9/ch"], ["python"], "linux-64", root, condarc)
    )


PIPFILE = '[packages]\nsix = "*"\n'
LOCK = (
    '{"_meta": {"sources": [{"url": "https://${INDEX_HOST}/simple"}]}, '
    '"default": {"six": {"version": "==1.16.0", "hashes": ["sha256:1"]}}}'
)


def pipenv_install(
    files: dict[str, str], pipenv_says: str, pip_says: str = "", env: dict[str, str] | None = None
) -> Callable[[Path], object]:
    """The Pipenv manager's install with stand-ins for pipenv and pip that print what the real
    ones print; they fail when they print anything."""

    def install(root: Path) -> object:
        app = app_with(root, files)
        manager = pipenv.pipenv_manager(app, {}, [], pipenv.MANAGER.signals[0])
        tools = {
            "pipenv": tool_saying(root / "pipenv", "pipenv", pipenv_says),
            "pip": tool_saying(root / "pip", "pip", pip_says),
        }
        variables = {"PATH": "/usr/bin:/bin", **(env or {})}
        return install_with(manager, root / "venv", tools, variables)

    return install


def killed(signal_name: str) -> Callable[[Path], object]:
    """A tool that a signal ends after printing a line, as the runner reports it."""

    def run_tool(root: Path) -> object:
        return run_command(
            ["sh", "-c", f"echo 'Solving flask'; kill -{signal_name} $$"],
            env={"PATH": "/usr/bin:/bin"},
            log=quiet_logger(),
            show="py-rattler install (environment.yml)",
            error_title="Unable to create the conda environment",
            error_fix="(the generic fix)",
            known_errors={"Solving": ("(a tool error that must not apply)", "(its fix)")},
        )

    return run_tool


POETRY_EXPORT = "poetry export --format=requirements.txt --with-credentials --no-interaction"
POETRY_PROJECT = {"pyproject.toml": "[tool.poetry]\nname = 'x'\n"}


GOLDEN: Golden = {
    "version unavailable": (
        select({".python-version": "3.15"}),
        """[Error: The requested Python version isn't available]

  .python-version asks for Python '3.15', and no version this buildpack provides satisfies it.
  Available versions: 3.10.20, 3.11.16, 3.12.14, 3.13.15, 3.14.7.

  How to fix:
    Request one of the available versions in .python-version. A minor version such as `3.14` always gets the newest patch release.""",
    ),
    "conflicting python requirements": (
        select(
            {
                ".python-version": "3.13\n",
                "pyproject.toml": '[project]\nrequires-python = "3.12.*"\n',
                "poetry.lock": '[metadata]\npython-versions = "3.12.*"\n',
            }
        ),
        """[Error: Conflicting Python version requirements]

  .python-version asks for Python '3.13', but pyproject.toml requires '3.12.*'. No Python satisfies both, and the package manager would refuse to install the app on a Python outside its range.

  How to fix:
    Make them agree: change .python-version to a version that pyproject.toml allows, or change pyproject.toml to allow it.""",
    ),
    "conflicting python lock": (
        select({".python-version": "3.13", "uv.lock": 'requires-python = ">=3.10, <3.13"\n'}),
        """[Error: Conflicting Python version requirements]

  .python-version asks for Python '3.13', but uv.lock requires '>=3.10, <3.13'. No Python satisfies both, and the package manager would refuse to install the app on a Python outside its range.

  How to fix:
    Make them agree: change .python-version to a version that uv.lock allows, or regenerate uv.lock for the Python you want.""",
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
    "corrupted bundled file": (
        corrupted_bundle,
        """[Error: Corrupted bundled file for CPython 3.12.14]

  The buildpack's bundled file ROOT/dependencies/0000000000000000000000000000000000000000000000000000000000000000/cpython-3.12.14.tar.gz has sha256 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad, but the buildpack expects 0000000000000000000000000000000000000000000000000000000000000000.

  How to fix:
    The buildpack package is damaged. Download or package it again (scripts/package.sh --offline), recreate the builder, and rebuild.""",
    ),
    "missing vendored module": (
        missing_vendored_module,
        f"""[Error: The cnb-python buildpack is incomplete]

  The Python module 'tomli_w' is missing from {REPO}/vendor.

  How to fix:
    Use a complete checkout or package (vendor/ is committed; 'scripts/build.sh --force' regenerates it from requirements/runtime.txt).""",
    ),
    "unsafe pip variables": (
        lambda root: check_settings(
            pip.MANAGER, {"PIP_TARGET": "/x", "PIP_USER": "1"}, quiet_logger()
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
    Fix the paths in BP_PIP_REQUIREMENT (separated by spaces or commas, relative to the app root).""",
    ),
    "unknown forced manager": (
        lambda root: select_manager(
            app_with(root, {"requirements.txt": ""}), {"BP_PYTHON_PACKAGE_MANAGER": "npm"}, []
        ),
        """[Error: Unknown package manager in BP_PYTHON_PACKAGE_MANAGER]

  BP_PYTHON_PACKAGE_MANAGER is 'npm'.

  How to fix:
    Set BP_PYTHON_PACKAGE_MANAGER to one of uv, poetry, pdm, pipenv, pixi, conda, pylock, pip, or unset it to let the buildpack choose from the app's files.""",
    ),
    "forced manager without its files": (
        lambda root: select_manager(
            app_with(root, {"requirements.txt": ""}), {"BP_PYTHON_PACKAGE_MANAGER": "uv"}, []
        ),
        """[Error: No uv files found]

  BP_PYTHON_PACKAGE_MANAGER asks for uv, but the app has none of these: uv.lock, a pyproject.toml with [tool.uv].

  How to fix:
    Add the uv files to the app, or unset BP_PYTHON_PACKAGE_MANAGER.""",
    ),
    "uv project without uv.lock": (
        lambda root: select_manager(
            app_with(root, {"pyproject.toml": "[project]\nname = 'x'\n[tool.uv]\n"}), {}, []
        ),
        """[Error: uv.lock not found]

  The app is a uv project (pyproject.toml has [tool.uv], or BP_PYTHON_PACKAGE_MANAGER is uv), but it has no uv.lock. The build installs exactly what a lock says and never locks by itself.

  How to fix:
    Run `uv lock` and commit uv.lock.""",
    ),
    "uv.lock not TOML": (
        lambda root: select_manager(
            app_with(
                root, {"pyproject.toml": "[project]\n", "uv.lock": "version = 1\n[[package]\n"}
            ),
            {},
            [],
        ),
        """[Error: Invalid uv.lock]

  uv.lock is not valid TOML: Expected ']]' at the end of an array declaration (at line 2, column 10)

  How to fix:
    Fix the syntax of uv.lock; `python -c "import tomllib; tomllib.load(open('uv.lock', 'rb'))"` shows the same error locally.""",
    ),
    "uv requires-python unmet": (
        select(
            {"pyproject.toml": '[project]\nname = "x"\nrequires-python = ">=3.15"\n', "uv.lock": ""}
        ),
        """[Error: The requested Python version isn't available]

  pyproject.toml asks for Python '>=3.15', and no version this buildpack provides satisfies it.
  Available versions: 3.10.20, 3.11.16, 3.12.14, 3.13.15, 3.14.7.

  How to fix:
    Request one of the available versions in pyproject.toml. A minor version such as `3.14` always gets the newest patch release.""",
    ),
    "uv cannot download": (
        uv_fails("error: Failed to fetch: `http://127.0.0.1:9/simple/six/`"),
        """[Error: Unable to install dependencies using uv (sync)]

  The command 'uv sync --locked --no-default-groups --no-editable' exited with status 2.

  The end of its output:
    error: Failed to fetch: `http://127.0.0.1:9/simple/six/`

  How to fix:
    Read uv's output above: it names the package that could not be found, downloaded or built. Check the network and the index settings (UV_INDEX_URL, a `uv` binding), or run `uv sync --locked` locally.""",
    ),
    "stale uv.lock": (
        uv_fails(
            "error: The lockfile at `uv.lock` needs to be updated, but `--locked` was provided."
        ),
        """[Error: uv.lock is out of date]

  The command 'uv sync --locked --no-default-groups --no-editable' exited with status 2.

  The end of its output:
    error: The lockfile at `uv.lock` needs to be updated, but `--locked` was provided.

  How to fix:
    Run `uv lock` and commit the updated uv.lock. The build installs exactly what the lock says and never locks by itself.""",
    ),
    "uv.lock newer than uv": (
        uv_fails(
            "error: The lockfile at `uv.lock` uses an unsupported schema version (v2, but only v1 is supported)."
        ),
        """[Error: uv.lock is newer than this buildpack's uv]

  The command 'uv sync --locked --no-default-groups --no-editable' exited with status 2.

  The end of its output:
    error: The lockfile at `uv.lock` uses an unsupported schema version (v2, but only v1 is supported).

  How to fix:
    Set BP_UV_VERSION to the uv version that wrote the lock (`uv --version`), or lock with the buildpack's uv.""",
    ),
    "poetry project without poetry.lock": (
        lambda root: select_manager(app_with(root, POETRY_PROJECT), {}, []),
        """[Error: poetry.lock not found]

  The app is a Poetry project (pyproject.toml has [tool.poetry], or BP_PYTHON_PACKAGE_MANAGER is poetry), but it has no poetry.lock. The build installs exactly what a lock says and never locks by itself.

  How to fix:
    Run `poetry lock` and commit poetry.lock.""",
    ),
    "poetry.lock not TOML": (
        lambda root: select_manager(
            app_with(root, {**POETRY_PROJECT, "poetry.lock": "[[package]]\nname = \n"}), {}, []
        ),
        """[Error: Invalid poetry.lock]

  poetry.lock is not valid TOML: Invalid value (at line 2, column 8)

  How to fix:
    Fix the syntax of poetry.lock; `python -c "import tomllib; tomllib.load(open('poetry.lock', 'rb'))"` shows the same error locally.""",
    ),
    "unknown Poetry group": (
        lambda root: select_manager(
            app_with(
                root,
                {
                    "pyproject.toml": "[tool.poetry.group.web.dependencies]\n",
                    "poetry.lock": "",
                },
            ),
            {"BP_POETRY_INSTALL_ONLY": "main,wbe"},
            [],
        ),
        """[Error: Unknown Poetry group in BP_POETRY_INSTALL_ONLY]

  BP_POETRY_INSTALL_ONLY names wbe, which pyproject.toml does not define. Its groups: main, web.

  How to fix:
    Set BP_POETRY_INSTALL_ONLY to groups pyproject.toml defines (comma-separated), or unset it.""",
    ),
    "Poetry package without build system": (
        lambda root: select_manager(app_with(root, {**POETRY_PROJECT, "poetry.lock": ""}), {}, []),
        """[Error: Poetry package mode needs [build-system]]

  pyproject.toml is in Poetry's package mode (the default), so the build installs the project itself with pip, which builds it with the [build-system] backend; pyproject.toml has none.

  How to fix:
    Add the table `poetry new` writes:
      [build-system]
      requires = ["poetry-core>=2.0.0,<3.0.0"]
      build-backend = "poetry.core.masonry.api"
    or, for an app that is not a package, set `package-mode = false` in [tool.poetry].""",
    ),
    "Poetry git dependency": (
        lambda root: select_manager(
            app_with(
                root,
                {
                    **POETRY_PROJECT,
                    "poetry.lock": '[[package]]\nname = "lib"\n'
                    '[package.source]\ntype = "git"\nurl = "https://example.com/lib.git"\n',
                },
            ),
            {},
            [],
        ),
        """[Error: Poetry git dependencies aren't supported]

  poetry.lock installs lib from a git dependency (https://example.com/lib.git). The build installs every locked package with its hash checked, and a git checkout has no hash.

  How to fix:
    Depend on a released version from an index, vendor the package as a wheel (a `file` dependency on a .whl in the app has a hash in the lock), or put it in the app and depend on its path.""",
    ),
    "stale poetry.lock": (
        fails(
            POETRY_EXPORT,
            "Unable to export poetry.lock",
            poetry.KNOWN_ERRORS,
            "pyproject.toml changed significantly since poetry.lock was last generated. "
            "Run `poetry lock` to fix the lock file.",
        ),
        """[Error: poetry.lock is out of date]

  The command 'poetry export --format=requirements.txt --with-credentials --no-interaction' exited with status 1.

  The end of its output:
    pyproject.toml changed significantly since poetry.lock was last generated. Run `poetry lock` to fix the lock file.

  How to fix:
    Run `poetry lock` and commit the updated poetry.lock. The build installs exactly what the lock says and never locks by itself.""",
    ),
    "poetry.lock newer than Poetry": (
        fails(
            POETRY_EXPORT,
            "Unable to export poetry.lock",
            poetry.KNOWN_ERRORS,
            "The lock file is not compatible with the current version of Poetry.",
            "Upgrade Poetry to be able to read the lock file or, alternatively, regenerate the "
            "lock file with the `poetry lock` command.",
        ),
        """[Error: poetry.lock is newer than this buildpack's Poetry]

  The command 'poetry export --format=requirements.txt --with-credentials --no-interaction' exited with status 1.

  The end of its output:
    The lock file is not compatible with the current version of Poetry.
    Upgrade Poetry to be able to read the lock file or, alternatively, regenerate the lock file with the `poetry lock` command.

  How to fix:
    Set BP_POETRY_VERSION to the Poetry version that wrote the lock (`poetry --version`), or lock with the buildpack's Poetry.""",
    ),
    "locked hash mismatch": (
        fails(
            "pip install --no-input --disable-pip-version-check --no-compile --progress-bar=off --no-cache-dir --require-hashes --no-deps --requirement /tmp/cnb-python-poetry-1/requirements.txt",
            "Unable to install dependencies using pip",
            poetry.PIP_KNOWN_ERRORS,
            "ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE. If you "
            "have updated the package versions, please update the hashes. Otherwise, examine "
            "the package contents carefully; someone may have tampered with them.",
            "    six==1.17.0 from https://files.example/six-1.17.0-py2.py3-none-any.whl:",
            "        Expected sha256 " + "0" * 64,
            "             Got        "
            + "4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274",
        ),
        """[Error: A locked package does not match its hash]

  The command 'pip install --no-input --disable-pip-version-check --no-compile --progress-bar=off --no-cache-dir --require-hashes --no-deps --requirement /tmp/cnb-python-poetry-1/requirements.txt' exited with status 1.

  The end of its output:
    ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE. If you have updated the package versions, please update the hashes. Otherwise, examine the package contents carefully; someone may have tampered with them.
        six==1.17.0 from https://files.example/six-1.17.0-py2.py3-none-any.whl:
            Expected sha256 0000000000000000000000000000000000000000000000000000000000000000
                 Got        4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274

  How to fix:
    The file the index serves is not the one poetry.lock was made from. If the package was re-uploaded or the index is a mirror that rebuilt it, run `poetry lock` against the index the build uses and commit poetry.lock; otherwise check the index settings ([[tool.poetry.source]], PIP_INDEX_URL).""",
    ),
    "stale Pipfile.lock": (
        pipenv_install(
            {"Pipfile": PIPFILE, "Pipfile.lock": LOCK},
            "Pipfile.lock is out-of-date. Run $ pipenv lock to update.",
        ),
        """[Error: Pipfile.lock is out of date]

  The command 'pipenv verify' exited with status 1.

  The end of its output:
    Pipfile.lock is out-of-date. Run $ pipenv lock to update.

  How to fix:
    Run `pipenv lock` and commit the updated Pipfile.lock. The build installs exactly what the lock says, and its `_meta.hash` must match the Pipfile (as `pipenv install --deploy` checks).""",
    ),
    "Pipfile.lock not JSON": (
        lambda root: select_manager(
            app_with(root, {"Pipfile": PIPFILE, "Pipfile.lock": '{"_meta": {\n  "hash": }'}),
            {},
            [],
        ),
        """[Error: Invalid Pipfile.lock]

  Pipfile.lock is not valid JSON: Expecting value: line 2 column 11 (char 22)

  How to fix:
    Regenerate it with `pipenv lock`.""",
    ),
    "Pipfile not TOML": (
        lambda root: select_manager(app_with(root, {"Pipfile": "[packages]\nsix = \n"}), {}, []),
        """[Error: Invalid Pipfile]

  Pipfile is not valid TOML: Invalid value (at line 2, column 7)

  How to fix:
    Fix the syntax of Pipfile; `python -c "import tomllib; tomllib.load(open('Pipfile', 'rb'))"` shows the same error locally.""",
    ),
    "Pipfile.lock without Pipfile": (
        lambda root: select_manager(app_with(root, {"Pipfile.lock": LOCK}), {}, []),
        """[Error: Pipfile not found]

  The app has Pipfile.lock but no Pipfile, which `pipenv verify` checks the lock against.

  How to fix:
    Commit the Pipfile that Pipfile.lock was made from.""",
    ),
    "locked hash not what the index serves": (
        pipenv_install(
            {"Pipfile": PIPFILE, "Pipfile.lock": LOCK},
            "",
            "ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE.",
            env={"INDEX_HOST": "pypi.org"},
        ),
        """[Error: A package does not match the hashes in Pipfile.lock]

  The command 'pip install --require-hashes --no-deps --requirement <Pipfile.lock default>' exited with status 1.

  The end of its output:
    ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE.

  How to fix:
    The index served a file whose sha256 Pipfile.lock does not list (pip's output above names it). If the package was re-released, run `pipenv lock` and commit Pipfile.lock; otherwise check the index or mirror the build uses.""",
    ),
    "locked package without hashes": (
        pipenv_install(
            {"Pipfile": PIPFILE, "Pipfile.lock": LOCK},
            "",
            "ERROR: Hashes are required in --require-hashes mode, but they are missing",
            env={"INDEX_HOST": "pypi.org"},
        ),
        """[Error: Pipfile.lock has a package without hashes]

  The command 'pip install --require-hashes --no-deps --requirement <Pipfile.lock default>' exited with status 1.

  The end of its output:
    ERROR: Hashes are required in --require-hashes mode, but they are missing

  How to fix:
    A package the image needs was locked on another platform, so Pipfile.lock has no hashes for it (pip's output above names it). Run `pipenv lock` on Linux and commit Pipfile.lock.""",
    ),
    "Pipfile source variable not set": (
        pipenv_install({"Pipfile": PIPFILE, "Pipfile.lock": LOCK}, ""),
        """[Error: Pipfile source variable not set]

  A [[source]] URL in Pipfile.lock uses ${INDEX_HOST}, which is not set in the build environment or a `pipenv` binding.

  How to fix:
    Set INDEX_HOST at build time (pack build --env INDEX_HOST=...), or add it as an entry of a binding of type `pipenv`.""",
    ),
    "Pipfile that cannot be locked": (
        pipenv_install(
            {"Pipfile": PIPFILE}, "CRITICAL: Could not find a version that matches six==99"
        ),
        """[Error: Unable to lock the Pipfile]

  The command 'pipenv lock' exited with status 1.

  The end of its output:
    CRITICAL: Could not find a version that matches six==99

  How to fix:
    Read Pipenv's output above: it names the requirement that could not be resolved. Run `pipenv lock` locally, fix the Pipfile, and commit Pipfile.lock so the build installs from it.""",
    ),
    "Pipfile.lock git entry": (
        pipenv_install(
            {
                "Pipfile": PIPFILE,
                "Pipfile.lock": '{"_meta": {}, "default": {"six": {"git": "https://x/six.git"}}}',
            },
            "",
        ),
        """[Error: Pipfile.lock entry can't be installed with hashes]

  Pipfile.lock installs six from a git reference, which has no hashes to check, so the build cannot install it reproducibly.

  How to fix:
    Publish six to a package index (or vendor/ as a wheel) and depend on a version.""",
    ),
    "Pipfile.lock path outside the app": (
        lambda root: select_manager(
            app_with(
                root,
                {
                    "Pipfile": PIPFILE,
                    "Pipfile.lock": '{"_meta": {}, "default": {"lib": {"path": "../lib"}}}',
                },
            ),
            {},
            [],
        ),
        """[Error: Pipfile.lock installs a path outside the app]

  Pipfile.lock installs lib from '../lib', which is not a directory inside the app, so the build cannot see it.

  How to fix:
    Move lib into the app directory, or publish it and depend on a version.""",
    ),
    "Pipenv category not in the lock": (
        lambda root: select_manager(
            app_with(root, {"Pipfile": PIPFILE, "Pipfile.lock": LOCK}),
            {"BP_PIPENV_INSTALL_CATEGORIES": "docs"},
            [],
        ),
        """[Error: Pipenv category not found in Pipfile.lock]

  BP_PIPENV_INSTALL_CATEGORIES asks for docs, which Pipfile.lock does not have (it has: default).

  How to fix:
    Name categories of the Pipfile (packages, dev-packages or a custom one) in BP_PIPENV_INSTALL_CATEGORIES, or run `pipenv lock` after adding the category.""",
    ),
    "Pipfile python_version unavailable": (
        select({"Pipfile": '[requires]\npython_version = "3.8"\n'}),
        """[Error: The requested Python version isn't available]

  Pipfile asks for Python '3.8', and no version this buildpack provides satisfies it.
  Available versions: 3.10.20, 3.11.16, 3.12.14, 3.13.15, 3.14.7.

  How to fix:
    Request one of the available versions in Pipfile. A minor version such as `3.14` always gets the newest patch release.""",
    ),
    "malformed Procfile": (
        lambda root: app_processes(app_with(root, {"Procfile": "web gunicorn app:app\n"})),
        """[Error: Invalid Procfile]

  Line 1 of the Procfile is not `<type>: <command>`: 'web gunicorn app:app'

  How to fix:
    Write one process per line, for example `web: gunicorn app:app`.""",
    ),
    "conda invalid yaml": (
        conda_fails(conda_environment("dependencies:\n  - python\n   - flask: [\n")),
        """[Error: Invalid environment.yml]

  environment.yml is not valid YAML (at line 3, column 11): mapping values are not allowed here.

  How to fix:
    Fix the YAML at that line: indent list items under `dependencies:` with `- `, and quote values that contain `: `.""",
    ),
    "conda package not found": (
        conda_fails(conda_solve(["nosuchpkg"])),
        """[Error: Conda package not found]

  No channel has a package the environment asks for:
  Cannot solve the request because of: No candidates were found for nosuchpkg *.

  How to fix:
    Check the spelling and version of the package, and that one of the channels (file://ROOT/ch) has it for linux-64 or noarch.""",
    ),
    "conda conflicting specs": (
        conda_fails(conda_solve(["a", "b <2"])),
        """[Error: Conflicting conda specs]

  The dependencies cannot be installed together:
  Cannot solve the request because of: a * cannot be installed because there are no viable options:
  └─ a 1.0 would require
     └─ b >=2, for which no candidates were found.

  How to fix:
    Relax the version pins named above so that one set of packages satisfies all of them, and check it locally with `conda env create --dry-run -f environment.yml`.""",
    ),
    "conda unreachable channel": (
        conda_fails(conda_unreachable),
        """[Error: Unable to reach a conda channel]

  The channel index could not be read: Request failed after 3 retries
  Caused by: error sending request for url (http://127.0.0.1:9/ch/<subdir>/repodata)
  Caused by: client error (Connect)
  Caused by: tcp connect error
  Caused by: Connection refused (os error 111)

  How to fix:
    Check the channel names and URLs in environment.yml (or BP_CONDA_DEFAULT_CHANNELS), the network, and the credentials of a `conda` binding.""",
    ),
    "conda bad checksum": (
        conda_fails(conda_checksum),
        """[Error: Conda package checksum mismatch]

  file://ROOT/click-8.1.8-pyh_0.tar.bz2
  has sha256 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad,
  but package-list.txt expects 0000000000000000000000000000000000000000000000000000000000000000.

  How to fix:
    The package changed or the list is wrong: export it again with `conda list --explicit --sha256 > package-list.txt`.""",
    ),
    "conda invalid spec": (
        conda_fails(conda_solve(["a >>1"])),
        """[Error: Invalid package spec in environment.yml]

  unable to parse version spec: >>1

  How to fix:
    Write each dependency as conda does, e.g. `flask`, `flask=3.1` or `flask>=3,<4`.""",
    ),
    "conda environment without dependencies": (
        conda_fails(conda_environment("name: app\n")),
        """[Error: Invalid environment.yml]

  environment.yml must be a mapping with a `dependencies` list.

  How to fix:
    Write it as `conda env export --from-history` does: `name`, `channels` and `dependencies` (with an optional `pip:` list inside).""",
    ),
    "conda channels not a list": (
        conda_fails(conda_environment("channels: conda-forge\ndependencies: [python]\n")),
        """[Error: Invalid environment.yml]

  `channels` in environment.yml must be a list of channel names or URLs.

  How to fix:
    Write each channel on its own `- ` line, e.g. `- conda-forge`.""",
    ),
    "conda unexpected dependency": (
        conda_fails(conda_environment("dependencies:\n  - python\n  - {npm: [x]}\n")),
        """[Error: Invalid environment.yml]

  Unexpected entry in `dependencies`: {'npm': ['x']}.

  How to fix:
    Each dependency is a conda spec such as `flask=3.1` or one `pip:` list.""",
    ),
    "conda list not explicit": (
        conda_fails(conda_explicit("https://x/a-1-0.conda\n")),
        """[Error: Invalid package-list.txt]

  package-list.txt has no `@EXPLICIT` line, so it is not a `conda list --explicit` file.

  How to fix:
    Make it with `conda list --explicit --sha256 > package-list.txt`.""",
    ),
    "conda list bad line": (
        conda_fails(conda_explicit("@EXPLICIT\nhttps://x/a-1-0.conda\n")),
        """[Error: Invalid package-list.txt]

  Line 2 is not a package URL with a checksum: 'https://x/a-1-0.conda'.

  How to fix:
    Each line after @EXPLICIT is URL#sha256:DIGEST (or URL#MD5), as `conda list --explicit --sha256` writes it.""",
    ),
    "conda download failed": (
        conda_fails(
            lambda root: asyncio.run(
                conda_env.fetch_explicit([(f"file://{root}/a-1-0.conda", "md5", "0")], root)
            )
        ),
        """[Error: Unable to download a conda package]

  file://ROOT/a-1-0.conda could not be downloaded: <urlopen error [Errno 2] No such file or directory: 'ROOT/a-1-0.conda'>

  How to fix:
    Check the URL in package-list.txt, the network, and the channel credentials.""",
    ),
    "conda without python": (
        conda_fails(lambda root: conda_env.require_python(["flask"], "environment.yml")),
        """[Error: No python in the conda environment]

  environment.yml does not install the `python` package, so the app would have no Python.

  How to fix:
    Add python to the dependencies, e.g. `- python=3.12`.""",
    ),
    "conda defaults turned off": (
        conda_fails(conda_defaults_off),
        """[Error: The `defaults` channel is turned off]

  The app's channels include `defaults`, but the conda binding's .condarc turns it off (`nodefaults` in its channels, or an empty `default_channels`).

  How to fix:
    Name the channels the app needs instead of `defaults` (e.g. `conda-forge`), or set `default_channels` in the binding's .condarc.""",
    ),
    "conda unknown channel": (
        conda_fails(conda_unknown_channel),
        """[Error: Unknown conda channel]

  The channel file://ROOT/alias/conda-forgee/ does not exist: its index (file://ROOT/alias/conda-forgee/noarch/repodata.json) was not found.

  How to fix:
    Check the spelling of the channel in environment.yml (or in BP_CONDA_DEFAULT_CHANNELS or the binding's .condarc): a name such as `conda-forge` means https://conda.anaconda.org/conda-forge/.""",
    ),
    "conda invalid condarc": (
        conda_fails(conda_condarc),
        """[Error: Invalid .condarc in the conda binding]

  The binding's .condarc is not valid YAML: while parsing a flow sequence
    in "<unicode string>", line 1, column 11:
      channels: [a
                ^
  expected ',' or ']', but got '<stream end>'
    in "<unicode string>", line 2, column 1:

      ^

  How to fix:
    Fix the .condarc entry of the binding of type `conda`.""",
    ),
    "Pipfile.lock section that is not a table": (
        lambda root: pipfile_lock.export_requirements(
            {"_meta": {}, "default": []}, ["default"], {}, offline=False
        ),
        """[Error: Invalid Pipfile.lock]

  In Pipfile.lock, its default section is not a table.

  How to fix:
    Regenerate it with `pipenv lock`.""",
    ),
    "Pipfile.lock hashes that are not strings": (
        lambda root: pipfile_lock.export_requirements(
            {"_meta": {}, "default": {"six": {"hashes": [1]}}}, ["default"], {}, offline=False
        ),
        """[Error: Invalid Pipfile.lock]

  In Pipfile.lock, the hashes of six is not a list of strings.

  How to fix:
    Regenerate it with `pipenv lock`.""",
    ),
    "binding file that is not UTF-8": (
        lambda root: read_bindings([app_with_bytes(root, {"b/type": b"pip\x80"})]),
        """[Error: Unable to read the binding b]

  Its file type is not valid UTF-8 text (invalid start byte at byte 3).

  How to fix:
    Write type of the binding as plain UTF-8 text.""",
    ),
    "environment.yml that is not UTF-8": (
        conda_fails(
            lambda root: conda_env.read_environment(
                app_with_bytes(root, {"environment.yml": b"\xff"}) / "environment.yml"
            )
        ),
        """[Error: Unable to read environment.yml]

  environment.yml is not valid UTF-8 text (invalid start byte at byte 0).

  How to fix:
    Save environment.yml as plain UTF-8 text.""",
    ),
    "unreadable Django settings": (
        collectstatic(FAKE_BAD_SETTINGS="1"),
        """[Error: Unable to read the Django settings]

  The command 'python -c <read STATIC_ROOT from the Django settings>' exited with status 1.

  The end of its output:
    Traceback (most recent call last):
      File "<string>", line 3, in <module>
      File "ROOT/django/conf.py", line 3, in <module>
        raise ImportError("No module named 'environ'")
    ImportError: No module named 'environ'

  How to fix:
    Make the settings importable at build time: read secrets and service URLs from the environment with build-safe defaults, or pass them with `pack build --env`. Set BP_DISABLE_COLLECTSTATIC=true to skip collectstatic.""",
    ),
    "Django settings that exit when imported": (
        collectstatic(FAKE_SETTINGS_EXIT="1"),
        """[Error: Unable to read the Django settings]

  Reading STATIC_ROOT from the Django settings ended before it was read: the settings module exits when it is imported.

  The end of its output:
    settings: nothing to do here

  How to fix:
    Make the settings importable at build time: read secrets and service URLs from the environment with build-safe defaults, or pass them with `pack build --env`. Set BP_DISABLE_COLLECTSTATIC=true to skip collectstatic.""",
    ),
    "collectstatic times out": (
        collectstatic(FAKE_HANG="/dev/null", BP_COLLECTSTATIC_TIMEOUT="0.5"),
        """[Error: Django's collectstatic timed out]

  The command 'python -c <read STATIC_ROOT from the Django settings>' was stopped: the step's deadline of 0.5 seconds passed.

  How to fix:
    The Django settings may wait for a database or another service at import: make them importable at build time without one (read service URLs from the environment with build-safe defaults). Raise BP_COLLECTSTATIC_TIMEOUT (seconds) if it only needs more time, or set BP_DISABLE_COLLECTSTATIC=true to skip collectstatic.""",
    ),
    "invalid BP_COLLECTSTATIC_TIMEOUT": (
        collectstatic(BP_COLLECTSTATIC_TIMEOUT="10m"),
        """[Error: Invalid BP_COLLECTSTATIC_TIMEOUT]

  BP_COLLECTSTATIC_TIMEOUT is '10m', not a number of seconds above 0.

  How to fix:
    Set BP_COLLECTSTATIC_TIMEOUT to the seconds collectstatic may take, e.g. 1200, or unset it for the default (600).""",
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
    "tool killed by a crash": (
        killed("SEGV"),
        """[Error: Unable to create the conda environment: killed by SIGSEGV]

  The command 'py-rattler install (environment.yml)' was killed by SIGSEGV (Segmentation fault).

  The end of its output:
    Solving flask

  How to fix:
    The tool crashed: this is a bug in the tool or the buildpack, not in the app. Please report it with the build log.""",
    ),
    "tool killed from outside": (
        killed("KILL"),
        """[Error: Unable to create the conda environment: killed by SIGKILL]

  The command 'py-rattler install (environment.yml)' was killed by SIGKILL (Killed).

  The end of its output:
    Solving flask

  How to fix:
    SIGKILL usually means the build ran out of memory (the kernel's OOM killer) or was stopped from outside. Give the build container more memory, or build fewer packages from source at once.""",
    ),
}


test_error_text = error_text_test(GOLDEN)


def shim_error(tmp_path: Path, remove: str | None, path: str = os.environ["PATH"]) -> str:
    """Run bin/detect of a copy of the buildpack that lacks `remove`; return its stderr."""
    copy = tmp_path / "bp"
    for part in ("bin", "cnb_python", "vendor"):
        shutil.copytree(REPO / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
    if remove:
        shutil.rmtree(copy / remove)
    app, platform = tmp_path / "app", tmp_path / "platform"
    app.mkdir()
    (platform / "env").mkdir(parents=True)
    (app / "app.py").write_text("")
    env = {
        "PATH": path,
        "CNB_PLATFORM_DIR": str(platform),
        "CNB_BUILD_PLAN_PATH": str(tmp_path / "plan.toml"),
        "CNB_BUILDPACK_DIR": str(copy),
    }
    proc = subprocess.run(
        [copy / "bin/detect"], cwd=app, env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 1
    return proc.stderr.replace(str(copy), "BP")


def test_shim_error_text_for_a_missing_vendor_dir(tmp_path):
    assert shim_error(tmp_path, "vendor") == (
        """[Error: The cnb-python buildpack is incomplete]

  BP/vendor/.requirements.sha256 is missing, so the buildpack cannot run.

  How to fix:
    Use a complete checkout or package (vendor/ is committed; 'scripts/build.sh' regenerates it), or 'git checkout -- vendor cnb_python' if files were deleted.
"""
    )


def test_a_missing_vendored_module_is_a_titled_error_not_an_internal_one(tmp_path):
    stderr = shim_error(tmp_path, "vendor/tomli_w")
    assert stderr.lstrip().startswith("[Error: The cnb-python buildpack is incomplete]"), stderr
    assert "'tomli_w' is missing from BP/vendor" in stderr


def test_shim_error_text_without_any_python(tmp_path):
    assert shim_error(tmp_path, None, path="/nonexistent") == (
        """[Error: No Python to run the cnb-python buildpack]

  This builder has no python3 3.9+ on PATH and the buildpack bundles none (runtime/).

  How to fix:
    Use the packaged buildpack (scripts/package.sh bundles a CPython), or a builder image with python3 3.9+.
"""
    )
