"""The app's own projects a requirements file lists (`-e .`, `./libs/x`): which go to the
project step, and the copies of the files pip installs the rest from."""

from pathlib import Path

import pytest
from standins import app_with

from cnb_python.managers import select_manager
from cnb_python.managers.listed_projects import DEPENDENCIES_FILE, listed_projects
from cnb_python.managers.pip import PipManager
from cnb_python.managers.requirements import collect
from cnb_python.venv import install_inputs

PROJECT = "[project]\nname = '{name}'\nversion = '1'\ndependencies = {dependencies}\n"


def project(name: str, dependencies: str = "[]", more: str = "") -> str:
    return PROJECT.format(name=name, dependencies=dependencies) + more


def pip_manager(app: Path, env: dict[str, str] | None = None) -> PipManager:
    chosen = select_manager(app, env or {}, []).installer
    assert isinstance(chosen, PipManager)
    return chosen


def key(app: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    choice = select_manager(app, env or {}, [])
    assert choice.manager is not None and choice.installer is not None
    return install_inputs(choice.manager, choice.installer, env or {})


def written(manager: PipManager) -> dict[str, str]:
    """What pip is given for the dependencies: the files it names first, then the copies the
    first one nests, as {path in the temp dir: text, the temp dir's path shown as T}."""
    with manager.listed.requirements() as arguments:
        given = [Path(path) for path in arguments[1::2]]
        directory = given[-1].parent
        assert [arguments[0::2]] == [["-r"] * len(given)]
        files = sorted(path for path in directory.rglob("*") if path.is_file())
        assert set(given) <= set(files)
        return {
            path.relative_to(directory).as_posix(): path.read_text().replace(str(directory), "T")
            for path in given + [path for path in files if path not in given]
        }


def test_listed_projects_leave_the_files_for_the_project_step(tmp_path):
    app_with(
        tmp_path,
        {
            "requirements/prod.txt": "-r base.txt\n-c ../constraints.txt\ngunicorn==23.0\n",
            "requirements/base.txt": "--find-links ./wheels\n-f beside\n-e .\n"
            "libs/x[fast] \\\n  # continued\nflask==3.1\n",
            "requirements/beside/a.whl": "",
            "constraints.txt": "click<9\n",
            "pyproject.toml": project("app", "['x', 'requests>=2']"),
            "libs/x/pyproject.toml": project(
                "x", "['six']", "[project.optional-dependencies]\nFast = ['ujson']\nslow = ['a']\n"
            ),
        },
    )
    manager = pip_manager(tmp_path, {"BP_PIP_REQUIREMENT": "requirements/prod.txt"})
    assert manager.projects() == (".", "libs/x")
    assert manager.editable_projects() == (".",)
    # Each line keeps its number; -r and -c name the other copies; a --find-links path is
    # read beside the file when it is there (pip's rule), else from the app.
    assert written(manager) == {
        "0/prod.txt": "-r ../1/base.txt\n-c ../2/constraints.txt\ngunicorn==23.0\n",
        "1/base.txt": f"--find-links {tmp_path}/wheels\n-f {tmp_path}/requirements/beside\n"
        "\n\n\nflask==3.1\n",
        "2/constraints.txt": "click<9\n",
        # x is the project step's: the app's dependency on it is left out
        DEPENDENCIES_FILE: "requests>=2\nsix\nujson\n",
    }
    with manager.listed.index_options() as options:
        assert Path(options[1]).read_text() == (
            f"--find-links {tmp_path}/wheels\n-f {tmp_path}/requirements/beside\n"
        )


def test_the_key_has_the_projects_dependencies_not_their_files(tmp_path):
    app_with(
        tmp_path,
        {
            "requirements.txt": "flask==3.1\n-e ./libs/x\n",
            "libs/x/pyproject.toml": project("x", "['six']"),
            "libs/x/x/__init__.py": "",
        },
    )
    first = key(tmp_path)
    assert set(first) == {"file:requirements.txt", "dependencies:libs/x", "env"}
    (tmp_path / "libs/x/x/__init__.py").write_text("CODE = 2\n")
    assert key(tmp_path) == first
    (tmp_path / "libs/x/pyproject.toml").write_text(project("x", "['six', 'click']"))
    assert [n for n in first if key(tmp_path)[n] != first[n]] == ["dependencies:libs/x"]


@pytest.mark.parametrize(
    ("files", "stays"),
    [
        ({"libs/x/setup.py": ""}, "a setup.py"),
        ({"libs/x/pyproject.toml": "[project]\nname='x'\ndynamic=['dependencies']\n"}, "dynamic"),
        ({"libs/x/pyproject.toml": "[build-system]\nrequires=['setuptools']\n"}, "no [project]"),
        ({"libs/x/pyproject.toml": "[project]\nname='x'\ndependencies='six'\n"}, "not a list"),
        ({"requirements.txt": "./libs/x ; python_version > '3'\n"}, "a marker"),
        ({"requirements.txt": "./libs/x --config-settings=a=b\n"}, "an option"),
        ({"requirements.txt": "-e ./libs/x\n./libs/x[more]\n"}, "editable and not"),
        ({"requirements.txt": "./libs/x[more]\n"}, "dynamic optional dependencies"),
        ({"requirements.txt": "-r ${DIR}/more.txt\n./libs/x\n"}, "a variable pip expands"),
        ({"requirements.txt": "-rmore.txt\n./libs/x\n"}, "a short form"),
        ({"libs/x/pyproject.toml": project("x", "['y @ file:///app/libs/y']")}, "a local file"),
        ({"requirements.txt": "six==1 --hash=sha256:00\n./libs/x\n"}, "hash-checking mode"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_other_projects_stay_with_the_rest_keyed_on_their_files(tmp_path, files, stays):
    app_with(
        tmp_path,
        {
            "requirements.txt": "./libs/x\n",
            "more.txt": "six\n",
            "libs/x/pyproject.toml": project(
                "x", "['six']", "dynamic = ['optional-dependencies']\n"
            ),
            **files,
        },
    )
    found = collect([tmp_path / "requirements.txt"], cwd=tmp_path)
    assert (
        listed_projects(found, [(tmp_path / "requirements.txt").resolve()], tmp_path).projects == ()
    )
    assert "path:libs/x" in key(tmp_path)


def test_a_listed_project_on_another_is_left_whole_when_it_asks_for_more(tmp_path):
    app_with(
        tmp_path,
        {
            "requirements.txt": "./libs/x\n./libs/y\n",
            "libs/x/pyproject.toml": project("x", "['y[extra]']"),
            "libs/y/pyproject.toml": project("y"),
        },
    )
    assert pip_manager(tmp_path).projects() == ()
    app_with(tmp_path, {"libs/x/pyproject.toml": project("x", "['Y']")})
    manager = pip_manager(tmp_path)
    assert manager.projects() == ("libs/x", "libs/y")
    assert manager.editable_projects() == ()
    assert written(manager)[DEPENDENCIES_FILE] == ""
