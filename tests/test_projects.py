import os
import sys
from pathlib import Path

import pytest

from cnb_python import projects
from cnb_python.environments import Venv


def write(root: Path, files: dict[str, str]) -> None:
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(content)


class Projects:
    def __init__(self, paths: tuple[str, ...]) -> None:
        self.paths = paths

    def projects(self) -> tuple[str, ...]:
        return self.paths


def test_build_requires_are_every_projects_in_one_sorted_list(tmp_path):
    write(
        tmp_path,
        {
            "pyproject.toml": "[build-system]\nrequires = ['hatchling==1.27.0']\n",
            "libs/a/pyproject.toml": "[build-system]\nrequires = ['setuptools>=70', 'wheel']\n",
            "libs/b/setup.py": "",  # no pyproject.toml: pip's default backend
        },
    )
    step = projects.ProjectStep(tmp_path, Projects((".", "libs/a", "libs/b")), None, None)  # type: ignore[arg-type]
    assert step.build_requires() == [
        "hatchling==1.27.0",
        "setuptools>=40.8.0",
        "setuptools>=70",
        "wheel",
    ]


def test_uninstall_removes_what_record_lists_with_its_pycs_and_empty_directories(tmp_path):
    site = "lib/python3.12/site-packages"
    dist_info = f"{site}/hello-1.0.dist-info"
    record = (
        "hello/__init__.py,sha256=x,1\n"
        "hello/sub/mod.py,sha256=x,1\n"
        "../../../bin/hello,sha256=x,1\n"
        "hello-1.0.dist-info/METADATA,sha256=x,1\n"
        "hello-1.0.dist-info/RECORD,,\n"
    )
    write(
        tmp_path,
        {
            f"{site}/hello/__init__.py": "",
            f"{site}/hello/__pycache__/__init__.cpython-312.pyc": "",
            f"{site}/hello/sub/mod.py": "",
            f"{site}/hello/sub/__pycache__/mod.cpython-312.pyc": "",
            "bin/hello": "",
            "bin/python": "",
            f"{dist_info}/METADATA": "",
            f"{dist_info}/RECORD": record,
            f"{site}/six.py": "",  # a dependency: stays
            f"{site}/__pycache__/six.cpython-312.pyc": "",
        },
    )
    projects.uninstall(Venv(tmp_path, None), [dist_info])  # type: ignore[arg-type]
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert left == ["bin/python", f"{site}/__pycache__/six.cpython-312.pyc", f"{site}/six.py"]
    assert not (tmp_path / site / "hello").exists()


class Backends(Projects):
    """Installs the build backends by writing their names into the target."""

    def install_backends(self, tool_run: object, target: Path, requires: list[str]) -> None:
        target.mkdir(parents=True)
        (target / "installed").write_text(" ".join(requires))


def test_the_backends_install_alongside_once_the_environment_has_its_python(tmp_path):
    from cnb_python.cnb.layers import Layer
    from cnb_python.log import Logger
    from cnb_python.managers.base import ToolRun

    write(tmp_path / "app", {"pyproject.toml": "[build-system]\nrequires = ['hatchling']\n"})
    environment = Venv(tmp_path / "layers" / "venv", None)  # type: ignore[arg-type]
    build_layer = Layer(tmp_path / "layers", "project-build")
    step = projects.ProjectStep(tmp_path / "app", Backends((".",)), environment, build_layer)
    run = ToolRun(environment.path, {}, {}, Logger())
    assert step.start_backends("key", run) is None  # no Python to install for yet
    write(environment.path, {"bin/python": ""})
    assert (
        projects.ProjectStep(step.app, Backends(()), environment, build_layer).start_backends(
            "key", run
        )
        is None
    )  # no projects: no backends
    started = step.start_backends("key", run)
    assert started is not None
    backends = started.result(Logger())
    assert backends.fresh
    site = backends.site
    assert (site / "installed").read_text() == "hatchling"


class AskedBackends(Backends):
    """Records the backends' installs; `-e` for the projects named editable."""

    def __init__(self, paths: tuple[str, ...], editable: tuple[str, ...] = ()) -> None:
        super().__init__(paths)
        self.editable, self.installs = editable, []

    def editable_projects(self) -> tuple[str, ...]:
        return self.editable

    def install_backends(self, tool_run: object, target: Path, requires: list[str]) -> None:
        self.installs.append(list(requires))
        super().install_backends(tool_run, target, requires)


# An in-tree backend (backend-path) that asks for more, as scikit-build-core asks for cmake
# on a machine without one; and writes into the project, as setuptools' egg_info does.
IN_TREE = {
    "pyproject.toml": "[build-system]\nrequires = ['base']\nbuild-backend = 'hooks:Backend'\n"
    "backend-path = ['tools']\n",
    "tools/hooks.py": "import pathlib\n"
    "class Backend:\n"
    "    def get_requires_for_build_wheel(config_settings):\n"
    "        pathlib.Path('made.egg-info').mkdir()\n"
    "        return ['cmake>=3.15', 'there>=1', 'there-too']\n"
    "    def get_requires_for_build_editable(config_settings):\n"
    "        return ['editable-only']\n"
    "    def build_editable(*args):\n"
    "        pass\n",
}


@pytest.mark.parametrize(
    ("editable", "added"), [((), ["cmake>=3.15", "there>=1"]), ((".",), ["editable-only"])]
)
def test_what_the_backends_ask_for_this_machine_joins_them(tmp_path, editable, added):
    from cnb_python.cnb.layers import Layer
    from cnb_python.log import Logger
    from cnb_python.managers.base import ToolRun

    write(tmp_path / "app", IN_TREE)
    environment = Venv(tmp_path / "layers" / "venv", None)  # type: ignore[arg-type]
    environment.python.parent.mkdir(parents=True)
    environment.python.symlink_to(sys.executable)
    installer = AskedBackends((".",), editable)
    step = projects.ProjectStep(
        tmp_path / "app", installer, environment, Layer(tmp_path / "layers", "project-build")
    )
    run = ToolRun(environment.path, {}, {"PATH": os.environ["PATH"]}, Logger())
    backends = step.start_backends("key", run).result(Logger())  # type: ignore[union-attr]
    # what is there already: one at a version the backend does not take, one that does
    write(backends.site, {"there-0.9.dist-info/METADATA": "Name: there\nVersion: 0.9\n"})
    write(backends.site, {"There_Too-2.dist-info/METADATA": "Name: There_Too\nVersion: 2\n"})
    step._add_what_the_backends_ask(backends, run)
    assert installer.installs == [["base"], added]
    assert (
        backends.env({"PATH": "/bin"})["PATH"] == f"{backends.site}/bin:{backends.added}/bin:/bin"
    )
    assert sorted(p.name for p in (tmp_path / "app").iterdir()) == ["pyproject.toml", "tools"]
    reused = step.start_backends("key", run).result(Logger())  # type: ignore[union-attr]
    assert not reused.fresh  # and so not asked again
