"""The bench's own bookkeeping: cache bytes read from a platform's cache and build log, and the
check that a raw baseline wrote bytecode exactly when its row says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from benchkit import sample, table
from benchkit.cachebytes import SBOM_ID, cache_tars, cache_traffic
from benchkit.phases import timed_steps, tool_layer_steps
from benchkit.raw import check_bytecode

# The restore and export lines of a localcnb warm rebuild (localcnb.restore, localcnb.export).
WARM_LOG = """\
===> RESTORING
Restoring metadata for "cnb-python/python:cpython" from app image
Restoring metadata for "cnb-python/python:pip" from cache
Restoring data for "cnb-python/python:cpython" from cache
Restoring data for "cnb-python/python:pip" from cache
Restoring data for SBOM from cache
===> BUILDING
===> EXPORTING
Reusing cache layer 'cnb-python/python:cpython'
Adding cache layer 'cnb-python/python:pip'
Reusing cache layer 'buildpacksio/lifecycle:cache.sbom'
"""


def _cache(directory: Path, layers: dict[str, int], sbom: int) -> None:
    """A localcnb cache dir whose layer `name` has a tar of `layers[name]` bytes."""
    (directory / "layers").mkdir(parents=True)
    records = {}
    for name, size in [*layers.items(), ("sbom", sbom)]:
        sha = f"{name}-{size}"
        (directory / "layers" / f"{sha}.tar").write_bytes(b"x" * size)
        records[name] = {"sha256": sha, "metadata": {}, "types": {"cache": True}}
    sbom_record = records.pop("sbom")
    doc = {
        "schema_version": 1,
        "buildpacks": {"cnb-python/python": {"version": "0.1", "layers": records}},
        "sbom": {"sha256": sbom_record["sha256"]},
    }
    (directory / "cache.json").write_text(json.dumps(doc))


def test_cache_traffic_counts_restored_exported_and_changed_tars(tmp_path: Path) -> None:
    _cache(tmp_path / "before", {"cpython": 1000, "pip": 300}, sbom=20)
    _cache(tmp_path / "after", {"cpython": 1000, "pip": 310}, sbom=20)
    before, after = cache_tars(tmp_path / "before"), cache_tars(tmp_path / "after")
    assert before == {"cnb-python/python:cpython": 1000, "cnb-python/python:pip": 300, SBOM_ID: 20}

    traffic = cache_traffic(before, after, WARM_LOG)

    assert traffic.totals() == {"restored": 1320, "exported": 1330, "changed": 310}
    assert traffic.changed == {"cnb-python/python:pip": 310}


def test_no_cache_dir_is_no_tars(tmp_path: Path) -> None:
    assert cache_tars(tmp_path / "missing") == {}


def _site(tmp_path: Path, *files: str) -> Path:
    """A site-packages with a `flask` dir and `files` (empty), paths relative to it."""
    site = tmp_path / "lib" / "python3.12" / "site-packages"
    (site / "flask").mkdir(parents=True)
    for name in files:
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_bytes(b"")
    return site


def test_a_baseline_with_bytecode_must_have_written_pycs(tmp_path: Path) -> None:
    # pip's own pycs (written when pip runs from the venv) do not count.
    site = _site(tmp_path, "flask/app.py", "pip/__pycache__/__init__.cpython-312.pyc")
    with pytest.raises(RuntimeError, match="with bytecode left 0 pycs"):
        check_bytecode(site, bytecode=True)
    check_bytecode(site, bytecode=False)


def test_packages_without_python_sources_have_no_pycs_either_way(tmp_path: Path) -> None:
    # pip-native's packages are C modules alone.
    site = _site(tmp_path, "handbuilt.cpython-312-x86_64-linux-gnu.so", "pip/__init__.py")
    check_bytecode(site, bytecode=True)
    check_bytecode(site, bytecode=False)


def test_a_baseline_without_bytecode_must_have_written_none(tmp_path: Path) -> None:
    site = _site(tmp_path, "flask/__pycache__/app.cpython-312.pyc")
    with pytest.raises(RuntimeError, match="without bytecode left 1 pycs"):
        check_bytecode(site, bytecode=False)
    check_bytecode(site, bytecode=True)


# The buildpack's steps in a cold Poetry build's log.
COLD_LOG = """\
  Installing CPython 3.12.1
      Completed in 0.816s
  Installing pip 26.3
      Completed in 0.215s
  Installing uv 0.13.9
      Completed in 0.294s
  Installing poetry 2.2.1
    Running 'uv pip install poetry'
      Installing collected packages: six
      Completed in 1.392s
  Installing dependencies with Poetry (poetry.lock, main group)
      Completed in 2.691s
"""


def test_the_tool_layers_of_a_cold_build_are_read_from_its_log() -> None:
    steps = timed_steps(COLD_LOG)
    assert tool_layer_steps(steps) == {"pip": 0.215, "uv": 0.294, "poetry": 1.392}


def test_the_lock_change_rebuild_edits_the_file_the_manager_is_chosen_by(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text("flask==3.1.3\n")
    (app / "poetry.lock").write_text("# lock\n")
    assert sample._lock_file(app) == ("poetry.lock", "poetry")
    copy = sample._lock_change(app, "poetry.lock", tmp_path / "copy")
    assert (copy / "poetry.lock").read_text() == "# lock\n\n"
    assert (copy / "requirements.txt").read_text() == "flask==3.1.3\n"
    assert (app / "poetry.lock").read_text() == "# lock\n"
    assert sample._lock_file(tmp_path) is None


def test_paired_ratio_divides_each_round_by_its_own_baseline() -> None:
    # Round 2 ran on a machine four times as slow, and only the baseline's run of round 3 was
    # slowed: two rounds of three say 1.5x, while the ratio of the medians (3.3 / 3.0) says 1.1x.
    assert table.paired_ratio([3.0, 12.0, 3.3], [2.0, 8.0, 3.0]) == 1.5
    assert table.paired_ratio([3.0, 4.5, 6.0], [2.0, 2.0, 2.0]) == 2.25
    assert table.paired_ratio([], []) is None
