"""Rendered SBOM documents: valid against the official schemas, consistent, and byte-stable.

Schemas come from PyPI test dependencies (requirements/dev.txt), never from the network:
- CycloneDX 1.6 and SPDX 2.3: the official JSON schema files that lib4sbom ships (byte-identical
  to CycloneDX/specification and spdx/spdx-spec v2.3), `$ref`s resolved offline by a
  `referencing` registry;
- SPDX semantics the schema cannot express (declared LicenseRefs, valid purl and CPE locators,
  relationship targets): spdx-tools' validator;
- Syft JSON: SYFT_SCHEMA below, the required fields and types of Syft's schema 16.1.10.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sbom_validation
from jsonschema import Draft7Validator, Draft202012Validator
from packageurl import PackageURL
from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from cnb_python.dependencies import Dependency
from cnb_python.sbom import (
    MEDIA_TYPES,
    Component,
    conda_packages,
    cpython_component,
    marker_environment,
    python_distributions,
    render,
    tool_component,
)

FIXTURES = Path(__file__).parent / "fixtures" / "sbom"
LAYER_PATH = "/layers/cnb-python_python/venv"
EPOCH = 1_700_000_000  # 2023-11-14T22:13:20Z


def _components() -> list[Component]:
    venv = FIXTURES / "venv"
    conda = FIXTURES / "conda"
    dep = Dependency(
        id="python",
        name="CPython",
        version="3.12.4",
        arch="amd64",
        url="https://example.org/python-3.12.4-linux-amd64.tar.gz",
        sha256="4a1b0c5e2f9d8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b",
        purl="pkg:generic/cpython@3.12.4",
        cpe="cpe:2.3:a:python:python:3.12.4:*:*:*:*:*:*:*",
        licenses=("PSF-2.0",),
    )
    uv = Dependency(
        id="uv",
        name="uv",
        version="0.4.18",
        arch="amd64",
        url="https://example.org/uv.tar.gz",
        sha256="",
        purl="pkg:generic/uv@0.4.18",
        cpe="",
        licenses=("MIT OR Apache-2.0",),
    )
    return [
        cpython_component(dep),
        tool_component(uv),
        *python_distributions(
            [venv / "lib" / "python3.12" / "site-packages"],
            layer_root=venv,
            image_layer_path=LAYER_PATH,
            environment=marker_environment("3.12.4", arch="amd64"),
        ),
        *conda_packages(conda / "conda-meta", layer_root=conda, image_layer_path=LAYER_PATH),
    ]


COMPONENTS = _components()


def _render(components: list[Component] = COMPONENTS, **overrides: Any) -> dict[str, bytes]:
    options: dict[str, Any] = {
        "document_name": "cnb-python_python/venv",
        "layer_path": LAYER_PATH,
        "source_date_epoch": EPOCH,
        "tool_name": "cnb-python",
        "tool_version": "1.2.3",
    }
    options.update(overrides)
    return render(components, **options)


RENDERED = _render()
DOCS = {ext: json.loads(data) for ext, data in RENDERED.items()}


@pytest.fixture(scope="module")
def cyclonedx_validator() -> Draft7Validator:
    return sbom_validation.cyclonedx_validator()


@pytest.fixture(scope="module")
def spdx_validator() -> Draft7Validator:
    return sbom_validation.spdx_validator()


_errors = sbom_validation.errors
SYFT_SCHEMA = sbom_validation.SYFT_SCHEMA


def test_the_three_formats_and_their_media_types() -> None:
    assert set(RENDERED) == {"cdx.json", "spdx.json", "syft.json"} == set(MEDIA_TYPES.values())


def test_the_validators_are_not_vacuous(
    cyclonedx_validator: Draft7Validator, spdx_validator: Draft7Validator
) -> None:
    cdx = json.loads(RENDERED["cdx.json"])
    cdx["components"][0]["licenses"] = [{"license": {"id": "Not-A-License"}}]  # via spdx.schema
    assert _errors(cyclonedx_validator, cdx)
    spdx = json.loads(RENDERED["spdx.json"])
    del spdx["packages"][1]["downloadLocation"]
    assert _errors(spdx_validator, spdx)
    assert validate_full_spdx_document(
        JsonLikeDictParser().parse({**DOCS["spdx.json"], "relationships": []})
    )
    syft = json.loads(RENDERED["syft.json"])
    del syft["artifacts"][0]["foundBy"]
    assert _errors(Draft202012Validator(SYFT_SCHEMA), syft)


def test_cyclonedx_is_valid(cyclonedx_validator: Draft7Validator) -> None:
    assert _errors(cyclonedx_validator, DOCS["cdx.json"]) == []


def test_spdx_is_valid(spdx_validator: Draft7Validator) -> None:
    assert _errors(spdx_validator, DOCS["spdx.json"]) == []
    document = JsonLikeDictParser().parse(DOCS["spdx.json"])
    assert [m.validation_message for m in validate_full_spdx_document(document, "SPDX-2.3")] == []


def test_syft_has_what_syfts_schema_requires() -> None:
    assert _errors(Draft202012Validator(SYFT_SCHEMA), DOCS["syft.json"]) == []
    assert DOCS["syft.json"]["schema"] == {
        "version": "16.1.10",
        "url": "https://raw.githubusercontent.com/anchore/syft/main/schema/json/schema-16.1.10.json",
    }


def test_an_empty_layer_gives_valid_documents(
    cyclonedx_validator: Draft7Validator, spdx_validator: Draft7Validator
) -> None:
    docs = {ext: json.loads(data) for ext, data in _render([]).items()}
    assert _errors(cyclonedx_validator, docs["cdx.json"]) == []
    assert _errors(spdx_validator, docs["spdx.json"]) == []
    assert validate_full_spdx_document(JsonLikeDictParser().parse(docs["spdx.json"])) == []
    assert _errors(Draft202012Validator(SYFT_SCHEMA), docs["syft.json"]) == []


def test_purls_are_in_canonical_form() -> None:
    # packageurl-python is the reference implementation; its canonical string must be ours.
    for component in COMPONENTS:
        assert PackageURL.from_string(component.purl).to_string() == component.purl


def test_every_format_lists_every_component_sorted() -> None:
    refs = sorted({c.purl for c in COMPONENTS})
    assert len(refs) == 25
    assert [c["bom-ref"] for c in DOCS["cdx.json"]["components"]] == refs
    assert [c["purl"] for c in DOCS["cdx.json"]["components"]] == refs
    spdx_refs = [
        ref["referenceLocator"]
        for p in DOCS["spdx.json"]["packages"]
        for ref in p.get("externalRefs", [])
        if ref["referenceType"] == "purl"
    ]
    assert spdx_refs == refs
    assert [a["purl"] for a in DOCS["syft.json"]["artifacts"]] == refs


def test_every_format_has_the_same_dependency_graph() -> None:
    expected = {(c.purl, d) for c in COMPONENTS for d in c.depends_on}
    assert ("pkg:pypi/requests@2.32.3", "pkg:pypi/pysocks@1.7.1") in expected

    cdx = {(d["ref"], on) for d in DOCS["cdx.json"]["dependencies"] for on in d["dependsOn"]}
    assert cdx == expected
    assert {d["ref"] for d in DOCS["cdx.json"]["dependencies"]} == {c.purl for c in COMPONENTS}

    spdx_purls = {
        p["SPDXID"]: ref["referenceLocator"]
        for p in DOCS["spdx.json"]["packages"]
        for ref in p.get("externalRefs", [])
        if ref["referenceType"] == "purl"
    }
    spdx = {
        (spdx_purls[r["spdxElementId"]], spdx_purls[r["relatedSpdxElement"]])
        for r in DOCS["spdx.json"]["relationships"]
        if r["relationshipType"] == "DEPENDS_ON"
    }
    assert spdx == expected

    syft_purls = {a["id"]: a["purl"] for a in DOCS["syft.json"]["artifacts"]}
    syft = {
        (syft_purls[r["child"]], syft_purls[r["parent"]])
        for r in DOCS["syft.json"]["artifactRelationships"]
    }
    assert syft == expected
    assert {r["type"] for r in DOCS["syft.json"]["artifactRelationships"]} == {"dependency-of"}


def _by_purl(ext: str) -> dict[str, dict[str, Any]]:
    if ext == "cdx.json":
        return {c["purl"]: c for c in DOCS[ext]["components"]}
    if ext == "syft.json":
        return {a["purl"]: a for a in DOCS[ext]["artifacts"]}
    return {
        ref["referenceLocator"]: p
        for p in DOCS[ext]["packages"]
        for ref in p.get("externalRefs", [])
        if ref["referenceType"] == "purl"
    }


def test_cyclonedx_components() -> None:
    cdx = _by_purl("cdx.json")
    assert cdx["pkg:generic/cpython@3.12.4"] == {
        "type": "application",
        "bom-ref": "pkg:generic/cpython@3.12.4",
        "name": "CPython",
        "version": "3.12.4",
        "purl": "pkg:generic/cpython@3.12.4",
        "cpe": "cpe:2.3:a:python:python:3.12.4:*:*:*:*:*:*:*",
        "licenses": [{"expression": "PSF-2.0"}],
        "hashes": [
            {
                "alg": "SHA-256",
                "content": "4a1b0c5e2f9d8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b",
            }
        ],
        "externalReferences": [
            {"type": "distribution", "url": "https://example.org/python-3.12.4-linux-amd64.tar.gz"}
        ],
    }
    requests = cdx["pkg:pypi/requests@2.32.3"]
    assert requests["type"] == "library"
    assert requests["description"] == "Python HTTP for Humans."
    assert requests["evidence"] == {
        "occurrences": [
            {
                "location": LAYER_PATH
                + "/lib/python3.12/site-packages/requests-2.32.3.dist-info/METADATA"
            }
        ]
    }
    # All SPDX: one expression. Free text: a license name. Mixed: ids and names.
    assert cdx["pkg:pypi/sniffio@1.3.1"]["licenses"] == [{"expression": "MIT OR Apache-2.0"}]
    assert cdx["pkg:pypi/idna@3.7"]["licenses"] == [{"license": {"name": "BSD License"}}]
    assert cdx["pkg:pypi/dual@1.0"]["licenses"] == [
        {"license": {"id": "MIT"}},
        {"license": {"name": "Apache Software License"}},
    ]
    assert cdx["pkg:pypi/inhouse@3.1"]["licenses"] == [{"expression": "LicenseRef-Proprietary"}]
    assert "licenses" not in cdx["pkg:pypi/ghost@1.2.3"]
    conda_python = next(c for ref, c in cdx.items() if ref.startswith("pkg:conda/python@"))
    assert conda_python["properties"] == [
        {"name": "cnb-python:conda:build", "value": "h194c7f8_0_cpython"},
        {"name": "cnb-python:conda:channel", "value": "https://conda.anaconda.org/conda-forge"},
        {"name": "cnb-python:conda:subdir", "value": "linux-64"},
    ]


def test_spdx_packages_and_licenses() -> None:
    doc = DOCS["spdx.json"]
    assert doc["creationInfo"] == {
        "created": "2023-11-14T22:13:20Z",
        "creators": ["Tool: cnb-python-1.2.3"],
    }
    layer = doc["packages"][0]
    assert (layer["SPDXID"], layer["packageFileName"]) == ("SPDXRef-Layer", LAYER_PATH)
    assert {
        "spdxElementId": "SPDXRef-DOCUMENT",
        "relationshipType": "DESCRIBES",
        "relatedSpdxElement": "SPDXRef-Layer",
    } in doc["relationships"]
    contained = {
        r["relatedSpdxElement"] for r in doc["relationships"] if r["relationshipType"] == "CONTAINS"
    }
    assert contained == {p["SPDXID"] for p in doc["packages"][1:]}

    spdx = _by_purl("spdx.json")
    cpython = spdx["pkg:generic/cpython@3.12.4"]
    assert cpython["primaryPackagePurpose"] == "APPLICATION"
    assert cpython["downloadLocation"] == "https://example.org/python-3.12.4-linux-amd64.tar.gz"
    assert cpython["checksums"] == [
        {
            "algorithm": "SHA256",
            "checksumValue": "4a1b0c5e2f9d8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b",
        }
    ]
    assert {
        "referenceCategory": "SECURITY",
        "referenceType": "cpe23Type",
        "referenceLocator": "cpe:2.3:a:python:python:3.12.4:*:*:*:*:*:*:*",
    } in cpython["externalRefs"]
    assert spdx["pkg:pypi/ghost@1.2.3"]["licenseDeclared"] == "NOASSERTION"
    assert spdx["pkg:pypi/webclient@1.0.0"]["licenseDeclared"] == "Apache-2.0 OR MIT"
    assert all(p["licenseConcluded"] == "NOASSERTION" for p in doc["packages"])
    assert spdx["pkg:pypi/ghost@1.2.3"]["downloadLocation"] == "NOASSERTION"

    # Free text becomes a LicenseRef defined in the document, with the text.
    dual = spdx["pkg:pypi/dual@1.0"]["licenseDeclared"]
    assert re.fullmatch(r"MIT AND LicenseRef-Apache-Software-License-[0-9a-f]{8}", dual)
    extracted = {e["licenseId"]: e for e in doc["hasExtractedLicensingInfos"]}
    assert extracted[dual.split(" AND ")[1]]["extractedText"] == "Apache Software License"
    assert "LicenseRef-Proprietary" in extracted
    used = set(re.findall(r"LicenseRef-[A-Za-z0-9.\-]+", json.dumps(doc["packages"])))
    assert used == set(extracted)


def test_syft_artifacts() -> None:
    syft = _by_purl("syft.json")
    requests = syft["pkg:pypi/requests@2.32.3"]
    assert (requests["type"], requests["language"], requests["metadataType"]) == (
        "python",
        "python",
        "python-package",
    )
    assert (
        requests["metadata"]["sitePackagesRootPath"] == LAYER_PATH + "/lib/python3.12/site-packages"
    )
    assert requests["licenses"][0]["spdxExpression"] == "Apache-2.0"
    assert syft["pkg:pypi/idna@3.7"]["licenses"][0]["spdxExpression"] == ""
    cpython = syft["pkg:generic/cpython@3.12.4"]
    assert (cpython["type"], cpython["language"], cpython["cpes"]) == (
        "binary",
        "",
        [{"cpe": "cpe:2.3:a:python:python:3.12.4:*:*:*:*:*:*:*", "source": "declared"}],
    )
    conda_python = next(a for ref, a in syft.items() if ref.startswith("pkg:conda/python@"))
    assert conda_python["type"] == "conda"
    assert conda_python["metadata"]["build"] == "h194c7f8_0_cpython"
    assert conda_python["metadata"]["sha256"].startswith("d1f8ab5b")
    assert DOCS["syft.json"]["source"]["metadata"] == {"path": LAYER_PATH}
    assert DOCS["syft.json"]["descriptor"] == {"name": "cnb-python", "version": "1.2.3"}


def test_same_input_same_bytes_in_any_order() -> None:
    shuffled = list(COMPONENTS)
    random.Random(7).shuffle(shuffled)
    assert _render(shuffled) == RENDERED
    assert _render() == RENDERED


def test_scanning_in_another_order_gives_the_same_bytes() -> None:
    # Site dirs and conda first, then venv: the order callers gather components in is free.
    assert _render(list(reversed(_components()))) == RENDERED


def test_bytes_are_sorted_indented_utf8_json() -> None:
    for data in RENDERED.values():
        text = data.decode("utf-8")
        assert text.endswith("}\n")
        parsed = json.loads(text)
        again = json.dumps(
            parsed, sort_keys=True, indent=2, separators=(",", ": "), ensure_ascii=False
        )
        assert text == again + "\n"
    assert "José" in RENDERED["syft.json"].decode("utf-8")


def test_ids_derive_from_content() -> None:
    serial = DOCS["cdx.json"]["serialNumber"]
    namespace = DOCS["spdx.json"]["documentNamespace"]
    assert re.fullmatch(
        r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", serial
    )
    assert re.fullmatch(
        r"https://spdx\.org/spdxdocs/cnb-python-python-venv-[0-9a-f-]{36}", namespace
    )
    bumped = [
        Component(**{**vars(c), "version": "2.32.4"}) if c.name == "requests" else c
        for c in COMPONENTS
    ]
    other = {ext: json.loads(data) for ext, data in _render(bumped).items()}
    assert other["cdx.json"]["serialNumber"] != serial
    assert other["spdx.json"]["documentNamespace"] != namespace


def test_timestamps_come_from_source_date_epoch() -> None:
    docs = {ext: json.loads(data) for ext, data in _render(source_date_epoch=0).items()}
    assert docs["cdx.json"]["metadata"]["timestamp"] == "1970-01-01T00:00:00Z"
    assert docs["spdx.json"]["creationInfo"]["created"] == "1970-01-01T00:00:00Z"
    assert DOCS["cdx.json"]["metadata"]["timestamp"] == "2023-11-14T22:13:20Z"
    # The time is content too: the ids change with it.
    assert docs["cdx.json"]["serialNumber"] != DOCS["cdx.json"]["serialNumber"]
    with pytest.raises(ValueError, match="SOURCE_DATE_EPOCH"):
        _render(source_date_epoch=-1)


def test_no_build_host_paths() -> None:
    host = str(FIXTURES.resolve())
    for data in RENDERED.values():
        text = data.decode("utf-8")
        assert host not in text
        assert "/home/builder" not in text and "/tmp/build-host" not in text
        for path in re.findall(r'"(/[^"]*)"', text):
            assert path.startswith(LAYER_PATH), path


def test_duplicates_merge_and_dangling_edges_drop() -> None:
    a1 = Component(
        name="a", version="1", purl="pkg:pypi/a@1", kind="python-distribution", locations=("/l/x",)
    )
    a2 = Component(
        name="a",
        version="1",
        purl="pkg:pypi/a@1",
        kind="python-distribution",
        locations=("/l/y",),
        depends_on=("pkg:pypi/b@1", "pkg:pypi/gone@1", "pkg:pypi/a@1"),
    )
    b = Component(name="b", version="1", purl="pkg:pypi/b@1", kind="python-distribution")
    assert _render([a1, a2, b]) == _render([b, a2, a1])
    cdx = json.loads(_render([a1, a2, b])["cdx.json"])
    assert [c["bom-ref"] for c in cdx["components"]] == ["pkg:pypi/a@1", "pkg:pypi/b@1"]
    assert cdx["components"][0]["evidence"]["occurrences"] == [
        {"location": "/l/x"},
        {"location": "/l/y"},
    ]
    assert cdx["dependencies"][0] == {"ref": "pkg:pypi/a@1", "dependsOn": ["pkg:pypi/b@1"]}


def test_a_tool_found_twice_is_one_component_with_both_facts(tmp_path: Path) -> None:
    # The pip layer: the wheel from buildpack.toml, unpacked, so its dist-info is there too.
    dist_info = tmp_path / "site" / "pip-26.3.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: pip\nVersion: 26.3\nLicense: MIT\n"
    )
    pip = Dependency(
        id="pip",
        name="pip",
        version="26.3",
        arch="noarch",
        url="https://files.example.org/pip-26.3-py3-none-any.whl",
        sha256="f3b60b20ffaadd4415ed7957212a38ac63fa4c5fa375bd0f4a797777940fad13",
        purl="pkg:pypi/pip@26.3",
        cpe="cpe:2.3:a:pypa:pip:26.3:*:*:*:*:*:*:*",
        licenses=(),
    )
    found = python_distributions(
        [tmp_path / "site"],
        layer_root=tmp_path,
        image_layer_path="/layers/cnb-python_python/pip",
        environment=marker_environment("3.12.4", arch="amd64"),
    )
    rendered = _render([tool_component(pip), *found], layer_path="/layers/cnb-python_python/pip")
    assert rendered == _render(
        [*found, tool_component(pip)], layer_path="/layers/cnb-python_python/pip"
    )
    (component,) = json.loads(rendered["cdx.json"])["components"]
    assert component["licenses"] == [{"expression": "MIT"}]
    assert component["cpe"] == pip.cpe
    assert component["hashes"] == [{"alg": "SHA-256", "content": pip.sha256}]
    assert component["evidence"] == {
        "occurrences": [
            {"location": "/layers/cnb-python_python/pip/site/pip-26.3.dist-info/METADATA"}
        ]
    }


def test_garbage_in_the_layer_still_gives_valid_documents(
    tmp_path: Path, cyclonedx_validator: Draft7Validator, spdx_validator: Draft7Validator
) -> None:
    rng = random.Random(2024)
    site = tmp_path / "site"
    meta = tmp_path / "conda-meta"
    meta.mkdir()
    headers = ["Name", "Version", "License", "License-Expression", "Classifier", "Requires-Dist"]
    values = [
        "",
        "MIT OR (",
        "MIT OR Apache-2.0",
        "LicenseRef-",
        "LicenseRef-Corp.1",
        "License :: OSI Approved :: MIT License",
        "License :: Other",
        "pkg3[x]; extra == 'y'",
        "pkg4 ; python_version < '3'",
        "pkg5 (>=1.0)",
        "pkg6; os_name == 'nt' or extra == 'z'",
        "1.0+local",
        "Ünïcødé ✓",
        "UNKNOWN",
        "a\tb",
        "%@=?/#",
    ]
    for i in range(40):
        dist_info = site / f"pkg{i}-{rng.randint(0, 9)}.{i}.dist-info"
        dist_info.mkdir(parents=True)
        lines = [f"{rng.choice(headers)}: {rng.choice(values)}" for _ in range(rng.randint(0, 8))]
        data = "\n".join(lines).encode(rng.choice(["utf-8", "latin-1", "utf-16"]), "replace")
        if i % 5 == 0:
            data = bytes(rng.randrange(256) for _ in range(64))
        (dist_info / "METADATA").write_bytes(data)
        record = {
            "name": rng.choice([f"c{i}", 5, None, ""]),
            "depends": rng.choice(["x", [1, "c1"]]),
        }
        record.update(build_number=rng.choice(["7", -1, True, 3]), sha256=rng.choice([None, "ab"]))
        (meta / f"c{i}-1.0-0.json").write_text(json.dumps(record))
    components = python_distributions(
        [site],
        layer_root=tmp_path,
        image_layer_path="/layers/bp/env",
        environment=marker_environment("3.12.4", arch="amd64"),
    )
    components += conda_packages(meta, layer_root=tmp_path, image_layer_path="/layers/bp/env")
    assert len(components) == 80
    docs = {ext: json.loads(data) for ext, data in _render(components).items()}
    assert _errors(cyclonedx_validator, docs["cdx.json"]) == []
    assert _errors(spdx_validator, docs["spdx.json"]) == []
    assert _errors(Draft202012Validator(SYFT_SCHEMA), docs["syft.json"]) == []
    spdx_document = JsonLikeDictParser().parse(docs["spdx.json"])
    assert [m.validation_message for m in validate_full_spdx_document(spdx_document)] == []


def test_runtime_imports_only_the_stdlib_and_packaging() -> None:
    root = Path(__file__).resolve().parent.parent
    code = (
        "import sys; sys.path[:0] = [sys.argv[1], sys.argv[1] + '/vendor'];"
        "import cnb_python.sbom;"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    # -S: no site-packages, so only the stdlib and what the buildpack vendors can be imported.
    out = subprocess.run(
        [sys.executable, "-S", "-I", "-c", code, str(root)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    third_party = {m for m in out if m not in sys.stdlib_module_names}
    assert third_party <= {"cnb_python", "packaging", "__main__"}


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("https://github.com/astral-sh/python-build-standalone/releases/x.tar.gz", None),
        ("http://127.0.0.1:8000/cpython.tar.gz", "NOASSERTION"),
        ("file:///mirror/cpython.tar.gz", "NOASSERTION"),
    ],
)
def test_spdx_download_location_only_for_valid_urls(url: str, location: str | None) -> None:
    component = Component(
        name="CPython",
        version="3.12.4",
        purl="pkg:generic/cpython@3.12.4",
        kind="cpython",
        download_url=url,
    )
    [package] = [
        p
        for p in json.loads(_render([component])["spdx.json"])["packages"]
        if p["name"] == "CPython"
    ]
    assert package["downloadLocation"] == (location or url)
