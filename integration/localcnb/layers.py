"""Reading a buildpack's layers directory the way the lifecycle does (``lc:buildpack/layers.go``,
``layermetadata.go``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import tomlio
from .constants import PlatformError

# Files in <layers>/<bp> that are not layers.
NOT_LAYERS = frozenset({"launch", "build", "store"})


@dataclass(frozen=True)
class LayerToml:
    metadata: dict[str, Any] | None
    launch: bool = False
    build: bool = False
    cache: bool = False

    @property
    def types(self) -> dict[str, bool]:
        return {"build": self.build, "cache": self.cache, "launch": self.launch}


def read_toml(path: Path) -> LayerToml | None:
    """``<layer>.toml``: ``None`` when missing; top-level flags are an error for every API."""
    try:
        doc = tomlio.load(path)
    except FileNotFoundError:
        return None
    except (OSError, tomlio.TOMLError) as exc:
        raise PlatformError(f"failed to decode layer metadata file {path}: {exc}") from exc
    if any(key in doc for key in ("build", "launch", "cache")):
        raise PlatformError(
            f"the launch, cache and build flags should be in the types table of {path}"
        )
    types = doc.get("types") or {}
    metadata = doc.get("metadata")
    return LayerToml(
        metadata=metadata if isinstance(metadata, dict) else None,
        launch=types.get("launch") is True,
        build=types.get("build") is True,
        cache=types.get("cache") is True,
    )


def toml_names(bp_dir: Path) -> list[str]:
    """Names of every ``*.toml`` file, launch/build/store included (``lc:buildpack/build.go``
    eachLayer walks them all after bin/build)."""
    try:
        entries = sorted(os.scandir(bp_dir), key=lambda e: os.fsencode(e.name))
    except FileNotFoundError:
        return []
    return [e.name[: -len(".toml")] for e in entries if e.name.endswith(".toml") and not e.is_dir()]


def layer_names(bp_dir: Path) -> list[str]:
    """``ReadLayersDir``: every directory plus every toml other than launch/build/store, sorted."""
    try:
        entries = list(os.scandir(bp_dir))
    except FileNotFoundError:
        return []
    names = {e.name for e in entries if e.is_dir()}
    names |= {
        e.name[: -len(".toml")]
        for e in entries
        if e.name.endswith(".toml") and not e.is_dir() and e.name[: -len(".toml")] not in NOT_LAYERS
    }
    return sorted(names, key=os.fsencode)


def read_store(bp_dir: Path) -> dict[str, Any] | None:
    """``store.toml`` ``[metadata]`` (``{}`` when the table is absent), ``None`` without a file."""
    path = bp_dir / "store.toml"
    try:
        doc = tomlio.load(path)
    except FileNotFoundError:
        return None
    except (OSError, tomlio.TOMLError) as exc:
        raise PlatformError(f"failed decoding store.toml: {exc}") from exc
    metadata = doc.get("metadata")
    return metadata if isinstance(metadata, dict) else {}
