"""bin/detect wall time as the lifecycle runs it: as the build user, in the build container's
mounts (/cnb read-only, so nothing can cache bytecode there), with the detect env. A driver in
that container times the runs, so the platform's own container setup is not counted."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
from pathlib import Path

from localcnb import buildpacks
from localcnb.constants import (
    APP_DIR,
    BUILD_UID,
    BUILDER_IMAGE_ENV,
    CNB_DIR,
    CNB_GID,
    EXEC_ENV,
    LAYERS_DIR,
    PLATFORM_DIR,
)
from localcnb.container import Container
from localcnb.envfiles import Env
from localcnb.sandbox import Spec, ensure_mountpoints, popen

PLAN = "/tmp/plan/plan.toml"
_DRIVER = r"""
import json, subprocess, sys, time
spec = json.loads(sys.argv[1])
times = []
for _ in range(spec["runs"] + 1):
    start = time.perf_counter()
    proc = subprocess.run(spec["argv"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    times.append(time.perf_counter() - start)
    if proc.returncode != 0:
        sys.exit(f"bin/detect exited {proc.returncode}: {proc.stderr.decode()[-2000:]}")
print(json.dumps(times[1:]))  # the first run only warms the page cache
"""


def detect_ms(buildpack: Path, app: Path, scratch: Path, runs: int) -> float:
    """Median milliseconds of ``runs`` passing bin/detect runs on ``app``."""
    ensure_mountpoints()
    container = Container.create(scratch / "root", BUILD_UID)
    _owned_copy(app, container.host(APP_DIR))
    (container.host(PLATFORM_DIR) / "env").mkdir(parents=True)
    container.host(LAYERS_DIR).mkdir()  # mounted, though detect never writes there
    bp = buildpacks.load(buildpack)
    buildpacks.stage(bp, container.host(CNB_DIR))
    plan = container.host(PLAN)
    plan.parent.mkdir()
    plan.touch()
    for path in (plan.parent, plan):
        os.chown(path, BUILD_UID, CNB_GID)
    env = Env.for_build({**BUILDER_IMAGE_ENV, "HOSTNAME": container.hostname}).with_overrides(
        container.host(PLATFORM_DIR)
    )
    env |= {
        "CNB_BUILDPACK_DIR": bp.dir,
        "CNB_PLATFORM_DIR": PLATFORM_DIR,
        "CNB_BUILD_PLAN_PATH": PLAN,
        "CNB_EXEC_ENV": EXEC_ENV,
        **buildpacks.HostTarget.detect().env(),
    }
    argv = [f"{bp.dir}/bin/detect", PLATFORM_DIR, PLAN]
    spec = Spec(
        mounts=container.mounts(app_readonly=True),
        uid=BUILD_UID,
        gid=CNB_GID,
        argv=["/usr/bin/python3", "-I", "-c", _DRIVER, json.dumps({"argv": argv, "runs": runs})],
        env=env,
        cwd=APP_DIR,
    )
    proc = popen(spec, container.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"detect driver failed ({proc.returncode}): {err.decode()[-2000:]}")
    return round(statistics.median(json.loads(out)) * 1000, 1)


def _owned_copy(app: Path, dest: Path) -> None:
    """The app as the platform stages it: a copy owned by the build user."""
    shutil.copytree(app, dest, symlinks=True)
    for directory, dirnames, filenames in os.walk(dest):
        os.chown(directory, BUILD_UID, CNB_GID)
        for name in dirnames + filenames:
            os.chown(Path(directory, name), BUILD_UID, CNB_GID, follow_symlinks=False)
