"""bench: how fast and how big the images of the sample apps are, against doing it by hand.

usage: python -m benchkit [--runs N] [--json FILE] [--samples NAME ...] [--without-toolchain-shims]

N rounds; in each, a cold build (fresh platform) of every sample back to back, then per sample
a warm rebuild on it (with the bytes of cache layers it restores and exports), a rebuild after a
one-line code change, and the raw install of the same dependencies by the tool itself, with and
without bytecode (raw.py); then,
on the last image, import times (each mode IMPORT_RUNS times inside one container process),
launch layer size against the floor, and bin/detect (DETECT_RUNS times). Every figure in the
table is a median. Needs root. --without-toolchain-shims runs the compilers as they are, to
measure what the shims cost (cnb_python/toolchain.py).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from reprocheck.testbuildpack import served_test_buildpack

from .sample import BenchApp, SampleBench
from .table import BASELINE, LEGEND, headline, render_table

REPO = Path(__file__).resolve().parents[2]
IMPORT_RUNS = 15
DETECT_RUNS = 15
SAMPLES = REPO / "samples"
# Each sample: what its app imports when it starts, and the file a code change edits.
APPS = {
    "pip-flask": BenchApp(SAMPLES / "pip-flask", "import flask, gunicorn.app.wsgiapp", "app.py"),
    "pip-django": BenchApp(
        SAMPLES / "pip-django", "import django, django.core.handlers.wsgi", "mysite/urls.py"
    ),
    "uv-fastapi": BenchApp(SAMPLES / "uv-fastapi", "import fastapi, uvicorn, main", "main.py"),
    "pipenv-flask": BenchApp(
        SAMPLES / "pipenv-flask", "import flask, gunicorn.app.wsgiapp", "app.py"
    ),
    "no-package-manager": BenchApp(
        SAMPLES / "no-package-manager", "import http.server, platform", "app.py"
    ),
    "poetry-flask": BenchApp(
        SAMPLES / "poetry-flask", "import flask, gunicorn.app.wsgiapp", "app.py"
    ),
    # Built from integration/fixtures/conda-flask with a local channel: see vendored_conda_app.
    "conda-flask": BenchApp(Path(), "import flask, gunicorn.app.wsgiapp", "app.py"),
    "pip-scipy": BenchApp(
        SAMPLES / "pip-scipy", "import numpy, pandas, scipy.stats, app", "app.py"
    ),
    "pylock-flask": BenchApp(
        SAMPLES / "pylock-flask", "import flask, gunicorn.app.wsgiapp", "app.py"
    ),
    # Package projects: a code change reinstalls the project alone (projects.py).
    "uv-package": BenchApp(
        REPO / "integration" / "fixtures" / "uv-package",
        "import hello_server",
        "src/hello_server/__init__.py",
    ),
    "pdm-flask": BenchApp(
        SAMPLES / "pdm-flask",
        "import flask, gunicorn.app.wsgiapp, pdm_flask",
        "src/pdm_flask/__init__.py",
    ),
    # The raw pip compiles with gcc, without debug info, as the build does (buildenv.py).
    "pip-native": BenchApp(
        SAMPLES / "pip-native",
        "import handbuilt, mesonext, cmakeext",
        "app.py",
        raw_env={"CC": "cc", "CXX": "c++", "CFLAGS": "-g0", "CXXFLAGS": "-g0"},
    ),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each build kind (default 3)")
    parser.add_argument(
        "--json", type=Path, default=REPO / "build" / "bench.json", help="default build/bench.json"
    )
    parser.add_argument(
        "--samples", nargs="+", choices=sorted(APPS), default=list(APPS), metavar="NAME"
    )
    parser.add_argument(
        "--without-toolchain-shims",
        action="store_true",
        help="a buildpack whose installs run the compilers without its shims",
    )
    opts = parser.parse_args(argv)
    if opts.runs < 1:
        parser.error("--runs must be at least 1")
    return opts


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    command = shlex.join(["scripts/bench", *(sys.argv[1:] if argv is None else argv)])
    started = datetime.datetime.now(datetime.timezone.utc)
    header = [
        f"command: {command}",
        f"date:    {started:%Y-%m-%d %H:%M:%S} UTC; host: {os.cpu_count()} CPUs, "
        f"{platform.system()} {platform.release()}",
        f"medians: {opts.runs} run(s) of cold build, warm and code-change rebuilds, raw installs; "
        f"{IMPORT_RUNS} runs per import mode; {DETECT_RUNS} bin/detect runs",
    ]
    print("\n".join(header), flush=True)

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    scratch = Path(tempfile.mkdtemp(prefix="bench-"))
    results: dict[str, Any] = {}
    try:
        with served_test_buildpack(
            scratch / "buildpack" / "cnb-python", wrap_toolchain=not opts.without_toolchain_shims
        ) as buildpack:
            benches = {}
            for name in opts.samples:
                app = APPS[name]
                if name == "conda-flask":
                    app = replace(app, path=vendored_conda_app(scratch / "conda-app"))
                benches[name] = SampleBench(app, buildpack, scratch / name)
            for run in range(opts.runs):
                # Each round builds every sample cold back to back, in turn forwards and
                # backwards, so that a slow spell of the machine lands on all of them alike.
                order = opts.samples if run % 2 == 0 else opts.samples[::-1]
                for name in order:
                    log(f"{name}:")
                    benches[name].cold(run, opts.runs, log)
                for name in order:
                    log(f"{name}:")
                    benches[name].rebuilds(run, opts.runs, log)
            for name in opts.samples:
                log(f"{name}:")
                results[name] = benches[name].results(
                    import_runs=IMPORT_RUNS, detect_runs=DETECT_RUNS, log=log
                )
            baseline = results.get(BASELINE)
            for data in results.values():
                data["headline"] = headline(data, baseline)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    elapsed = (datetime.datetime.now(datetime.timezone.utc) - started).total_seconds()
    print()
    print(render_table({name: data["headline"] for name, data in results.items()}))
    print(f"\n{LEGEND}")
    print(f"\ntotal bench time: {elapsed:.0f} s")
    doc = {
        "command": command,
        "started": started.isoformat(),
        "seconds": round(elapsed, 1),
        "cpus": os.cpu_count(),
        "runs": opts.runs,
        "import_runs": IMPORT_RUNS,
        "detect_runs": DETECT_RUNS,
        "samples": results,
    }
    opts.json.parent.mkdir(parents=True, exist_ok=True)
    opts.json.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"JSON: {opts.json}")
    return 0


def vendored_conda_app(dest: Path) -> Path:
    """The conda-flask fixture with the test channel in vendor/ (no conda host is reachable)."""
    from testsupport.condachannel import build_channel
    from testsupport.cpython import build_available

    shutil.copytree(REPO / "integration" / "fixtures" / "conda-flask", dest)
    cpython = next(c for c in build_available() if c.minor == "3.12")
    build_channel(dest / "vendor", cpython)
    spec = dest / "environment.yml"
    spec.write_text(spec.read_text().replace("CHANNEL", "conda-forge"))
    return dest


if __name__ == "__main__":
    sys.exit(main())
