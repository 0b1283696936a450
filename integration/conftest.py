"""End-to-end builds on the local platform.

A session builds relocatable CPython tarballs from the interpreters on this machine (cached
under .cache/), serves them over local HTTP, and makes a test copy of the buildpack whose
CPython metadata points at them with their real sha256. pip and packages come from PyPI.
The tarballs have PBS's build-time quirks (prefix /install; clang on amd64), so every build
runs on a PBS-like Python with the builder's gcc.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from testsupport.buildpack import make_test_buildpack
from testsupport.condachannel import Channel, build_channel
from testsupport.cpython import CLEAN, TestCPython, build_available, build_minor
from testsupport.pixilock import GUNICORN, PACKAGING, LockedEnvironment, write_pixi_lock
from testsupport.server import DownloadServer

from localcnb import BuildResult, Platform
from localcnb.run import Running

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = Path(__file__).parents[1] / "samples"
BP_ID = "cnb-python/python"
VENV = "/layers/cnb-python_python/venv"
GRACE_PERIOD = 10.0  # docker stop's default, before SIGKILL
# The default CPython of the test buildpack: a minor whose pip (pinned in buildpack.toml) works.
TEST_DEFAULT_PYTHON = "3.12"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def test_cpythons() -> list[TestCPython]:
    return build_available()


@pytest.fixture(scope="session")
def cpython_server(test_cpythons: list[TestCPython]) -> Iterator[DownloadServer]:
    with DownloadServer(test_cpythons[0].path.parent) as server:
        yield server


@pytest.fixture(scope="session")
def buildpack(
    tmp_path_factory: pytest.TempPathFactory,
    cpython_server: DownloadServer,
    test_cpythons: list[TestCPython],
) -> Path:
    return make_test_buildpack(
        tmp_path_factory.mktemp("buildpack") / "cnb-python",
        base_url=cpython_server.base_url,
        cpythons=test_cpythons,
        default_python=TEST_DEFAULT_PYTHON,
    )


def _variant(
    tmp_path_factory: pytest.TempPathFactory,
    cpython_server: DownloadServer,
    test_cpythons: list[TestCPython],
    name: str,
    **options: bool,
) -> Path:
    """The test buildpack with one of make_test_buildpack's switches off."""
    return make_test_buildpack(
        tmp_path_factory.mktemp(name) / "cnb-python",
        base_url=cpython_server.base_url,
        cpythons=test_cpythons,
        default_python=TEST_DEFAULT_PYTHON,
        **options,
    )


@pytest.fixture(scope="session")
def unpatched_buildpack(
    tmp_path_factory: pytest.TempPathFactory,
    cpython_server: DownloadServer,
    test_cpythons: list[TestCPython],
) -> Path:
    """The test buildpack with its build settings patch disabled: what PBS's files do alone."""
    return _variant(
        tmp_path_factory, cpython_server, test_cpythons, "unpatched", patch_build_settings=False
    )


@pytest.fixture(scope="session")
def unwrapped_buildpack(
    tmp_path_factory: pytest.TempPathFactory,
    cpython_server: DownloadServer,
    test_cpythons: list[TestCPython],
) -> Path:
    """The test buildpack whose installs run the compilers without the toolchain shims."""
    return _variant(
        tmp_path_factory, cpython_server, test_cpythons, "unwrapped", wrap_toolchain=False
    )


@pytest.fixture(scope="session")
def clean_buildpack(
    tmp_path_factory: pytest.TempPathFactory, cpython_server: DownloadServer
) -> Path:
    """The test buildpack with one CPython of the clean variant: its own prefix and gcc."""
    clean = build_minor(TEST_DEFAULT_PYTHON, cpython_server.root, CLEAN)
    return make_test_buildpack(
        tmp_path_factory.mktemp("clean") / "cnb-python",
        base_url=cpython_server.base_url,
        cpythons=[clean],
    )


# Run in the image: every file of the buildpack's launch layers that holds "s3cret-token".
LEAKED_SECRET = """
import os, sys
hits = []
for d, _, fs in os.walk(os.path.dirname(sys.prefix)):
    for n in fs:
        p = os.path.join(d, n)
        if not os.path.islink(p) and b"s3cret-token" in open(p, "rb").read():
            hits.append(p)
print(hits)
"""


def http_get(url: str) -> str:
    """The body of a GET to an app the test started."""
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def sigterm(running: Running, wait: float = GRACE_PERIOD) -> tuple[int | None, float]:
    """SIGTERM to the container's PID 1 only, as `docker stop` sends it: (exit status, seconds
    it took), or (None, wait) when the process still runs after `wait` seconds."""
    started = time.monotonic()
    os.kill(running.pid, signal.SIGTERM)
    try:
        code = running.proc.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        return None, wait
    return code, time.monotonic() - started


def assert_reproducible(app: Path, buildpack: Path, *options: str, timeout: int = 1200) -> None:
    """scripts/verify-reproducible APP OPTIONS with `buildpack`, as CI runs it on the samples:
    it must end REPRODUCIBLE."""
    script = SAMPLES.parent / "scripts" / "verify-reproducible"
    proc = subprocess.run(
        [script, app, *options, "--buildpack", buildpack],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert "RESULT: REPRODUCIBLE" in proc.stdout


def free_port() -> int:
    """A TCP port nothing listens on now, so parallel test runs never share one."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpython_version(cpythons: list[TestCPython], minor: str) -> str:
    return next(c.version for c in cpythons if c.minor == minor)


class App:
    """A platform with its own cache and previous image, and a copy of one app."""

    def __init__(self, root: Path, buildpack: Path, source: Path | None = None) -> None:
        self.dir = root / "app"
        if source:
            shutil.copytree(source, self.dir, symlinks=True)
        else:
            self.dir.mkdir(parents=True)
        self.platform = Platform(root / "platform", [buildpack])

    def write(self, files: dict[str, str]) -> App:
        for name, content in files.items():
            path = self.dir / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
        return self

    def build(self, **kwargs: object) -> BuildResult:
        return self.platform.build(self.dir, **kwargs)  # type: ignore[arg-type]

    def build_ok(self, **kwargs: object) -> BuildResult:
        result = self.build(**kwargs)
        assert result.success, result.output
        return result

    def bytecode_misses(self, imports: str) -> tuple[int, list[str]]:
        """Import `imports` in the image under `python -v`: (modules loaded from a pyc, lines
        where Python found a pyc stale or missing and tried to write one).

        PYTHONPYCACHEPREFIX cannot show this: Python then also *reads* pycs only from the
        prefix, so it would recompile everything. The run uid cannot write into layers, so a
        stale or missing pyc shows up as "could not create" (or "bytecode is stale")."""
        proc = self.platform.run(command=["python", "-v", "-c", f"import {imports}"], timeout=120)
        assert proc.returncode == 0, proc.stderr[-3000:]
        lines = proc.stderr.splitlines()
        hits = sum("# code object from '/layers/" in line for line in lines)
        misses = [
            line
            for line in lines
            if "bytecode is stale" in line or "could not create" in line or "# created" in line
        ]
        return hits, misses

    def homepage(self) -> str:
        """The body of GET / from the app's default process."""
        port = free_port()
        with self.platform.start(env={"PORT": str(port)}) as running:
            running.wait_for_port(port)
            return http_get(f"http://127.0.0.1:{port}/")

    def python(self, code: str, env: dict[str, str] | None = None) -> str:
        """Run `python -c code` in the image with the launch env; return stdout."""
        proc = self.platform.run(command=["python", "-c", code], env=env or {}, timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout


@pytest.fixture
def make_app(tmp_path: Path, buildpack: Path):
    counter = iter(range(100))

    def make(fixture: str | None = None, files: dict[str, str] | None = None) -> App:
        app = App(
            tmp_path / f"app{next(counter)}", buildpack, FIXTURES / fixture if fixture else None
        )
        return app.write(files or {})

    return make


@pytest.fixture(scope="session")
def conda_channel(tmp_path_factory: pytest.TempPathFactory, test_cpythons) -> Channel:
    """A conda channel of real packages this session builds (no channel host is reachable)."""
    cpython = next(c for c in test_cpythons if c.minor == "3.12")
    return build_channel(tmp_path_factory.mktemp("conda-channel"), cpython)


@pytest.fixture(scope="session")
def channel_server(conda_channel: Channel) -> Iterator[DownloadServer]:
    """The channel over local HTTP."""
    with DownloadServer(conda_channel.path) as server:
        yield server


@pytest.fixture(scope="session")
def channel_url(channel_server: DownloadServer) -> str:
    return channel_server.base_url


_SCAN_CONDA_ENV = """
import json, os, sys
found = {"prefix": sys.prefix, "conda_prefix": os.environ.get("CONDA_PREFIX"),
         "history": os.path.exists(sys.prefix + "/conda-meta/history"), "traces": []}
for name in sorted(os.listdir(sys.prefix + "/conda-meta")):
    text = open(sys.prefix + "/conda-meta/" + name).read()
    if "/tmp" in text or sys.argv[1] in text or "indexed_timestamp" in text:
        found["traces"].append(name)
print(json.dumps(found))
"""


def conda_env_state(app: App, temp_prefix: str) -> dict[str, object]:
    """A conda environment in the image, as its python sees it: its prefix, CONDA_PREFIX,
    whether conda-meta/history is there, and the conda-meta records that mention /tmp, the
    build's temp dir (`temp_prefix`) or an index time."""
    proc = app.platform.run(command=["python", "-c", _SCAN_CONDA_ENV, temp_prefix], timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)


def venv_sbom_purls(app: App) -> list[str]:
    """The purls (without qualifiers) of the venv layer's CycloneDX SBOM, sorted; every SBOM
    format of the layer validated first."""
    import sbom_validation

    files = app.platform.image.sbom_files
    prefix = "cnb-python_python/venv/sbom."
    docs = {n[len(prefix) :]: json.loads(d) for n, d in files.items() if n.startswith(prefix)}
    assert sbom_validation.all_errors(docs) == {"cdx.json": [], "spdx.json": [], "syft.json": []}
    return sorted(c["purl"].split("?")[0] for c in docs["cdx.json"]["components"])


def conda_flask_app(root: Path, buildpack: Path, channel: str) -> App:
    """The conda fixture app, its environment.yml pointed at `channel`."""
    app = App(root, buildpack, FIXTURES / "conda-flask")
    spec = app.dir / "environment.yml"
    spec.write_text(spec.read_text().replace("CHANNEL", channel))
    return app


# An app that is a project of one module with a script, gunicorn its one dependency: the pixi
# and conda tests install it as a path project.
HELLO_PROJECT = """\
[project]
name = "hello"
version = "0.1.0"
dependencies = ["gunicorn>=23"]

[project.scripts]
hello = "hello:main"

[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[tool.setuptools]
py-modules = ["hello"]
"""
HELLO_PY = "def main():\n    print('hello from the project')\n"


# The environments of the pixi fixture's pixi.lock (its pixi.toml asks for them).
PIXI_FLASK = {
    "default": LockedEnvironment(
        ("python 3.12.*", "flask >=3.1,<4", "libgreet"), (GUNICORN, PACKAGING)
    ),
    "test": LockedEnvironment(
        ("python 3.12.*", "flask >=3.1,<4", "libgreet", "click >=8"), (GUNICORN, PACKAGING)
    ),
}


def pixi_flask_app(root: Path, buildpack: Path, channel: str) -> App:
    """The pixi fixture app, its pixi.toml pointed at `channel` and locked against it."""
    app = App(root, buildpack, FIXTURES / "pixi-flask")
    manifest = app.dir / "pixi.toml"
    manifest.write_text(manifest.read_text().replace("CHANNEL", channel))
    write_pixi_lock(app.dir / "pixi.lock", channel, PIXI_FLASK)
    return app


# The sample app of each package manager (the contract test checks there is one for each).
MANAGER_SAMPLES = {
    "pip": SAMPLES / "pip-flask",
    "uv": SAMPLES / "uv-fastapi",
    "poetry": SAMPLES / "poetry-flask",
    "pipenv": SAMPLES / "pipenv-flask",
    "pdm": SAMPLES / "pdm-flask",
    "conda": FIXTURES / "conda-flask",  # with the session's local channel
    "pylock": SAMPLES / "pylock-flask",
    "pixi": FIXTURES / "pixi-flask",  # locked against the session's local channel
}


@pytest.fixture(scope="session")
def built_sample(
    tmp_path_factory: pytest.TempPathFactory, buildpack: Path, request: pytest.FixtureRequest
) -> Callable[[str], App]:
    """The sample of a manager, built once per session and rebuilt once with no change
    (`app.first`, `app.again`), shared by the contract test and the manager's own tests. Tests
    that use it only read: they run the image, never build it again."""
    built: dict[str, App] = {}

    def get(manager: str) -> App:
        if manager not in built:
            root = tmp_path_factory.mktemp(f"sample-{manager}")
            if manager == "conda":
                app = conda_flask_app(root, buildpack, request.getfixturevalue("channel_url"))
            elif manager == "pixi":
                app = pixi_flask_app(root, buildpack, request.getfixturevalue("channel_url"))
            else:
                app = App(root, buildpack, MANAGER_SAMPLES[manager])
            app.first = app.build_ok()  # type: ignore[attr-defined]
            app.again = app.build_ok()  # type: ignore[attr-defined]
            built[manager] = app
        return built[manager]

    return get
