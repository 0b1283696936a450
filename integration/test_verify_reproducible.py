"""scripts/verify-reproducible end to end: a sample reproduces, cold and on a warm rebuild; a
fixture that writes the build time into its venv is caught, naming the file and the cause; and
so is a C extension whose debug info holds pip's temp directory, with the path.
(.ci/run runs it with --warm on every sample.)"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TIMESTAMP_APP = REPO / "integration" / "fixtures" / "timestamp-app"
VENV = "cnb-python/python:venv"


def _verify(
    app: Path, buildpack: Path, tmp_path: Path, *extra: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    report = tmp_path / "report.json"
    script = REPO / "scripts" / "verify-reproducible"
    proc = subprocess.run(
        [script, app, "--buildpack", buildpack, "--json", report, *extra],
        capture_output=True,
        text=True,
        timeout=900,
    )
    return proc, json.loads(report.read_text())


def _assert_conditions_differed(builds: list[dict[str, Any]]) -> None:
    """What each build's driver process reported about itself."""
    assert len({b["seen_hash_seed"] for b in builds}) == len(builds)
    assert {b["seen_umask"] for b in builds} == {"022", "002"}
    assert len({b["root"] for b in builds}) == 2
    starts = [b["started"] for b in builds]
    assert starts == sorted(set(starts))


def test_a_warm_rebuild_gives_the_digests_of_a_clean_build(buildpack: Path, tmp_path: Path) -> None:
    proc, report = _verify(REPO / "samples" / "pip-flask", buildpack, tmp_path, "--warm")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [b["name"] for b in report["builds"]] == ["A", "A-warm", "B"]
    _assert_conditions_differed(report["builds"])
    warm = report["comparisons"][1]
    assert warm["label"].startswith("A-warm vs B")
    assert warm["identical"] is True
    assert VENV in {layer["id"] for layer in warm["layers"]}


def test_a_build_timestamp_in_a_layer_is_named_with_its_cause(
    buildpack: Path, tmp_path: Path
) -> None:
    proc, report = _verify(TIMESTAMP_APP, buildpack, tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert report["reproducible"] is False
    (comparison,) = report["comparisons"]
    found = [d for layer in comparison["layers"] for d in layer["differences"]]
    stamp = [d for d in found if d["path"].endswith("/site-packages/buildstamp.py")]
    assert [(d["where"], d["cause"]) for d in stamp] == [(VENV, "text")]
    assert '-BUILT_AT = "' in stamp[0]["detail"] and '+BUILT_AT = "' in stamp[0]["detail"]
    pyc = [d for d in found if d["path"].endswith("/__pycache__/buildstamp.cpython-312.pyc")]
    assert [d["cause"] for d in pyc] == ["pyc-source-hash"]
    assert f"text             {stamp[0]['path']}" in proc.stdout
    assert "RESULT: NOT REPRODUCIBLE" in proc.stdout


def test_a_build_directory_in_debug_info_is_named_with_the_path(
    unwrapped_buildpack: Path, tmp_path: Path
) -> None:
    # The sdist whose script adds -g, built without the compiler shims: pip's random temp
    # directory ends up in the module's debug info.
    app = tmp_path / "app"
    (app / "sdist").mkdir(parents=True)
    sdist = REPO / "samples" / "pip-native" / "sdist" / "handbuilt-1.0.tar.gz"
    (app / "sdist" / sdist.name).write_bytes(sdist.read_bytes())
    (app / "requirements.txt").write_text(f"./sdist/{sdist.name}\n")
    proc, report = _verify(app, unwrapped_buildpack, tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (comparison,) = report["comparisons"]
    found = [d for layer in comparison["layers"] for d in layer["differences"]]
    module = [d for d in found if d["path"].endswith(".so")]
    assert [(d["where"], d["cause"]) for d in module] == [(VENV, "elf-debug-path")]
    detail = module[0]["detail"]
    below = r"( \(and \d+ paths below\))?"
    build_dir = r"/tmp/pip-req-build-\w+"
    pattern = f"build path in debug info: A {build_dir}{below}; B {build_dir}{below}\n"
    assert re.match(pattern, detail), detail
    assert "\nso the build-id differs too: A " in detail
    assert "build path in debug info" in proc.stdout
    # The static library it ships, archived with real mtimes (ar U).
    archive = [d for d in found if d["path"].endswith("/libhelpers.a")]
    assert [d["cause"] for d in archive] == ["ar-member-times"]
