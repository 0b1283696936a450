"""Detection of one group: target gate, bin/detect runs, plan resolution (cnb-spec.md §2.1, §2.2;
``lc:phase/detector.go``, ``lc:buildpack/detect.go``)."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import plan, tomlio
from .buildpacks import Buildpack, HostTarget
from .constants import (
    APP_DIR,
    BUILD_UID,
    CNB_GID,
    EXEC_ENV,
    EXIT_FAILED_DETECT,
    EXIT_FAILED_DETECT_WITH_ERRORS,
    PLATFORM_DIR,
    PlatformError,
)
from .container import Container
from .envfiles import Env
from .sandbox import Spec, popen

PASS, FAIL = 0, 100


@dataclass
class Run:
    bp: Buildpack
    code: int  # bin/detect exit code; -1 when the lifecycle itself failed the buildpack
    output: str = ""
    error: str = ""
    alternatives: list[plan.Sections] = field(default_factory=list)


@dataclass
class Outcome:
    runs: list[Run]
    entries: list[plan.Entry] | None
    exit_code: int  # 0 when the group passed
    info: list[str]  # what the lifecycle logs at info level
    debug: list[str]  # everything, debug level included


def detect(
    group: list[Buildpack], container: Container, base_env: Env, target: HostTarget
) -> Outcome:
    # Platform API 0.15: a buildpack that excludes the execution environment leaves the group.
    group = [bp for bp in group if not bp.exec_env or "*" in bp.exec_env or EXEC_ENV in bp.exec_env]
    # The lifecycle runs detect in parallel goroutines; so do we, to surface ordering assumptions.
    with ThreadPoolExecutor(max_workers=max(1, len(group))) as pool:
        runs = list(pool.map(lambda bp: _run_one(bp, container, base_env, target), group))
    return _resolve(runs)


def _run_one(bp: Buildpack, container: Container, base_env: Env, target: HostTarget) -> Run:
    if bp.targets and not any(target.satisfies(t) for t in bp.targets):
        return Run(
            bp,
            -1,
            error="unable to satisfy target os/arch constraints; run image: "
            f"{json.dumps(target.as_json())}, buildpack: "
            f"{json.dumps([t.as_json() for t in bp.targets])}",
        )
    plan_dir = Path(tempfile.mkdtemp(prefix="plan.", dir=container.host("/tmp")))
    plan_file = plan_dir / "plan.toml"
    plan_file.touch(mode=0o600)
    for path in (plan_dir, plan_file):
        os.chown(path, BUILD_UID, CNB_GID)
    plan_path = f"/tmp/{plan_dir.name}/plan.toml"

    platform = None if bp.clear_env else container.host(PLATFORM_DIR)
    env = base_env.with_overrides(platform)
    env["CNB_BUILDPACK_DIR"] = bp.dir
    if bp.api_at_least("0.8"):
        env |= {"CNB_PLATFORM_DIR": PLATFORM_DIR, "CNB_BUILD_PLAN_PATH": plan_path}
    if bp.api_at_least("0.10"):
        env |= target.env()
    if bp.api_at_least("0.12"):
        env["CNB_EXEC_ENV"] = EXEC_ENV
    spec = Spec(
        mounts=container.mounts(app_readonly=True),
        uid=BUILD_UID,
        gid=CNB_GID,
        # The legacy positional args are still passed (``lc:buildpack/detect.go`` runDetect).
        argv=[f"{bp.dir}/bin/detect", PLATFORM_DIR, plan_path],
        env=env,
        cwd=APP_DIR,
    )
    proc = popen(spec, container.root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out, _ = proc.communicate()
    run = Run(bp, proc.returncode, output=out.decode(errors="replace"))
    if run.code == PASS:
        try:
            run.alternatives = plan.parse(tomlio.load(plan_file), bp.id)
        except (OSError, tomlio.TOMLError, PlatformError) as exc:
            run.code, run.error = -1, str(exc)
    return run


def _resolve(runs: list[Run]) -> Outcome:
    """``DefaultDetectResolver.Resolve`` without optional buildpacks: every one must pass."""
    info: list[str] = []
    debug: list[str] = []
    for run in runs:
        block = []
        if run.output:
            block += [f"======== Output: {run.bp} ========", run.output.rstrip("\n")]
        if run.error:
            block += [f"======== Error: {run.bp} ========", run.error]
        debug += block
        if run.code not in (PASS, FAIL):
            info += block
    debug.append("======== Results ========")
    errored = False
    for run in runs:
        if run.code == PASS:
            debug.append(f"pass: {run.bp}")
        elif run.code == FAIL:
            debug.append(f"fail: {run.bp}")
        else:
            errored = True
            suffix = "" if run.code == -1 else f" ({run.code})"
            info.append(f"err:  {run.bp}{suffix}")
            debug.append(info[-1])
    if not runs or any(run.code != PASS for run in runs):
        code = EXIT_FAILED_DETECT_WITH_ERRORS if errored else EXIT_FAILED_DETECT
        if not runs:
            debug.append("fail: no viable buildpacks in group")
        return Outcome(runs, None, code, info, debug)
    entries, reasons = plan.resolve([(run.bp.id, run.alternatives) for run in runs])
    debug += reasons
    if entries is None:
        return Outcome(runs, None, EXIT_FAILED_DETECT, info, debug)
    width = max(len(run.bp.id) for run in runs)
    listing = [f"{run.bp.id:<{width}} {run.bp.version}" for run in runs]
    return Outcome(runs, entries, 0, info + listing, debug + listing)
