"""Each layer's SBOM files, from what is in the layer (or, for CPython, the archive it came
from). Written on every build, reused layers included, so they always match the layer."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from packaging.utils import canonicalize_name

from cnb_python.cnb.layers import Layer
from cnb_python.cnb.toml import write_bytes_atomic
from cnb_python.dependencies import BuildpackMetadata, Dependency
from cnb_python.sbom import (
    MEDIA_TYPES,
    Component,
    cpython_component,
    marker_environment,
    python_distributions,
    render,
    tool_component,
)
from cnb_python.sbom.conda import conda_packages


class LayerSboms:
    def __init__(
        self, metadata: BuildpackMetadata, python_version: str, arch: str, epoch: int
    ) -> None:
        """`python_version` is that of the build's CPython: the app's, in a venv."""
        self._metadata = metadata
        self._arch = arch
        self._environment = marker_environment(python_version, arch=arch)
        self._epoch = epoch

    def _write(self, layer: Layer, components: Sequence[Component]) -> None:
        documents = render(
            components,
            document_name=f"{self._metadata.id}/{layer.name}",
            layer_path=str(layer.path),
            source_date_epoch=self._epoch,
            tool_name=self._metadata.id,
            tool_version=self._metadata.version,
        )
        for media_type, extension in MEDIA_TYPES.items():
            if media_type in self._metadata.sbom_formats:
                write_bytes_atomic(layer.sbom_path(extension), documents[extension])

    def _installed(
        self, layer: Layer, site_dirs: Sequence[Path], environment: dict[str, str] | None = None
    ) -> list[Component]:
        return python_distributions(
            site_dirs,
            layer_root=layer.path,
            image_layer_path=str(layer.path),
            environment=environment or self._environment,
        )

    def cpython(self, layer: Layer, dep: Dependency) -> None:
        self._write(layer, [cpython_component(dep)])

    def tool(self, layer: Layer, dep: Dependency | None, site_dirs: Sequence[Path]) -> None:
        """The pinned tool wheel merged with its dist-info, and whatever came with it; for a
        requirement set (no single pinned wheel), every installed distribution."""
        pinned = [tool_component(dep)] if dep else []
        self._write(layer, [*pinned, *self._installed(layer, site_dirs)])

    def packages(self, layer: Layer, site_dirs: Sequence[Path]) -> None:
        self._write(layer, self._installed(layer, site_dirs))

    def conda_environment(self, layer: Layer, conda_meta: Path, site_dirs: Sequence[Path]) -> None:
        """Every conda package, and the Python distributions that pip installed (a conda
        package's own dist-info would list it twice). Their dependency markers are evaluated
        for the environment's own `python` package, not the Python that ran the build's tools."""
        conda = conda_packages(conda_meta, layer_root=layer.path, image_layer_path=str(layer.path))
        names = {canonicalize_name(c.name) for c in conda}
        own = next((c.version for c in conda if c.name == "python"), None)
        environment = marker_environment(own, arch=self._arch) if own else None
        pip = [
            c
            for c in self._installed(layer, site_dirs, environment)
            if canonicalize_name(c.name) not in names
        ]
        self._write(layer, [*conda, *pip])
