# ruff: noqa: E501
"""Golden text of the PDM manager's errors: the exact title, explanation and fix (whole
lines, as users see them).

The texts PDM and pip print that select a titled error are theirs (PDM 2.26.9's
`pdm lock --check` warnings, pip's resolver errors); integration/test_pdm.py shows the real
tools printing them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from golden import Golden, error_text_test
from standins import app_with, install_with, tool_saying
from test_pdm_manager import PYPROJECT

from cnb_python.managers import select_manager
from cnb_python.managers.pdm import MANAGER, pdm_manager

LOCK = '[metadata]\ngroups = ["default", "dev"]\nlock_version = "4.5.0"\n'
PROJECT = {"pyproject.toml": PYPROJECT, "pdm.lock": LOCK}


def select(files: dict[str, str], env: dict[str, str] | None = None) -> Callable[[Path], object]:
    return lambda root: select_manager(app_with(root, files), env or {}, [])


def install(pdm_says: str, pip_says: str = "") -> Callable[[Path], object]:
    """The install with stand-ins for PDM and pip that print what the real ones print; each
    fails when it prints anything."""

    def run(root: Path) -> object:
        app = root / "app"
        app.mkdir()
        manager = pdm_manager(app_with(app, PROJECT), {}, [], MANAGER.signals[0])
        tools = {
            "pdm": tool_saying(root / "pdm", "pdm", pdm_says),
            "pip": tool_saying(root / "pip", "pip", pip_says),
        }
        return install_with(manager, root / "venv", tools, {"PATH": "/usr/bin:/bin"})

    return run


GOLDEN: Golden = {
    "no pdm.lock": (
        select({"pyproject.toml": PYPROJECT + "[tool.pdm]\ndistribution = false\n"}),
        """[Error: pdm.lock not found]

  The app is a PDM project (pyproject.toml has [tool.pdm], or BP_PYTHON_PACKAGE_MANAGER is pdm), but it has no pdm.lock. The build installs exactly what a lock says and never locks by itself.

  How to fix:
    Run `pdm lock` and commit pdm.lock.""",
    ),
    "pdm.lock not TOML": (
        select({"pyproject.toml": PYPROJECT, "pdm.lock": "[[package]]\nname = \n"}),
        """[Error: Invalid pdm.lock]

  pdm.lock is not valid TOML: Invalid value (at line 2, column 8)

  How to fix:
    Fix the syntax of pdm.lock; `python -c "import tomllib; tomllib.load(open('pdm.lock', 'rb'))"` shows the same error locally.""",
    ),
    "pdm.lock out of date": (
        install("WARNING: Lockfile hash doesn't match pyproject.toml, packages may be outdated"),
        """[Error: pdm.lock is out of date]

  The command 'pdm lock --check' exited with status 1.

  The end of its output:
    WARNING: Lockfile hash doesn't match pyproject.toml, packages may be outdated

  How to fix:
    Run `pdm lock` and commit the updated pdm.lock. The build installs exactly what the lock says, and its content_hash must match pyproject.toml (as `pdm lock --check` checks).""",
    ),
    "pdm.lock newer than PDM": (
        install("WARNING: Lockfile is not compatible with PDM"),
        """[Error: pdm.lock is not a lock this buildpack's PDM reads]

  The command 'pdm lock --check' exited with status 1.

  The end of its output:
    WARNING: Lockfile is not compatible with PDM

  How to fix:
    Its lock_version is newer than the pinned PDM's (or is a PDM 1 lock). Set BP_PDM_VERSION to the PDM version that wrote the lock (`pdm --version`), or lock with the buildpack's PDM.""",
    ),
    "a locked package not on the index": (
        install("", "ERROR: No matching distribution found for flask==3.1.3"),
        """[Error: A locked package is not on the index]

  The command 'pip install --require-hashes --no-deps --requirement <pdm export>' exited with status 1.

  The end of its output:
    ERROR: No matching distribution found for flask==3.1.3

  How to fix:
    pip's output above names the package pdm.lock pins that the index the build uses does not serve (a yanked or private release, or a mirror that lacks it). Check the index settings ([[tool.pdm.source]], PIP_INDEX_URL, a `pip` binding) or the vendor directory, or run `pdm lock` against that index and commit pdm.lock.""",
    ),
    "a locked package with another hash": (
        install("", "ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE."),
        """[Error: A locked package does not match its hash]

  The command 'pip install --require-hashes --no-deps --requirement <pdm export>' exited with status 1.

  The end of its output:
    ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE.

  How to fix:
    The file the index serves is not the one pdm.lock was made from. If the package was re-uploaded or the index is a mirror that rebuilt it, run `pdm lock` against the index the build uses and commit pdm.lock; otherwise check the index settings ([[tool.pdm.source]], PIP_INDEX_URL).""",
    ),
    "unknown pdm group": (
        select(PROJECT, {"BP_PDM_INSTALL_GROUPS": "dev,docs"}),
        """[Error: Unknown PDM group in BP_PDM_INSTALL_GROUPS]

  BP_PDM_INSTALL_GROUPS names docs, which pyproject.toml does not define. Its groups: default, dev, lint, web.

  How to fix:
    Set BP_PDM_INSTALL_GROUPS to groups of [dependency-groups], [tool.pdm.dev-dependencies] or [project.optional-dependencies] (comma-separated), or unset it.""",
    ),
    "pdm group not in the lock": (
        select(PROJECT, {"BP_PDM_INSTALL_GROUPS": "web dev"}),
        """[Error: pdm.lock does not lock the selected groups]

  BP_PDM_INSTALL_GROUPS names web, but pdm.lock was made without it (its groups: default, dev).

  How to fix:
    Run `pdm lock -G web` (or `pdm lock -G :all`) and commit pdm.lock.""",
    ),
    "pdm path dependency": (
        select(
            {
                "pyproject.toml": PYPROJECT,
                "pdm.lock": LOCK + '[[package]]\nname = "lib"\nversion = "1"\npath = "./lib"\n',
            }
        ),
        """[Error: PDM path and VCS dependencies aren't supported]

  pdm.lock installs lib from a path dependency. The build installs every locked package with its hash checked, and a directory or a checkout has none.

  How to fix:
    Depend on a released version from an index, or on a wheel by URL (a URL dependency has a hash in the lock).""",
    ),
    "pdm distribution without build-system": (
        select(
            {"pyproject.toml": PYPROJECT + "[tool.pdm]\ndistribution = true\n", "pdm.lock": LOCK}
        ),
        """[Error: A PDM distribution needs [build-system]]

  pyproject.toml sets `distribution = true` in [tool.pdm], so the build installs the project itself with pip, which builds it with the [build-system] backend; pyproject.toml has none.

  How to fix:
    Add the table `pdm init` writes:
      [build-system]
      requires = ["pdm-backend"]
      build-backend = "pdm.backend"
    or, for an app that is not a package, set `distribution = false` in [tool.pdm].""",
    ),
}


test_error_text = error_text_test(GOLDEN)
