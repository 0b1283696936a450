"""pixi's titled errors, golden texts: those about the app's files come from selection, before
any layer; those about the lock from the py-rattler tool script (cnb_python/toolscripts/
pixi_env.py), run here as the build runs it, by the dev venv's python (which has py-rattler),
on real pixi.lock files written with py-rattler against a tiny channel of repodata only."""

# ruff: noqa: E501  (golden texts are whole lines, as the user sees them)

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from golden import Golden, error_text_test, repodata_channel
from standins import app_with, install_with
from testsupport.pixilock import LockedEnvironment, PypiPackage, write_pixi_lock

from cnb_python.managers import select_manager
from cnb_python.tools import Tool

MANIFEST = """\
[workspace]
name = "app"
channels = ["CHANNEL"]
platforms = ["linux-64"]

[dependencies]
python = "3.12.*"
flask = ">=3.1"

[feature.test.dependencies]
click = "*"

[environments]
test = ["test"]
"""
DEFAULT = LockedEnvironment(("python 3.12.*", "flask >=3.1"))
TEST = LockedEnvironment(("python 3.12.*", "flask >=3.1", "click"))
RATTLER = {"py-rattler": Tool("py-rattler", "0.28.0", Path(sys.prefix))}


def make_channel(root: Path) -> str:
    """python, flask and click as repodata only: a lock can be solved, never installed."""
    packages = [
        ("python", "3.12.1", []),
        ("flask", "3.1.2", ["python"]),
        ("click", "8.1.8", ["python"]),
        ("libgreet", "1.0.0", []),
    ]
    return repodata_channel(root / "ch", packages, ["linux-64", "osx-arm64"])


def install(
    files: dict[str, str],
    environments: dict[str, LockedEnvironment] | None = None,
    env: dict[str, str] | None = None,
    lock_edit: Callable[[str], str] = lambda text: text,
) -> Callable[[Path], object]:
    """Select the manager for an app of `files` and a pixi.lock of `environments`, then install
    as the build does."""

    def run(root: Path) -> object:
        channel = make_channel(root)
        app = app_with(root / "app", {n: c.replace("CHANNEL", channel) for n, c in files.items()})
        if environments is not None:
            write_pixi_lock(app / "pixi.lock", channel, environments)
            lock = app / "pixi.lock"
            lock.write_text(lock_edit(lock.read_text()))
        choice = select_manager(app, env or {}, [])
        assert choice.installer is not None
        prefix = root / "env"
        env_vars = {"PATH": "/usr/bin:/bin"}
        return install_with(choice.installer, prefix, RATTLER, env_vars)

    return run


GOLDEN: Golden = {
    "pixi.toml without a lock": (
        install({"pixi.toml": MANIFEST}),
        """[Error: pixi.lock not found]

  The app is a pixi project (pixi.toml), but it has no pixi.lock. The build installs exactly what a lock says and never locks by itself.

  How to fix:
    Run `pixi lock` and commit pixi.lock.""",
    ),
    "[tool.pixi] without a lock": (
        install({"pyproject.toml": "[tool.pixi.workspace]\nchannels = []\n"}),
        """[Error: pixi.lock not found]

  The app is a pixi project ([tool.pixi] in pyproject.toml), but it has no pixi.lock. The build installs exactly what a lock says and never locks by itself.

  How to fix:
    Run `pixi lock` and commit pixi.lock.""",
    ),
    "a lock without its manifest": (
        install({}, {"default": DEFAULT}),
        """[Error: pixi.toml not found]

  The app has pixi.lock but no pixi.toml and no pyproject.toml with [tool.pixi], which the build checks the lock against.

  How to fix:
    Commit the pixi.toml (or pyproject.toml) that pixi.lock was made from.""",
    ),
    "an environment the manifest does not define": (
        install({"pixi.toml": MANIFEST}, {"default": DEFAULT}, {"BP_PIXI_ENVIRONMENT": "prod"}),
        """[Error: Unknown pixi environment]

  BP_PIXI_ENVIRONMENT is 'prod', but pixi.toml defines only these environments: default, test.

  How to fix:
    Set BP_PIXI_ENVIRONMENT to one of them, or add the environment to the manifest's [environments] and run `pixi lock`.""",
    ),
    "an environment the lock does not have": (
        install({"pixi.toml": MANIFEST}, {"default": DEFAULT}, {"BP_PIXI_ENVIRONMENT": "test"}),
        """[Error: Unknown pixi environment]

  BP_PIXI_ENVIRONMENT is 'test', but pixi.lock has these environments: default.

  How to fix:
    Set BP_PIXI_ENVIRONMENT to one of them, or run `pixi lock` if the manifest defines it and commit the lock.""",
    ),
    "a stale lock": (
        install(
            {
                "pixi.toml": MANIFEST.replace('flask = ">=3.1"', 'flask = ">=4"')
                + '\n[pypi-dependencies]\ngunicorn = "*"\n'
            },
            {"default": DEFAULT, "test": TEST},
        ),
        """[Error: pixi.lock is out of date]

  pixi.toml asks for what no package of the environment 'default' (linux-64) in pixi.lock satisfies:
    pixi.toml [dependencies]: flask >=4
    pixi.toml [pypi-dependencies]: gunicorn *

  How to fix:
    Run `pixi lock` and commit pixi.lock. The build installs exactly what the lock says and never locks by itself.""",
    ),
    "a stale lock of a pyproject.toml": (
        install(
            {
                "pyproject.toml": "[project]\nname = 'app'\ndependencies = ['requests>=2']\n"
                "[tool.pixi.workspace]\nchannels = ['CHANNEL']\nplatforms = ['linux-64']\n"
                "[tool.pixi.dependencies]\npython = '3.12.*'\n"
            },
            {"default": DEFAULT},
        ),
        """[Error: pixi.lock is out of date]

  pyproject.toml asks for what no package of the environment 'default' (linux-64) in pixi.lock satisfies:
    pyproject.toml [project]: requests>=2

  How to fix:
    Run `pixi lock` and commit pixi.lock. The build installs exactly what the lock says and never locks by itself.""",
    ),
    "a bad lock": (
        install(
            {"pixi.toml": MANIFEST},
            {"default": DEFAULT},
            lock_edit=lambda text: text.replace("environments:", "environments: [", 1),
        ),
        """[Error: Invalid pixi.lock]

  py-rattler cannot read pixi.lock: did not find expected ',' or ']' at line 6 column 13, while parsing a flow sequence at line 4 column 15.

  How to fix:
    Write pixi.lock again with `pixi lock` and commit it unedited.""",
    ),
    "a lock newer than py-rattler": (
        install(
            {"pixi.toml": MANIFEST},
            {"default": DEFAULT},
            lock_edit=lambda text: text.replace("version: 7", "version: 99", 1),
        ),
        """[Error: pixi.lock is newer than this buildpack's py-rattler]

  py-rattler 0.28.0 cannot read pixi.lock: found newer lockfile format version 99, but only up to including version 7 is supported.

  How to fix:
    Lock with a pixi release whose lock format this py-rattler reads, or set BP_PY_RATTLER_VERSION to a py-rattler release that reads it.""",
    ),
    "a platform not in the lock": (
        install(
            {"pixi.toml": MANIFEST},
            {"default": LockedEnvironment(DEFAULT.specs, platforms=("osx-arm64",))},
        ),
        """[Error: Platform not in pixi.lock]

  The build runs on linux-64, but the environment 'default' of pixi.lock is locked only for: osx-arm64.

  How to fix:
    Add the platform (`pixi workspace platform add linux-64`, or `platforms` in the manifest), run `pixi lock` and commit the lock.""",
    ),
    "a missing package": (
        install(
            {"pixi.toml": MANIFEST.replace('flask = ">=3.1"\n', "")},
            {"default": LockedEnvironment(("python 3.12.*",))},
        ),
        """[Error: Unable to fetch a conda package of the lock]

  py-rattler could not install the locked packages: failed to fetch python-3.12.1-0.tar.bz2
  Caused by: failed to interact with the package cache layer.
  Caused by: an io error occurred: No such file or directory (os error 2)
  Caused by: No such file or directory (os error 2)

  How to fix:
    Check that the channels of pixi.lock are reachable and still hold the locked packages (a removed package needs `pixi lock` again), and the network.""",
    ),
    "an environment without python": (
        install(
            {"pixi.toml": '[workspace]\nchannels = []\n[dependencies]\nlibgreet = "*"\n'},
            {"default": LockedEnvironment(("libgreet",))},
        ),
        """[Error: No python in the conda environment]

  The environment 'default' of pixi.lock does not install the `python` package, so the app would have no Python.

  How to fix:
    Add python to the environment's dependencies (e.g. `python = "3.12.*"` under [dependencies] of pixi.toml), then run `pixi lock`.""",
    ),
    "a local project the manifest does not name": (
        install(
            {"pixi.toml": MANIFEST},
            {"default": LockedEnvironment(DEFAULT.specs, (PypiPackage("app", "1.0", ".", ""),))},
        ),
        """[Error: pixi.lock is out of date]

  pixi.lock installs the project at '.' into the environment 'default', but pixi.toml names no PyPI dependency with `path = '.'`.

  How to fix:
    Run `pixi lock` and commit pixi.lock.""",
    ),
    "a PyPI package outside the app": (
        install(
            {"pixi.toml": MANIFEST},
            {
                "default": LockedEnvironment(
                    DEFAULT.specs, (PypiPackage("lib", "1.0", "../lib", ""),)
                )
            },
        ),
        """[Error: Unsupported PyPI package in pixi.lock]

  The PyPI package lib is locked at '../lib', outside the app.

  How to fix:
    Move the project into the app's directory, or depend on a released version from a package index, then run `pixi lock`.""",
    ),
    "a PyPI package from git": (
        install(
            {"pixi.toml": MANIFEST},
            {
                "default": LockedEnvironment(
                    DEFAULT.specs,
                    (PypiPackage("lib", "1.0", "git+https://example.org/lib.git", ""),),
                )
            },
        ),
        """[Error: Unsupported PyPI package in pixi.lock]

  The PyPI package lib is locked as 'git+https://example.org/lib.git' without a sha256. The buildpack installs PyPI archives the lock names by URL and hash, and projects inside the app.

  How to fix:
    Depend on a released version from a package index instead of a git source, then run `pixi lock`.""",
    ),
    "a project the manifest names that the lock installs from an index": (
        install(
            {"pixi.toml": MANIFEST + '\n[pypi-dependencies]\nlib = { path = "libs/lib" }\n'},
            {
                "default": LockedEnvironment(
                    DEFAULT.specs,
                    (PypiPackage("lib", "1.0", "https://example.org/lib-1.0.tar.gz", "ab" * 32),),
                )
            },
        ),
        """[Error: pixi.lock is out of date]

  pixi.toml names projects in the app (libs/lib) that the environment 'default' of pixi.lock does not install from there.

  How to fix:
    Run `pixi lock` and commit pixi.lock.""",
    ),
}


test_error_text = error_text_test(GOLDEN)
