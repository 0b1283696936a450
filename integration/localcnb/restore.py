"""Restoring layer metadata, cached layer contents and layer SBOMs before the build
(cnb-spec.md §3.1 restore table and "How the lifecycle restores"; ``lc:phase/analyzer.go``,
``lc:internal/layer/metadata_restorer.go``, ``sbom_restorer.go``, ``lc:phase/restorer.go``).

Platform API 0.15 behaviour (any API >= 0.14 behaves the same here): a launch+cache layer that the
previous image lacks gets its metadata, and then its contents, from the cache.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from . import layers, tomlio
from .buildpacks import Buildpack
from .cache import Cache
from .constants import BUILD_UID, CNB_GID, LAYERS_DIR, escape_id
from .container import Container, write_file
from .image import Image
from .tarball import extract_like_restorer


def restore(
    group: list[Buildpack], container: Container, image: Image | None, cache: Cache | None
) -> list[str]:
    """Returns the info-level log."""
    log: list[str] = []
    layers_root = container.host(LAYERS_DIR)
    if image is not None and image.sbom_layer is not None:
        log.append("Restoring data for SBOM from previous image")
        extract_like_restorer(image.sbom_layer.tar, container.root, BUILD_UID, CNB_GID)
    if cache is None:
        log.append("Layer cache not found")

    for bp in group:
        bp_dir = layers_root / bp.escaped_id
        if image is not None and bp.id in image.store:
            write_file(bp_dir / "store.toml", _toml({"metadata": image.store[bp.id]}))
        shas = _restore_metadata(bp, bp_dir, image, cache, log)
        cached = cache.layers_for(bp.id) if cache is not None else {}
        for name in layers.layer_names(bp_dir):
            record = cached.get(name)
            if record is None or not record.types.get("cache"):
                continue
            ident = f'"{bp.id}:{name}"'
            if shas.get(name, "") != record.sha256:
                log.append(f"Removing {ident}, wrong sha")
                shutil.rmtree(bp_dir / name, ignore_errors=True)
                (bp_dir / f"{name}.toml").unlink(missing_ok=True)
                continue
            assert cache is not None
            if not cache.tar(record.sha256).exists():
                log.append(f"Warning: Skipping restore for layer {bp.id}:{name}: missing cache tar")
                continue
            log.append(f"Restoring data for {ident} from cache")
            extract_like_restorer(cache.tar(record.sha256), container.root, BUILD_UID, CNB_GID)

    if cache is not None and cache.sbom_sha is not None:
        log.append("Restoring data for SBOM from cache")
        extract_like_restorer(cache.tar(cache.sbom_sha), container.root, BUILD_UID, CNB_GID)
    _sboms_to_layers(group, layers_root)
    return log


def _restore_metadata(
    bp: Buildpack, bp_dir: Path, image: Image | None, cache: Cache | None, log: list[str]
) -> dict[str, str]:
    """Write ``[metadata]``-only tomls; returns the sha that came with each restored layer."""
    shas: dict[str, str] = {}
    app_layers = {
        rec.id.split(":", 1)[1]: rec
        for rec in (image.layers.values() if image is not None else [])
        if rec.id.startswith(f"{bp.id}:")
    }
    cached = cache.layers_for(bp.id) if cache is not None else {}
    for name, rec in sorted(app_layers.items()):
        types = rec.types
        if not types.get("launch") or (types.get("build") and not types.get("cache")):
            continue
        if types.get("cache") and not (name in cached and cached[name].types.get("cache")):
            continue  # cache=true but missing from the cache: the buildpack must recreate it
        log.append(f'Restoring metadata for "{bp.id}:{name}" from app image')
        write_file(bp_dir / f"{name}.toml", _toml({"metadata": rec.metadata}))
        shas[name] = rec.sha256
    for name, cached_rec in sorted(cached.items()):
        if not cached_rec.types.get("cache"):
            continue
        if cached_rec.types.get("launch") and name in app_layers:
            continue
        log.append(f'Restoring metadata for "{bp.id}:{name}" from cache')
        write_file(bp_dir / f"{name}.toml", _toml({"metadata": cached_rec.metadata}))
        shas[name] = cached_rec.sha256
    return shas


def _sboms_to_layers(group: list[Buildpack], layers_root: Path) -> None:
    """``RestoreToBuildpackLayers``: ``sbom/<cache|launch>/<bp>/<layer>/sbom.<ext>`` becomes
    ``<bp>/<layer>.sbom.<ext>`` (launch copies win), then ``<layers>/sbom`` is removed."""
    escaped = {escape_id(bp.id) for bp in group}
    for kind in ("cache", "launch"):
        base = layers_root / "sbom" / kind
        for path in sorted(base.glob("*/*/sbom*json")):
            bp_id, layer = path.parent.parent.name, path.parent.name
            dest_dir = layers_root / bp_id
            if path.is_file() and not path.is_symlink() and bp_id in escaped and dest_dir.is_dir():
                write_file(dest_dir / f"{layer}.{path.name}", path.read_bytes())
    shutil.rmtree(layers_root / "sbom", ignore_errors=True)


def _toml(doc: dict[str, Any]) -> bytes:
    # A nil/empty [metadata] is written as nothing at all, as the Go encoder omits nil values.
    return tomlio.dumps(doc).encode() if doc.get("metadata") else b""
