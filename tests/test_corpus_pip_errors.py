"""Golden text of the errors of the pip and conda corpus (issue 18): the exact title,
explanation and fix of each."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from golden import Golden, conda_fails, error_text_test, fails
from standins import app_with

from cnb_python.managers import pip, select_manager
from cnb_python.toolscripts import conda_env

DIGEST = "4" * 64


def select(files: dict[str, str]) -> Callable[[Path], object]:
    def trigger(root: Path) -> object:
        env = {"BP_PIP_REQUIREMENT": "requirements/prod.txt"}
        return select_manager(app_with(root, files), env, [])

    return trigger


def conda_environment(text: str) -> Callable[[Path], object]:
    def trigger(root: Path) -> object:
        (root / "environment.yaml").write_text(text)
        return conda_env.read_environment(root / "environment.yaml")

    return conda_fails(trigger)


GOLDEN: Golden = {
    "a direct URL without a hash among hashed requirements": (
        select(
            {
                "requirements/prod.txt": f"-r base.txt\nflask==3.1.0 --hash=sha256:{DIGEST}\n",
                "requirements/base.txt": "# the wheel, by URL\n"
                "six @ https://files.pythonhosted.org/packages/six-1.17.0-py2.py3-none-any.whl\n"
                f"https://example.org/ok-1.0.tar.gz#sha256={DIGEST}\n",
            }
        ),
        """[Error: A direct URL has no hash]

  The requirements use hashes (`--hash`), so pip installs in hash-checking mode, where every requirement needs a hash. These direct URLs have none:
    requirements/base.txt, line 2: https://files.pythonhosted.org/packages/six-1.17.0-py2.py3-none-any.whl

  How to fix:
    Give every requirement a hash, as `pip-compile --generate-hashes` or `uv pip compile --generate-hashes` write them: for a direct URL, append `#sha256=<digest of the file>` (or `--hash=sha256:<digest>`). Or remove every `--hash` so that pip does not check hashes.""",
    ),
    "pip's own message about a requirement without a hash": (
        fails(
            "pip install --requirement requirements.txt",
            "Unable to install dependencies using pip",
            pip.HASH_ERRORS,
            "ERROR: Hashes are required in --require-hashes mode, but they are missing from "
            "some requirements. Here is a list of those requirements along with the hashes "
            "their downloaded archives actually had.",
            "    six==1.17.0 --hash=sha256:" + DIGEST,
        ),
        f"""[Error: A requirement has no hash]

  The command 'pip install --requirement requirements.txt' exited with status 1.

  The end of its output:
    ERROR: Hashes are required in --require-hashes mode, but they are missing from some requirements. Here is a list of those requirements along with the hashes their downloaded archives actually had.
        six==1.17.0 --hash=sha256:{DIGEST}

  How to fix:
    Give every requirement a hash, as `pip-compile --generate-hashes` or `uv pip compile --generate-hashes` write them: for a direct URL, append `#sha256=<digest of the file>` (or `--hash=sha256:<digest>`). Or remove every `--hash` so that pip does not check hashes.""",
    ),
    "conda variables that are not a mapping of names to values": (
        conda_environment("dependencies: [python]\nvariables:\n  APP MODE: prod\n"),
        """[Error: Invalid environment.yaml]

  `variables` in environment.yaml must map variable names (letters, digits and `_`) to single values.

  How to fix:
    Write each variable as `NAME: value` under `variables:`, e.g. `APP_MODE: prod`.""",
    ),
}


test_error_text = error_text_test(GOLDEN)
