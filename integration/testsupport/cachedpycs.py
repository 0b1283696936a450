"""The pycs a build left in one of the buildpack's cache layers, as the cache stores them."""

from __future__ import annotations

import tarfile

from conftest import BP_ID

from localcnb.cache import Cache


def cached_pycs(app, layer_name: str) -> dict[str, tuple[int, int]]:
    """The layer's pycs in the app's cache: name -> (PEP 552 flags, recorded source mtime)."""
    cache = Cache.load(app.platform.workdir / "cache")
    assert cache is not None
    layer = cache.layers_for(BP_ID)[layer_name]
    found = {}
    with tarfile.open(cache.tar(layer.sha256)) as tar:
        for member in tar:
            if member.isfile() and member.name.endswith(".pyc"):
                header = tar.extractfile(member).read(12)  # type: ignore[union-attr]
                found[member.name] = (
                    int.from_bytes(header[4:8], "little"),
                    int.from_bytes(header[8:12], "little"),
                )
    return found
