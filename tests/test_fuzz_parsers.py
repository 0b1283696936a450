"""Property-based tests of every parser of a user's file: whatever an app holds, reading it ends
in success or a titled UserError, never another exception (a traceback, an internal error).

Inputs are arbitrary text and bytes, documents built from the keys each parser looks up with
values of every type (TOML, JSON, YAML), and valid samples with random edits. CI runs a fixed
number of examples with a fixed seed (derandomize), well under a minute. For a longer, random
run while developing: `CNB_FUZZ_EXAMPLES=2000 scripts/test tests/test_fuzz_parsers.py -s`
(the count of inputs tried is printed at the end). Every bug found has a regression test with its
minimal input below the properties.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import tomli_w
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.version import Version

from cnb_python import python_version as pv
from cnb_python.appfiles import read_toml
from cnb_python.cnb.bindings import read_bindings
from cnb_python.errors import UserError
from cnb_python.managers import select_manager
from cnb_python.managers.conda_pip_list import pip_list_lines
from cnb_python.managers.pipenv import PipenvManager
from cnb_python.managers.pipfile_lock import (
    export_requirements,
    lock_sections,
    read_lock,
    source_variable_values,
)
from cnb_python.managers.requirements import collect
from cnb_python.processes import app_processes
from cnb_python.toolscripts import conda_env
from cnb_python.venv import install_inputs

EXAMPLES = int(os.environ.get("CNB_FUZZ_EXAMPLES", "400"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize="CNB_FUZZ_EXAMPLES" not in os.environ,  # CI: the same inputs every run
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TRIED: Counter[str] = Counter()
AVAILABLE = [Version(v) for v in ("3.10.20", "3.11.16", "3.12.14", "3.13.15", "3.14.7")]
EOL = pv.parse_eol_table([{"version": "3.9", "date": "2025-10-31", "after": "error"}])


@pytest.fixture(scope="module", autouse=True)
def report_count() -> Iterator[None]:
    yield
    counts = ", ".join(f"{kind} {count}" for kind, count in TRIED.items())
    print(f"\nfuzzed inputs: {sum(TRIED.values())} ({counts})")


def ends_in_success_or_a_user_error(call: Callable[[], object]) -> None:
    try:
        call()
    except UserError as e:
        assert e.render()  # a titled error renders


@contextmanager
def app_with(files: dict[str, str | bytes]) -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="fuzz-"))
    try:
        for name, content in files.items():
            path = root / name
            data = content if isinstance(content, bytes) else content.encode(errors="surrogatepass")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
            except (FileExistsError, IsADirectoryError, NotADirectoryError):
                continue  # names that clash (`type` and `type/x`): the first one is kept
        yield root
    finally:
        shutil.rmtree(root)


# --- strategies -------------------------------------------------------------------------------


def edited(sample: str) -> st.SearchStrategy[str]:
    """`sample` with a few random insertions, deletions and replacements."""

    @st.composite
    def edit(draw: st.DrawFn) -> str:
        text = sample
        for _ in range(draw(st.integers(1, 4))):
            at = draw(st.integers(0, len(text)))
            cut = draw(st.integers(0, 3))
            text = text[:at] + draw(st.text(max_size=4)) + text[at + cut :]
        return text

    return edit()


def documents(keys: list[str], leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Nested tables/arrays whose keys are mostly the ones the parsers look up."""
    names = st.sampled_from(keys) | st.text(max_size=6)
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(names, inner, max_size=5),
        max_leaves=15,
    )


TOML_LEAVES = (
    st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["3.12", ">=3.11", "^3.12", "3.12.*", "==3.13.1", "flask", "*", "."])
    | st.dates()
)
JSON_LEAVES = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
)


def toml_file(keys: list[str], sample: str) -> st.SearchStrategy[str | bytes]:
    tables = st.dictionaries(
        st.sampled_from(keys) | st.text(max_size=6), documents(keys, TOML_LEAVES), max_size=6
    )
    return st.one_of(
        tables.map(tomli_w.dumps),
        edited(sample),
        st.text(max_size=200),
        st.binary(max_size=100),
    )


def json_file(keys: list[str], sample: str) -> st.SearchStrategy[str | bytes]:
    return st.one_of(
        documents(keys, JSON_LEAVES).map(json.dumps),
        edited(sample),
        st.text(max_size=200),
        st.binary(max_size=100),
    )


def text_file(sample: str) -> st.SearchStrategy[str | bytes]:
    return st.one_of(edited(sample), st.text(max_size=200), st.binary(max_size=100))


PYPROJECT_KEYS = [
    "project", "name", "version", "requires-python", "dependencies", "scripts",
    "optional-dependencies", "dependency-groups", "build-system", "requires", "tool", "poetry",
    "uv", "package", "package-mode", "group", "extras", "python", "workspace", "members",
    "sources", "source", "dev-dependencies", "packages", "pdm", "distribution",
]  # fmt: skip
PYPROJECT = """\
[project]
name = "app"
version = "1.0"
requires-python = ">=3.12"
dependencies = ["flask==3.1.0"]
[project.scripts]
serve = "app:main"
[tool.poetry.dependencies]
python = "^3.12"
[tool.uv]
package = true
"""
POETRY_LOCK_KEYS = [
    "package", "name", "version", "source", "type", "url", "reference", "metadata", "files",
    "python-versions", "content-hash", "lock-version", "extras", "dependencies", "optional",
    "groups",
]  # fmt: skip
POETRY_LOCK = """\
[[package]]
name = "six"
version = "1.17.0"
groups = ["main"]
files = [{file = "six-1.17.0.tar.gz", hash = "sha256:ff"}]
[package.source]
type = "legacy"
url = "https://example.org/simple"
reference = "private"
[[package]]
name = "lib"
version = "1.0"
[package.source]
type = "directory"
url = "libs/lib"
[metadata]
lock-version = "2.1"
python-versions = "^3.12"
content-hash = "00"
"""
UV_LOCK_KEYS = [
    "version", "revision", "requires-python", "package", "name", "source", "registry",
    "editable", "virtual", "directory", "dependencies", "sdist", "wheels", "url", "hash",
    "manifest", "members", "dev-dependencies", "optional-dependencies", "path",
]  # fmt: skip
UV_LOCK = """\
version = 1
requires-python = ">=3.12"
[[package]]
name = "app"
version = "1.0"
source = { editable = "." }
dependencies = [{ name = "six" }]
[[package]]
name = "six"
version = "1.17.0"
source = { registry = "https://pypi.org/simple" }
[[package]]
name = "lib"
version = "1.0"
source = { directory = "libs/lib" }
[manifest]
members = ["app", "lib"]
"""
PDM_LOCK_KEYS = [
    "metadata", "groups", "lock_version", "content_hash", "package", "name", "version",
    "files", "file", "hash", "path", "git", "marker", "dependencies",
]  # fmt: skip
PDM_LOCK = """\
[metadata]
groups = ["default", "dev"]
lock_version = "4.5.0"
content_hash = "sha256:00"
[[package]]
name = "six"
version = "1.17.0"
groups = ["default"]
files = [{file = "six-1.17.0.tar.gz", hash = "sha256:ff"}]
"""
PIPFILE_KEYS = [
    "source", "url", "verify_ssl", "name", "packages", "dev-packages", "requires",
    "python_version", "python_full_version", "scripts", "pipenv", "version", "editable", "path",
]  # fmt: skip
PIPFILE = """\
[[source]]
url = "https://${USER}:${TOKEN}@example.org/simple"
verify_ssl = true
name = "private"
[packages]
six = "*"
app = {path = ".", editable = true}
[requires]
python_version = "3.12"
"""
LOCK_KEYS = [
    "_meta", "hash", "sha256", "pipfile-spec", "requires", "python_version",
    "python_full_version", "sources", "url", "name", "verify_ssl", "default", "develop",
    "version", "hashes", "index", "markers", "editable", "path", "file", "git", "ref", "extras",
]  # fmt: skip
PIPFILE_LOCK = json.dumps(
    {
        "_meta": {
            "requires": {"python_version": "3.12"},
            "sources": [{"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": True}],
        },
        "default": {
            "six": {"hashes": ["sha256:ff"], "index": "pypi", "version": "==1.17.0"},
            "app": {"path": ".", "editable": True},
        },
        "develop": {},
    }
)
PROCFILE = "# processes\nweb: gunicorn app:app --bind :$PORT\nworker: cd src && celery -A t\n"
REQUIREMENTS = "-r base.txt\n-c constraints.txt\n-e ./lib\nflask==3.1.0 \\\n  --hash=sha256:ff\n"

APP_FILES = {
    ".python-version": text_file("3.12\n"),
    "runtime.txt": text_file("python-3.12.1\n"),
    "Procfile": text_file(PROCFILE),
    "pyproject.toml": toml_file(PYPROJECT_KEYS, PYPROJECT),
    "poetry.lock": toml_file(POETRY_LOCK_KEYS, POETRY_LOCK),
    "uv.lock": toml_file(UV_LOCK_KEYS, UV_LOCK),
    "pdm.lock": toml_file(PDM_LOCK_KEYS, PDM_LOCK),
    "Pipfile": toml_file(PIPFILE_KEYS, PIPFILE),
    "Pipfile.lock": json_file(LOCK_KEYS, PIPFILE_LOCK),
    "requirements.txt": text_file(REQUIREMENTS),
    "environment.yml": text_file("dependencies:\n  - python=3.12\n"),
    "package-list.txt": text_file("@EXPLICIT\n"),
    "setup.py": st.just(""),
}
ENVS = st.just({}) | st.fixed_dictionaries(
    {},
    optional={
        "BP_PYTHON_PACKAGE_MANAGER": st.sampled_from(
            ["pip", "uv", "poetry", "pdm", "pipenv", "conda"]
        )
        | st.text(max_size=6),
        "BP_CPYTHON_VERSION": st.sampled_from(["3.12", ">=3.11,<3.13"]) | st.text(max_size=8),
        "BP_PIP_REQUIREMENT": st.sampled_from(["requirements.txt", "a.txt b.txt"]),
        "BP_POETRY_INSTALL_ONLY": st.sampled_from(["main", "main,dev", ""]) | st.text(max_size=6),
        "BP_POETRY_INSTALL_EXTRAS": st.text(max_size=6),
        "BP_UV_INSTALL_GROUPS": st.text(max_size=6),
        "BP_PDM_INSTALL_GROUPS": st.sampled_from(["dev", "default,dev"]) | st.text(max_size=6),
        "BP_PIPENV_INSTALL_CATEGORIES": st.sampled_from(["dev-packages", "develop"])
        | st.text(max_size=6),
    },
)


# The files that select each package manager, so every manager's reading is reached.
MANAGER_FILES = [
    ["pyproject.toml", "poetry.lock"],
    ["pyproject.toml", "uv.lock"],
    ["pyproject.toml", "pdm.lock"],
    ["Pipfile", "Pipfile.lock"],
    ["Pipfile"],
    ["requirements.txt", "pyproject.toml"],
    ["environment.yml"],
    ["package-list.txt"],
]


@st.composite
def apps(draw: st.DrawFn) -> dict[str, str | bytes]:
    names = list(draw(st.sampled_from(MANAGER_FILES) | st.just([])))
    names += draw(st.lists(st.sampled_from(sorted(APP_FILES)), max_size=3))
    return {name: draw(APP_FILES[name]) for name in dict.fromkeys(names) or ["Procfile"]}


# --- the parsers, as the build calls them -----------------------------------------------------


def python_version(app: Path, env: dict[str, str]) -> None:
    requests = pv.gather_requests(app, env, "3.12")
    pv.select_version(requests[0], [], AVAILABLE, EOL, datetime.date(2026, 11, 25))


def package_manager(app: Path, env: dict[str, str]) -> None:
    """What the build reads of the manager's files before the manager's tool runs."""
    choice = select_manager(app, env, [])
    manager, installer = choice.manager, choice.installer
    if manager is None or installer is None:
        return
    installer.describe()
    install_inputs(manager, installer, env)
    installer.project_scripts()
    manager.environment.ignored_python_requests(app, env, "3.12")
    if isinstance(installer, PipenvManager):
        source_variable_values(read_toml(app / "Pipfile"), installer.source_env, env)
        if installer.locked:
            lock = read_lock(app / "Pipfile.lock")
            export_requirements(lock, lock_sections(installer.categories), env, offline=False)


def processes(app: Path, env: dict[str, str]) -> None:
    app_processes(app)


# Each step on its own: an error in one (the build stops there) must not hide the others.
STEPS = (python_version, package_manager, processes)


@FUZZ
@given(files=apps(), env=ENVS)
def test_configuring_a_build_from_any_app_files(files, env):
    TRIED["app files"] += 1
    with app_with(files) as app:
        for step in STEPS:
            ends_in_success_or_a_user_error(lambda step=step: step(app, env))


@FUZZ
@given(
    main=text_file(REQUIREMENTS),
    nested=st.dictionaries(
        st.sampled_from(["base.txt", "constraints.txt", "sub/more.txt"]),
        text_file("-r sub/more.txt\n-c ../constraints.txt\nsix\n"),
        max_size=3,
    ),
)
def test_requirements_files_with_nested_references(main, nested):
    TRIED["requirements"] += 1
    with app_with({"requirements.txt": main, **nested}) as app:
        ends_in_success_or_a_user_error(lambda: collect([app / "requirements.txt"]))


BINDING_FILES = st.dictionaries(
    st.sampled_from(["type", "provider", "pip.conf", "metadata/kind", "metadata/provider",
                     "secret/token", ".hidden", "type/x"]) | st.text(min_size=1, max_size=5),
    st.text(max_size=30) | st.binary(max_size=30),
    max_size=4,
)  # fmt: skip


@FUZZ
@given(bindings=st.dictionaries(st.text(min_size=1, max_size=6), BINDING_FILES, max_size=3))
def test_binding_directories(bindings):
    TRIED["bindings"] += 1
    files = {
        f"bindings/{name}/{entry}": content
        for name, entries in bindings.items()
        for entry, content in entries.items()
        if _safe_name(name) and all(_safe_name(part) for part in entry.split("/"))
    }

    def read() -> None:
        for binding in read_bindings([app / "bindings"]):
            for entry in binding.entries:
                binding.read(entry)

    with app_with(files) as app:
        ends_in_success_or_a_user_error(read)


def _safe_name(name: str) -> bool:
    return name not in ("", ".", "..") and "/" not in name and "\0" not in name


# conda: the tool layer's script reports its errors as Failure (the buildpack renders them as a
# UserError); it runs with PyYAML and py-rattler, both in the dev venv.
YAML_KEYS = ["name", "channels", "dependencies", "pip", "prefix", "variables"]
YAML_LEAVES = JSON_LEAVES | st.sampled_from(
    ["python=3.12", "conda-forge", "flask>=3", "2001-13-45"]
)


@FUZZ
@given(
    content=st.one_of(
        documents(YAML_KEYS, YAML_LEAVES).map(lambda d: yaml.safe_dump(d)),
        edited("name: app\nchannels: [conda-forge]\ndependencies:\n  - python=3.12\n"
               "  - pip:\n    - six\n"),
        st.text(max_size=200),
        st.binary(max_size=100),
    )
)  # fmt: skip
def test_environment_yml(content):
    TRIED["environment.yml"] += 1
    with app_with({"environment.yml": content}) as app:
        ends_in_success_or_a_conda_failure(
            lambda: conda_env.read_environment(app / "environment.yml")
        )


# What the buildpack reads of a pip: list line by line must be what PyYAML reads of it: the
# reuse key is made from the first, the install from the second (conda_pip_list.py).
PIP_ITEMS = st.sampled_from(["-e .", "./libs/x", "flask==3.1", "-r requirements.txt", "a # b"])
PIP_LIST_DOCUMENTS = st.fixed_dictionaries(
    {
        "channels": st.just(["conda-forge"]),
        "dependencies": st.lists(
            st.sampled_from(["python=3.12", "pip"])
            | st.lists(PIP_ITEMS | st.text(max_size=12), max_size=4).map(lambda p: {"pip": p}),
            max_size=3,
        ),
    }
)


@FUZZ
@given(
    content=st.one_of(
        PIP_LIST_DOCUMENTS.map(lambda d: yaml.safe_dump(d, sort_keys=False, allow_unicode=True)),
        PIP_LIST_DOCUMENTS.map(lambda d: yaml.safe_dump(d, indent=4, width=20)),
        edited("channels:\n  - conda-forge\ndependencies:\n  - python=3.12\n  - pip:\n"
               "      - -e .  # the app\n      - 'flask==3.1'\n      - \"-r requirements.txt\"\n"),
    )
)  # fmt: skip
def test_a_pip_list_read_line_by_line_reads_as_yaml_does(content):
    TRIED["environment.yml pip: list"] += 1
    with app_with({"environment.yml": content}) as app:
        found = pip_list_lines(app / "environment.yml")
        try:
            read = conda_env.read_environment(app / "environment.yml")[2]
        except conda_env.Failure:
            return  # the install script stops the build before its pip: list
        assert found is None or [line for _, line in found] == read


@FUZZ
@given(
    content=text_file(
        "# platform: linux-64\n@EXPLICIT\n"
        "https://conda.anaconda.org/conda-forge/linux-64/python-3.12.1-h1.conda#sha256:ab12\n"
    )
)
def test_package_list_txt(content):
    TRIED["package-list.txt"] += 1
    with app_with({"package-list.txt": content}) as app:
        ends_in_success_or_a_conda_failure(
            lambda: conda_env.read_explicit(app / "package-list.txt")
        )


def ends_in_success_or_a_conda_failure(call: Callable[[], object]) -> None:
    try:
        call()
    except conda_env.Failure as e:
        assert e.payload["title"]


# --- regressions: the minimal inputs of the bugs the properties found ---------------------------


@pytest.mark.parametrize(
    "pyproject",
    [
        "project = true\n",  # AttributeError: 'bool' object has no attribute 'get'
        "project = []\n",
        "tool = []\n",
        "[tool]\npoetry = 0\n",
        "[tool.poetry]\ndependencies = 0\n",
    ],
)
def test_pyproject_tables_of_another_type_are_ignored_for_the_python_version(pyproject):
    with app_with({"pyproject.toml": pyproject}) as app:
        assert [r.source for r in pv.gather_requests(app, {}, "3.12")] == [pv.DEFAULT_SOURCE]


@pytest.mark.parametrize(
    ("files", "manager"),
    [
        ({"pyproject.toml": "tool = {uv = 1}\n", "uv.lock": ""}, "uv"),
        (
            {
                "pyproject.toml": "[tool.poetry]\ngroup = 1\nextras = 1\npackage-mode = false\n",
                "poetry.lock": "",
            },
            "poetry",
        ),
        (
            {
                "pyproject.toml": (
                    "project = {optional-dependencies = 1}\ntool.poetry.package-mode = false\n"
                ),
                "poetry.lock": "",
            },
            "poetry",
        ),
        ({"pyproject.toml": "project = {scripts = 1}\n", "setup.py": ""}, "pip"),
    ],
)
def test_manager_tables_of_another_type_are_ignored(files, manager):
    with app_with(files) as app:
        choice = select_manager(app, {"BP_POETRY_INSTALL_ONLY": "main"}, [])
        assert choice.manager is not None and choice.manager.name == manager
        assert choice.installer is not None and choice.installer.project_scripts() == ()


def test_a_nested_requirements_reference_no_file_can_have_is_left_to_pip():
    # ValueError: embedded null byte
    with app_with({"requirements.txt": "-r \0base.txt\n-e ./\0lib\n-r " + "a" * 300}) as app:
        assert collect([app / "requirements.txt"]).files == [(app / "requirements.txt").resolve()]


def test_a_binding_file_that_is_not_utf8_is_a_user_error():
    # UnicodeDecodeError: 'utf-8' codec can't decode byte 0x80
    with app_with({"bindings/0/type": b"\x80"}) as app, pytest.raises(UserError):
        read_bindings([app / "bindings"])


@pytest.mark.parametrize("name", ["environment.yml", "package-list.txt"])
def test_a_conda_file_that_is_not_utf8_is_a_failure(name):
    # UnicodeDecodeError: 'utf-8' codec can't decode byte 0x80
    read = {
        "environment.yml": lambda p: conda_env.read_environment(p),
        "package-list.txt": conda_env.read_explicit,
    }
    with app_with({name: b"\x80"}) as app, pytest.raises(conda_env.Failure):
        read[name](app / name)


def test_a_pipfile_source_that_is_not_a_table_is_ignored_for_secrets():
    # AttributeError: 'bool' object has no attribute 'get'
    with app_with({"Pipfile": tomli_w.dumps({"url": [], "source": [False]})}) as app:
        assert source_variable_values(read_toml(app / "Pipfile"), {}) == set()


@pytest.mark.parametrize(
    "lock",
    [
        {"_meta": {}, "default": []},  # AttributeError: 'list' object has no attribute 'items'
        {"_meta": {"sources": [1]}, "default": {}},
        {"_meta": {}, "default": {"six": {"version": "==1", "extras": 1}}},  # TypeError
        {"_meta": {}, "default": {"six": {"version": "==1", "hashes": ["sha256:a", 2]}}},
    ],
)
def test_pipfile_lock_values_of_another_type_are_a_user_error(lock):
    with pytest.raises(UserError, match=r"Invalid Pipfile\.lock"):
        export_requirements(lock, ["default"], {}, offline=False)
