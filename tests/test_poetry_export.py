"""poetry_export: Poetry's content hash and export of a 2.1 lock, and every lock it leaves to
Poetry. integration/test_poetry.py checks both against the pinned Poetry itself."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from cnb_python.cnb.toml import loads_toml
from cnb_python.managers.poetry_export import content_hash, export

REPO = Path(__file__).resolve().parents[1]
LOCKED_PROJECTS = [
    "samples/poetry-flask",
    "integration/fixtures/poetry-corpus",
    "integration/fixtures/poetry-package",
]
PYPROJECT = {
    "project": {"name": "app", "requires-python": ">=3.10,<3.14", "dependencies": ["a", "b"]},
    "tool": {"poetry": {"package-mode": False, "group": {"test": {"dependencies": {"c": "*"}}}}},
}


def package(name: str, groups: list[str], markers: Any = None, **more: Any) -> dict[str, Any]:
    locked = {
        "name": name,
        "version": "1.0",
        "groups": groups,
        "files": [{"file": f"{name}.whl", "hash": f"sha256:{name}2"}, {"hash": f"sha256:{name}1"}],
        **more,
    }
    if markers is not None:
        locked["markers"] = markers
    return locked


def lock_of(pyproject: dict[str, Any], *packages: dict[str, Any]) -> dict[str, Any]:
    metadata = {"lock-version": "2.1", "content-hash": content_hash(pyproject)}
    return {"package": list(packages), "metadata": metadata}


PACKAGES = (
    package("a", ["main"]),
    package("b", ["main", "test"], {"main": 'sys_platform == "win32"'}),
    package("c", ["test"], 'os_name == "nt"'),
    package("d", ["main", "test"], {"main": 'python_version < "3.12"', "test": "os_name == 'nt'"}),
    package("lib", ["main"], source={"type": "directory", "url": "libs/lib"}),
)
PYTHON = 'python_version < "3.14" and python_version >= "3.10"'


@pytest.mark.parametrize("project", LOCKED_PROJECTS)
def test_the_content_hash_is_the_one_poetry_recorded(project):
    pyproject = loads_toml((REPO / project / "pyproject.toml").read_text(encoding="utf-8"))
    lock = loads_toml((REPO / project / "poetry.lock").read_text(encoding="utf-8"))
    assert content_hash(pyproject) == lock["metadata"]["content-hash"]


def test_the_hash_covers_dependencies_and_groups_but_not_the_rest():
    changed = copy.deepcopy(PYPROJECT)
    changed["project"]["dependencies"].append("e")
    assert content_hash(changed) != content_hash(PYPROJECT)
    changed = copy.deepcopy(PYPROJECT)
    changed["tool"]["poetry"]["group"]["docs"] = {"dependencies": {"f": "*"}}
    assert content_hash(changed) != content_hash(PYPROJECT)
    changed = copy.deepcopy(PYPROJECT)
    changed["project"]["scripts"] = {"serve": "app:main"}
    changed["tool"]["poetry"]["package-mode"] = True
    assert content_hash(changed) == content_hash(PYPROJECT)


def test_a_date_cannot_be_hashed():
    assert content_hash(loads_toml("[tool.poetry.dependencies]\nwhen = 2026-12-04\n")) is None


def test_the_main_group_exports_under_its_markers_with_sorted_hashes():
    assert export(lock_of(PYPROJECT, *PACKAGES), PYPROJECT, ()) == (
        f"a==1.0 ; {PYTHON} \\\n    --hash=sha256:a1 \\\n    --hash=sha256:a2\n"
        f'b==1.0 ; {PYTHON} and (sys_platform == "win32") \\\n'
        "    --hash=sha256:b1 \\\n    --hash=sha256:b2\n"
        f'd==1.0 ; {PYTHON} and (python_version < "3.12") \\\n'
        "    --hash=sha256:d1 \\\n    --hash=sha256:d2\n"
    )  # lib, a path dependency, is the project step's


def test_selected_groups_join_their_markers_and_a_group_without_one_needs_none():
    exported = export(lock_of(PYPROJECT, *PACKAGES), PYPROJECT, ("main", "Test"))
    assert exported is not None
    lines = [line for line in exported.splitlines() if not line.startswith(" ")]
    assert lines == [
        f"a==1.0 ; {PYTHON} \\",
        f"b==1.0 ; {PYTHON} \\",  # test has no marker for b
        f'c==1.0 ; {PYTHON} and (os_name == "nt") \\',
        f"d==1.0 ; {PYTHON} and ((os_name == 'nt') or (python_version < \"3.12\")) \\",
    ]


@pytest.mark.parametrize(
    ("requires_python", "poetry_python", "marker"),
    [
        ("*", None, ""),
        (">=3.9", None, 'python_version >= "3.9"'),
        (">=3.9.2", None, 'python_full_version >= "3.9.2"'),
        (">=3.9", ">=3.11,<4", 'python_version < "4" and python_version >= "3.11"'),
    ],
)
def test_the_projects_python_constraint_joins_every_line(requires_python, poetry_python, marker):
    pyproject = copy.deepcopy(PYPROJECT)
    pyproject["project"]["requires-python"] = requires_python
    if poetry_python:
        pyproject["tool"]["poetry"]["dependencies"] = {"python": poetry_python}
    exported = export(lock_of(pyproject, package("a", ["main"])), pyproject, ())
    assert exported is not None
    assert exported.splitlines()[0] == (f"a==1.0 ; {marker} \\" if marker else "a==1.0 \\")


def _stale(lock: dict[str, Any], pyproject: dict[str, Any]) -> None:
    lock["metadata"]["content-hash"] = "0" * 64


LEFT_TO_POETRY = {
    "a stale lock": _stale,
    "no content-hash": lambda lock, pyproject: lock["metadata"].pop("content-hash"),
    "another lock format": lambda lock, pyproject: lock["metadata"].update({"lock-version": "2.0"}),
    "requires-poetry": lambda lock, pyproject: pyproject["tool"]["poetry"].update(
        {"requires-poetry": ">=2"}
    ),
    "an extra": lambda lock, pyproject: lock["package"].append(
        package("e", ["main"], 'extra == "fast"')
    ),
    "a named source": lambda lock, pyproject: lock["package"].append(
        package("e", ["main"], source={"type": "legacy", "url": "https://x.invalid/simple"})
    ),
    "git": lambda lock, pyproject: lock["package"].append(
        package("e", ["main"], source={"type": "git", "url": "https://x.invalid/e.git"})
    ),
    "a marker that does not parse": lambda lock, pyproject: lock["package"].append(
        package("e", ["main"], "python_version >> 3")
    ),
    "a file without a hash": lambda lock, pyproject: lock["package"].append(
        package("e", ["main"], files=[{"file": "e.whl"}])
    ),
    "Poetry's caret": lambda lock, pyproject: pyproject["project"].update(
        {"requires-python": "^3.11"}
    ),
    "a bound pip and Poetry read apart": lambda lock, pyproject: pyproject["project"].update(
        {"requires-python": "<=3.12"}
    ),
    "a pre-release bound": lambda lock, pyproject: pyproject["project"].update(
        {"requires-python": ">=3.13.0rc1"}
    ),
}


@pytest.mark.parametrize("case", sorted(LEFT_TO_POETRY))
def test_locks_and_projects_it_does_not_mirror_are_left_to_poetry(case):
    pyproject = copy.deepcopy(PYPROJECT)
    lock = lock_of(pyproject, *PACKAGES)
    assert export(lock, pyproject, ()) is not None
    LEFT_TO_POETRY[case](lock, pyproject)
    if case not in ("a stale lock", "no content-hash", "requires-poetry"):
        lock["metadata"]["content-hash"] = content_hash(pyproject)  # fresh, but not mirrored
    assert export(lock, pyproject, ()) is None


def test_a_selected_group_no_package_is_locked_in_is_left_to_poetry():
    lock = lock_of(PYPROJECT, *PACKAGES)
    assert export(lock, PYPROJECT, ("main",)) is not None
    assert export(lock, PYPROJECT, ("main", "docs")) is None
