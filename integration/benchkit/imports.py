"""App import time inside the image, from one container process (so container setup is not
timed), as the run user, with three kinds of bytecode:

- ours:  the image as built: hash-based pycs in the layers;
- fresh: ``PYTHONPYCACHEPREFIX`` pointing at a writable dir, filled by one untimed run with
         timestamp pycs (valid: the image's source mtimes never change);
- none:  no pycs read or written (an empty prefix dir and ``PYTHONDONTWRITEBYTECODE``), so
         every module is compiled at every start: what the image would cost without its pycs.

Each timed run is a new ``python -c <imports>``, so interpreter start is part of every figure.
"""

from __future__ import annotations

import json
import statistics

from localcnb import Platform

MODES = ("ours", "fresh", "none")

_DRIVER = r"""
import json, os, subprocess, sys, time
spec = json.loads(sys.argv[1])
os.makedirs("/tmp/empty-pycache", exist_ok=True)
extra = {
    "ours": {},
    "fresh": {"PYTHONPYCACHEPREFIX": "/tmp/fresh-pycache"},
    "none": {"PYTHONPYCACHEPREFIX": "/tmp/empty-pycache", "PYTHONDONTWRITEBYTECODE": "1"},
}
def once(mode):
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", spec["code"]], env={**os.environ, **extra[mode]},
                   check=True)
    return time.perf_counter() - start
once("fresh")
fresh_pycs = sum(len(files) for _, _, files in os.walk("/tmp/fresh-pycache"))
modes = list(extra)
times = {mode: [] for mode in modes}
for i in range(spec["runs"]):
    for mode in modes[i % 3:] + modes[:i % 3]:  # rotated: no mode always runs first
        times[mode].append(once(mode))
print(json.dumps({"times": times, "fresh_pycs": fresh_pycs}))
"""


def import_times(platform: Platform, code: str, runs: int) -> dict[str, float | int]:
    """Median milliseconds per mode, and how many pycs the fresh run wrote."""
    spec = json.dumps({"code": code, "runs": runs})
    proc = platform.run(command=["python", "-c", _DRIVER, spec], timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"import driver failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout)
    out: dict[str, float | int] = {
        mode: round(statistics.median(result["times"][mode]) * 1000, 1) for mode in MODES
    }
    out["fresh_pycs"] = result["fresh_pycs"]
    return out
