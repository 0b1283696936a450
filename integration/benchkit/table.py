"""The headline figures of each sample, and the table that shows them side by side."""

from __future__ import annotations

import statistics
from typing import Any

from .phases import TOOL_LAYERS

MB = 1_000_000
BASELINE = "pip-flask"  # the sample whose cold build the others' are compared with


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 2)


def paired_ratio(runs: list[float], baseline_runs: list[float]) -> float | None:
    """The median of each round's ratio: the runs of a round were built minutes apart, so a
    slow spell of the machine divides out."""
    ratios = [run / base for run, base in zip(runs, baseline_runs, strict=True) if base]
    return round(statistics.median(ratios), 2) if ratios else None


def headline(data: dict[str, Any], baseline: dict[str, Any] | None) -> dict[str, float | None]:
    """The figures tracked over time (seconds, ms, MB, ratios), from one sample's measurements;
    `baseline`: the measurements of the sample whose cold build the others are compared with."""
    median, imports = data["median_s"], data["import_ms"]
    launch = sum(layer["files"] for layer in data["launch_bytes"].values()) / MB
    pyc = sum(layer["pyc"] for layer in data["launch_bytes"].values()) / MB
    floor = sum(data["floor_bytes"].values()) / MB
    return {
        "cold_s": median["cold"],
        "cold_over_baseline": (
            paired_ratio(data["runs"]["cold"], baseline["runs"]["cold"]) if baseline else None
        ),
        "build_phase_s": median["build_phase"],
        "deps_step_s": median["deps_step"],
        "tool_layers_s": median["tool_layers"],
        **{f"tool_{name}_s": data["tool_layer_median_s"].get(name) for name in TOOL_LAYERS},
        "raw_s": median["raw"],
        "raw_install_s": median["raw_install"],
        "raw_install_no_pyc_s": median["raw_install_no_pyc"],
        "cold_over_raw": _ratio(median["cold"], median["raw"]),
        "deps_step_over_raw_install": _ratio(median["deps_step"], median["raw_install"]),
        "deps_step_over_raw_install_no_pyc": _ratio(
            median["deps_step"], median["raw_install_no_pyc"]
        ),
        "warm_s": median["warm"],
        "warm_build_phase_s": median["warm_build_phase"],
        "warm_cache_restored_mb": _mb(median["warm_cache_restored"]),
        "warm_cache_exported_mb": _mb(median["warm_cache_exported"]),
        "warm_cache_changed_mb": _mb(median["warm_cache_changed"]),
        "change_s": median["change"],
        "change_build_phase_s": median["change_build_phase"],
        "lock_change_s": median["lock_change"],
        "lock_change_deps_step_s": median["lock_change_deps_step"],
        "lock_change_deps_step_over_raw_install": _ratio(
            median["lock_change_deps_step"], median["raw_install"]
        ),
        "import_ours_ms": imports["ours"],
        "import_fresh_ms": imports["fresh"],
        "ours_over_fresh": _ratio(imports["ours"], imports["fresh"]),
        "import_no_pyc_ms": imports["none"],
        "no_pyc_over_ours": _ratio(imports["none"], imports["ours"]),
        "launch_mb": round(launch, 1),
        "launch_pyc_mb": round(pyc, 1),
        "floor_mb": round(floor, 1) if floor else None,
        "launch_over_floor": _ratio(launch, floor),
        "detect_ms": data["detect_ms"],
    }


def _mb(value: float | None) -> float | None:
    return None if value is None else round(value / MB, 1)


ROWS = [
    ("cold build, whole platform (s)", "cold_s"),
    (f"  ratio to {BASELINE}'s, same round", "cold_over_baseline"),
    ("  of which bin/build phase (s)", "build_phase_s"),
    ("  of which dependency step (s)", "deps_step_s"),
    ("  of which tool layers (s)", "tool_layers_s"),
    *((f"    {name} layer (s)", f"tool_{name}_s") for name in TOOL_LAYERS),
    ("raw venv + install, with bytecode (s)", "raw_s"),
    ("  of which install, with bytecode (s)", "raw_install_s"),
    ("raw install, without bytecode (s)", "raw_install_no_pyc_s"),
    ("  ratio cold build / raw", "cold_over_raw"),
    ("  ratio dependency step / raw with bytecode", "deps_step_over_raw_install"),
    ("  ratio dependency step / raw without", "deps_step_over_raw_install_no_pyc"),
    ("warm rebuild, whole platform (s)", "warm_s"),
    ("  of which bin/build phase (s)", "warm_build_phase_s"),
    ("  cache layers restored (MB)", "warm_cache_restored_mb"),
    ("  cache layers exported (MB)", "warm_cache_exported_mb"),
    ("    of which changed (MB)", "warm_cache_changed_mb"),
    ("code-change rebuild, whole platform (s)", "change_s"),
    ("  of which bin/build phase (s)", "change_build_phase_s"),
    ("lock-change rebuild, whole platform (s)", "lock_change_s"),
    ("  of which dependency step (s)", "lock_change_deps_step_s"),
    ("  ratio dependency step / raw with bytecode", "lock_change_deps_step_over_raw_install"),
    ("import, our hash-based pycs (ms)", "import_ours_ms"),
    ("import, fresh timestamp pycs (ms)", "import_fresh_ms"),
    ("  ratio ours / fresh", "ours_over_fresh"),
    ("import, no pycs at all (ms)", "import_no_pyc_ms"),
    ("  ratio no pycs / ours", "no_pyc_over_ours"),
    ("launch layers (MB)", "launch_mb"),
    ("  of which bytecode (MB)", "launch_pyc_mb"),
    ("floor: CPython + packages (MB)", "floor_mb"),
    ("  ratio launch / floor", "launch_over_floor"),
    ("bin/detect (ms)", "detect_ms"),
]


LEGEND = """\
cold build      Platform.build() on a fresh platform: detect, restore, build, export. CPython from a
                local HTTP server, pip and packages from PyPI (through this host's proxy). Each
                round builds every sample cold back to back (forwards, then backwards); the
                ratio to pip-flask's is the median over rounds of the ratio within a round.
bin/build phase from the log's "===> BUILDING" to "===> EXPORTING": the buildpack's whole build.
dependency step the buildpack's own "Completed in" for "Installing dependencies": venv
                --without-pip, the manager's install without bytecode, then hash-based pycs of
                site-packages (conda: its stdlib too, compiled before pip runs) on every
                core. On a cold build the tools and the stdlib start without pycs (theirs
                compile alongside), unlike the raw installs': the lock-change rebuild's step is
                the like-for-like one. The raw install without bytecode is the install's floor.
tool layers     the buildpack's own "Completed in" for each build-only tool layer of the cold
                build (download, unpack or install; the wheel tools' bytecode compiles in the
                background and is waited for at the end of bin/build, in the build phase).
raw             the same CPython and tool versions as the build, no cache, a clean env; each
                install timed once with bytecode and once without (order alternates by run):
                pip: python -m venv v (with ensurepip) + v/bin/pip install --isolated
                --no-cache-dir -r requirements.txt: pip's default compile (timestamp pycs, one
                process); without: --no-compile. The venv's pip is switched to the buildpack's
                pip version in between, untimed. pip-native's C code builds with CC=cc
                CXX=c++ CFLAGS=-g0 CXXFLAGS=-g0 (the test CPython names PBS's clang).
                Pipenv: the same venv + `pipenv sync` into it (VIRTUAL_ENV), with the buildpack's
                pinned Pipenv set in a venv of its own, untimed: pip's default compile; without:
                PIP_COMPILE=false for the pip Pipenv runs (PIP_NO_COMPILE=1 would leave compile
                on: pip reads it as compile=1).
                Poetry: the same venv, a venv with the pinned Poetry set (timed with the venv),
                then `poetry export` + `pip install --require-hashes --no-deps -r` of the export:
                pip's default compile; without: that pip install with --no-compile.
                PDM: the same with the pinned PDM set: `pdm export --prod` (PDM_PYTHON: the
                venv's) + that pip install, then `pip install --no-deps .` for the project
                (build isolation); without: both with --no-compile.
                pylock.toml: the same venv + pip install --no-deps --require-hashes -r
                pylock.toml, pip's default compile; without: --no-compile.
                uv: uv sync --locked --no-dev --compile-bytecode (timestamp pycs on every core)
                into a venv it makes, as the dependency step makes one; no cache; without: no
                --compile-bytecode. venv time: 0.
                conda: py-rattler by hand (benchkit/rattler_env.py, the buildpack's pinned
                py-rattler set, untimed in a venv of the build's CPython): rattler.solve of the
                environment.yml specs from the app's vendor/ channel (file://) + rattler.install
                into a new prefix, then pip --python ENV/bin/python install --no-cache-dir
                --no-compile of the pip: subsection, then ENV/bin/python -m compileall -q -j 0
                ENV/lib (timestamp pycs, every core); without: no compileall. venv time: 0.
                Checked: with bytecode site-packages holds pycs; without, none (pip's own aside).
warm rebuild    Platform.build() again on the same platform, inputs unchanged.
cache layers    bytes of the cache layer tars (uncompressed) that the warm rebuild restores
                (downloads, with a registry cache) and exports (tars, to learn each digest),
                and of those the ones whose digest changed (uploads).
code-change     Platform.build() again, after the warm rebuild, of a copy of the app with one line
                added to one source file (pip-flask: app.py; the file is in the JSON).
lock-change     Platform.build() again, after the code-change rebuild, of a copy of the app with a
                newline added to its lock file (requirements.txt, uv.lock, ...): the same
                dependencies installed from empty, with CPython and the tool layers reused and
                compiled, as the raw installs have them. Its dependency step is the one to
                compare with the raw install with bytecode. The same files, so every chunk's
                pycs are taken from the old environment (the best case: a lock that changes
                packages compiles their chunks).
import          python -c "<the app's imports>" as the run user inside one container process.
launch / floor  regular-file bytes: buildpack launch layers / CPython tarball + raw site-packages
                (with the raw pip's timestamp pycs), both without pip.
conda-flask     integration/fixtures/conda-flask with a channel that the bench builds (the test
                channel) in vendor/: py-rattler installs from file://; no floor.
pip-scipy       the large sample: numpy, pandas and scipy, pinned in requirements.txt.
bin/detect      timed inside the build container, as the lifecycle runs it."""


def render_table(figures: dict[str, dict[str, float | None]]) -> str:
    samples = list(figures)
    width = max(len(label) for label, _ in ROWS) + 2
    columns = [max(len(name), 10) + 2 for name in samples]
    lines = ["metric".ljust(width) + "".join(n.rjust(c) for n, c in zip(samples, columns))]
    lines.append("-" * len(lines[0]))
    for label, key in ROWS:
        cells = [_cell(figures[name][key], key).rjust(c) for name, c in zip(samples, columns)]
        lines.append(label.ljust(width) + "".join(cells))
    return "\n".join(lines)


def _cell(value: float | None, key: str) -> str:
    if value is None:
        return "n/a"
    if "_over_" in key:
        return f"{value:.2f}x"
    return f"{value:.1f}" if key.endswith(("_ms", "_mb")) else f"{value:.2f}"
