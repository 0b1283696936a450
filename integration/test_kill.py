"""Builds that survive being killed: SIGKILL bin/build at points across every phase of a cold
build and of a rebuild, then build normally on whatever the platform kept; the image (layers
and config) and the cache must equal those of a clean build, and the killed build must have
left the previous image and cache untouched.

Kill points come from the build's own log lines (plus a delay into the phase that follows), and
from files appearing in the layers dir (SBOMs, launch.toml). Every point must actually kill the
build: a point the build never reaches fails its test. The number of points is the number of
tests collected here.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
from conftest import App

from localcnb import KillPoint, Platform

BP_LAYERS = "/layers/cnb-python_python"
V1 = {"requirements.txt": "six==1.16.0\n", "app.py": "import six\n"}
V2 = {"requirements.txt": "six==1.17.0\n", "app.py": "import six\n"}

# From empty: every phase of a cold build. The first "Downloading http" and "sha256 verified"
# lines are CPython's.
COLD = {
    "cpython download": KillPoint("Downloading http", delay=0.4),  # served slowly, see below
    "cpython extraction, start": KillPoint("sha256 verified"),
    "cpython extraction, middle": KillPoint("sha256 verified", delay=0.5),
    "cpython SBOM writing": KillPoint(path=f"{BP_LAYERS}/cpython.sbom.cdx.json"),
    "stdlib bytecode": KillPoint("Compiling the standard library", delay=0.2),
    "pip download": KillPoint("Installing pip", delay=0.1),
    "pip layer": KillPoint("Installing pip", delay=1.5),
    "venv creation": KillPoint("Running 'python -m venv"),
    "pip install": KillPoint("Running 'pip install", delay=0.3),
    "dependency bytecode": KillPoint("Compiling the dependencies", delay=0.05),
    "venv SBOM writing": KillPoint(path=f"{BP_LAYERS}/venv.sbom.cdx.json"),
    "launch.toml": KillPoint(path=f"{BP_LAYERS}/launch.toml"),
}
# On a successful build of V1: a rebuild for V2 reuses CPython and pip, rebuilds the venv.
REBUILD = {
    "start of bin/build": KillPoint(delay=0.05),
    "cpython reuse": KillPoint("Reusing cached CPython"),
    "venv reset": KillPoint("Rebuilding the virtual environment"),
    "venv creation": KillPoint("Running 'python -m venv", delay=0.02),
    "pip install, start": KillPoint("Running 'pip install"),
    "pip install, download": KillPoint("Collecting six"),
    "pip install, install": KillPoint("Installing collected packages"),
    "pip install, done": KillPoint("Successfully installed"),
    "dependency bytecode": KillPoint("Compiling the dependencies", delay=0.02),
    "venv SBOM writing": KillPoint(
        "Compiling the dependencies", path=f"{BP_LAYERS}/venv.sbom.cdx.json"
    ),
    "launch processes": KillPoint("Assigning launch processes"),
    "launch.toml": KillPoint(path=f"{BP_LAYERS}/launch.toml"),
}


def state(platform: Platform) -> tuple[str, str]:
    """What a build keeps and exports: the image config (it holds every layer's digest and
    metadata) and the cache's index."""
    image = platform.image
    cache = platform.workdir / "cache" / "cache.json"
    return (
        image.config_digest if image else "",
        hashlib.sha256(cache.read_bytes()).hexdigest() if cache.exists() else "",
    )


def clone_platform(source: Platform, dest: Path) -> Platform:
    """A copy of a platform's image and cache (hard links: the platform never edits blobs)."""
    shutil.copytree(source.workdir, dest, copy_function=os.link)
    return Platform(dest, source.buildpacks)


@pytest.fixture(scope="module")
def clean_v1(tmp_path_factory, buildpack):
    app = App(tmp_path_factory.mktemp("clean-v1"), buildpack).write(V1)
    app.build_ok()
    return app


@pytest.fixture(scope="module")
def clean_v2(tmp_path_factory, buildpack):
    app = App(tmp_path_factory.mktemp("clean-v2"), buildpack).write(V2)
    app.build_ok()
    return app


def kill_then_build(platform: Platform, app: Path, point: KillPoint) -> None:
    before = state(platform)
    killed = platform.build(app, kill=point)
    assert not killed.success and killed.build_code == -9, killed.output[-3000:]
    assert "localcnb: killed bin/build (SIGKILL)" in killed.output
    assert state(platform) == before  # nothing of the killed build is exported or cached
    again = platform.build(app)
    assert again.success, again.output[-3000:]


@pytest.mark.parametrize("name", list(COLD))
def test_kill_during_cold_build(tmp_path, buildpack, cpython_server, clean_v1, name):
    app = App(tmp_path, buildpack).write(V1)
    if name == "cpython download":
        cpython_server.slow_next(1, bytes_per_second=4_000_000, path=None)
    kill_then_build(app.platform, app.dir, COLD[name])
    assert state(app.platform) == state(clean_v1.platform)


@pytest.mark.parametrize("name", list(REBUILD))
def test_kill_during_rebuild(tmp_path, clean_v1, clean_v2, name):
    platform = clone_platform(clean_v1.platform, tmp_path / "platform")
    app = tmp_path / "app"
    app.mkdir()
    for file, content in V2.items():
        (app / file).write_text(content)
    kill_then_build(platform, app, REBUILD[name])
    assert state(platform) == state(clean_v2.platform)
