"""One package installed in a layer, as every SBOM format sees it, and its Package URL."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

# What a component is; each format maps it to a type of its own (CycloneDX, Syft, SPDX).
CPYTHON = "cpython"
PYTHON = "python-distribution"
CONDA = "conda"
TOOL = "tool"
KINDS = (CPYTHON, PYTHON, CONDA, TOOL)


@dataclass(frozen=True)
class PythonInfo:
    """Facts from an installed dist-info beyond name, version and license."""

    site_packages: str  # the site dir's absolute path in the image
    author: str = ""
    author_email: str = ""
    platform: str = ""
    requires_python: str = ""
    requires_dist: tuple[str, ...] = ()
    provides_extra: tuple[str, ...] = ()


@dataclass(frozen=True)
class CondaInfo:
    """Facts from a conda-meta record beyond name, version and license."""

    build: str
    build_number: int = 0
    channel: str = ""
    subdir: str = ""
    noarch: str = ""
    filename: str = ""
    md5: str = ""
    size: int | None = None
    depends: tuple[str, ...] = ()


@dataclass(frozen=True)
class Component:
    """A package in a layer.

    `licenses` holds one entry per license statement found: a canonical SPDX expression when the
    statement is one, free text otherwise. `depends_on` holds purls of other components.
    `locations` are absolute paths in the image of the files the component was read from.
    """

    name: str
    version: str
    purl: str
    kind: str
    licenses: tuple[str, ...] = ()
    cpe: str | None = None
    sha256: str | None = None
    depends_on: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    summary: str = ""
    download_url: str | None = None
    python: PythonInfo | None = None
    conda: CondaInfo | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown component kind {self.kind!r}; expected one of {KINDS}")
        if not self.purl.startswith("pkg:"):
            raise ValueError(f"component {self.name!r} has no Package URL: {self.purl!r}")


def purl(type_: str, name: str, version: str, qualifiers: Mapping[str, str] | None = None) -> str:
    """A Package URL in canonical form: percent-encoded parts, sorted qualifiers.

    ":" is never encoded, and "/" only where it would be a separator, as the spec says.
    """

    def encode(text: str, safe: str = ":") -> str:
        return quote(clean_text(text), safe=safe)

    out = f"pkg:{type_}/{encode(name)}"
    if version:
        out += "@" + encode(version)
    pairs = sorted((k, v) for k, v in (qualifiers or {}).items() if v)
    if pairs:
        out += "?" + "&".join(f"{k}={encode(v, safe=':/')}" for k, v in pairs)
    return out


def clean_text(text: str) -> str:
    """Text that encodes as UTF-8: file names can carry undecodable bytes as surrogates."""
    return text.encode("utf-8", "replace").decode("utf-8")


def layer_path(path_in_layer: str, image_layer_path: str) -> str:
    """The absolute path in the image of a path given relative to the layer root."""
    return clean_text(image_layer_path.rstrip("/") + "/" + path_in_layer.lstrip("/"))
