"""Every measurement of one sample app; the runs of different kinds are interleaved, so a slow
spell of the network or the disk does not land on one kind only."""

from __future__ import annotations

import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reprocheck.testbuildpack import TestBuildpack

from localcnb import Platform

from .detect import detect_ms
from .imports import import_times
from .phases import PhaseClock, timed_steps
from .raw import RawInstall, extract_cpython, raw_install
from .sizes import cpython_floor_bytes, launch_layer_bytes, site_packages_bytes

CPYTHON_LAYER = "cnb-python/python:cpython"
DEPS_STEP = "dependencies with"  # "Installing dependencies with pip (requirements.txt)"


@dataclass
class Runs:
    cold: list[float] = field(default_factory=list)  # whole platform build
    build_phase: list[float] = field(default_factory=list)  # ===> BUILDING to ===> EXPORTING
    deps_step: list[float] = field(default_factory=list)  # the buildpack's own figure
    warm: list[float] = field(default_factory=list)
    warm_build_phase: list[float] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)  # venv + pip install
    raw_pip: list[float] = field(default_factory=list)  # pip install alone


def measure_sample(
    app: Path,
    imports: str,
    buildpack: TestBuildpack,
    scratch: Path,
    *,
    runs: int,
    import_runs: int,
    detect_runs: int,
    log: Callable[[str], None],
    raw_baseline: bool = True,
) -> dict[str, Any]:
    tool = _baseline_tool(app) if raw_baseline else None
    samples = Runs()
    steps: dict[str, float] = {}
    raw: RawInstall | None = None
    python: Path | None = None
    platform: Platform | None = None
    for run in range(runs):
        if platform is not None:
            shutil.rmtree(platform.workdir, ignore_errors=True)
        clock = PhaseClock()
        platform = Platform(scratch / f"platform-{run}", [buildpack.path], echo=clock)
        start = time.monotonic()
        result = platform.build(app)
        if not result.success:
            raise RuntimeError(f"cold build of {app} failed:\n{result.output[-3000:]}")
        samples.cold.append(time.monotonic() - start)
        samples.build_phase.append(clock.between("BUILDING", "EXPORTING"))
        steps = timed_steps(result.output)
        deps = [seconds for what, seconds in steps.items() if what.startswith(DEPS_STEP)]
        samples.deps_step += deps
        log(f"  cold build {run + 1}/{runs}: {samples.cold[-1]:.1f} s")

        clock.marks.clear()
        start = time.monotonic()
        if not platform.build(app).success:
            raise RuntimeError(f"warm rebuild of {app} failed")
        samples.warm.append(time.monotonic() - start)
        samples.warm_build_phase.append(clock.between("BUILDING", "EXPORTING"))
        log(f"  warm rebuild {run + 1}/{runs}: {samples.warm[-1]:.1f} s")

        if tool:
            assert result.image is not None
            if python is None:
                version = result.image.layers[CPYTHON_LAYER].metadata["version"]
                tarball = buildpack.cpython(version).path
                python = extract_cpython(tarball, scratch / "raw-cpython")
            if raw is not None:
                shutil.rmtree(raw.venv, ignore_errors=True)
            venv = scratch / f"raw-venv-{run}"
            version = _tool_version(steps, "uv" if tool == "uv" else "pip")
            raw = raw_install(python, app, venv, tool, version)
            samples.raw.append(raw.seconds)
            samples.raw_pip.append(raw.pip_seconds)
            log(f"  raw venv + {tool} install {run + 1}/{runs}: {raw.seconds:.1f} s")

    assert platform is not None and platform.image is not None
    image = platform.image
    # A conda app's Python is a conda package: no CPython layer in the image, no floor to compare.
    cpython_layer = image.layers.get(CPYTHON_LAYER)
    cpython_version = cpython_layer.metadata["version"] if cpython_layer else None
    imports_ms = import_times(platform, imports, import_runs)
    log(f"  imports: {imports_ms}")
    launch = launch_layer_bytes(image)
    floor = {}
    if cpython_version:
        floor["cpython_without_pip"] = cpython_floor_bytes(buildpack.cpython(cpython_version).path)
        floor["site_packages"] = site_packages_bytes(raw.site_packages) if raw else 0
    detect = detect_ms(buildpack.path, app, scratch / "detect", detect_runs)
    log(f"  detect: {detect} ms")
    return {
        "app": str(app),
        "imports": imports,
        "cpython": cpython_version,
        "raw_tool": tool,
        "raw_tool_version": raw.pip_version if raw else None,
        "buildpack_steps": steps,
        "runs": {name: [round(v, 3) for v in values] for name, values in vars(samples).items()},
        "median_s": {
            name: round(statistics.median(values), 3) if values else None
            for name, values in vars(samples).items()
        },
        "import_ms": imports_ms,
        "launch_bytes": launch,
        "floor_bytes": floor,
        "detect_ms": detect,
    }


def _baseline_tool(app: Path) -> str | None:
    """The manager the raw baseline uses, as the buildpack chooses it; None: nothing to install."""
    if (app / "uv.lock").is_file():
        return "uv"
    if (app / "poetry.lock").is_file():
        return "poetry"
    if (app / "Pipfile.lock").is_file():
        return "pipenv"
    return "pip" if any((app / f).is_file() for f in ("pylock.toml", "requirements.txt")) else None


def _tool_version(steps: dict[str, float], tool: str) -> str:
    """The tool the buildpack installed, from its "Installing uv 0.13.9" step."""
    return next(what.split()[1] for what in steps if what.startswith(f"{tool} "))
