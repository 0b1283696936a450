"""Poetry apps end to end, with real packages from PyPI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
import tomli_w
from conftest import BP_ID, LEAKED_SECRET, SAMPLES, App, free_port, http_get
from packaging.markers import Marker, default_environment
from packaging.requirements import Requirement
from testsupport.toolset import pinned_set_venv

from cnb_python.cnb.toml import loads_toml
from cnb_python.managers.poetry import poetry_env, without_packages
from cnb_python.managers.poetry_export import content_hash, export

# Paths a launch-layer file must not point at: build-only layers, temp dirs, home dirs.
BUILD_ONLY_PATHS = (
    b"/tmp/",
    b"/layers/cnb-python_python/pip",
    b"/layers/cnb-python_python/poetry",
    b"/root/",
    b"/home/",
)


def build_paths_in_venv(app: App) -> list[str]:
    """Files of the venv layer, but for package code (.py, .pyc, .so: a package's own strings
    may name /tmp), that hold a build-only path: scripts, metadata, .pth, pyvenv.cfg."""
    image = app.platform.image
    assert image is not None
    found = []
    with tarfile.open(image.layers[f"{BP_ID}:venv"].tar) as tar:
        for member in tar:
            if not member.isfile() or member.name.endswith((".py", ".pyc", ".so")):
                continue
            data = tar.extractfile(member).read()  # type: ignore[union-attr]
            found += [f"{member.name}: {p.decode()}" for p in BUILD_ONLY_PATHS if p in data]
    return found


def installed(app: App) -> list[str]:
    return json.loads(
        app.python(
            "import importlib.metadata as m, json; "
            "print(json.dumps(sorted(d.metadata['Name'].lower() for d in m.distributions())))"
        )
    )


@pytest.fixture
def flask_app(built_sample):
    """The poetry-flask sample (non-package mode, Procfile), built once per session; the
    contract every manager keeps is in test_manager_contract.py."""
    return built_sample("poetry")


def test_only_the_main_group_for_this_platform_is_installed(flask_app):
    assert installed(flask_app) == [
        "blinker",
        "click",
        "flask",
        "gunicorn",
        "itsdangerous",
        "jinja2",
        "markupsafe",
        "packaging",
        "werkzeug",
    ]


def test_no_launch_file_points_at_a_build_only_path(flask_app):
    assert build_paths_in_venv(flask_app) == []


def test_package_mode_installs_the_project_and_its_script_is_the_web_process(make_app):
    """Poetry 1.x layout, no Procfile, an optional group selected, a Windows-only dependency;
    then a pyproject.toml change without `poetry lock`, a wrong hash in the lock and a lock
    format newer than the pinned Poetry fail with their titled errors."""
    app = make_app("poetry-package")
    result = app.build_ok(env={"BP_POETRY_INSTALL_ONLY": "main,web"})
    assert "Poetry (poetry.lock, groups main, web)" in result.output
    assert "Running 'pip install --no-input" in result.output
    assert " --no-deps --no-build-isolation .'" in result.output
    assert "web (default): hello-poetry" in result.output
    assert installed(app) == ["hello-poetry", "idna", "six"]  # pywin32 is Windows-only
    assert build_paths_in_venv(app) == []
    port = free_port()
    with app.platform.start("web", env={"PORT": str(port)}) as running:
        running.wait_for_port(port)
        assert http_get(f"http://127.0.0.1:{port}/") == (
            "Hello from hello-poetry (package mode) with six 1.17.0\n"
        )

    pyproject = (app.dir / "pyproject.toml").read_text()
    app.write({"pyproject.toml": pyproject.replace('six = "1.17.0"', 'six = "1.16.0"')})
    stale = app.build(env={"BP_POETRY_INSTALL_ONLY": "main,web"})
    assert not stale.success
    assert "[Error: poetry.lock is out of date]" in stale.output

    # A lock whose hashes for six are not the files PyPI serves: pip refuses to install it.
    lock = (app.dir / "poetry.lock").read_text()
    wheel, sdist = "4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274", "ff70335d"
    assert wheel in lock and sdist in lock
    app.write(
        {
            "pyproject.toml": pyproject,
            "poetry.lock": lock.replace(wheel, "0" * 64).replace(sdist, "00000000"),
        }
    )
    tampered = app.build()
    assert not tampered.success
    assert "[Error: A locked package does not match its hash]" in tampered.output

    app.write({"poetry.lock": lock.replace('lock-version = "2.1"', 'lock-version = "3.0"')})
    newer = app.build()
    assert not newer.success
    assert "[Error: poetry.lock is newer than this buildpack's Poetry]" in newer.output


def test_poetry2_corpus_app_with_a_path_dependency_and_named_sources(make_app):
    """integration/fixtures/poetry-corpus: Poetry 2 [project] metadata, a dev group left out,
    `explicit` and `supplemental` sources, `requires-poetry`, and a path dependency installed
    non-editable and keyed on its files: editing it rebuilds, an unrelated file does not."""
    app = make_app("poetry-corpus")
    secrets = {
        "POETRY_HTTP_BASIC_PYPI_EXPLICIT_USERNAME": "deploy-user",
        "POETRY_HTTP_BASIC_PYPI_EXPLICIT_PASSWORD": "s3cret-token",
    }
    first = app.build_ok(env=secrets)
    # The password never shows; the user name does, as log.redact_urls shows every URL's.
    assert "s3cret-token" not in first.output
    assert app.python(LEAKED_SECRET) == "[]\n"

    assert app.homepage() == "Hello from Poetry with itsdangerous! Built from a path dependency.\n"
    installed = app.python(
        "import importlib.metadata as m, importlib.util as u\n"
        "print(m.distribution('motto').read_text('direct_url.json'), u.find_spec('pytest'))"
    )
    assert installed == '{"dir_info": {}, "url": "file:///workspace/libs/motto"} None\n'
    (app.dir / "NOTES.md").write_text("an unrelated file\n")
    assert "Reusing cached virtual environment" in app.build_ok(env=secrets).output
    motto = app.dir / "libs" / "motto" / "motto" / "__init__.py"
    motto.write_text(motto.read_text().replace("Built", "Rebuilt"))
    edited = app.build_ok(env=secrets)
    assert "Reinstalling the app's own projects: their files changed" in edited.output
    assert (
        app.homepage() == "Hello from Poetry with itsdangerous! Rebuilt from a path dependency.\n"
    )


def test_requires_poetry_that_excludes_the_buildpacks_poetry(make_app):
    app = make_app("poetry-corpus")
    pyproject = app.dir / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('">=2.0"', '">=99"'))
    result = app.build()
    assert not result.success
    error = result.output[result.output.index("[Error: ") :]
    assert error.startswith("[Error: The project requires another Poetry version]")
    assert "BP_POETRY_VERSION" in error


# Against the real thing: the pinned Poetry's own content hash and `poetry export`, on
# projects whose locks (format 2.1) are written here, as Poetry cannot lock without the
# per-release JSON API this PyPI lacks.
LEGACY_PYPROJECT = """\
[tool.poetry]
name = "legacy"
version = "1.0.0"
description = "Poetry 1 layout, ünïcødé"
authors = ["tests <tests@example.invalid>"]
package-mode = false

[tool.poetry.dependencies]
python = ">=3.10,<3.14"
requests = "^2.31"
lib = { path = "libs/lib" }

[tool.poetry.group.test.dependencies]
pytest = "^8"

[tool.poetry.group.docs]
optional = true

[tool.poetry.group.docs.dependencies]
sphinx = "*"
"""
PROJECT_PYPROJECT = """\
[project]
name = "modern"
version = "0.1.0"
requires-python = ">=3.9.2"
dependencies = ["flask>=3", "colorama ; sys_platform == 'win32'"]

[project.optional-dependencies]
speed = ["ujson"]

[dependency-groups]
lint = ["ruff"]

[tool.poetry]
package-mode = false
"""
# name -> (groups, markers): a string for every group, a table per group, or none.
LOCKED: dict[str, dict[str, tuple[list[str], object]]] = {
    "legacy": {
        "requests": (["main"], None),
        "urllib3": (["main", "docs"], {"main": 'python_version < "3.12"'}),
        "colorama": (
            ["test", "docs"],
            {"test": 'sys_platform == "win32"', "docs": 'platform_machine == "arm64"'},
        ),
        "pytest": (["test"], None),
        "tomli": (["test"], 'python_full_version < "3.11.0"'),
        "sphinx": (["docs"], 'platform_machine == "x86_64"'),
    },
    "modern": {
        "flask": (["main"], None),
        "colorama": (["main", "lint"], {"main": 'sys_platform == "win32"'}),
        "ruff": (["lint"], 'platform_system != "Windows" or python_version >= "3.12"'),
    },
}
EXPORTS = {
    "legacy": [(), ("test",), ("main", "docs"), ("docs", "test")],
    "modern": [(), ("lint",), ("main", "lint")],
}
HASHED_PYPROJECTS = [
    LEGACY_PYPROJECT,
    PROJECT_PYPROJECT,
    # [project] without the hashed keys: [tool.poetry]'s go at the top level, legacy ones null.
    '[project]\nname = "x"\nversion = "1"\n[tool.poetry.dependencies]\nsix = "*"\n',
    # Poetry 1's legacy keys and sources; dotted keys; an inline table.
    '[tool.poetry]\nname = "x"\n[tool.poetry.dev-dependencies]\npytest = "*"\n'
    '[tool.poetry.extras]\nweb = ["flask"]\n[[tool.poetry.source]]\nname = "private"\n'
    'url = "https://example.invalid/simple"\npriority = "supplemental"\n'
    '[tool.poetry.dependencies]\nflask.version = "^3"\nflask.extras = ["async"]\n',
    # Keys outside the hash: scripts, readme, build-system, requires-poetry.
    '[project]\nname = "x"\nversion = "1"\nrequires-python = "~=3.11"\nreadme = "README.md"\n'
    '[project.scripts]\nx = "x:main"\n[tool.poetry]\nrequires-poetry = ">=2"\n'
    '[build-system]\nrequires = ["poetry-core"]\n',
]


def _lock_text(project: str, content_hash: str) -> str:
    packages = []
    for number, (name, (groups, markers)) in enumerate(sorted(LOCKED[project].items())):
        package: dict[str, object] = {
            "name": name,
            "version": f"1.{number}",
            "description": "",
            "optional": False,
            "python-versions": "*",
            "groups": groups,
            "files": [
                {"file": f"{name}-1.{number}-py3-none-any.whl", "hash": f"sha256:{number:064x}"},
                {"file": f"{name}-1.{number}.tar.gz", "hash": f"sha256:{number + 100:064x}"},
            ],
        }
        if markers is not None:
            package["markers"] = markers
        packages.append(package)
    if project == "legacy":
        packages.append(
            {
                "name": "lib",
                "version": "0.1",
                "description": "",
                "optional": False,
                "python-versions": "*",
                "groups": ["main"],
                "files": [],
                "develop": False,
                "source": {"type": "directory", "url": "libs/lib"},
            }
        )
    metadata = {"lock-version": "2.1", "python-versions": "*", "content-hash": content_hash}
    return tomli_w.dumps({"package": packages, "metadata": metadata})


POETRY_HASHES = """
import sys
from pathlib import Path
from poetry.core.pyproject.toml import PyProjectTOML
from poetry.packages.locker import Locker
for path in map(Path, sys.argv[1:]):
    print(Locker(path.parent / "poetry.lock", PyProjectTOML(path).data)._get_content_hash())
"""


@pytest.fixture(scope="module")
def pinned_poetry(tmp_path_factory) -> Path:
    return pinned_set_venv("poetry", tmp_path_factory.mktemp("poetry") / "venv")


def test_the_build_hashes_pyprojects_as_the_pinned_poetry_does(pinned_poetry, tmp_path):
    paths = []
    for number, text in enumerate(HASHED_PYPROJECTS):
        paths.append(tmp_path / str(number) / "pyproject.toml")
        paths[-1].parent.mkdir()
        paths[-1].write_text(text, encoding="utf-8")
    theirs = subprocess.run(
        [str(pinned_poetry / "bin/python"), "-c", POETRY_HASHES, *map(str, paths)],
        capture_output=True,
        text=True,
    )
    assert theirs.returncode == 0, theirs.stderr[-3000:]
    ours = [content_hash(loads_toml(path.read_text(encoding="utf-8"))) for path in paths]
    assert ours == theirs.stdout.split()


def _export_projects(tmp_path: Path) -> dict[str, Path]:
    projects = {"poetry-flask": tmp_path / "poetry-flask"}
    shutil.copytree(SAMPLES / "poetry-flask", projects["poetry-flask"])
    for project, text in (("legacy", LEGACY_PYPROJECT), ("modern", PROJECT_PYPROJECT)):
        projects[project] = tmp_path / project
        (projects[project] / "libs/lib").mkdir(parents=True)
        (projects[project] / "libs/lib/pyproject.toml").write_text('[project]\nname = "lib"\n')
        (projects[project] / "pyproject.toml").write_text(text, encoding="utf-8")
        recorded = content_hash(loads_toml(text))
        assert recorded is not None
        (projects[project] / "poetry.lock").write_text(_lock_text(project, recorded))
    return projects


def _requirements(text: str) -> dict[str, tuple[str, list[str], Marker | None]]:
    """name -> (specifier, hashes, marker) of a hashed requirements file without options."""
    found = {}
    for line in without_packages(text, {"lib"}).replace("\\\n", " ").splitlines():
        if line.strip():
            requirement, *hashes = line.split(" --hash=")
            parsed = Requirement(requirement)
            found[parsed.name] = (
                str(parsed.specifier),
                sorted(h.strip() for h in hashes),
                parsed.marker,
            )
    return found


# Every Python the build installs, and one beyond, on three platforms.
MARKER_ENVIRONMENTS = [
    {
        **default_environment(),
        "python_full_version": full,
        "python_version": ".".join(full.split(".")[:2]),
        **dict(zip(("sys_platform", "platform_system", "os_name", "platform_machine"), system)),
    }
    for full in ("3.9.0", "3.9.2", "3.10.4", "3.11.9", "3.12.1", "3.13.0", "3.14.0")
    for system in (
        ("linux", "Linux", "posix", "x86_64"),
        ("win32", "Windows", "nt", "AMD64"),
        ("darwin", "Darwin", "posix", "arm64"),
    )
]


def test_the_build_exports_fresh_locks_as_the_pinned_poetry_does(pinned_poetry, tmp_path):
    """The same packages, versions and hashes, under markers true in the same environments."""
    cases = [("poetry-flask", ()), ("poetry-flask", ("main", "dev"))]
    cases += [(project, groups) for project in ("legacy", "modern") for groups in EXPORTS[project]]
    projects = _export_projects(tmp_path)
    for number, (project, groups) in enumerate(cases):
        app = projects[project]
        output = tmp_path / f"export{number}.txt"
        command = [str(pinned_poetry / "bin/poetry"), "export", "--format=requirements.txt"]
        command += [f"--only={','.join(groups)}"] if groups else []
        env = poetry_env({"PATH": os.environ["PATH"]}, tmp_path / f"poetry{number}")
        done = subprocess.run(
            [*command, f"--output={output}"], cwd=app, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr[-3000:]
        theirs = _requirements(output.read_text())
        ours_text = export(
            loads_toml((app / "poetry.lock").read_text()),
            loads_toml((app / "pyproject.toml").read_text(encoding="utf-8")),
            groups,
        )
        assert ours_text is not None, (project, groups)
        ours = _requirements(ours_text)
        assert theirs, (project, groups)
        assert [(name, spec, hashes) for name, (spec, hashes, _) in sorted(ours.items())] == [
            (name, spec, hashes) for name, (spec, hashes, _) in sorted(theirs.items())
        ], (project, groups)
        for name, (_, _, marker) in ours.items():
            their_marker = theirs[name][2]
            for environment in MARKER_ENVIRONMENTS:
                expected = their_marker is None or their_marker.evaluate(environment)
                assert (marker is None or marker.evaluate(environment)) == expected, (
                    project,
                    groups,
                    name,
                    environment["python_full_version"],
                    environment["sys_platform"],
                )
