"""SBOM components read from what is installed: dist-infos, conda-meta and buildpack metadata.

The layers under tests/fixtures/sbom/ are small but realistic; each odd case there is named for
what it exercises (ghost: no METADATA, garbled: binary METADATA, sniffio: no RECORD, PySocks:
Latin-1 METADATA, ...).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from cnb_python.dependencies import Dependency
from cnb_python.sbom import (
    CONDA,
    CPYTHON,
    PYTHON,
    TOOL,
    Component,
    conda_packages,
    cpython_component,
    marker_environment,
    python_distributions,
    tool_component,
)
from cnb_python.sbom.component import purl
from cnb_python.sbom.licenses import from_classifiers, statement

FIXTURES = Path(__file__).parent / "fixtures" / "sbom"
VENV = FIXTURES / "venv"
SITE = VENV / "lib" / "python3.12" / "site-packages"
IMAGE_VENV = "/layers/cnb-python_python/venv"
IMAGE_SITE = IMAGE_VENV + "/lib/python3.12/site-packages"
ENV_312 = marker_environment("3.12.4", arch="amd64")
CONDA_FORGE = "https://conda.anaconda.org/conda-forge"


def scan_venv(environment: dict[str, str] = ENV_312) -> dict[str, Component]:
    found = python_distributions(
        [SITE], layer_root=VENV, image_layer_path=IMAGE_VENV, environment=environment
    )
    return {c.purl: c for c in found}


def scan_conda() -> dict[str, Component]:
    root = FIXTURES / "conda"
    found = conda_packages(
        root / "conda-meta", layer_root=root, image_layer_path="/layers/cnb-python_python/conda"
    )
    return {c.purl: c for c in found}


def test_every_installed_distribution_and_nothing_else() -> None:
    # Not "requests/" (a package dir), not "*.dist-info.tmp": only real dist-info dirs.
    assert sorted(scan_venv()) == [
        "pkg:pypi/anyio@4.4.0",
        "pkg:pypi/certifi@2024.7.4",
        "pkg:pypi/charset-normalizer@3.3.2",
        "pkg:pypi/dual@1.0",
        "pkg:pypi/garbled@0.0.1",
        "pkg:pypi/ghost@1.2.3",
        "pkg:pypi/idna@3.7",
        "pkg:pypi/inhouse@3.1",
        "pkg:pypi/oddlicense@1.0",
        "pkg:pypi/pysocks@1.7.1",
        "pkg:pypi/requests@2.32.3",
        "pkg:pypi/sniffio@1.3.1",
        "pkg:pypi/torch@2.4.0%2Bcpu",
        "pkg:pypi/typing-extensions@4.12.2",
        "pkg:pypi/unlicensed@0.1",
        "pkg:pypi/urllib3@2.2.2",
        "pkg:pypi/webclient@1.0.0",
        "pkg:pypi/zope-interface@7.0.1",
    ]


def test_names_keep_their_spelling_and_purls_are_normalized() -> None:
    found = scan_venv()
    assert found["pkg:pypi/pysocks@1.7.1"].name == "PySocks"
    assert found["pkg:pypi/typing-extensions@4.12.2"].name == "typing_extensions"
    assert found["pkg:pypi/zope-interface@7.0.1"].name == "zope.interface"
    assert found["pkg:pypi/charset-normalizer@3.3.2"].name == "charset-normalizer"
    assert all(c.kind == PYTHON for c in found.values())


def test_a_distribution_records_where_it_was_read_from() -> None:
    requests = scan_venv()["pkg:pypi/requests@2.32.3"]
    assert requests.locations == (IMAGE_SITE + "/requests-2.32.3.dist-info/METADATA",)
    assert requests.summary == "Python HTTP for Humans."
    assert requests.python is not None
    assert requests.python.site_packages == IMAGE_SITE
    assert requests.python.author == "Kenneth Reitz"
    assert requests.python.author_email == "me@kennethreitz.org"
    assert requests.python.requires_python == ">=3.8"
    assert requests.python.provides_extra == ("socks", "use-chardet-on-py3")
    assert 'PySocks!=1.5.7,>=1.5.6; extra == "socks"' in requests.python.requires_dist


@pytest.mark.parametrize(
    ("ref", "licenses"),
    [
        # License-Expression wins, canonicalized.
        ("pkg:pypi/urllib3@2.2.2", ("MIT",)),
        ("pkg:pypi/webclient@1.0.0", ("Apache-2.0 OR MIT",)),
        ("pkg:pypi/inhouse@3.1", ("LicenseRef-Proprietary",)),
        # An invalid License-Expression is kept as free text, not dropped.
        ("pkg:pypi/oddlicense@1.0", ("MIT-ish, ask the author",)),
        # A License field that is valid SPDX beats classifiers.
        ("pkg:pypi/requests@2.32.3", ("Apache-2.0",)),
        ("pkg:pypi/sniffio@1.3.1", ("MIT OR Apache-2.0",)),
        # Classifiers only: mapped when they name one SPDX license...
        ("pkg:pypi/certifi@2024.7.4", ("MPL-2.0",)),
        ("pkg:pypi/typing-extensions@4.12.2", ("PSF-2.0",)),
        # ...free text when they name a family.
        ("pkg:pypi/idna@3.7", ("BSD License",)),
        ("pkg:pypi/dual@1.0", ("MIT", "Apache Software License")),
        # A License field that is not SPDX loses to classifiers, else is free text.
        ("pkg:pypi/zope-interface@7.0.1", ("Zope Public License",)),
        ("pkg:pypi/pysocks@1.7.1", ("BSD",)),
        # No license at all.
        ("pkg:pypi/unlicensed@0.1", ()),
        ("pkg:pypi/ghost@1.2.3", ()),
        ("pkg:pypi/garbled@0.0.1", ()),
    ],
)
def test_licenses(ref: str, licenses: tuple[str, ...]) -> None:
    assert scan_venv()[ref].licenses == licenses


def test_dependency_edges_follow_markers_and_extras() -> None:
    edges = {ref: c.depends_on for ref, c in scan_venv().items() if c.depends_on}
    assert edges == {
        # pysocks only because webclient asks for requests[socks].
        "pkg:pypi/requests@2.32.3": (
            "pkg:pypi/certifi@2024.7.4",
            "pkg:pypi/charset-normalizer@3.3.2",
            "pkg:pypi/idna@3.7",
            "pkg:pypi/pysocks@1.7.1",
            "pkg:pypi/urllib3@2.2.2",
        ),
        # typing-extensions is installed, but webclient needs it only on Python < 3.11; the bad
        # Requires-Dist line is skipped.
        "pkg:pypi/webclient@1.0.0": ("pkg:pypi/anyio@4.4.0", "pkg:pypi/requests@2.32.3"),
        # typing-extensions applies on Python < 3.13; trio (extra) and exceptiongroup do not.
        "pkg:pypi/anyio@4.4.0": (
            "pkg:pypi/idna@3.7",
            "pkg:pypi/sniffio@1.3.1",
            "pkg:pypi/typing-extensions@4.12.2",
        ),
        # sympy is not installed: no edge.
        "pkg:pypi/torch@2.4.0%2Bcpu": ("pkg:pypi/typing-extensions@4.12.2",),
        # urllib3's socks extra is not requested by anyone, so no edge to the installed pysocks.
    }


def test_markers_are_evaluated_for_the_layers_python_not_the_buildpacks() -> None:
    on_310 = scan_venv(marker_environment("3.10.14", arch="arm64"))
    assert "pkg:pypi/typing-extensions@4.12.2" in on_310["pkg:pypi/webclient@1.0.0"].depends_on
    on_313 = scan_venv(marker_environment("3.13.0", arch="amd64"))
    assert "pkg:pypi/typing-extensions@4.12.2" not in on_313["pkg:pypi/anyio@4.4.0"].depends_on


def test_marker_environment() -> None:
    env = marker_environment("3.12.4", arch="arm64")
    assert env["python_version"] == "3.12"
    assert env["python_full_version"] == "3.12.4"
    assert env["platform_machine"] == "aarch64"
    assert env["sys_platform"] == "linux"
    assert marker_environment("3.9.19", arch="amd64")["platform_machine"] == "x86_64"


def test_bad_metadata_still_gives_a_component() -> None:
    found = scan_venv()
    # Latin-1 METADATA is read, not replaced by U+FFFD.
    pysocks = found["pkg:pypi/pysocks@1.7.1"]
    assert pysocks.python is not None
    assert pysocks.python.author == "Anorov Vorona, José"
    # No METADATA: name and version from the directory name; the location is the directory.
    ghost = found["pkg:pypi/ghost@1.2.3"]
    assert (ghost.name, ghost.version) == ("ghost", "1.2.3")
    assert ghost.locations == (IMAGE_SITE + "/ghost-1.2.3.dist-info",)
    # Binary garbage in METADATA: the same.
    garbled = found["pkg:pypi/garbled@0.0.1"]
    assert (garbled.name, garbled.version, garbled.summary) == ("garbled", "0.0.1", "")
    # No RECORD: nothing is missing from the component.
    assert found["pkg:pypi/sniffio@1.3.1"].summary.startswith("Sniff out")


def test_unreadable_and_oddly_named_dist_infos(tmp_path: Path) -> None:
    site = tmp_path / "lib" / "python3.12" / "site-packages"
    (site / "noversion.dist-info").mkdir(parents=True)
    (site / "dirmeta-1.0.dist-info" / "METADATA").mkdir(parents=True)  # a dir, not a file
    (site / "noname-2.0.dist-info").mkdir()
    (site / "noname-2.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nVersion: 2.0.1\n"
    )
    bad_name = os.fsdecode(b"caf\xe9-1.0.dist-info")  # not UTF-8 on disk
    (site / bad_name).mkdir()
    found = python_distributions(
        [site, tmp_path / "does-not-exist"],
        layer_root=tmp_path,
        image_layer_path="/layers/bp/env",
        environment=ENV_312,
    )
    assert sorted((c.name, c.version, c.purl) for c in found) == [
        ("caf?", "1.0", "pkg:pypi/caf%3F@1.0"),
        ("dirmeta", "1.0", "pkg:pypi/dirmeta@1.0"),
        ("noname", "2.0.1", "pkg:pypi/noname@2.0.1"),
        ("noversion", "", "pkg:pypi/noversion"),
    ]


def test_a_site_dir_reached_twice_is_read_once(tmp_path: Path) -> None:
    shutil.copytree(VENV, tmp_path / "venv")
    (tmp_path / "venv" / "lib64").symlink_to("lib")
    lib64_site = tmp_path / "venv" / "lib64" / "python3.12" / "site-packages"
    found = python_distributions(
        [tmp_path / "venv" / "lib" / "python3.12" / "site-packages", lib64_site],
        layer_root=tmp_path / "venv",
        image_layer_path=IMAGE_VENV,
        environment=ENV_312,
    )
    assert len(found) == len({c.purl for c in found}) == 18


def test_conda_packages() -> None:
    found = scan_conda()
    python_ref = (
        f"pkg:conda/python@3.12.4?build=h194c7f8_0_cpython&channel={CONDA_FORGE}"
        "&subdir=linux-64&type=conda"
    )
    zlib_ref = (
        f"pkg:conda/libzlib@1.3.1?build=h4ab18f5_1&channel={CONDA_FORGE}&subdir=linux-64&type=conda"
    )
    numpy_ref = (
        f"pkg:conda/numpy@1.26.4?build=py312heda63a1_0&channel={CONDA_FORGE}"
        "&subdir=linux-64&type=conda"
    )
    local_ref = "pkg:conda/localpkg@0.1?build=pyhd8ed1ab_0&subdir=noarch&type=tar.bz2"
    broken_ref = "pkg:conda/broken@2.0?build=h123_0"
    assert sorted(found) == sorted([python_ref, zlib_ref, numpy_ref, local_ref, broken_ref])
    assert all(c.kind == CONDA for c in found.values())

    python = found[python_ref]
    assert python.licenses == ("Python-2.0",)
    assert python.sha256 == "d1f8ab5b7a3c1bc9f3a9f0d2c5e8b7a6f4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9"
    assert python.download_url == (
        "https://conda.anaconda.org/conda-forge/linux-64/python-3.12.4-h194c7f8_0_cpython.conda"
    )
    assert python.locations == (
        "/layers/cnb-python_python/conda/conda-meta/python-3.12.4-h194c7f8_0_cpython.json",
    )
    assert python.conda is not None
    assert (python.conda.build, python.conda.build_number, python.conda.size) == (
        "h194c7f8_0_cpython",
        0,
        31991381,
    )
    assert python.conda.md5 == "5f0b6e7f3f4c1c9d8b8e4a2a6d3b1c00"
    # Edges only to installed packages (not bzip2, tzdata or the __glibc virtual package).
    assert python.depends_on == (zlib_ref,)
    # A channel prefix ("conda-forge::python") still names the package.
    assert found[numpy_ref].depends_on == (zlib_ref, python_ref)
    # A sha256 that is not one is dropped; an upper-case one is normalized.
    assert found[numpy_ref].sha256 is None
    assert found[zlib_ref].sha256 == (
        "adaf6ad1d4e2f2a5b2f7f2c4b1e5e1d8c0a6a8e9d7f1b3c5a2e4d6f8b0c2e4a6"
    )


def test_conda_never_records_build_host_paths() -> None:
    found = scan_conda()
    local = found["pkg:conda/localpkg@0.1?build=pyhd8ed1ab_0&subdir=noarch&type=tar.bz2"]
    assert local.download_url is None
    assert local.conda is not None
    assert local.conda.channel == ""
    assert local.licenses == ("Apache 2.0",)
    text = repr(sorted(found.items()))
    assert "/tmp/build-host" not in text
    assert "/home/builder" not in text


def test_a_conda_record_that_is_not_json_is_named_from_its_file() -> None:
    broken = scan_conda()["pkg:conda/broken@2.0?build=h123_0"]
    assert (broken.name, broken.version, broken.licenses, broken.depends_on) == (
        "broken",
        "2.0",
        (),
        (),
    )


def test_no_conda_meta_means_no_packages(tmp_path: Path) -> None:
    empty = conda_packages(tmp_path / "conda-meta", layer_root=tmp_path, image_layer_path="/l")
    assert empty == []


CPYTHON_DEP = Dependency(
    id="python",
    name="CPython",
    version="3.12.4",
    arch="amd64",
    url="https://example.org/python/python-3.12.4-linux-amd64.tar.gz",
    sha256="4A1B0C5E2F9D8B7A6C5D4E3F2A1B0C9D8E7F6A5B4C3D2E1F0A9B8C7D6E5F4A3B",
    purl="pkg:generic/cpython@3.12.4?checksum=sha256%3A4a1b0c5e2f9d8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b",
    cpe="cpe:2.3:a:python:python:3.12.4:*:*:*:*:*:*:*",
    licenses=("PSF-2.0",),
)


def test_cpython_from_the_buildpack_dependency_metadata() -> None:
    assert cpython_component(CPYTHON_DEP) == Component(
        name="CPython",
        version="3.12.4",
        purl=CPYTHON_DEP.purl,
        kind=CPYTHON,
        licenses=("PSF-2.0",),
        cpe="cpe:2.3:a:python:python:3.12.4:*:*:*:*:*:*:*",
        sha256="4a1b0c5e2f9d8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b",
        download_url="https://example.org/python/python-3.12.4-linux-amd64.tar.gz",
    )


def test_a_tool_from_the_buildpack_dependency_metadata() -> None:
    uv = Dependency(
        id="uv",
        name="uv",
        version="0.4.18",
        arch="arm64",
        url="https://example.org/uv/uv-aarch64-unknown-linux-gnu.tar.gz",
        sha256="",
        purl="pkg:generic/uv@0.4.18",
        cpe="",
        licenses=("MIT OR Apache-2.0", "UNKNOWN"),
    )
    component = tool_component(uv)
    assert component.kind == TOOL
    assert (component.licenses, component.cpe, component.sha256) == (
        ("MIT OR Apache-2.0",),
        None,
        None,
    )


def test_component_rejects_what_no_format_can_carry() -> None:
    with pytest.raises(ValueError, match="kind"):
        Component(name="x", version="1", purl="pkg:pypi/x@1", kind="gem")
    with pytest.raises(ValueError, match="Package URL"):
        Component(name="x", version="1", purl="", kind=PYTHON)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("pypi", "requests", "2.32.3"), "pkg:pypi/requests@2.32.3"),
        (("pypi", "torch", "2.4.0+cpu"), "pkg:pypi/torch@2.4.0%2Bcpu"),
        (("pypi", "noversion", ""), "pkg:pypi/noversion"),
        (
            ("conda", "x", "1", {"type": "conda", "build": "b_0", "channel": ""}),
            "pkg:conda/x@1?build=b_0&type=conda",
        ),
    ],
)
def test_purl(args: tuple, expected: str) -> None:
    assert purl(*args) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mit", "MIT"),
        ("apache-2.0 with llvm-exception", "Apache-2.0 WITH LLVM-exception"),
        ("MIT License\n\nCopyright (c) 2024 Someone\n...", "MIT License"),
        ("  UNKNOWN ", None),
        ("", None),
        (None, None),
    ],
)
def test_license_statement(text: str | None, expected: str | None) -> None:
    assert statement(text) == expected


def test_license_classifiers() -> None:
    assert from_classifiers(
        [
            "License :: OSI Approved",
            "License :: OSI Approved :: GNU General Public License v2 or later (GPLv2+)",
            "Programming Language :: Python",
            "License :: Other/Proprietary License",
            "License :: OSI Approved :: GNU General Public License v2 or later (GPLv2+)",
            "License :: Public Domain",
        ]
    ) == ("GPL-2.0-or-later", "Other/Proprietary License", "Public Domain")
