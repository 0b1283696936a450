"""The build phase: bin/build per buildpack, then the lifecycle's checks and bookkeeping
(cnb-spec.md §2.3, §3.1 "After each buildpack's build", §4, §5; ``lc:buildpack/build.go``,
``lc:phase/builder.go``, ``lc:buildpack/bomfile.go``, ``lc:buildpack/files.go``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import layers, plan, tomlio
from .buildpacks import Buildpack, HostTarget
from .constants import (
    APP_DIR,
    BUILD_UID,
    CNB_GID,
    EXEC_ENV,
    LAYERS_DIR,
    PLATFORM_DIR,
    PlatformError,
)
from .container import Container, make_dirs, write_file
from .envfiles import Env
from .kill import BuildKiller, KillPoint
from .log import Log
from .sandbox import Spec, popen

SBOM_MEDIA_TYPES = {
    "sbom.cdx.json": "application/vnd.cyclonedx+json",
    "sbom.spdx.json": "application/spdx+json",
    "sbom.syft.json": "application/vnd.syft+json",
}


class BuildpackFailed(Exception):
    """bin/build exited non-zero."""

    def __init__(self, code: int):
        super().__init__(f"failed to build: exit status {code}")
        self.code = code


@dataclass
class SBOMFile:
    kind: str  # launch | build | cache
    bp: Buildpack
    layer: str  # "" for launch.sbom.* / build.sbom.*
    path: Path

    @property
    def dest_name(self) -> str:
        return next(ext for ext in SBOM_MEDIA_TYPES if self.path.name.endswith("." + ext))


@dataclass
class Outputs:
    """What the builder collects across the group (``files.BuildMetadata``)."""

    plans: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    processes: dict[str, dict[str, Any]] = field(default_factory=dict)
    default_process: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    sboms: list[SBOMFile] = field(default_factory=list)

    def add_processes(self, procs: list[dict[str, Any]], log: Log) -> None:
        """``processMap.add``: later buildpacks win a type; the last default wins; a later
        non-default process of the default type removes the default."""
        warning = ""
        for proc in procs:
            if proc.pop("default"):
                self.default_process, warning = proc["type"], ""
            elif proc["type"] == self.default_process:
                self.default_process = None
                warning = (
                    "Warning: redefining the following default process type with a process "
                    f"not marked as default: {proc['type']}"
                )
            self.processes[proc["type"]] = proc
        if warning:
            log.line(warning)

    def process_list(self) -> list[dict[str, Any]]:
        return [self.processes[t] for t in sorted(self.processes)]


def build(
    group: list[Buildpack],
    entries: list[plan.Entry],
    container: Container,
    base_env: Env,
    target: HostTarget,
    log: Log,
    outputs: Outputs,
    kill: KillPoint | None = None,
) -> None:
    """Raises :class:`BuildpackFailed` or :class:`PlatformError`; fills ``outputs`` as it goes.
    ``kill``: signal bin/build at that point (see :mod:`localcnb.kill`)."""
    layers_root = container.host(LAYERS_DIR)
    # Stale SBOM copies never reach the image (``Builder.Build``).
    shutil.rmtree(layers_root / "sbom", ignore_errors=True)
    env = base_env.copy()
    for bp in group:
        bp_dir = layers_root / bp.escaped_id
        make_dirs(bp_dir)
        bp_plan = plan.for_buildpack(entries, bp.id)
        outputs.plans[bp.id] = [req.as_json() for req in bp_plan]
        plan_path = _write_plan(container, bp, bp_plan)
        code = _run_build(bp, container, env, target, plan_path, log, kill)
        if code != 0:
            raise BuildpackFailed(code)
        tomls = _process_layers(bp_dir)
        _add_build_layers(env, bp, bp_dir, tomls)
        met = _check_unmet(bp, bp_dir, bp_plan, log)
        entries = plan.without_met(entries, met)
        outputs.sboms += _sbom_files(bp, bp_dir, tomls)
        procs, labels = _read_launch_toml(bp, bp_dir, log)
        outputs.labels.update(labels)
        outputs.add_processes(procs, log)
    for sbom in outputs.sboms:
        parts = [LAYERS_DIR, "sbom", sbom.kind, sbom.bp.escaped_id]
        dest = container.host("/".join([*parts, sbom.layer] if sbom.layer else parts))
        write_file(dest / sbom.dest_name, sbom.path.read_bytes())


def _write_plan(container: Container, bp: Buildpack, bp_plan: list[plan.Require]) -> str:
    """``prepareInputPaths``: ``<tmp>/<bp>-XXXX/<bp>/plan.toml``, owned by the build user."""
    parent = Path(tempfile.mkdtemp(prefix=f"{bp.escaped_id}-", dir=container.host("/tmp")))
    os.chown(parent, BUILD_UID, CNB_GID)
    # A nil entry list encodes to an empty file, as the lifecycle's does.
    doc = {"entries": [req.as_json() for req in bp_plan]} if bp_plan else {}
    write_file(parent / bp.escaped_id / "plan.toml", tomlio.dumps(doc).encode())
    return f"/tmp/{parent.name}/{bp.escaped_id}/plan.toml"


def _run_build(
    bp: Buildpack,
    container: Container,
    env: Env,
    target: HostTarget,
    plan_path: str,
    log: Log,
    kill: KillPoint | None,
) -> int:
    layers_dir = f"{LAYERS_DIR}/{bp.escaped_id}"
    values = env.with_overrides(None if bp.clear_env else container.host(PLATFORM_DIR))
    values["CNB_BUILDPACK_DIR"] = bp.dir
    if bp.api_at_least("0.8"):
        values |= {
            "CNB_PLATFORM_DIR": PLATFORM_DIR,
            "CNB_BP_PLAN_PATH": plan_path,
            "CNB_LAYERS_DIR": layers_dir,
        }
    if bp.api_at_least("0.10"):
        values |= target.env()
    if bp.api_at_least("0.12"):
        values["CNB_EXEC_ENV"] = EXEC_ENV
    spec = Spec(
        mounts=container.mounts(),
        uid=BUILD_UID,
        gid=CNB_GID,
        argv=[f"{bp.dir}/bin/build", layers_dir, PLATFORM_DIR, plan_path],
        env=values,
        cwd=APP_DIR,
    )
    proc = popen(spec, container.root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if kill is None:
        return log.stream(proc)
    killer = BuildKiller(kill, proc, container.host)
    try:
        code = log.stream(proc, killer.feed)
    finally:
        killer.cancel()
    if killer.fired:
        log.line(f"localcnb: {killer.report()}")
        layers_dir_host = container.host(layers_dir)
        tomls = sorted(p.name for p in layers_dir_host.glob("*.toml"))
        log.line(f"localcnb: tomls bin/build left: {', '.join(tomls) or 'none'}")
    return code


def _process_layers(bp_dir: Path) -> dict[str, layers.LayerToml]:
    """``processLayers``: decode every ``*.toml``, rename all-false layers to ``<name>.ignore``."""
    for reserved in sorted(layers.NOT_LAYERS):
        if (bp_dir / reserved).is_dir():
            # Stricter than the lifecycle, which does not check: the spec forbids these names.
            raise PlatformError(f"layer name '{reserved}' is reserved ({bp_dir / reserved})")
    tomls = {}
    for name in layers.toml_names(bp_dir):
        parsed = layers.read_toml(bp_dir / f"{name}.toml")
        assert parsed is not None
        if not (parsed.launch or parsed.build or parsed.cache) and (bp_dir / name).exists():
            os.rename(bp_dir / name, bp_dir / f"{name}.ignore")
        tomls[name] = parsed
    return tomls


def _add_build_layers(
    env: Env, bp: Buildpack, bp_dir: Path, tomls: dict[str, layers.LayerToml]
) -> None:
    """``setupEnv``: build=true layers feed later buildpacks (name order, root dirs then env)."""
    for name, parsed in tomls.items():
        if parsed.build:
            env.add_root_dir(bp_dir / name, f"{LAYERS_DIR}/{bp.escaped_id}/{name}")
            env.add_env_dir(bp_dir / name / "env")
            env.add_env_dir(bp_dir / name / "env.build")


def _check_unmet(bp: Buildpack, bp_dir: Path, bp_plan: list[plan.Require], log: Log) -> set[str]:
    """``build.toml``: every ``[[unmet]]`` must name a plan entry; returns the met names."""
    try:
        doc = tomlio.load(bp_dir / "build.toml")
    except FileNotFoundError:
        doc = {}
    except tomlio.TOMLError as exc:
        raise PlatformError(f"failed to decode build.toml: {exc}") from exc
    if doc.get("bom"):
        log.line("Warning: the [[bom]] table in build.toml is deprecated and ignored by localcnb")
    unmet = set()
    for entry in doc.get("unmet", []):
        name = entry.get("name")
        if not name:
            raise PlatformError("unmet.name is required")
        if name not in {req.name for req in bp_plan}:
            raise PlatformError(f"unmet.name '{name}' must match a requested dependency")
        unmet.add(name)
    return {req.name for req in bp_plan if req.name not in unmet}


def _sbom_files(bp: Buildpack, bp_dir: Path, tomls: dict[str, layers.LayerToml]) -> list[SBOMFile]:
    """``processSBOMFiles`` + ``validateMediaTypes``."""
    declared = {t.split(";")[0].strip().lower() for t in bp.sbom_formats}
    found: list[SBOMFile] = []
    for path in sorted(bp_dir.glob("*.sbom.*.json")):
        layer = path.name.split(".", 1)[0]
        if layer in ("launch", "build"):
            found.append(SBOMFile(layer, bp, "", path))
            continue
        parsed = tomls.get(layer)
        if parsed is None:
            continue  # SBOMs of layers without a toml are skipped silently
        found.append(SBOMFile("launch" if parsed.launch else "build", bp, layer, path))
        if parsed.cache:
            found.append(SBOMFile("cache", bp, layer, path))
    for sbom in found:
        shown = f"{LAYERS_DIR}/{bp.escaped_id}/{sbom.path.name}"
        media = next(
            (m for ext, m in SBOM_MEDIA_TYPES.items() if sbom.path.name.endswith("." + ext)), None
        )
        if media is None:
            raise PlatformError(f"unsupported SBOM file format: '{shown}'")
        if media not in declared:
            raise PlatformError(
                f"validating SBOM file '{shown}' for buildpack: '{bp}': "
                f"undeclared SBOM media type: '{media}'"
            )
    return found


def _read_launch_toml(
    bp: Buildpack, bp_dir: Path, log: Log
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """``DecodeLaunchTOML`` + ``validateNoMultipleDefaults``."""
    try:
        doc = tomlio.load(bp_dir / "launch.toml")
    except FileNotFoundError:
        return [], {}
    except tomlio.TOMLError as exc:
        raise PlatformError(f"failed to decode launch.toml: {exc}") from exc
    if doc.get("bom"):
        log.line("Warning: the [[bom]] table in launch.toml is deprecated and ignored by localcnb")
    if doc.get("slices"):
        log.line("Warning: localcnb does not implement [[slices]]; the app stays one layer")
    procs = [_process(bp, raw, log) for raw in doc.get("processes", [])]
    if sum(1 for p in procs if p["default"]) > 1:
        raise PlatformError("multiple default process types aren't allowed")
    labels = {str(label["key"]): str(label["value"]) for label in doc.get("labels", [])}
    return procs, labels


def _process(bp: Buildpack, raw: dict[str, Any], log: Log) -> dict[str, Any]:
    command = raw.get("command")
    if bp.api_at_least("0.9"):
        if "direct" in raw:
            raise PlatformError("process.direct is not supported on this buildpack version")
        if not isinstance(command, list) or not all(isinstance(c, str) for c in command):
            raise PlatformError(
                f"process '{raw.get('type')}': command must be an array of strings "
                f"(buildpack API {bp.api})"
            )
        direct = True
    else:
        if not isinstance(command, str):
            raise PlatformError(f"process '{raw.get('type')}': command must be a string")
        command = [command]
        direct = bool(raw.get("direct", False))
    working_dir = raw.get("working-dir", "")
    if working_dir and not bp.api_at_least("0.8"):
        log.line(
            "Warning: process working directory isn't supported in this buildpack api version. "
            f"Ignoring working directory for process '{raw.get('type')}'"
        )
        working_dir = ""
    return {
        "type": raw.get("type", ""),
        "command": command,
        "args": list(raw.get("args", [])),
        "direct": direct,
        "default": bool(raw.get("default", False)),
        "buildpack_id": bp.id,
        "working_dir": working_dir,
        "exec_env": list(raw.get("exec-env", [])),
    }
