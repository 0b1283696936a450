"""Every measurement of one sample app, a round at a time: the bench interleaves the rounds of
all samples, and within a round the runs of different kinds, so a slow spell of the machine,
the network or the disk does not land on one sample or one kind only."""

from __future__ import annotations

import shutil
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reprocheck.testbuildpack import TestBuildpack

from localcnb import BuildResult, Platform

from .cachebytes import CacheTraffic, cache_tars, cache_traffic
from .detect import detect_ms
from .imports import import_times
from .phases import PhaseClock, timed_steps, tool_layer_steps
from .raw import RawInstall, extract_cpython, raw_install
from .sizes import cpython_floor_bytes, launch_layer_bytes, site_packages_bytes

CPYTHON_LAYER = "cnb-python/python:cpython"
DEPS_STEP = "dependencies with"  # "Installing dependencies with pip (requirements.txt)"


@dataclass(frozen=True)
class BenchApp:
    """A sample as the bench uses it."""

    path: Path
    imports: str  # what the app imports when it starts
    source: str  # the app file that the code-change rebuild edits
    # What the raw install needs on top of a clean environment to build the app as the build
    # does: pip-native's C code is compiled with the compilers the test CPython's build settings
    # name unless CC and CXX say otherwise (they record PBS's clang; the build patches them,
    # sysconfig_patch.py).
    raw_env: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Runs:
    cold: list[float] = field(default_factory=list)  # whole platform build
    build_phase: list[float] = field(default_factory=list)  # ===> BUILDING to ===> EXPORTING
    deps_step: list[float] = field(default_factory=list)  # the buildpack's own figure
    tool_layers: list[float] = field(default_factory=list)  # the tool layers' figures, summed
    warm: list[float] = field(default_factory=list)
    warm_build_phase: list[float] = field(default_factory=list)
    # bytes of cache layer tars that the warm rebuild restores, exports and, of those, changes
    warm_cache_restored: list[float] = field(default_factory=list)
    warm_cache_exported: list[float] = field(default_factory=list)
    warm_cache_changed: list[float] = field(default_factory=list)
    change: list[float] = field(default_factory=list)  # rebuild after editing one source file
    change_build_phase: list[float] = field(default_factory=list)
    # rebuild after a change to the lock file: CPython and the tools reused, with their pycs, as
    # the raw installs have them; the dependencies installed from empty, as on a cold build
    lock_change: list[float] = field(default_factory=list)
    lock_change_deps_step: list[float] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)  # venv + install, with bytecode
    raw_install: list[float] = field(default_factory=list)  # the install alone, with bytecode
    raw_install_no_pyc: list[float] = field(default_factory=list)  # ... without bytecode


class SampleBench:
    """One sample's measurements. The bench calls `cold` for every sample of a round before any
    `rebuilds`, so the cold builds that the goals compare run close together."""

    def __init__(self, bench_app: BenchApp, buildpack: TestBuildpack, scratch: Path) -> None:
        self.bench_app, self.buildpack, self.scratch = bench_app, buildpack, scratch
        app = bench_app.path
        lock = _lock_file(app)
        self.tool = lock[1] if lock else None
        self.changed_app = _code_change(app, bench_app.source, scratch / "changed-app")
        self.relocked_app = _lock_change(app, lock[0], scratch / "relocked-app") if lock else None
        self.samples = Runs()
        self.tool_layers: dict[str, list[float]] = {}  # each tool layer's seconds, cold builds
        self.steps: dict[str, float] = {}
        self.raw: RawInstall | None = None
        self.raw_site_bytes = 0
        self.traffic: CacheTraffic | None = None
        self.python: Path | None = None
        self.platform: Platform | None = None
        self.clock = PhaseClock()

    def cold(self, run: int, runs: int, log: Callable[[str], None]) -> None:
        """A cold build on a fresh platform, which the rebuilds of this round reuse."""
        samples = self.samples
        if self.platform is not None:
            shutil.rmtree(self.platform.workdir, ignore_errors=True)
        self.clock = PhaseClock()
        self.platform = Platform(
            self.scratch / f"platform-{run}", [self.buildpack.path], echo=self.clock
        )
        seconds, result = _timed_build(self.platform, self.bench_app.path, "cold build")
        samples.cold.append(seconds)
        samples.build_phase.append(self.clock.between("BUILDING", "EXPORTING"))
        self.steps = timed_steps(result.output)
        samples.deps_step += _deps_steps(self.steps)
        tools = tool_layer_steps(self.steps)
        if tools:
            samples.tool_layers.append(sum(tools.values()))
        for name, seconds in tools.items():
            self.tool_layers.setdefault(name, []).append(seconds)
        log(f"  cold build {run + 1}/{runs}: {samples.cold[-1]:.1f} s")

    def rebuilds(self, run: int, runs: int, log: Callable[[str], None]) -> None:
        """The warm, code-change and lock-change rebuilds on this round's platform, then the
        raw installs."""
        samples, platform, app = self.samples, self.platform, self.bench_app.path
        assert platform is not None
        self.clock.marks.clear()
        cache_before = cache_tars(platform.workdir / "cache")
        seconds, warm = _timed_build(platform, app, "warm rebuild")
        samples.warm.append(seconds)
        samples.warm_build_phase.append(self.clock.between("BUILDING", "EXPORTING"))
        self.traffic = cache_traffic(
            cache_before, cache_tars(platform.workdir / "cache"), warm.output
        )
        totals = self.traffic.totals()
        samples.warm_cache_restored.append(totals["restored"])
        samples.warm_cache_exported.append(totals["exported"])
        samples.warm_cache_changed.append(totals["changed"])
        log(f"  warm rebuild {run + 1}/{runs}: {samples.warm[-1]:.1f} s, cache bytes {totals}")

        self.clock.marks.clear()
        seconds, _ = _timed_build(platform, self.changed_app, "code-change rebuild")
        samples.change.append(seconds)
        samples.change_build_phase.append(self.clock.between("BUILDING", "EXPORTING"))
        log(f"  code-change rebuild {run + 1}/{runs}: {samples.change[-1]:.1f} s")

        if self.relocked_app:
            seconds, relocked = _timed_build(platform, self.relocked_app, "lock-change rebuild")
            samples.lock_change.append(seconds)
            samples.lock_change_deps_step += _deps_steps(timed_steps(relocked.output))
            log(f"  lock-change rebuild {run + 1}/{runs}: {samples.lock_change[-1]:.1f} s")

        if self.tool:
            self._raw_installs(run, runs, log)

    def _raw_installs(self, run: int, runs: int, log: Callable[[str], None]) -> None:
        assert self.tool is not None
        if self.python is None:
            # A conda build runs its tools on the buildpack's own Python, with no CPython step:
            # the raw py-rattler runs on the buildpack's default CPython then.
            installed = _step_version(self.steps, "CPython")
            cpython = (
                self.buildpack.cpython(installed) if installed else self.buildpack.default_cpython()
            )
            self.python = extract_cpython(cpython.path, self.scratch / "raw-cpython")
        version = _step_version(self.steps, "uv" if self.tool == "uv" else "pip")
        assert version is not None
        # Alternated, so neither kind always runs first.
        for bytecode in (True, False) if run % 2 == 0 else (False, True):
            venv = self.scratch / f"raw-venv-{run}-{'pyc' if bytecode else 'no-pyc'}"
            raw = raw_install(
                self.python,
                self.bench_app.path,
                venv,
                self.tool,
                version,
                bytecode=bytecode,
                env=self.bench_app.raw_env,
            )
            self.raw = raw
            kind = "with" if bytecode else "without"
            if bytecode:
                self.samples.raw.append(raw.seconds)
                self.samples.raw_install.append(raw.install_seconds)
                self.raw_site_bytes = site_packages_bytes(raw.site_packages)
            else:
                self.samples.raw_install_no_pyc.append(raw.install_seconds)
            shutil.rmtree(venv, ignore_errors=True)
            log(f"  raw {self.tool} install {kind} bytecode {run + 1}/{runs}: {raw.seconds:.1f} s")

    def results(
        self, *, import_runs: int, detect_runs: int, log: Callable[[str], None]
    ) -> dict[str, Any]:
        """Every figure, with the import times, sizes and bin/detect of the last image."""
        assert self.platform is not None and self.platform.image is not None
        image, samples, app = self.platform.image, self.samples, self.bench_app.path
        # A conda app's Python is a conda package: no CPython layer in the image, no floor.
        cpython_layer = image.layers.get(CPYTHON_LAYER)
        cpython_version = cpython_layer.metadata["version"] if cpython_layer else None
        imports_ms = import_times(self.platform, self.bench_app.imports, import_runs)
        log(f"  imports: {imports_ms}")
        launch = launch_layer_bytes(image)
        floor = {}
        if cpython_version:
            floor["cpython_without_pip"] = cpython_floor_bytes(
                self.buildpack.cpython(cpython_version).path
            )
            floor["site_packages"] = self.raw_site_bytes
        detect = detect_ms(self.buildpack.path, app, self.scratch / "detect", detect_runs)
        log(f"  detect: {detect} ms")
        return {
            "app": str(app),
            "imports": self.bench_app.imports,
            "code_change": self.bench_app.source,
            "cpython": cpython_version,
            "raw_tool": self.tool,
            "raw_tool_version": self.raw.tool_version if self.raw else None,
            "buildpack_steps": self.steps,
            "runs": {name: [round(v, 3) for v in values] for name, values in vars(samples).items()},
            "median_s": {
                name: round(statistics.median(values), 3) if values else None
                for name, values in vars(samples).items()
            },
            "tool_layer_runs": self.tool_layers,
            "tool_layer_median_s": {
                name: round(statistics.median(values), 3)
                for name, values in self.tool_layers.items()
            },
            "warm_cache_bytes": vars(self.traffic) if self.traffic else None,  # last run, by layer
            "import_ms": imports_ms,
            "launch_bytes": launch,
            "floor_bytes": floor,
            "detect_ms": detect,
        }


def _timed_build(platform: Platform, app: Path, what: str) -> tuple[float, BuildResult]:
    start = time.monotonic()
    result = platform.build(app)
    seconds = time.monotonic() - start
    if not result.success:
        raise RuntimeError(f"{what} of {app} failed:\n{result.output[-3000:]}")
    return seconds, result


def _code_change(app: Path, source: str, dest: Path) -> Path:
    """A copy of `app` with one line added to its file `source`: a push that changes code only."""
    shutil.copytree(app, dest, symlinks=True)
    path = dest / source
    path.write_text(path.read_text() + "# a code change: this line is not in the sample\n")
    return dest


def _lock_change(app: Path, lock: str, dest: Path) -> Path:
    """A copy of `app` with a newline added to its lock file: a change of the lock's bytes that
    every manager reads as the same lock, so the rebuild installs the same dependencies."""
    shutil.copytree(app, dest, symlinks=True)
    path = dest / lock
    path.write_bytes(path.read_bytes() + b"\n")
    return dest


# The file that pins each manager's dependencies, in the order the buildpack chooses managers.
_LOCKS = (
    ("uv.lock", "uv"),
    ("poetry.lock", "poetry"),
    ("Pipfile.lock", "pipenv"),
    ("pdm.lock", "pdm"),
    ("environment.yml", "conda"),
    ("pylock.toml", "pip"),
    ("requirements.txt", "pip"),
)


def _lock_file(app: Path) -> tuple[str, str] | None:
    """The app's lock file and the manager the raw baseline uses, as the buildpack chooses it;
    None: nothing to install."""
    return next(((lock, tool) for lock, tool in _LOCKS if (app / lock).is_file()), None)


def _deps_steps(steps: dict[str, float]) -> list[float]:
    """The seconds of the build's dependency step (none when nothing was installed)."""
    return [seconds for what, seconds in steps.items() if what.startswith(DEPS_STEP)]


def _step_version(steps: dict[str, float], name: str) -> str | None:
    """The version of what the buildpack installed, from its "Installing uv 0.13.9" step; None
    when it installed no such thing."""
    return next((what.split()[1] for what in steps if what.startswith(f"{name} ")), None)
