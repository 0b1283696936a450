"""pdm_export: PDM's content hash and export of an inherit_metadata lock, and every lock it
leaves to PDM. integration/test_pdm.py checks both against the pinned PDM itself."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest

from cnb_python.cnb.toml import loads_toml
from cnb_python.managers import pdm as pdm_module
from cnb_python.managers.pdm import PdmManager, pdm_manager
from cnb_python.managers.pdm_export import content_hash, export

REPO = Path(__file__).resolve().parents[1]
PYPROJECT: dict[str, Any] = {
    "project": {"name": "app", "requires-python": ">=3.10", "dependencies": ["a", "b"]},
    "dependency-groups": {"Test": ["c"]},
    "tool": {"pdm": {"dev-dependencies": {"test": ["d"], "lint": ["e"]}}},
}


def package(name: str, groups: list[str], marker: str = "", **more: Any) -> dict[str, Any]:
    locked = {
        "name": name,
        "version": "1.0",
        "groups": groups,
        "files": [{"file": f"{name}.whl", "hash": f"sha256:{name}2"}, {"hash": f"sha256:{name}1"}],
        **more,
    }
    if marker:
        locked["marker"] = marker
    return locked


def lock_of(pyproject: dict[str, Any], *packages: dict[str, Any]) -> dict[str, Any]:
    metadata = {
        "groups": ["default", "lint", "test"],
        "strategy": ["inherit_metadata"],
        "lock_version": "4.5.0",
        "content_hash": content_hash(pyproject),
    }
    return {"metadata": metadata, "package": list(packages)}


PACKAGES = (
    package("a", ["default"]),
    package("b", ["default", "test"], 'sys_platform == "win32"'),
    package("b", ["default"], extras=["fast"]),  # exported instead of the plain entry
    package("c", ["test"]),
    package("e", ["lint"], 'python_version < "3.12"'),
    package("f", []),  # no groups: always
)


def test_the_content_hash_is_the_one_pdm_recorded():
    sample = REPO / "samples/pdm-flask"
    pyproject = loads_toml((sample / "pyproject.toml").read_text(encoding="utf-8"))
    lock = loads_toml((sample / "pdm.lock").read_text(encoding="utf-8"))
    assert content_hash(pyproject) == lock["metadata"]["content_hash"]


def test_the_hash_merges_both_kinds_of_dependency_group_and_skips_the_rest():
    merged = copy.deepcopy(PYPROJECT)
    merged["dependency-groups"] = {"test": ["c", "d"]}
    merged["tool"]["pdm"]["dev-dependencies"] = {"lint": ["e"]}
    assert content_hash(merged) == content_hash(PYPROJECT)
    changed = copy.deepcopy(PYPROJECT)
    changed["project"]["scripts"] = {"serve": "app:main"}
    changed["tool"]["pdm"]["distribution"] = True
    assert content_hash(changed) == content_hash(PYPROJECT)
    changed["tool"]["pdm"]["resolution"] = {"allow-prereleases": True}
    assert content_hash(changed) != content_hash(PYPROJECT)


def test_only_a_project_with_project_metadata_is_hashed():
    assert content_hash({"tool": {"poetry": {"name": "x"}}}) is None
    assert content_hash(loads_toml('[project]\nname = "x"\nrequires-python = 2026-12-04\n')) is None


def test_the_default_group_exports_under_its_markers_with_sorted_hashes():
    assert export(lock_of(PYPROJECT, *PACKAGES), PYPROJECT, ()) == (
        "a==1.0 \\\n    --hash=sha256:a1 \\\n    --hash=sha256:a2\n"
        "b[fast]==1.0 \\\n    --hash=sha256:b1 \\\n    --hash=sha256:b2\n"
        "f==1.0 \\\n    --hash=sha256:f1 \\\n    --hash=sha256:f2\n"
    )


def test_named_groups_add_to_the_default_one():
    exported = export(lock_of(PYPROJECT, *PACKAGES), PYPROJECT, ("Test", "lint"))
    assert exported is not None
    assert [line.split(" ")[0] for line in exported.splitlines() if line[0] != " "] == [
        "a==1.0",
        "b[fast]==1.0",
        "c==1.0",
        "e==1.0;",
        "f==1.0",
    ]


LEFT_TO_PDM = {
    "a stale lock": lambda lock, pyproject: lock["metadata"].update({"content_hash": "sha256:0"}),
    "no content_hash": lambda lock, pyproject: lock["metadata"].pop("content_hash"),
    "another lock version": lambda lock, pyproject: lock["metadata"].update(
        {"lock_version": "4.4.1"}
    ),
    "no inherit_metadata": lambda lock, pyproject: lock["metadata"].update(
        {"strategy": ["cross_platform"]}
    ),
    "static URLs": lambda lock, pyproject: lock["metadata"]["strategy"].append("static_urls"),
    "a source": lambda lock, pyproject: pyproject["tool"]["pdm"].update(
        {"source": [{"name": "private", "url": "https://x.invalid/simple"}]}
    ),
    "excludes": lambda lock, pyproject: pyproject["tool"]["pdm"].update(
        {"resolution": {"excludes": ["a"]}}
    ),
    "a URL package": lambda lock, pyproject: lock["package"].append(
        package("g", ["default"], url="https://x.invalid/g-1.0-py3-none-any.whl")
    ),
    "a file with a URL": lambda lock, pyproject: lock["package"].append(
        package("g", ["default"], files=[{"url": "https://x.invalid/g.whl", "hash": "sha256:1"}])
    ),
    "a marker that does not parse": lambda lock, pyproject: lock["package"].append(
        package("g", ["default"], "python_version >> 3")
    ),
    "a file without a hash": lambda lock, pyproject: lock["package"].append(
        package("g", ["default"], files=[{"file": "g.whl"}])
    ),
}


@pytest.mark.parametrize("case", sorted(LEFT_TO_PDM))
def test_locks_and_projects_it_does_not_mirror_are_left_to_pdm(case):
    pyproject = copy.deepcopy(PYPROJECT)
    lock = lock_of(pyproject, *PACKAGES)
    assert export(lock, pyproject, ()) is not None
    LEFT_TO_PDM[case](lock, pyproject)
    if case not in ("a stale lock", "no content_hash"):
        lock["metadata"]["content_hash"] = content_hash(pyproject)  # fresh, but not mirrored
    assert export(lock, pyproject, ()) is None


def sample_app(tmp_path: Path) -> Path:
    app = tmp_path / "app"
    shutil.copytree(REPO / "samples/pdm-flask", app)
    return app


def test_a_lock_it_reads_itself_needs_no_pdm(tmp_path):
    manager = pdm_manager(sample_app(tmp_path), {}, [], None)  # type: ignore[arg-type]
    assert isinstance(manager, PdmManager)
    assert manager.exported is not None and "\nflask==3.1.3 \\\n" in manager.exported
    assert pdm_module.MANAGER.tools_of(manager) == ("pip",)


@pytest.mark.parametrize(
    ("env", "files"),
    [
        ({"BP_PDM_VERSION": "2.25.0"}, {}),
        ({"PDM_PYPI_URL": "https://x.invalid"}, {}),
        ({}, {"pdm.toml": "# project settings\n"}),
    ],
)
def test_another_pdm_its_settings_or_project_config_run_pdm_itself(tmp_path, env, files):
    app = sample_app(tmp_path)
    for name, text in files.items():
        (app / name).write_text(text)
    manager = pdm_manager(app, env, [], None)  # type: ignore[arg-type]
    assert manager.exported is None
    assert pdm_module.MANAGER.tools_of(manager) == ("pip", "pdm")
