"""Golden text of the errors for real-world uv and Poetry layouts (issue 18): the exact title,
explanation and fix, triggered on copies of the corpus fixtures or by the tools' own messages."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from golden import Golden, error_text_test, fails

from cnb_python.managers import poetry, select_manager, uv

FIXTURES = Path(__file__).resolve().parents[1] / "integration" / "fixtures"


def fixture(name: str, env: dict[str, str], edit: Callable[[Path], None] = lambda app: None):
    """Select the manager for a copy of fixture `name`, edited, with `env`."""

    def trigger(root: Path) -> object:
        app = Path(shutil.copytree(FIXTURES / name, root / "app"))
        edit(app)
        return select_manager(app, env, [])

    return trigger


def replace(path: str, old: str, new: str) -> Callable[[Path], None]:
    def edit(app: Path) -> None:
        text = (app / path).read_text()
        assert old in text
        (app / path).write_text(text.replace(old, new))

    return edit


GOLDEN: Golden = {
    "uv member that does not exist": (
        fixture("uv-workspace", {"BP_UV_PACKAGE": "api"}),
        """[Error: Unknown uv workspace member in BP_UV_PACKAGE]

  BP_UV_PACKAGE is 'api', which is not a member of the workspace in uv.lock. Its members: greeting, web.

  How to fix:
    Set BP_UV_PACKAGE to one of the members (the `name` in its pyproject.toml's [project]), or unset it to install the root project.""",
    ),
    "uv path source outside the app": (
        fixture(
            "uv-workspace",
            {},
            replace(
                "uv.lock",
                'source = { directory = "libs/motto" }',
                'source = { directory = "../motto" }',
            ),
        ),
        """[Error: uv.lock installs a path outside the app]

  uv.lock installs motto from '../motto', which is not a directory inside the app, so the build cannot see it.

  How to fix:
    Move motto into the app directory, or publish it and depend on a version.""",
    ),
    "uv required-version": (
        fails(
            "uv sync --locked",
            "Unable to install dependencies using uv (sync)",
            uv.KNOWN_ERRORS,
            "error: Required uv version `>=99` does not match the running version `0.13.9`. "
            "Update `uv` by running `uv self update`.",
        ),
        """[Error: The project requires another uv version]

  The command 'uv sync --locked' exited with status 1.

  The end of its output:
    error: Required uv version `>=99` does not match the running version `0.13.9`. Update `uv` by running `uv self update`.

  How to fix:
    Set BP_UV_VERSION to a uv version that `required-version` in pyproject.toml's [tool.uv] allows (the buildpack's uv is excluded), or widen `required-version`.""",
    ),
    "uv workspace with a vendor directory": (
        fixture("uv-workspace", {}, lambda app: (app / "vendor").mkdir()),
        """[Error: uv workspaces and path sources can't install from a vendor directory]

  uv.lock installs greeting, motto, web from the app's files, and the app has a vendor directory (vendor) for an offline install, which installs a hash-checked export of the lock: a directory has no hash.

  How to fix:
    Remove the vendor directory and install from an index, or publish those packages and vendor them as wheels.""",
    ),
    "Poetry path dependency outside the app": (
        fixture(
            "poetry-corpus",
            {},
            replace("poetry.lock", 'url = "libs/motto"', 'url = "../motto"'),
        ),
        """[Error: poetry.lock installs a path outside the app]

  poetry.lock installs motto from '../motto', which is not a directory inside the app, so the build cannot see it.

  How to fix:
    Move motto into the app directory, or publish it and depend on a version.""",
    ),
    "Poetry requires-poetry": (
        fails(
            "poetry export",
            "Unable to export poetry.lock",
            poetry.KNOWN_ERRORS,
            "This project requires Poetry >=99, but you are using Poetry 2.2.1",
        ),
        """[Error: The project requires another Poetry version]

  The command 'poetry export' exited with status 1.

  The end of its output:
    This project requires Poetry >=99, but you are using Poetry 2.2.1

  How to fix:
    Set BP_POETRY_VERSION to a Poetry version that `requires-poetry` in pyproject.toml's [tool.poetry] allows (the buildpack's Poetry is excluded), or widen `requires-poetry`.""",
    ),
}


test_error_text = error_text_test(GOLDEN)
