"""Builds that survive being killed: SIGKILL bin/build at points across every phase of a cold
build and of a rebuild, then build normally on whatever the platform kept; the image (layers
and config) and the cache must equal those of a clean build, and the killed build must have
left the previous image and cache untouched.

Kill points come from the build's own log lines (plus a delay into the phase that follows), and
from files appearing in the layers dir (SBOMs, launch.toml). Every point must actually kill the
build; where the phase lasts long enough to tell, in the phase it names: the killed build's log
must not have reached the line that starts the next phase. The number of points is the number of
tests collected here.

Interrupts (SIGTERM or SIGINT to bin/build alone, as a platform stopping it would send them)
must end every process of the build within 5 s, and leave no layer declared that the build
had not finished: the next build equals a clean one.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
from pathlib import Path

import pytest
from conftest import App

from localcnb import KillPoint, Platform

BP_LAYERS = "/layers/cnb-python_python"
V1 = {"requirements.txt": "six==1.16.0\n", "app.py": "import six\n"}
V2 = {"requirements.txt": "six==1.17.0\n", "app.py": "import six\n"}

# From empty: every phase of a cold build. The first "Downloading http" and "sha256 verified"
# lines are CPython's.
# name: (kill point, a later line the killed build must not have reached). "" where the phase
# lasts only milliseconds for this small app (its SBOMs, its bytecode, launch.toml), so the kill
# lands in it or just after it, and no later log line tells which.
COLD = {
    # CPython is served slowly for these (see below), so the kill lands mid-download; pip's
    # wheel is downloaded and unpacked into its layer in a thread meanwhile (tools.start_tools):
    # the first kill lands while it downloads, the second once it is unpacked or unpacking.
    "pip download, alongside CPython's": (
        KillPoint("Downloading http", delay=0.1),
        "sha256 verified",
    ),
    "cpython download": (KillPoint("Downloading http", delay=0.4), "sha256 verified"),
    "cpython extraction, start": (KillPoint("sha256 verified"), "Compiling the standard"),
    "cpython extraction, middle": (
        KillPoint("sha256 verified", delay=0.3),
        "Compiling the standard",
    ),
    "cpython SBOM writing": (KillPoint(path=f"{BP_LAYERS}/cpython.sbom.cdx.json"), ""),
    # The pip layer was unpacked while CPython installed: the build goes on to the venv at once.
    "stdlib bytecode": (
        KillPoint("Compiling the standard library", delay=0.05),
        "Running 'pip install",
    ),
    # pip's pycs compile in the background until the end of bin/build, which declares the
    # layer only then.
    "pip layer": (KillPoint("Installing pip", delay=0.05), "Running 'pip install"),
    "pip bytecode, in the background": (
        KillPoint("Installing dependencies"),
        "Assigning launch processes",
    ),
    # The venv is made in a thread while the compiler shims are set up (its log line follows
    # theirs), in some 30 ms: the kill lands in it or just after it.
    "venv creation": (KillPoint("Compilers and archivers run through shims"), ""),
    "pip install": (KillPoint("Running 'pip install", delay=0.15), "Compiling the dependencies"),
    "dependency bytecode": (KillPoint("Compiling the dependencies"), ""),
    "venv SBOM writing": (KillPoint(path=f"{BP_LAYERS}/venv.sbom.cdx.json"), ""),
    "launch.toml": (KillPoint(path=f"{BP_LAYERS}/launch.toml"), ""),
}
# On a successful build of V1: a rebuild for V2 reuses CPython and pip, rebuilds the venv.
REBUILD = {
    "start of bin/build": (KillPoint(delay=0.05), "Running 'python -m venv"),
    "cpython reuse": (KillPoint("Reusing cached CPython"), "Running 'python -m venv"),
    "venv reset": (KillPoint("Rebuilding the virtual environment"), "Running 'pip install"),
    # The venv is made in a thread while the compiler shims are set up (its log line follows
    # theirs), in some 30 ms: the kill lands in it or just after it.
    "venv creation": (KillPoint("Compilers and archivers run through shims"), ""),
    "pip install, start": (KillPoint("Running 'pip install"), "Successfully installed"),
    "pip install, download": (KillPoint("Collecting six"), "Successfully installed"),
    "pip install, install": (
        KillPoint("Installing collected packages"),
        "Compiling the dependencies",
    ),
    "pip install, done": (KillPoint("Successfully installed"), "Assigning launch processes"),
    "dependency bytecode": (KillPoint("Compiling the dependencies"), ""),
    "venv SBOM writing": (
        KillPoint("Compiling the dependencies", path=f"{BP_LAYERS}/venv.sbom.cdx.json"),
        "",
    ),
    "launch processes": (KillPoint("Assigning launch processes"), ""),
    "launch.toml": (KillPoint(path=f"{BP_LAYERS}/launch.toml"), ""),
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


def kill_then_build(platform: Platform, app: Path, point: tuple[KillPoint, str]) -> None:
    kill, not_reached = point
    before = state(platform)
    killed = platform.build(app, kill=kill)
    assert not killed.success and killed.build_code == -9, killed.output[-3000:]
    assert "localcnb: killed bin/build (SIGKILL)" in killed.output
    if not_reached:  # the kill landed in the phase it names
        assert not_reached not in killed.output, killed.output[-3000:]
    assert state(platform) == before  # nothing of the killed build is exported or cached
    again = platform.build(app)
    assert again.success, again.output[-3000:]


@pytest.mark.parametrize("name", list(COLD))
def test_kill_during_cold_build(tmp_path, buildpack, cpython_server, clean_v1, name):
    app = App(tmp_path, buildpack).write(V1)
    if "download" in name:
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


# name: (interrupt point, a later line the interrupted build must not have reached, the layer
# tomls it may have written: those of layers it had finished).
INTERRUPTS = {
    "SIGTERM during pip install": (
        KillPoint("Running 'pip install", delay=0.15, signal=signal.SIGTERM),
        "Compiling the dependencies",
        {"pip.toml"},
    ),
    "SIGINT during the stdlib and pip bytecode (in the background) and the venv creation": (
        KillPoint("Compiling the standard library", delay=0.1, signal=signal.SIGINT),
        "Running 'pip install",
        set(),
    ),
    "SIGTERM during the CPython download": (
        KillPoint("Downloading http", delay=0.4, signal=signal.SIGTERM),
        "sha256 verified",
        set(),
    ),
}


@pytest.mark.parametrize("name", list(INTERRUPTS))
def test_an_interrupted_build_stops_everything_it_started(
    tmp_path, buildpack, cpython_server, clean_v1, name
):
    point, not_reached, finished = INTERRUPTS[name]
    app = App(tmp_path, buildpack).write(V1)
    if "download" in name:
        cpython_server.slow_next(1, bytes_per_second=4_000_000, path=None)
    interrupted = app.build(kill=point)
    output = interrupted.output
    assert not interrupted.success and interrupted.build_code == 128 + point.signal, output
    assert f"Build interrupted ({signal.Signals(point.signal).name})" in output
    assert not_reached not in output, output[-3000:]
    ended = re.search(r"localcnb: sent SIG\w+ .*; its last process ended in (\S+) s", output)
    assert ended, output[-3000:]  # else the harness names what still ran after 5 s
    tomls = re.search(r"localcnb: tomls bin/build left: (.*)", output)
    assert tomls and set(tomls.group(1).split(", ")) - {"none"} <= finished, output[-3000:]
    print(f"{name}: exit {interrupted.build_code}, every process gone in {ended.group(1)} s")
    again = app.build()
    assert again.success, again.output[-3000:]
    assert state(app.platform) == state(clean_v1.platform)
