"""Build-only tool layers (pip today): pinned in buildpack.toml, sha256-checked, never launched.

A tool is a pure-Python wheel unpacked into its layer and run from there with the target venv's
interpreter, so the tool itself is never installed into the app's environment. Its bytecode is
compiled once, when the layer is made, and reused by every later build that runs it.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import parse_wheel_filename
from packaging.version import InvalidVersion, Version

from cnb_python import bytecode
from cnb_python.cnb.bindings import Binding
from cnb_python.cnb.layers import Layer, LayerTypes
from cnb_python.cpython import CPython
from cnb_python.dependencies import BuildpackMetadata, Dependency
from cnb_python.download import (
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    download,
    resolve_source,
    tls_verify,
)
from cnb_python.errors import UserError
from cnb_python.log import Logger
from cnb_python.python_version import parse_constraint

# Bump when the layer layout below changes, so older cached layers are rebuilt.
LAYER_FORMAT = 3
PYPI_SIMPLE = "https://pypi.org/simple"


@dataclass(frozen=True)
class Tool:
    name: str
    version: str
    home: Path  # the layer

    @property
    def site(self) -> Path:
        return self.home / "site"

    def command(self, python: Path) -> list[str]:
        """Run the tool from its layer under `python` (the interpreter it acts on)."""
        return [str(python), str(self.site / self.name)]


def choose_tool(
    name: str, env_var: str, metadata: BuildpackMetadata, env: Mapping[str, str], log: Logger
) -> Dependency:
    """The pinned release, or the one `env_var` asks for, looked up on the package index."""
    pinned = metadata.candidates(name, "noarch")[0]
    requested = env.get(env_var, "").strip()
    if not requested or requested == pinned.version:
        return pinned
    log.step(f"{env_var} asks for {name} {requested!r}")
    return _from_index(name, env_var, requested, env.get("PIP_INDEX_URL") or PYPI_SIMPLE)


def _from_index(name: str, env_var: str, requested: str, index: str) -> Dependency:
    import requests

    alternatives = parse_constraint(requested)
    url = f"{index.rstrip('/')}/{name}/"
    try:
        response = requests.get(
            url,
            headers={"Accept": "application/vnd.pypi.simple.v1+json"},
            timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
            verify=tls_verify(),
        )
        response.raise_for_status()
        files = response.json()["files"]
    except (requests.RequestException, ValueError, KeyError) as e:
        raise UserError(
            f"Unable to look up {name} releases",
            f"{env_var} asks for {name} {requested!r}, but the index at {index} could not be "
            f"read: {e}",
            f"Check the network, or unset {env_var} to use the buildpack's pinned {name}.",
        ) from e
    wheels: dict[Version, dict[str, object]] = {}
    for entry in files:
        filename = entry.get("filename", "")
        if not filename.endswith("-py3-none-any.whl") or entry.get("yanked"):
            continue
        try:
            version = parse_wheel_filename(filename)[1]
        except (InvalidVersion, ValueError):
            continue
        if any(a.contains(version) for a in alternatives) and entry.get("hashes", {}).get("sha256"):
            wheels[version] = entry
    if not wheels:
        raise UserError(
            f"No {name} release matches {env_var}",
            f"{env_var} asks for {name} {requested!r}; the index at {index} has no wheel for it.",
            f"Set {env_var} to a released {name} version, or unset it.",
        )
    version = max(wheels)
    entry = wheels[version]
    return Dependency(
        id=name,
        name=name,
        version=str(version),
        arch="noarch",
        url=str(entry["url"]),
        sha256=str(entry["hashes"]["sha256"]),  # type: ignore[index]
        purl=f"pkg:pypi/{name}@{version}",
        cpe="",
        licenses=(),
    )


def provide_tool(
    layer: Layer,
    dep: Dependency,
    cpython: CPython,
    *,
    env: Mapping[str, str],
    bindings: Sequence[Binding],
    log: Logger,
) -> Tool:
    tool = Tool(dep.id, dep.version, layer.path)
    # pycs are specific to the Python minor version.
    wanted = {
        "version": dep.version,
        "sha256": dep.sha256,
        "python": cpython.minor,
        "format": LAYER_FORMAT,
    }
    if layer.restored_metadata() == wanted and (tool.site / dep.id).is_dir():
        log.section(f"Reusing cached {dep.name} {dep.version}")
    else:
        log.section(f"Installing {dep.name} {dep.version}")
        with log.timed():
            layer.reset()
            with tempfile.TemporaryDirectory(prefix="cnb-python-") as tmp:
                wheel = Path(tmp, Path(dep.url).name)
                source = resolve_source(dep.url, dep.sha256, env, bindings)
                download(source, dep.sha256, wheel, what=f"{dep.name} {dep.version}", log=log)
                with zipfile.ZipFile(wheel) as archive:
                    archive.extractall(tool.site)
            files = bytecode.python_sources([tool.site])
            bytecode.compile_files(cpython.python, files, log=log, what=dep.name)
    layer.write(LayerTypes(build=False, cache=True, launch=False), wanted)
    return tool
