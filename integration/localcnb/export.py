"""The export phase: the app image and the layer cache (cnb-spec.md §3.1 "Export", §5, §7;
``lc:phase/exporter.go``, ``lc:phase/cache.go``).

On-disk formats (stable; other tools diff two images)
=====================================================

``<workdir>/image/`` (the exported image, also the "previous image" of the next build)::

    image.json
    layers/<sha256>.tar     # normalized layer tarballs (see localcnb.tarball), named by diffID hex

``image.json``::

    {
      "schema_version": 1,
      "config_digest": "sha256:<hex>",    # sha256 of the canonical JSON of "config"
      "config": {                         # everything that would make two images differ
        "created": "1980-01-01T00:00:01Z",    # or SOURCE_DATE_EPOCH from the user's build env
        "platform_api": "0.15", "exec_env": "production", "working_dir": "/workspace",
        "buildpacks": [{"id", "version", "api", "homepage"}],   # the detected group, in order
        "processes": [{"type", "command": [...], "args": [...], "direct", "buildpack_id",
                       "working_dir", "exec_env": [...]}],      # sorted by type
        "default_process": "web" | null,
        "labels": {"<key>": "<value>"},       # buildpack-provided labels
        "store": {"<bp id>": {...}},          # store.toml [metadata] per buildpack
        "layers": [                           # image order: buildpack layers, SBOM layer, app
          {"kind": "buildpack", "id": "<bp id>:<layer>", "sha256": "<hex>",
           "tar": "layers/<hex>.tar", "metadata": {...}, "types": {"build", "cache", "launch"}},
          {"kind": "sbom", "id": "buildpacksio/lifecycle:launch.sbom", "sha256", "tar"},
          {"kind": "app", "id": "slice-1", "sha256", "tar"}
        ]
      }
    }

Canonical JSON is ``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)``
in UTF-8. ``metadata`` and ``store`` hold what the lifecycle's JSON label holds: numbers are
floats (see ``tomlio.golike``). Nothing in ``config`` depends on the wall clock or the host.

``<workdir>/cache/`` (the layer cache)::

    cache.json   {"schema_version": 1,
                  "buildpacks": {"<bp id>": {"version": "...", "layers": {"<layer>":
                      {"sha256": "<hex>", "metadata": {...}, "types": {...}}}}},
                  "sbom": {"sha256": "<hex>"} | null}     # tar of /layers/sbom/cache
    layers/<sha256>.tar

Both directories are replaced atomically (rename) only after a successful export, so a failed
build leaves the previous image and cache untouched.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from . import layers
from .build import Outputs
from .buildpacks import Buildpack
from .cache import Cache
from .constants import (
    APP_DIR,
    BUILD_UID,
    CNB_GID,
    EXEC_ENV,
    LAYERS_DIR,
    PLATFORM_API,
    PlatformError,
)
from .container import Container
from .image import Image, LayerRecord
from .log import Log
from .tarball import write_layer
from .tomlio import canonical_json, golike

SCHEMA_VERSION = 1


class _Tars:
    """Each directory is tarred once per export; the tar is hard-linked wherever it is needed."""

    def __init__(self, container: Container, scratch: Path):
        self.container = container
        self.scratch = scratch
        self.made: dict[str, str] = {}

    def sha(self, container_dir: str, *, sort_by_path: bool = False) -> str:
        if container_dir not in self.made:
            self.made[container_dir] = write_layer(
                self.scratch,
                self.container.root,
                container_dir,
                BUILD_UID,
                CNB_GID,
                sort_by_path=sort_by_path,
            )
        return self.made[container_dir]

    def place(self, sha: str, dest: Path, source: Path | None = None) -> None:
        target = dest / f"{sha}.tar"
        source = source or self.scratch / f"{sha}.tar"
        if target.exists():
            return
        if not source.exists():
            raise PlatformError(f"reusing layer: blob {source} is missing")
        try:
            os.link(source, target)
        except OSError:  # e.g. a filesystem without hard links
            shutil.copyfile(source, target)


def export(
    group: list[Buildpack],
    container: Container,
    outputs: Outputs,
    previous: Image | None,
    previous_cache: Cache | None,
    workdir: Path,
    created: str,
    log: Log,
) -> Image:
    scratch = Path(tempfile.mkdtemp(prefix=".export-", dir=workdir))
    try:
        tars = _Tars(container, scratch)
        image_dir = _export_image(group, container, outputs, previous, created, tars, log)
        _commit(image_dir, workdir / "image")
        image = Image.load(workdir / "image")
        assert image is not None
        log.line(f"*** Image: {workdir / 'image'} ({image.config_digest})")
        cache_dir = _export_cache(group, container, previous_cache, tars, log)
        _commit(cache_dir, workdir / "cache")
        return image
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _export_image(
    group: list[Buildpack],
    container: Container,
    outputs: Outputs,
    previous: Image | None,
    created: str,
    tars: _Tars,
    log: Log,
) -> Path:
    staging = tars.scratch / "image"
    (staging / "layers").mkdir(parents=True)
    entries: list[dict[str, Any]] = []
    store: dict[str, Any] = {}
    for bp in group:
        bp_dir = container.host(f"{LAYERS_DIR}/{bp.escaped_id}")
        bp_store = layers.read_store(bp_dir)
        if bp_store is not None:
            store[bp.id] = golike(bp_store)
        for name in layers.layer_names(bp_dir):
            parsed = layers.read_toml(bp_dir / f"{name}.toml")
            if parsed is None or not parsed.launch:
                continue
            ident = f"{bp.id}:{name}"
            before = previous.layer(bp.id, name) if previous is not None else None
            if (bp_dir / name).is_dir():
                sha = tars.sha(f"{LAYERS_DIR}/{bp.escaped_id}/{name}")
                tars.place(sha, staging / "layers")
                log.line(f"{_verb(before, sha)} layer '{ident}'")
            elif parsed.cache:
                raise PlatformError(f"layer '{ident}' is cache=true but has no contents")
            elif before is None:
                raise PlatformError(
                    f"cannot reuse '{ident}', previous image has no metadata for layer '{ident}'"
                )
            else:
                sha = before.sha256
                tars.place(sha, staging / "layers", before.tar)
                log.line(f"Reusing layer '{ident}'")
            entries.append(
                {
                    "kind": "buildpack",
                    "id": ident,
                    "sha256": sha,
                    "tar": f"layers/{sha}.tar",
                    "metadata": golike(parsed.metadata or {}),
                    "types": parsed.types,
                }
            )
    if container.host(f"{LAYERS_DIR}/sbom/launch").is_dir():
        sha = tars.sha(f"{LAYERS_DIR}/sbom/launch")
        tars.place(sha, staging / "layers")
        before = previous.sbom_layer if previous is not None else None
        log.line(f"{_verb(before, sha)} layer 'buildpacksio/lifecycle:launch.sbom'")
        entries.append(_plain("sbom", "buildpacksio/lifecycle:launch.sbom", sha))
    sha = tars.sha(APP_DIR, sort_by_path=True)
    tars.place(sha, staging / "layers")
    before = previous.app_layer if previous is not None else None
    log.line(
        "Reused 1/1 app layer(s)" if _verb(before, sha) == "Reusing" else "Added 1/1 app layer(s)"
    )
    entries.append(_plain("app", "slice-1", sha))

    for key in ("io.buildpacks.lifecycle.metadata", "io.buildpacks.build.metadata"):
        log.line(f"Adding label '{key}'")
    for key in outputs.labels:
        log.line(f"Adding label '{key}'")
    if outputs.default_process:
        log.line(f"Setting default process type '{outputs.default_process}'")
    else:
        log.line("no default process type")
    config = {
        "created": created,
        "platform_api": PLATFORM_API,
        "exec_env": EXEC_ENV,
        "working_dir": APP_DIR,
        "buildpacks": [
            {"id": bp.id, "version": bp.version, "api": bp.api, "homepage": bp.homepage}
            for bp in group
        ],
        "processes": outputs.process_list(),
        "default_process": outputs.default_process,
        "labels": dict(sorted(outputs.labels.items())),
        "store": store,
        "layers": entries,
    }
    doc = {
        "schema_version": SCHEMA_VERSION,
        "config_digest": "sha256:" + hashlib.sha256(canonical_json(config)).hexdigest(),
        "config": config,
    }
    (staging / "image.json").write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    return staging


def _verb(before: LayerRecord | None, sha: str) -> str:
    return "Reusing" if before is not None and before.sha256 == sha else "Adding"


def _plain(kind: str, ident: str, sha: str) -> dict[str, Any]:
    return {"kind": kind, "id": ident, "sha256": sha, "tar": f"layers/{sha}.tar"}


def _export_cache(
    group: list[Buildpack],
    container: Container,
    previous: Cache | None,
    tars: _Tars,
    log: Log,
) -> Path:
    staging = tars.scratch / "cache"
    (staging / "layers").mkdir(parents=True)
    buildpacks: dict[str, Any] = {}
    for bp in group:
        bp_dir = container.host(f"{LAYERS_DIR}/{bp.escaped_id}")
        before = previous.layers_for(bp.id) if previous is not None else {}
        records: dict[str, Any] = {}
        for name in layers.layer_names(bp_dir):
            ident = f"{bp.id}:{name}"
            # Already parsed without error by the image export.
            parsed = layers.read_toml(bp_dir / f"{name}.toml")
            if parsed is None or not parsed.cache:
                continue
            if not (bp_dir / name).is_dir():
                log.line(f"Warning: Failed to cache layer '{ident}' because it has no contents")
                continue
            sha = tars.sha(f"{LAYERS_DIR}/{bp.escaped_id}/{name}")
            tars.place(sha, staging / "layers")
            same = name in before and before[name].sha256 == sha
            log.line(f"{'Reusing' if same else 'Adding'} cache layer '{ident}'")
            records[name] = {
                "sha256": sha,
                "metadata": golike(parsed.metadata or {}),
                "types": parsed.types,
            }
        buildpacks[bp.id] = {"version": bp.version, "layers": records}
    sbom = None
    if container.host(f"{LAYERS_DIR}/sbom/cache").is_dir():
        sha = tars.sha(f"{LAYERS_DIR}/sbom/cache")
        tars.place(sha, staging / "layers")
        same = previous is not None and previous.sbom_sha == sha
        log.line(
            f"{'Reusing' if same else 'Adding'} cache layer 'buildpacksio/lifecycle:cache.sbom'"
        )
        sbom = {"sha256": sha}
    doc = {"schema_version": SCHEMA_VERSION, "buildpacks": buildpacks, "sbom": sbom}
    (staging / "cache.json").write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    return staging


def _commit(staging: Path, dest: Path) -> None:
    old = dest.with_name(f".{dest.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if dest.exists():
        os.rename(dest, old)
    os.rename(staging, dest)
    shutil.rmtree(old, ignore_errors=True)
