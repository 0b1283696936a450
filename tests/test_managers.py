import json
from dataclasses import replace
from pathlib import Path

import pytest
from standins import app_with, quiet_logger

from cnb_python.cnb.bindings import Binding
from cnb_python.environments import CondaPrefix
from cnb_python.errors import UserError
from cnb_python.managers import ignored_warning, select_manager
from cnb_python.managers.base import Installer, ToolRun
from cnb_python.managers.conda import normalize_conda_meta, without_credentials
from cnb_python.managers.requirements import collect
from cnb_python.venv import install_inputs


def installer(app: Path, env: dict[str, str], bindings: list[Binding] | None = None) -> Installer:
    chosen = select_manager(app, env, bindings or []).installer
    assert chosen is not None
    return chosen


def test_requirements_txt_selects_pip(tmp_path):
    app_with(tmp_path, {"requirements.txt": "flask\n", "pyproject.toml": "[tool.ruff]\n"})
    manager = installer(tmp_path, {})
    assert manager.requirement_files == (tmp_path / "requirements.txt",)
    assert manager.describe() == "pip (requirements.txt)"


def test_bp_pip_requirement_lists_files(tmp_path):
    app_with(tmp_path, {"req/base.txt": "flask\n", "req/prod.txt": "gunicorn\n"})
    manager = installer(tmp_path, {"BP_PIP_REQUIREMENT": "req/base.txt, req/prod.txt"})
    assert manager.describe() == "pip (req/base.txt, req/prod.txt)"


def test_bp_pip_requirement_missing_file(tmp_path):
    app_with(tmp_path, {"requirements.txt": "flask\n"})
    with pytest.raises(UserError) as e:
        select_manager(tmp_path, {"BP_PIP_REQUIREMENT": "requirements.txt prod.txt"}, [])
    assert e.value.title == "Requirements file not found"
    assert "prod.txt" in e.value.detail


@pytest.mark.parametrize(
    ("files", "project"),
    [
        ({"pyproject.toml": "[project]\nname = 'x'\nversion = '1'\n"}, True),
        ({"pyproject.toml": "[build-system]\nrequires = ['setuptools']\n"}, True),
        ({"setup.py": "from setuptools import setup\nsetup()\n"}, True),
        ({"setup.cfg": "[metadata]\nname = x\n"}, True),
        ({"pyproject.toml": "[tool.black]\n", "app.py": ""}, False),
        ({"app.py": ""}, False),
    ],
)
def test_project_or_no_manager(tmp_path, files, project):
    app_with(tmp_path, files)
    manager = select_manager(tmp_path, {}, []).installer
    if project:
        assert manager is not None and manager.requirement_files == ()
        assert manager.describe() == "pip (the app's own project metadata)"
    else:
        assert manager is None


UV_PROJECT = {
    "pyproject.toml": "[project]\nname = 'x'\nversion = '1'\n",
    "uv.lock": "version = 1\n",
}


@pytest.mark.parametrize(
    ("files", "env", "manager", "reason", "ignored"),
    [
        ({**UV_PROJECT, "requirements.txt": ""}, {}, "uv", "uv.lock found", ["requirements.txt"]),
        (
            {**UV_PROJECT, "Pipfile": "", "environment.yml": ""},
            {},
            "uv",
            "uv.lock found",
            ["Pipfile", "environment.yml"],
        ),
        ({"requirements.txt": "", "setup.py": ""}, {}, "pip", "requirements.txt found", []),
        ({"setup.cfg": ""}, {}, "pip", "setup.cfg found", []),
        # A pyproject.toml that only configures tools is not what makes the app a project.
        ({"setup.py": "", "pyproject.toml": "[tool.ruff]\n"}, {}, "pip", "setup.py found", []),
        (
            {**UV_PROJECT, "requirements.txt": ""},
            {"BP_PYTHON_PACKAGE_MANAGER": "pip"},
            "pip",
            "BP_PYTHON_PACKAGE_MANAGER=pip",
            ["uv.lock"],
        ),
        (
            UV_PROJECT,
            {"BP_PYTHON_PACKAGE_MANAGER": " UV "},
            "uv",
            "BP_PYTHON_PACKAGE_MANAGER=uv",
            [],
        ),
    ],
)
def test_precedence_reason_and_ignored_files(tmp_path, files, env, manager, reason, ignored):
    app_with(tmp_path, files)
    choice = select_manager(tmp_path, env, [])
    assert choice.manager is not None and choice.manager.name == manager
    assert choice.reason == reason
    assert [f.signal.what for f in choice.ignored] == ignored


def test_ignored_files_are_named_in_a_warning(tmp_path):
    app_with(tmp_path, {**UV_PROJECT, "requirements.txt": "", "Pipfile.lock": "{}"})
    assert ignored_warning(select_manager(tmp_path, {}, [])) == (
        "Ignoring files of other package managers",
        "uv.lock selects uv, so the build ignores Pipfile.lock (Pipenv), requirements.txt (pip). "
        "They do not change what is installed.",
    )


@pytest.mark.parametrize(
    ("files", "title"),
    [
        ({"poetry.lock": "", "requirements.txt": ""}, "pyproject.toml not found"),
        ({"pyproject.toml": "[tool.poetry]\nname = 'x'\n"}, "poetry.lock not found"),
        ({"Pipfile.lock": "{}", "requirements.txt": ""}, "Pipfile not found"),
        ({"pyproject.toml": "[project]\nname = 'x'\n[tool.uv]\n"}, "uv.lock not found"),
        ({"uv.lock": "version = 1\n"}, "pyproject.toml not found"),
    ],
)
def test_managers_not_done_and_incomplete_uv_projects_are_clear_errors(tmp_path, files, title):
    app_with(tmp_path, files)
    with pytest.raises(UserError) as e:
        select_manager(tmp_path, {}, [])
    assert e.value.title == title


def test_poetry_tables_in_a_pep621_project_do_not_select_poetry(tmp_path):
    app_with(tmp_path, {"pyproject.toml": "[project]\nname = 'x'\n[tool.poetry]\n"})
    choice = select_manager(tmp_path, {}, [])
    assert choice.manager is not None and choice.manager.name == "pip"


def test_uv_package_project_scripts_and_groups(tmp_path):
    app_with(
        tmp_path,
        {
            "pyproject.toml": "[project]\nname = 'x'\n[project.scripts]\nserve = 'x:main'\n"
            "[build-system]\nrequires = ['hatchling']\n",
            "uv.lock": "version = 1\n",
        },
    )
    env = {"BP_UV_INSTALL_GROUPS": "web, ops", "UV_INDEX_URL": "https://u:secret@x/simple"}
    manager = installer(tmp_path, env)
    assert manager.project_scripts() == ("serve",)
    assert manager.describe() == "uv (uv.lock, groups web, ops)"
    key = _key(tmp_path, env)
    assert set(key) == {"file:uv.lock", "file:pyproject.toml", "groups", "env"}
    assert manager.projects() == (".",)  # its files key the project step alone
    assert "secret" not in repr(key) and "web" not in repr(key)


def test_uv_virtual_project_installs_no_scripts(tmp_path):
    app_with(
        tmp_path,
        {
            "pyproject.toml": "[project]\nname = 'x'\n[project.scripts]\nserve = 'x:main'\n",
            "uv.lock": "version = 1\n",
        },
    )
    assert installer(tmp_path, {}).project_scripts() == ()
    assert "path:." not in _key(tmp_path, {})


def test_nested_requirements_and_local_paths(tmp_path):
    app_with(
        tmp_path,
        {
            "requirements.txt": "-r base.txt\n--constraint=constraints/c.txt\n"
            "-e ./libs/a  # local\nflask==3.0 \\\n  --hash=sha256:abc\n./libs/b[extra]\n",
            "base.txt": "# comment\n-r requirements.txt\nrequests\n",
            "constraints/c.txt": "-c more.txt\n",
            "constraints/more.txt": "urllib3<3\n",
            "libs/a/setup.py": "",
            "libs/b/setup.py": "",
        },
    )
    inputs = collect([tmp_path / "requirements.txt"])
    assert [p.relative_to(tmp_path).as_posix() for p in inputs.files] == [
        "requirements.txt",
        "base.txt",
        "constraints/c.txt",
        "constraints/more.txt",
    ]
    assert [p.relative_to(tmp_path).as_posix() for p in inputs.local_paths] == ["libs/a", "libs/b"]


def test_local_paths_without_a_leading_dot_are_read_as_pip_reads_them(tmp_path):
    """pip reads a requirement name with a "/" in it as a path, and one that is an archive
    file when it exists (pip/_internal/req/constructors.py); an editable that is a directory;
    and a --find-links value that is no URL, beside the file or else from the app. A bare name
    is a requirement even where a directory has it, and a marker is no part of the path."""
    app_with(
        tmp_path,
        {
            "requirements/base.txt": "libs/a\n-e b\nb\n-f wheels\n-f beside\n"
            "-f https://x.org/links\ndist/c-1.0-py3-none-any.whl\nd-1.0.tar.gz\n"
            "e-1.0.tar.gz\nflask==3.1\n-e git+https://x.org/e.git#egg=e\n"
            "libs/f; python_version > '3'\n-e file:g\n",
            "requirements/beside/x.whl": "",
            "libs/a/setup.py": "",
            "b/setup.py": "",
            "wheels/x.whl": "",
            "dist/c-1.0-py3-none-any.whl": "",
            "d-1.0.tar.gz": "",
            "libs/f/setup.py": "",
            "g/setup.py": "",
        },
    )
    inputs = collect([tmp_path / "requirements/base.txt"], cwd=tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in inputs.local_paths] == [
        "libs/a",
        "b",
        "wheels",
        "requirements/beside",
        "dist/c-1.0-py3-none-any.whl",
        "d-1.0.tar.gz",
        "libs/f",
        "g",
    ]
    key = _key(tmp_path, {"BP_PIP_REQUIREMENT": "requirements/base.txt"})
    (tmp_path / "libs/a/a.py").write_text("CODE = 2\n")
    (tmp_path / "wheels/y.whl").write_text("")
    changed = _key(tmp_path, {"BP_PIP_REQUIREMENT": "requirements/base.txt"})
    assert [name for name in key if key[name] != changed[name]] == ["path:libs/a", "path:wheels"]


def _key(app: Path, env: dict[str, str], bindings: list[Binding] | None = None) -> dict[str, str]:
    choice = select_manager(app, env, bindings or [])
    assert choice.manager is not None and choice.installer is not None
    return install_inputs(choice.manager, choice.installer, env)


def test_key_inputs_follow_every_input(tmp_path):
    app_with(
        tmp_path,
        {"requirements.txt": "-r base.txt\n./lib\n", "base.txt": "flask\n", "lib/setup.py": "x"},
    )
    first = _key(tmp_path, {})
    assert set(first) == {"file:requirements.txt", "file:base.txt", "path:lib", "env"}
    assert _key(tmp_path, {}) == first
    (tmp_path / "base.txt").write_text("flask\nclick\n")
    second = _key(tmp_path, {})
    assert second["file:base.txt"] != first["file:base.txt"]
    (tmp_path / "lib/setup.py").write_text("y")
    assert _key(tmp_path, {})["path:lib"] != second["path:lib"]


def test_key_hashes_pip_env_without_keeping_values(tmp_path):
    app_with(tmp_path, {"requirements.txt": "flask\n"})
    secret = "https://user:s3cret@index.example/simple"
    key = _key(tmp_path, {"PIP_INDEX_URL": secret, "UNRELATED": "1"})
    assert key["env"] != _key(tmp_path, {})["env"]
    assert key["env"] == _key(tmp_path, {"PIP_INDEX_URL": secret})["env"]
    assert "s3cret" not in repr(key)


def test_a_project_with_static_dependencies_installs_them_then_itself(tmp_path):
    app_with(
        tmp_path,
        {
            "pyproject.toml": "[project]\nname='x'\nversion='1'\ndependencies=['six']\n",
            "x/__init__.py": "",
            "vendor/x.whl": "w",
        },
    )
    first = _key(tmp_path, {})
    assert set(first) == {"dependencies", "vendor", "env"}
    assert select_manager(tmp_path, {}, []).installer.projects() == (".",)
    (tmp_path / "x/__init__.py").write_text("VERSION = 2\n")  # the project step's alone
    assert _key(tmp_path, {}) == first
    app_with(tmp_path, {"pyproject.toml": "[project]\nname='x'\nversion='1'\ndependencies=['a']\n"})
    assert _key(tmp_path, {})["dependencies"] != first["dependencies"]


@pytest.mark.parametrize(
    "files",
    [
        {"pyproject.toml": "[project]\nname='x'\ndynamic=['version', 'dependencies']\n"},
        {"pyproject.toml": "[project]\nname='x'\nversion='1'\n", "setup.py": ""},
        {"setup.py": "from setuptools import setup\nsetup()\n"},
    ],
    ids=["dynamic", "setup.py-too", "setup.py-only"],
)
def test_a_project_whose_dependencies_need_a_build_is_installed_whole(tmp_path, files):
    """Its dependencies are known only once it is built: `pip install .`, keyed on its tree."""
    app_with(tmp_path, {**files, "x/__init__.py": "", ".git/HEAD": "a"})
    first = _key(tmp_path, {})
    assert set(first) == {"path:.", "env"}
    assert select_manager(tmp_path, {}, []).installer.projects() == ()
    (tmp_path / ".git/HEAD").write_text("b")  # not an input
    assert _key(tmp_path, {}) == first
    (tmp_path / "x/__init__.py").write_text("VERSION = 2\n")
    assert _key(tmp_path, {})["path:."] != first["path:."]


def test_pip_binding_pip_conf_is_an_input(tmp_path):
    app_with(tmp_path, {"requirements.txt": "flask\n", "b/pip.conf": "[global]\nindex-url = x\n"})
    binding = Binding("b", "pip", "", tmp_path / "b", {"pip.conf": tmp_path / "b/pip.conf"})
    manager = installer(tmp_path, {}, [binding])
    assert manager.pip.config == tmp_path / "b/pip.conf"
    assert "pip.conf" in _key(tmp_path, {}, [binding])


def test_conda_files_select_conda_with_py_rattler(tmp_path):
    app_with(tmp_path, {"environment.yml": "", "requirements.txt": "", "app.py": ""})
    choice = select_manager(tmp_path, {}, [])
    assert choice.manager is not None and choice.installer is not None
    assert choice.manager.name == "conda" and choice.manager.tools == ("pip", "py-rattler")
    assert choice.reason == "environment.yml found"
    assert [f.signal.what for f in choice.ignored] == ["requirements.txt"]
    assert choice.installer.describe() == "conda (environment.yml, installed with py-rattler)"
    key = _key(tmp_path, {"BP_CONDA_DEFAULT_CHANNELS": "https://u:secret@x/c", "HOME": "/"})
    assert set(key) == {"file:environment.yml", "env"}
    assert "secret" not in repr(key)


def test_conda_package_list_and_a_vendor_channel(tmp_path):
    app_with(tmp_path, {"package-list.txt": "@EXPLICIT\n"})
    (tmp_path / "vendor" / "noarch").mkdir(parents=True)
    (tmp_path / "vendor" / "noarch" / "repodata.json").write_text("{}")
    env = {"BP_PYTHON_PACKAGE_MANAGER": "conda"}
    manager = installer(tmp_path, env)
    assert manager.describe() == "conda (package-list.txt, installed with py-rattler)"
    assert set(_key(tmp_path, env)) == {"file:package-list.txt", "vendor", "env"}


def test_conda_meta_keeps_no_trace_of_the_build_machine(tmp_path):
    meta = tmp_path / "conda-meta"
    meta.mkdir()
    (meta / "history").write_text("==> 2026-11-29 05:36:00 <==\n")
    record = {
        "name": "six",
        "fn": "six-1.0-py_0.conda",
        "url": "file:///tmp/x/six-1.0-py_0.conda",
        "channel": None,
        "indexed_timestamp": 1795930562258,
        "extracted_package_dir": "/tmp/pkgs/six-1.0-py_0",
        "link": {"source": "/tmp/pkgs/six-1.0-py_0", "type": 1},
        "timestamp": 1,
    }
    (meta / "six-1.0-py_0.json").write_text(json.dumps(record))
    normalize_conda_meta(
        meta, {"six-1.0-py_0.conda": "https://c.example/ch/noarch/six-1.0-py_0.conda"}
    )
    assert sorted(p.name for p in meta.iterdir()) == ["six-1.0-py_0.json"]
    assert json.loads((meta / "six-1.0-py_0.json").read_text()) == {
        "name": "six",
        "fn": "six-1.0-py_0.conda",
        "url": "https://c.example/ch/noarch/six-1.0-py_0.conda",
        "channel": "https://c.example/ch/",
        "link": {"type": 1},
        "timestamp": 1,
    }


@pytest.mark.parametrize(
    ("url", "clean"),
    [
        ("https://u:secret@c.example/ch/", "https://c.example/ch/"),
        ("https://c.example/t/tk-123/ch/noarch/a.conda", "https://c.example/ch/noarch/a.conda"),
        ("file:///workspace/vendor/", "file:///workspace/vendor/"),
    ],
)
def test_channel_credentials_are_not_recorded(url, clean):
    assert without_credentials(url) == clean


def test_conda_apps_name_the_python_version_requests_they_ignore(tmp_path):
    assert CondaPrefix.ignored_python_requests(tmp_path, {}, "3.14") is None
    app_with(tmp_path, {".python-version": "3.11\n"})
    title, body = CondaPrefix.ignored_python_requests(
        tmp_path, {"BP_CPYTHON_VERSION": "3.10"}, "3.14"
    )
    assert title == "Ignoring Python version requests"
    assert body.startswith("BP_CPYTHON_VERSION, .python-version do not apply to conda apps")


def test_paths_in_a_nested_requirements_file_are_read_as_pip_reads_them(tmp_path):
    """BP_PIP_REQUIREMENT=requirements/prod.txt nesting -r base.txt: -r is relative to the
    file, -e and direct paths to the app (pip's working directory), --find-links to the file
    when it exists there, else to the app."""
    app_with(
        tmp_path,
        {
            "requirements/prod.txt": "-r base.txt\n-c ../constraints.txt\n",
            "requirements/base.txt": "-e .\n-e ./libs/x\n--find-links ./wheels\n"
            "--extra-index-url https://pypi.org/simple\nflask[async]==3.1; python_version>'3'\n",
            "constraints.txt": "werkzeug<4\n",
            "pyproject.toml": "[project]\nname='app'\n",
            "libs/x/pyproject.toml": "",
            "wheels/greeting-1.0-py3-none-any.whl": "",
        },
    )
    key = _key(tmp_path, {"BP_PIP_REQUIREMENT": "requirements/prod.txt"})
    assert set(key) == {
        "file:requirements/prod.txt",
        "file:requirements/base.txt",
        "file:constraints.txt",
        "dependencies:.",  # the app: a project of the project step, keyed there
        "path:libs/x",  # not a project whose dependencies can be read: installed with the rest
        "path:wheels",
        "env",
    }
    (tmp_path / "libs/x/pyproject.toml").write_text("[tool.x]\n")
    (tmp_path / "app.py").write_text("CODE = 2\n")
    changed = _key(tmp_path, {"BP_PIP_REQUIREMENT": "requirements/prod.txt"})
    assert [name for name in key if key[name] != changed[name]] == ["path:libs/x"]


def test_hashed_requirements_and_direct_urls(tmp_path):
    digest = "0" * 64
    hashed = f"flask==3.1 --hash=sha256:{digest}\n"
    app_with(tmp_path, {"requirements.txt": hashed + f"https://x.org/a.whl#sha256={digest}\n"})
    assert installer(tmp_path, {}).describe() == "pip (requirements.txt)"
    # without any --hash, pip does not check hashes: a bare URL is fine
    app_with(tmp_path, {"requirements.txt": "flask==3.1\nhttps://x.org/a.whl\n"})
    assert installer(tmp_path, {}).describe() == "pip (requirements.txt)"
    app_with(tmp_path, {"requirements.txt": hashed + "a @ https://x.org/a.whl \\\n  # why\n"})
    with pytest.raises(UserError, match="A direct URL has no hash"):
        select_manager(tmp_path, {}, [])


def test_environment_yaml_selects_conda_and_its_pip_list_is_keyed(tmp_path):
    app_with(
        tmp_path,
        {
            "environment.yaml": "channels: [conda-forge, nodefaults]\ndependencies:\n"
            "  - python=3.12\n  - pip:\n    - --index-url https://pypi.org/simple\n"
            '    - "-r requirements.txt"\n    - -e ./libs/x\n',
            "requirements.txt": "-c constraints.txt\nflask\n",
            "constraints.txt": "flask<4\n",
            "libs/x/pyproject.toml": "",
        },
    )
    choice = select_manager(tmp_path, {}, [])
    assert choice.reason == "environment.yaml found" and choice.ignored == ()
    assert choice.installer is not None
    assert choice.installer.describe() == "conda (environment.yaml, installed with py-rattler)"
    assert set(_key(tmp_path, {})) == {
        "file:environment.yaml",
        "file:requirements.txt",
        "file:constraints.txt",
        "path:libs/x",
        "env",
    }
    app_with(tmp_path, {"environment.yml": "dependencies: [python]\n"})  # conda's default name wins
    assert select_manager(tmp_path, {}, []).reason == "environment.yml found"


def test_conda_variables_are_activated_with_the_prefix(tmp_path):
    prefix = tmp_path / "env"
    (prefix / "conda-meta").mkdir(parents=True)
    environment = CondaPrefix(prefix, None)  # type: ignore[arg-type]
    assert environment.activation() == {"CONDA_PREFIX": str(prefix)}
    state = {"env_vars": {"APP_MODE": "prod", "CONDA_PREFIX": "/elsewhere"}}
    (prefix / "conda-meta" / "state").write_text(json.dumps(state))
    assert environment.activation() == {"APP_MODE": "prod", "CONDA_PREFIX": str(prefix)}


def test_an_installers_scratch_dir_is_next_to_the_prefix_and_goes_away(tmp_path):
    """On the prefix's file system, so that uv and rattler hard-link from the cache in it; one
    for every run of the step (uv keeps its interpreter facts there), copies included."""
    layers = tmp_path / "layers"
    layers.mkdir()
    with ToolRun(layers / "venv", {}, {}, quiet_logger()) as run:
        tmp = run.scratch("uv")
        assert tmp.parent == layers and tmp.name.startswith("cnb-python-uv-")
        assert replace(run, env={"X": "1"}).scratch("uv") == tmp
        assert run.scratch("conda") != tmp
    assert list(layers.iterdir()) == []
