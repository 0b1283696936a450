"""Golden text of the errors users see: the exact title, explanation and fix.

A change to any message must be deliberate, so these compare whole renders.
"""

from __future__ import annotations

import asyncio
import datetime
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from packaging.version import Version

from cnb_python import python_version as pv
from cnb_python.cnb.context import build_context
from cnb_python.download import Source, download, resolve_source
from cnb_python.errors import UserError
from cnb_python.log import Logger
from cnb_python.managers import select_manager, uv
from cnb_python.processes import app_processes
from cnb_python.run import run
from cnb_python.toolscripts import conda_env

AVAILABLE = [Version(v) for v in ("3.10.20", "3.11.16", "3.12.14", "3.13.15", "3.14.7")]
EOL = pv.parse_eol_table([{"version": "3.9", "date": "2025-10-31", "after": "error"}])


def app_with(root: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        (root / name).write_text(content)
    return root


def select(files: dict[str, str], env: dict[str, str] | None = None) -> Callable[[Path], object]:
    def run(root: Path) -> object:
        requests = pv.gather_requests(app_with(root, files), env or {}, "3.14")
        return pv.select_version(requests[0], [], AVAILABLE, EOL, datetime.date(2026, 11, 25))

    return run


def checksum(root: Path) -> None:
    (root / "cpython.tar.gz").write_bytes(b"abc")
    source = Source(f"file://{root}/cpython.tar.gz", "")
    download(source, "0" * 64, root / "out", what="CPython 3.12.14", log=Logger(io.StringIO()))


def uv_fails(message: str) -> Callable[[Path], object]:
    """uv's failure as the runner reports it, with uv's own message in its output."""

    def run_uv(root: Path) -> object:
        return run(
            ["sh", "-c", f"echo '{message}'; exit 2"],
            env={"PATH": "/usr/bin:/bin"},
            log=Logger(io.StringIO()),
            show="uv sync --locked --no-dev --no-editable",
            error_title="Unable to install dependencies using uv (sync)",
            error_fix="(the generic fix)",
            known_errors=uv.KNOWN_ERRORS,
        )

    return run_uv


def conda_fails(call: Callable[[Path], object]) -> Callable[[Path], object]:
    """A failure of the conda tool script, as the build reports it (a UserError from its
    result file)."""

    def run_script(root: Path) -> object:
        try:
            return call(root)
        except conda_env.Failure as failure:
            raise UserError(**failure.payload) from None

    return run_script


def _record(name: str, version: str, depends: list[str]) -> dict[str, object]:
    return {
        "name": name,
        "version": version,
        "build": "0",
        "build_number": 0,
        "depends": depends,
        "subdir": "noarch",
        "noarch": "generic",
        "timestamp": 1,
    }


def conda_solve(specs: list[str]) -> Callable[[Path], object]:
    """Solve `specs` against a tiny channel of repodata only: a needs b>=2, b has only 1.0."""

    def solve(root: Path) -> object:
        for subdir, packages in (
            (
                "noarch",
                {
                    "a-1.0-0.tar.bz2": _record("a", "1.0", ["b >=2"]),
                    "b-1.0-0.tar.bz2": _record("b", "1.0", []),
                },
            ),
            ("linux-64", {}),
        ):
            (root / "ch" / subdir).mkdir(parents=True)
            repodata = {"info": {"subdir": subdir}, "packages": packages}
            (root / "ch" / subdir / "repodata.json").write_text(json.dumps(repodata))
        return asyncio.run(conda_env.solve([f"file://{root}/ch"], specs, "linux-64", root))

    return solve


def conda_environment(text: str) -> Callable[[Path], object]:
    def read(root: Path) -> object:
        (root / "environment.yml").write_text(text)
        return conda_env.read_environment(root / "environment.yml", ["conda-forge"])

    return read


def conda_explicit(text: str) -> Callable[[Path], object]:
    def read(root: Path) -> object:
        (root / "package-list.txt").write_text(text)
        return conda_env.read_explicit(root / "package-list.txt")

    return read


def conda_condarc(root: Path) -> object:
    (root / ".condarc").write_text("channels: [a\n")
    return conda_env.read_condarc_channels(root / ".condarc")


def conda_checksum(root: Path) -> object:
    (root / "click-8.1.8-pyh_0.tar.bz2").write_bytes(b"abc")
    url = f"file://{root}/click-8.1.8-pyh_0.tar.bz2"
    (root / "downloads").mkdir()
    return conda_env.fetch_explicit([(url, "sha256", "0" * 64)], root / "downloads")


def conda_unreachable(root: Path) -> object:
    return asyncio.run(conda_env.solve(["http://127.0.0.1:9/ch"], ["python"], "linux-64", root))


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
            app_with(root, {"poetry.lock": "", "requirements.txt": ""}), {}, []
        ),
        """[Error: Poetry projects aren't supported yet]

  The app has poetry.lock, which this version of the buildpack cannot install from.

  How to fix:
    Install with pip for now: export the dependencies to requirements.txt,
      `poetry export -o requirements.txt` (the poetry-plugin-export plugin)
    then remove the Poetry files, or leave them out of the build with `exclude` in the `[io.buildpacks]` table of project.toml.""",
    ),
    "unknown forced manager": (
        lambda root: select_manager(
            app_with(root, {"requirements.txt": ""}), {"BP_PYTHON_PACKAGE_MANAGER": "npm"}, []
        ),
        """[Error: Unknown package manager in BP_PYTHON_PACKAGE_MANAGER]

  BP_PYTHON_PACKAGE_MANAGER is 'npm'.

  How to fix:
    Set BP_PYTHON_PACKAGE_MANAGER to one of pip, uv, poetry, pipenv, conda, or unset it to let the buildpack choose from the app's files.""",
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
    "stale uv.lock": (
        uv_fails(
            "error: The lockfile at `uv.lock` needs to be updated, but `--locked` was provided."
        ),
        """[Error: uv.lock is out of date]

  The command 'uv sync --locked --no-dev --no-editable' exited with status 2.

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

  The command 'uv sync --locked --no-dev --no-editable' exited with status 2.

  The end of its output:
    error: The lockfile at `uv.lock` uses an unsupported schema version (v2, but only v1 is supported).

  How to fix:
    Set BP_UV_VERSION to the uv version that wrote the lock (`uv --version`), or lock with the buildpack's uv.""",
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
            lambda root: conda_env.fetch_explicit(
                [(f"file://{root}/a-1-0.conda", "md5", "0")], root
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
