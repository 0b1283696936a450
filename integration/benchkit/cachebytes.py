"""The layer-cache traffic of one rebuild: what a platform with a registry cache (kpack, Tekton,
CI with `pack build --cache-image`) downloads and uploads on every build, from the local
platform's cache directory and build log (localcnb.restore, localcnb.export).

- restored: the cache tars the restorer extracts ("Restoring data for ... from cache"): the
  layers whose contents come back, each a blob to download;
- exported: every cache layer of the new cache: the exporter tars each cache=true layer to learn
  its digest, whether or not it changed (lifecycle phase/cache.go, addOrReuseCacheLayer);
- changed: of those, the ones with a new digest ("Adding cache layer"), the blobs to upload.

Sizes are the uncompressed layer tars (localcnb writes no gzip; a registry stores them gzipped).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from localcnb.cache import Cache

_RESTORED = re.compile(r'^Restoring data for "(?P<id>[^"]+)" from cache$', re.MULTILINE)
_RESTORED_SBOM = "Restoring data for SBOM from cache"
_ADDED = re.compile(r"^Adding cache layer '(?P<id>[^']+)'$", re.MULTILINE)
SBOM_ID = "buildpacksio/lifecycle:cache.sbom"


def cache_tars(cache_dir: Path) -> dict[str, int]:
    """Bytes of each tar of a platform's layer cache, by layer id (``bp:layer``, the SBOM's)."""
    cache = Cache.load(cache_dir)
    if cache is None:
        return {}
    shas = {
        f"{bp}:{name}": record["sha256"]
        for bp, doc in cache.doc["buildpacks"].items()
        for name, record in doc["layers"].items()
    }
    if cache.sbom_sha:
        shas[SBOM_ID] = cache.sbom_sha
    return {ident: cache.tar(sha).stat().st_size for ident, sha in shas.items()}


@dataclass(frozen=True)
class CacheTraffic:
    """Tar bytes by layer id."""

    restored: dict[str, int]
    exported: dict[str, int]
    changed: dict[str, int]

    def totals(self) -> dict[str, int]:
        return {kind: sum(getattr(self, kind).values()) for kind in KINDS}


KINDS = ("restored", "exported", "changed")


def cache_traffic(before: dict[str, int], after: dict[str, int], log: str) -> CacheTraffic:
    """What the build whose log is `log` restored, exported and changed, given the cache tars
    before it (`before`) and after it (`after`)."""
    restored = [m["id"] for m in _RESTORED.finditer(log)]
    if _RESTORED_SBOM in log:
        restored.append(SBOM_ID)
    added = [m["id"] for m in _ADDED.finditer(log)]
    return CacheTraffic(
        restored={ident: before[ident] for ident in restored},
        exported=dict(after),
        changed={ident: after[ident] for ident in added},
    )
