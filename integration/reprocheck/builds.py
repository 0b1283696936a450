"""Builds under deliberately different conditions: each in a child process with its own
PYTHONHASHSEED, umask and CPU set (so the bytecode compiler runs on one core or on all), its own
temp root (TMPDIR, platform workdir, a fresh copy of the app) and its own wall-clock time."""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from localcnb import Image

INTEGRATION_DIR = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Conditions:
    hash_seed: str
    umask: int
    one_cpu: bool = False  # else every CPU this process may use

    def cpu_set(self) -> set[int]:
        cpus = os.sched_getaffinity(0)
        return {min(cpus)} if self.one_cpu else cpus


@dataclass
class BuildRecord:
    name: str  # "A", "A-warm", "B"
    root: str
    workdir: str
    hash_seed: str
    umask: str
    cpus: int
    started: str  # UTC wall-clock time
    seconds: float
    success: bool
    phase: str
    exit_code: int
    config_digest: str | None
    log: str  # path of the build log
    seen_umask: str = ""  # as reported from inside the child
    seen_hash_seed: str = ""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def stage_app(app: Path, root: Path, name: str) -> Path:
    """A copy of the app at ``root/name``; files get fresh mtimes (as a new checkout would)."""
    dest = root / name
    shutil.copytree(app, dest, symlinks=True, copy_function=shutil.copy)
    return dest


def run_build(
    name: str, app: Path, root: Path, buildpack: Path, conditions: Conditions
) -> BuildRecord:
    """Build ``app`` (already staged below ``root``) on the platform at ``root/platform``;
    building again on the same root reuses its previous image and cache."""
    tmp = root / "tmp"
    tmp.mkdir(exist_ok=True)
    workdir = root / "platform"
    log = root / f"build-{name}.log"
    env = {
        **os.environ,
        "PYTHONHASHSEED": conditions.hash_seed,
        "TMPDIR": str(tmp),
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(INTEGRATION_DIR), os.environ.get("PYTHONPATH")])
        ),
    }
    started = datetime.datetime.now(datetime.timezone.utc)
    clock = time.monotonic()
    paths = [str(path) for path in (workdir, buildpack, app, log)]
    argv = [sys.executable, "-m", "reprocheck.buildone", *paths]
    cpus = conditions.cpu_set()
    proc = subprocess.run(
        argv,
        env=env,
        umask=conditions.umask,
        cwd=root,
        capture_output=True,
        text=True,
        preexec_fn=lambda: os.sched_setaffinity(0, cpus),
    )
    seconds = time.monotonic() - clock
    try:
        outcome = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        outcome = {"success": False, "phase": "driver", "exit_code": proc.returncode}
        log.write_text(proc.stdout + proc.stderr)
    return BuildRecord(
        name=name,
        root=str(root),
        workdir=str(workdir),
        hash_seed=conditions.hash_seed,
        umask=f"{conditions.umask:03o}",
        cpus=len(cpus),
        started=started.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        seconds=round(seconds, 2),
        log=str(log),
        success=outcome["success"],
        phase=outcome["phase"],
        exit_code=outcome["exit_code"],
        config_digest=outcome.get("config_digest"),
        seen_umask=outcome.get("seen_umask", ""),
        seen_hash_seed=outcome.get("seen_hash_seed", ""),
    )


def snapshot_image(workdir: Path, dest: Path) -> Image:
    """Keep the current image of a platform (hard links) before it builds again."""
    shutil.copytree(workdir / "image", dest, copy_function=os.link)
    image = Image.load(dest)
    assert image is not None
    return image
