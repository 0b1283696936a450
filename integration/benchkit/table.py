"""The headline figures of each sample, and the table that shows them side by side."""

from __future__ import annotations

from typing import Any

MB = 1_000_000


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 2)


def headline(data: dict[str, Any]) -> dict[str, float | None]:
    """The figures tracked over time (seconds, ms, MB, ratios), from one sample's measurements."""
    median, imports = data["median_s"], data["import_ms"]
    launch = sum(layer["files"] for layer in data["launch_bytes"].values()) / MB
    pyc = sum(layer["pyc"] for layer in data["launch_bytes"].values()) / MB
    floor = sum(data["floor_bytes"].values()) / MB
    return {
        "cold_s": median["cold"],
        "build_phase_s": median["build_phase"],
        "deps_step_s": median["deps_step"],
        "raw_s": median["raw"],
        "raw_pip_s": median["raw_pip"],
        "cold_over_raw": _ratio(median["cold"], median["raw"]),
        "deps_step_over_raw_pip": _ratio(median["deps_step"], median["raw_pip"]),
        "warm_s": median["warm"],
        "warm_build_phase_s": median["warm_build_phase"],
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


ROWS = [
    ("cold build, whole platform (s)", "cold_s"),
    ("  of which bin/build phase (s)", "build_phase_s"),
    ("  of which dependency step (s)", "deps_step_s"),
    ("raw venv + install (s)", "raw_s"),
    ("  of which install (s)", "raw_pip_s"),
    ("  ratio cold build / raw", "cold_over_raw"),
    ("  ratio dependency step / raw install", "deps_step_over_raw_pip"),
    ("warm rebuild, whole platform (s)", "warm_s"),
    ("  of which bin/build phase (s)", "warm_build_phase_s"),
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
                local HTTP server, pip and packages from PyPI (through this host's proxy).
bin/build phase from the log's "===> BUILDING" to "===> EXPORTING": the buildpack's whole build.
dependency step the buildpack's own "Completed in" for "Installing dependencies":
                venv --without-pip, pip install --no-compile, hash-based pycs: like for like with
                the raw "pip install".
raw             pip: python -m venv v (with ensurepip) + v/bin/pip install --isolated
                --no-cache-dir -r requirements.txt (pip's own timestamp pycs), same CPython; pip
                is switched to the buildpack's pip version in between, untimed.
                Pipenv: the same venv + `pipenv sync` into it, with the buildpack's pinned Pipenv.
                Poetry: the same venv, a venv with the pinned Poetry set (timed with the venv),
                and `poetry export` + `pip install --require-hashes --no-deps -r` of the export.
                pylock.toml: the same venv + pip install --no-deps --require-hashes -r pylock.toml.
                uv: uv venv v + uv sync --locked --no-dev into it, no cache (no pycs), same CPython
                and uv version.
warm rebuild    Platform.build() again on the same platform, inputs unchanged.
import          python -c "<the app's imports>" as the run user inside one container process.
launch / floor  regular-file bytes: buildpack launch layers / CPython tarball + raw site-packages,
                both without pip.
conda-flask     integration/fixtures/conda-flask with a channel that the bench builds (the test
                channel) in vendor/: py-rattler installs from file://; no raw baseline, no floor.
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
