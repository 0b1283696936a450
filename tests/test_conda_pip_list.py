"""environment.yml's `pip:` list read line by line (conda_pip_list.py): each spelling it takes
reads as the YAML parser of the install script reads it, any other gives None; and the app's
projects on the list go to the project step."""

# ruff: noqa: E501  (golden texts are whole lines, as the user sees them)

from pathlib import Path

import pytest
from golden import Golden, error_text_test
from standins import app_with, quiet_logger

from cnb_python.managers import select_manager
from cnb_python.managers.base import ToolRun
from cnb_python.managers.conda import CondaManager
from cnb_python.managers.conda_pip_list import pip_list_lines
from cnb_python.managers.listed_projects import DEPENDENCIES_FILE
from cnb_python.toolscripts import conda_env
from cnb_python.venv import install_inputs

HEAD = "name: app\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.12\n"
READ = {
    "block": HEAD + "  - pip:\n      - -e .\n      - gunicorn==23.0.0\n",
    "compact, the items at the key's column": HEAD + "  - pip:\n    - -e .\n    - flask\n",
    "comments, blank lines and quotes": HEAD + "  - pip:  # from PyPI\n\n      # the app\n"
    "      - '-e .'  # editable\n      - \"flask[async] ; python_version < '3.13'\"\n"
    "      - --index-url https://pypi.org/simple\nvariables:\n  A: b\n",
    "top-level items": "dependencies:\n- python\n- pip:\n  - -e ./libs/x#egg\n",
}
NOT_READ = {
    "no pip list": HEAD,
    "a flow list": HEAD + "  - pip: [-e ., flask]\n",
    "two pip lists": HEAD + "  - pip:\n      - a\n  - pip:\n      - b\n",
    "not under dependencies": "x:\n  - pip:\n      - a\ndependencies:\n  - python\n",
    "dependencies twice": HEAD + "  - pip:\n      - a\ndependencies:\n  - python\n",
    "a scalar on two lines": HEAD + "  - pip:\n      - flask\n        ==3.1\n",
    "a key in the list's item": HEAD + "  - pip:\n    - a\n    b: c\n",
    "a retyped scalar": HEAD + "  - pip:\n      - 1.0\n",
    "a boolean": HEAD + "  - pip:\n      - yes\n",
    "an escape": HEAD + '  - pip:\n      - "a\\tb"\n',
    "an anchor": HEAD + "  - pip:\n      - &x flask\n",
    "a nested list": HEAD + "  - pip:\n      - - a\n",
    "an empty list": HEAD + "  - pip:\nvariables:\n  A: b\n",
    "a tab": HEAD + "  - pip:\n      - a\n\t- b\n",
}


@pytest.mark.parametrize("case", list(READ))
def test_the_plain_spellings_read_as_yaml_reads_them(tmp_path, case):
    path = app_with(tmp_path, {"environment.yml": READ[case]}) / "environment.yml"
    found = pip_list_lines(path)
    assert found is not None
    assert [line for _, line in found] == conda_env.read_environment(path)[2]
    lines = READ[case].splitlines()
    assert all(line in lines[number - 1] for number, line in found)


@pytest.mark.parametrize("case", list(NOT_READ))
def test_any_other_spelling_is_left_to_the_install_script(tmp_path, case):
    path = app_with(tmp_path, {"environment.yml": NOT_READ[case]}) / "environment.yml"
    assert pip_list_lines(path) is None


PROJECT = "[project]\nname = 'app'\nversion = '1'\ndependencies = ['flask>=3']\n"


def conda(app: Path) -> CondaManager:
    chosen = select_manager(app, {}, []).installer
    assert isinstance(chosen, CondaManager)
    return chosen


def test_the_apps_project_on_the_list_goes_to_the_project_step(tmp_path):
    app_with(
        tmp_path,
        {
            "environment.yml": HEAD + "  - pip:\n      - -r requirements.txt\n      - -e .\n",
            "requirements.txt": "gunicorn==23.0.0\n",
            "pyproject.toml": PROJECT,
        },
    )
    manager = conda(tmp_path)
    assert manager.projects() == manager.editable_projects() == (".",)
    choice = select_manager(tmp_path, {}, [])
    assert choice.manager is not None
    assert set(install_inputs(choice.manager, manager, {})) == {
        "file:environment.yml",
        "file:requirements.txt",
        "dependencies:.",
        "env",
    }
    with manager.listed.requirements() as arguments:
        copy, dependencies = Path(arguments[1]), Path(arguments[3])
        assert arguments[0::2] == ["-r", "-r"] and dependencies.name == DEPENDENCIES_FILE
        # the list's lines keep their numbers; -r names the copy of the file it nests
        assert copy.read_text() == "\n" * 6 + "-r ../1/requirements.txt\n\n"
        assert (copy.parent.parent / "1/requirements.txt").read_text() == "gunicorn==23.0.0\n"
        assert dependencies.read_text() == "flask>=3\n"


def test_a_project_without_static_dependencies_stays_on_the_list(tmp_path):
    app_with(
        tmp_path,
        {
            "environment.yml": HEAD + "  - pip:\n      - -e .\n",
            "pyproject.toml": PROJECT,
            "setup.py": "",
        },
    )
    assert conda(tmp_path).projects() == ()
    app_with(tmp_path, {"environment.yml": HEAD + "  - pip: ['-e .']\n"})
    (tmp_path / "setup.py").unlink()
    assert conda(tmp_path).projects() == ()  # a list not read line by line


def misread_list(root: Path) -> object:
    """Only a defect of conda_pip_list.py gets here: its list went into the reuse key."""
    files = {"environment.yml": HEAD + "  - pip:\n      - -e .\n", "pyproject.toml": PROJECT}
    app_with(root, files)
    run = ToolRun(root / "env", {}, {}, quiet_logger())  # nothing runs
    return conda(root)._install_pip_section(run, ["-e .", "flask"])


GOLDEN: Golden = {
    "the pip: list misread": (
        misread_list,
        """[Error: The pip: subsection of environment.yml was misread]

  The buildpack read these requirements in it: ['-e .'], but the YAML parser reads ['-e .', 'flask']. This is a buildpack problem.

  How to fix:
    Please report it with your environment.yml. Until it is fixed, write the list on one line (`- pip: ["-e .", gunicorn]`): the build then installs it whole.""",
    ),
}
test_error_text = error_text_test(GOLDEN)
