"""pylock.toml (PEP 751): selection, what the install runs and depends on, and the golden text of
every error a user can meet (the lock is checked before any layer; pip's failures are mapped)."""

from __future__ import annotations

import datetime
from pathlib import Path

from golden import error_text_test
from packaging.version import Version
from standins import app_with, install_with, stand_in_tool, tool_saying

from cnb_python import python_version as pv
from cnb_python.managers import ignored_warning, pylock, select_manager
from cnb_python.venv import install_inputs

HEADER = 'lock-version = "1.0"\ncreated-by = "test"\nrequires-python = ">=3.12"\n'
WHEEL = (
    '[[packages]]\nname = "six"\nversion = "1.17.0"\n'
    'wheels = [{ url = "https://files.pythonhosted.org/packages/b7/ce/'
    '149a00dd41f10bc29e5921b496af8b574d8413afcd5e30dfa0ed46c2cc5e/six-1.17.0-py2.py3-none-any.whl",'
    ' hashes = { sha256 = "4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274" } }]\n'
)
GROUPS = (
    'extras = ["dotenv"]\ndependency-groups = ["dev", "web"]\ndefault-groups = ["web"]\n'
    + WHEEL.replace(
        'version = "1.17.0"\n', 'version = "1.17.0"\nmarker = "\'dev\' in dependency_groups"\n'
    )
)
LOCK = HEADER + WHEEL


def choose(root: Path, files: dict[str, str], env: dict[str, str] | None = None):
    return select_manager(app_with(root, files), env or {}, [])


def test_a_pylock_toml_wins_over_requirements_txt_and_loses_to_tool_locks(tmp_path):
    choice = choose(tmp_path, {"pylock.toml": LOCK, "requirements.txt": "flask\n"})
    assert choice.manager is pylock.MANAGER
    assert ignored_warning(choice) == (
        "Ignoring files of other package managers",
        "pylock.toml selects pylock.toml, so the build ignores requirements.txt (pip). They do "
        "not change what is installed.",
    )
    uv_lock = {"uv.lock": "version = 1\n", "pyproject.toml": "[project]\nname = 'x'\n"}
    assert choose(tmp_path, uv_lock).manager.name == "uv"


def test_a_named_lock_is_chosen_by_its_variable(tmp_path):
    files = {"pylock.toml": "not = 'read'\n", "pylock.prod.toml": LOCK}
    choice = choose(tmp_path, files, {"BP_PYLOCK_FILE": "pylock.prod.toml"})
    assert choice.reason == "BP_PYLOCK_FILE found"
    assert choice.installer.describe() == "pylock.toml (pylock.prod.toml, installed with pip)"
    (tmp_path / "pylock.toml").write_text(LOCK)
    forced = choose(tmp_path, {}, {"BP_PYTHON_PACKAGE_MANAGER": "pylock"})
    assert forced.installer.describe() == "pylock.toml (pylock.toml, installed with pip)"


def test_groups_and_extras_are_install_inputs(tmp_path):
    env = {"BP_PYLOCK_INSTALL_GROUPS": "dev", "BP_PYLOCK_INSTALL_EXTRAS": "dotenv"}
    choice = choose(tmp_path, {"pylock.toml": HEADER + GROUPS}, env)
    assert choice.installer.describe() == (
        "pylock.toml (pylock.toml, groups dev, extras dotenv, installed with pip)"
    )
    inputs = install_inputs(choice.manager, choice.installer, env)
    plain = choose(tmp_path, {})
    assert inputs["groups"] != install_inputs(plain.manager, plain.installer, {})["groups"]
    before = inputs["file:pylock.toml"]
    (tmp_path / "pylock.toml").write_text(HEADER + GROUPS + "\n# changed\n")
    assert install_inputs(choice.manager, choice.installer, env)["file:pylock.toml"] != before


def test_pip_installs_the_lock_with_its_groups_and_extras_and_nothing_else(tmp_path):
    """The install pip runs, recorded by a stand-in pip."""
    env = {"BP_PYLOCK_INSTALL_GROUPS": "dev", "BP_PYLOCK_INSTALL_EXTRAS": "dotenv"}
    (tmp_path / "app").mkdir()
    choice = choose(tmp_path / "app", {"pylock.toml": HEADER + GROUPS}, env)
    recorded = tmp_path / "argv"
    tool = stand_in_tool(tmp_path, "pip", f'echo "$@" > {recorded}\n', version="26.3")
    install_with(choice.installer, tmp_path / "venv", {"pip": tool}, {"PATH": "/usr/bin:/bin"})
    argv = recorded.read_text().split()
    assert argv[argv.index("--no-deps") :] == [
        "--no-deps",
        "--require-hashes",
        "--requirement=pylock.toml[dotenv]",
        "--group=pylock.toml:dev",
    ]
    assert "--no-index" not in argv  # the lock names every file: no find-links source


def test_the_locks_requires_python_is_a_version_constraint(tmp_path):
    app_with(tmp_path, {"pylock.prod.toml": HEADER})
    requests = pv.gather_requests(tmp_path, {"BP_PYLOCK_FILE": "pylock.prod.toml"}, "3.14")
    assert [(r.source, r.text) for r in requests] == [
        ("pylock.prod.toml", ">=3.12"),
        ("buildpack default", "3.14"),
    ]
    assert pv.gather_requests(tmp_path, {}, "3.14")[0].source == "buildpack default"


def make(files: dict[str, str], env: dict[str, str] | None = None):
    return lambda root: choose(root, files, env)


def stale_python(root: Path) -> object:
    app_with(root, {".python-version": "3.11", "pylock.toml": LOCK})
    requests = pv.gather_requests(root, {}, "3.14")
    available = [Version(v) for v in ("3.11.16", "3.12.14", "3.13.15")]
    today = datetime.date(2026, 12, 1)
    return pv.select_version(requests[0], [], available, [], today, requests[1:-1])


def pip_says(*output: str):
    """The install, with a stand-in pip that prints pip 26.3's own messages and fails."""

    def install(root: Path) -> object:
        choice = choose(root, {"pylock.toml": LOCK})
        tool = tool_saying(root, "pip", "\n".join(output), version="26.3")
        env = {"PATH": "/usr/bin:/bin"}
        return install_with(choice.installer, root / "venv", {"pip": tool}, env)

    return install


SHOWN = "The command 'pip install --no-deps --require-hashes --requirement=pylock.toml' exited with status 1."  # noqa: E501
RELOCK = "Regenerate pylock.toml (`pip lock -r requirements.txt -o pylock.toml`, or `uv export --format pylock.toml -o pylock.toml`) and commit it."  # noqa: E501

GOLDEN = {
    "not TOML": (
        make({"pylock.toml": 'lock-version = "1.0"\n[[packages]\n'}),
        """[Error: Invalid pylock.toml]

  pylock.toml is not valid TOML: Expected ']]' at the end of an array declaration (at line 2, column 11)

  How to fix:
    Fix the syntax of pylock.toml; `python -c "import tomllib; tomllib.load(open('pylock.toml', 'rb'))"` shows the same error locally.""",  # noqa: E501
    ),
    "not PEP 751": (
        make({"pylock.toml": 'lock-version = "1.0"\npackages = []\n'}),
        f"""[Error: Invalid pylock.toml]

  pylock.toml does not follow PEP 751: Missing required value in 'created-by'.

  How to fix:
    {RELOCK}""",
    ),
    "a bad package entry": (
        make({"pylock.toml": HEADER + WHEEL.replace("six-1.17.0-py2", "six-1.16.0-py2")}),
        f"""[Error: Invalid pylock.toml]

  pylock.toml does not follow PEP 751: Version in 'six-1.16.0-py2.py3-none-any.whl' is not consistent with package version '1.17.0' in 'packages[0].wheels[0]'.

  How to fix:
    {RELOCK}""",  # noqa: E501
    ),
    "no lock-version": (
        make({"pylock.toml": 'created-by = "x"\npackages = []\n'}),
        f"""[Error: Invalid pylock.toml]

  pylock.toml has no valid `lock-version`, so it is not a PEP 751 lock.

  How to fix:
    {RELOCK}""",
    ),
    "a newer lock-version": (
        make({"pylock.toml": LOCK.replace('"1.0"', '"2.0"')}),
        """[Error: pylock.toml is newer than this buildpack supports]

  pylock.toml has lock-version 2.0; this buildpack installs lock-version 1.x (PEP 751).

  How to fix:
    Write the lock with a tool that writes lock-version 1.x, or use a buildpack release that supports the newer format.""",  # noqa: E501
    ),
    "a VCS entry": (
        make(
            {
                "pylock.toml": HEADER
                + '[[packages]]\nname = "lib"\n'
                + 'vcs = { type = "git", url = "https://git.example/lib", commit-id = "ab12" }\n'
            }
        ),
        """[Error: pylock.toml installs a package without hashes]

  pylock.toml installs lib from a VCS checkout, which has no file hash to check, so the build cannot install it exactly.

  How to fix:
    Publish it as a wheel (on an index, or in the app by `path`) and lock that.""",  # noqa: E501
    ),
    "a directory outside the app": (
        make(
            {
                "pylock.toml": HEADER
                + '[[packages]]\nname = "lib"\ndirectory = { path = "../lib" }\n'
            }
        ),
        """[Error: pylock.toml installs a path outside the app]

  pylock.toml installs lib from '../lib', which is not a directory inside the app, so the build cannot see it.

  How to fix:
    Move lib into the app directory, or publish it and depend on a version.""",  # noqa: E501
    ),
    "a directory the app lacks": (
        make(
            {"pylock.toml": HEADER + '[[packages]]\nname = "lib"\ndirectory = { path = "lib" }\n'}
        ),
        """[Error: pylock.toml installs a path outside the app]

  pylock.toml installs lib from 'lib', which is not a directory inside the app, so the build cannot see it.

  How to fix:
    Move lib into the app directory, or publish it and depend on a version.""",  # noqa: E501
    ),
    "a NUL byte in a directory path": (
        make(
            {
                "pylock.toml": HEADER
                + '[[packages]]\nname = "lib"\ndirectory = { path = "li\\u0000b" }\n'
            }
        ),
        """[Error: pylock.toml installs a path outside the app]

  pylock.toml installs lib from 'li\\x00b', which is not a directory inside the app, so the build cannot see it.

  How to fix:
    Move lib into the app directory, or publish it and depend on a version.""",  # noqa: E501
    ),
    "a directory under a marker": (
        make(
            {
                "pylock.toml": HEADER
                + '[[packages]]\nname = "lib"\nmarker = "sys_platform == \'win32\'"\n'
                + 'directory = { path = "lib" }\n'
            }
        ),
        """[Error: pylock.toml installs a directory the build cannot]

  pylock.toml installs lib from the directory 'lib' under the marker 'sys_platform == "win32"'. The build installs the app's own projects (directories inside the app, without a marker) after the locked files.

  How to fix:
    Drop the marker of lib, or publish it as a wheel and lock that.""",  # noqa: E501
    ),
    "an undeclared group": (
        make({"pylock.toml": HEADER + GROUPS}, {"BP_PYLOCK_INSTALL_GROUPS": "dev,docs"}),
        """[Error: Dependency group not found in pylock.toml]

  BP_PYLOCK_INSTALL_GROUPS asks for docs, which pylock.toml does not declare (it has: dev, web).

  How to fix:
    Name dependency groups the lock declares in BP_PYLOCK_INSTALL_GROUPS, or lock with them.""",
    ),
    "an undeclared extra": (
        make({"pylock.toml": LOCK}, {"BP_PYLOCK_INSTALL_EXTRAS": "dotenv"}),
        """[Error: Extra not found in pylock.toml]

  BP_PYLOCK_INSTALL_EXTRAS asks for dotenv, which pylock.toml does not declare (it has: none).

  How to fix:
    Name extras the lock declares in BP_PYLOCK_INSTALL_EXTRAS, or lock with them.""",
    ),
    "a file name that is not a lock's": (
        make({"pylock.toml": LOCK}, {"BP_PYLOCK_FILE": "locks/prod.toml"}),
        """[Error: Invalid BP_PYLOCK_FILE]

  BP_PYLOCK_FILE is 'locks/prod.toml'; PEP 751 names a lock `pylock.toml` or `pylock.<name>.toml`, at the app root.

  How to fix:
    Set BP_PYLOCK_FILE to a file name such as `pylock.prod.toml`, or unset it.""",  # noqa: E501
    ),
    "a named lock that is missing": (
        make({"pylock.toml": LOCK}, {"BP_PYLOCK_FILE": "pylock.prod.toml"}),
        """[Error: pylock.prod.toml not found]

  BP_PYLOCK_FILE names pylock.prod.toml, which the app does not contain.

  How to fix:
    Commit pylock.prod.toml at the app root, or fix BP_PYLOCK_FILE.""",
    ),
    "a stale lock: its requires-python excludes the app's Python": (
        stale_python,
        """[Error: Conflicting Python version requirements]

  .python-version asks for Python '3.11', but pylock.toml requires '>=3.12'. No Python satisfies both, and the package manager would refuse to install the app on a Python outside its range.

  How to fix:
    Make them agree: change .python-version to a version that pylock.toml allows, or regenerate pylock.toml for the Python you want.""",  # noqa: E501
    ),
    "a hash mismatch": (
        pip_says(
            "ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE.",
            "    six==1.17.0 from https://files.pythonhosted.org/six-1.17.0-py2.py3-none-any.whl (from pylock.toml):",  # noqa: E501
            "        Expected sha256 0000",
            "             Got        4721",
        ),
        f"""[Error: A file does not match its hash in pylock.toml]

  {SHOWN}

  The end of its output:
    ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE.
        six==1.17.0 from https://files.pythonhosted.org/six-1.17.0-py2.py3-none-any.whl (from pylock.toml):
            Expected sha256 0000
                 Got        4721

  How to fix:
    The file downloaded is not the one the lock was made from (pip's output above names it and both hashes). If the package was re-released: {RELOCK} Otherwise check what stands between the build and the index (a proxy or mirror).""",  # noqa: E501
    ),
    "a missing file": (
        pip_says(
            "  ERROR: HTTP error 404 while getting https://files.pythonhosted.org/x/six-1.17.0-py2.py3-none-any.whl (from pylock.toml)",  # noqa: E501
        ),
        f"""[Error: A file named in pylock.toml is missing]

  {SHOWN}

  The end of its output:
      ERROR: HTTP error 404 while getting https://files.pythonhosted.org/x/six-1.17.0-py2.py3-none-any.whl (from pylock.toml)

  How to fix:
    The index no longer serves a file the lock names (pip's output above gives its URL): the release was deleted or the lock points at another index. {RELOCK}""",  # noqa: E501
    ),
    "a package's requires-python": (
        pip_says(
            "ERROR: Cannot select requirements from pylock file 'pylock.toml': python_full_version '3.12.14' in provided environment does not satisfy the Python version requirement '>=3.13' for package 'six' at packages[0]",  # noqa: E501
        ),
        f"""[Error: pylock.toml does not allow this Python]

  {SHOWN}

  The end of its output:
    ERROR: Cannot select requirements from pylock file 'pylock.toml': python_full_version '3.12.14' in provided environment does not satisfy the Python version requirement '>=3.13' for package 'six' at packages[0]

  How to fix:
    The lock, or a package in it, requires another Python than the image's (pip's output above says which). {RELOCK} on the Python the app runs on, or ask for a Python the lock allows (.python-version).""",  # noqa: E501
    ),
    "no file for this platform": (
        pip_says(
            "ERROR: Cannot select requirements from pylock file 'pylock.toml': No wheel found matching the provided tags for package 'pywin32' at packages[3], and no sdist available as a fallback",  # noqa: E501
        ),
        f"""[Error: pylock.toml has no file for this platform]

  {SHOWN}

  The end of its output:
    ERROR: Cannot select requirements from pylock file 'pylock.toml': No wheel found matching the provided tags for package 'pywin32' at packages[3], and no sdist available as a fallback

  How to fix:
    A package in the lock has no wheel for the image's Python and platform and no sdist (pip's output above names it). {RELOCK} with files for Linux and the app's Python.""",  # noqa: E501
    ),
    "a lock for other environments": (
        pip_says(
            "ERROR: Cannot select requirements from pylock file 'pylock.toml': Provided environment does not satisfy any of the environments specified in the lock file",  # noqa: E501
        ),
        f"""[Error: pylock.toml was not made for this platform]

  {SHOWN}

  The end of its output:
    ERROR: Cannot select requirements from pylock file 'pylock.toml': Provided environment does not satisfy any of the environments specified in the lock file

  How to fix:
    The lock's `environments` exclude the image (Linux, CPython). Lock for Linux as well, and commit the lock.""",  # noqa: E501
    ),
}


test_error_text = error_text_test(GOLDEN)


def test_a_newer_minor_lock_version_is_read_and_pip_warns_not_the_check(tmp_path, capfd):
    """PEP 751: a newer minor version is installed with a warning, which pip's install prints;
    the buildpack's own check stays silent (a stray stderr line otherwise)."""
    choice = choose(tmp_path, {"pylock.toml": LOCK.replace('"1.0"', '"1.1"')})
    assert choice.manager is pylock.MANAGER
    assert capfd.readouterr() == ("", "")


def test_the_apps_own_project_is_left_to_the_project_step(tmp_path):
    """A `directory` entry (uv's export of a package project has one for "."): pip gets the
    lock without it, its relative paths made absolute; the project step installs the project."""
    root = tmp_path / "app"
    root.mkdir()
    project = '[[packages]]\nname = "hello"\ndirectory = { path = ".", editable = true }\n'
    by_path = WHEEL.replace(
        'url = "https://files.pythonhosted.org/packages/b7/ce/'
        "149a00dd41f10bc29e5921b496af8b574d8413afcd5e30dfa0ed46c2cc5e/",
        'path = "vendor/',
    )
    files = {
        "pylock.toml": HEADER + by_path + project,
        "pyproject.toml": "[project]\nname = 'hello'\n[project.scripts]\nhello = 'hello:main'\n",
    }
    choice = choose(root, files)
    assert choice.installer.local == (".",)
    assert choice.installer.project_scripts() == ("hello",)
    assert "path:." not in install_inputs(choice.manager, choice.installer, {})
    assert choice.installer.projects() == (".",)  # installed and keyed by the project step
    recorded = tmp_path / "calls"
    script = (
        f'echo "$@" >> {recorded}\n'
        "for a; do case $a in --requirement=*) "
        f'cp "${{a#*=}}" {tmp_path}/seen.toml;; esac; done\n'
    )
    tool = stand_in_tool(tmp_path, "pip", script, "26.3")
    install_with(choice.installer, root / "venv", {"pip": tool}, {"PATH": "/usr/bin:/bin"})
    [first] = recorded.read_text().splitlines()
    assert first.split()[-3:-1] == ["--no-deps", "--require-hashes"]
    seen = (tmp_path / "seen.toml").read_text()
    assert 'name = "hello"' not in seen and 'name = "six"' in seen
    assert f'path = "{root}/vendor/six-1.17.0-py2.py3-none-any.whl"' in seen
