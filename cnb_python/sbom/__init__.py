"""SBOMs of what is installed in a layer: CycloneDX 1.6, SPDX 2.3 and Syft JSON.

Scan a layer into components, then render them:

    components = [cpython_component(dep)]
    components += python_distributions([site_dir], layer_root=layer, image_layer_path=path,
                                       environment=marker_environment("3.12.4", arch="amd64"))
    for ext, data in render(components, document_name=..., layer_path=path, ...).items():
        (layers_dir / f"{name}.sbom.{ext}").write_bytes(data)
"""

from cnb_python.sbom.component import (
    CONDA,
    CPYTHON,
    PYTHON,
    TOOL,
    Component,
    CondaInfo,
    PythonInfo,
)
from cnb_python.sbom.conda import conda_packages
from cnb_python.sbom.dependency import cpython_component, tool_component
from cnb_python.sbom.python import marker_environment, python_distributions
from cnb_python.sbom.render import MEDIA_TYPES, render

__all__ = [
    "CONDA",
    "CPYTHON",
    "MEDIA_TYPES",
    "PYTHON",
    "TOOL",
    "Component",
    "CondaInfo",
    "PythonInfo",
    "conda_packages",
    "cpython_component",
    "marker_environment",
    "python_distributions",
    "render",
    "tool_component",
]
