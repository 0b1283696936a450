"""A fresh clone is a working buildpack: no scripts/build.sh, no dev-setup. The clone is the
committed tree (`git archive HEAD`), so files only in this checkout cannot help it."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile

import pytest
from conftest import SAMPLES, TEST_DEFAULT_PYTHON
from testsupport.buildpack import make_test_buildpack
from testsupport.cpython import REPO_ROOT

from localcnb import Platform


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    dest = tmp_path_factory.mktemp("clone") / "cnb-python"
    tree = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "archive", "--format=tar", "HEAD"],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(tree)) as tar:
        tar.extractall(dest, filter="data")
    return dest


def test_bin_detect_of_a_fresh_clone_passes(clone, tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    (app / "app.py").write_text("print('hi')\n")
    (tmp_path / "platform").mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "CNB_PLATFORM_DIR": str(tmp_path / "platform"),
        "CNB_BUILD_PLAN_PATH": str(tmp_path / "plan.toml"),
        "CNB_BUILDPACK_DIR": str(clone),
    }
    proc = subprocess.run(
        [clone / "bin/detect"], cwd=app, env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'name = "cpython"' in (tmp_path / "plan.toml").read_text()


def test_a_fresh_clone_builds_an_app(clone, tmp_path, cpython_server, test_cpythons):
    # Only the CPython URLs change (the production ones are unreachable here); bin/, cnb_python/
    # and vendor/ are the clone's own.
    bp = make_test_buildpack(
        tmp_path / "bp",
        base_url=cpython_server.base_url,
        cpythons=test_cpythons,
        default_python=TEST_DEFAULT_PYTHON,
        source=clone,
    )
    platform = Platform(tmp_path / "platform", [bp])
    result = platform.build(SAMPLES / "no-package-manager")
    assert result.success, result.output
    assert "Installing CPython 3.12" in result.output
    proc = platform.run(command=["python", "-c", "import sys; print(sys.version_info[:2])"])
    assert proc.stdout == "(3, 12)\n", proc.stdout + proc.stderr
