import datetime
import io
from pathlib import Path

import pytest
from packaging.version import Version

from cnb_python.dependencies import BuildpackMetadata, Dependency
from cnb_python.errors import UserError
from cnb_python.log import Logger
from cnb_python.python_version import (
    EndOfLife,
    choose_cpython,
    eol_warning,
    gather_requests,
    parse_constraint,
    select_version,
)

AVAILABLE = [Version(v) for v in ("3.10.20", "3.11.16", "3.12.13", "3.12.14", "3.13.15", "3.14.7")]
EOL = [
    EndOfLife("3.9", datetime.date(2025, 10, 31), "error"),
    EndOfLife("3.10", datetime.date(2026, 10, 31), "warn"),
    EndOfLife("3.14", datetime.date(2030, 10, 31), "warn"),
]
TODAY = datetime.date(2026, 11, 25)


def request_for(tmp_path: Path, files: dict[str, str], env: dict[str, str] | None = None):
    for name, content in files.items():
        (tmp_path / name).write_text(content)
    return gather_requests(tmp_path, env or {}, "3.14")


def resolve(tmp_path: Path, files: dict[str, str], env: dict[str, str] | None = None) -> str:
    """As choose_cpython does it: the first request picks, the app's others constrain."""
    requests = request_for(tmp_path, files, env)
    return str(select_version(requests[0], [], AVAILABLE, EOL, TODAY, requests[1:-1]))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("3.12\n", "3.12.14"),
        ("3.12.13", "3.12.13"),
        ("# pinned by pyenv\n\n 3.11 \n3.12\n", "3.11.16"),
        ("3", "3.14.7"),
    ],
)
def test_python_version_file(tmp_path, content, expected):
    assert resolve(tmp_path, {".python-version": content}) == expected


@pytest.mark.parametrize("content", ["python-3.12", "3.12-dev", "system", "pypy3.10", "3.12.4.1"])
def test_python_version_file_rejects_non_versions(tmp_path, content):
    with pytest.raises(UserError) as e:
        resolve(tmp_path, {".python-version": content})
    assert e.value.title == "Invalid Python version in .python-version"
    assert repr(content) in e.value.detail


def test_python_version_file_without_version(tmp_path):
    with pytest.raises(UserError, match=r"No Python version in \.python-version"):
        resolve(tmp_path, {".python-version": "# nothing\n\n"})


def test_python_version_file_not_utf8(tmp_path):
    (tmp_path / ".python-version").write_bytes(b"3.12\xff\n")
    with pytest.raises(UserError, match=r"Unable to read \.python-version"):
        gather_requests(tmp_path, {}, "3.14")


def test_priority_order_and_default(tmp_path):
    (tmp_path / ".python-version").write_text("3.12")
    (tmp_path / "runtime.txt").write_text("python-3.11.16")
    (tmp_path / "pyproject.toml").write_text('[project]\nrequires-python = ">=3.10"\n')
    requests = gather_requests(tmp_path, {"BP_CPYTHON_VERSION": "3.13.*"}, "3.14")
    assert [r.source for r in requests] == [
        "BP_CPYTHON_VERSION",
        ".python-version",
        "runtime.txt",
        "pyproject.toml",
        "buildpack default",
    ]
    assert str(select_version(requests[0], [], AVAILABLE, EOL, TODAY)) == "3.13.15"


def test_runtime_txt(tmp_path):
    assert resolve(tmp_path, {"runtime.txt": "python-3.11.16\n"}) == "3.11.16"


def test_runtime_txt_bad_format(tmp_path):
    with pytest.raises(UserError, match=r"Invalid Python version in runtime\.txt"):
        resolve(tmp_path, {"runtime.txt": "3.11"})


def test_pipfile_lock_prefers_full_version(tmp_path):
    lock = '{"_meta": {"requires": {"python_version": "3.12", "python_full_version": "3.12.13"}}}'
    assert resolve(tmp_path, {"Pipfile.lock": lock}) == "3.12.13"


def test_pipfile_lock_invalid_json(tmp_path):
    with pytest.raises(UserError, match=r"Invalid Pipfile\.lock"):
        resolve(tmp_path, {"Pipfile.lock": "{nope"})


def test_pipfile_requires(tmp_path):
    assert resolve(tmp_path, {"Pipfile": '[requires]\npython_version = "3.11"\n'}) == "3.11.16"


def test_pyproject_poetry_caret(tmp_path):
    pyproject = '[tool.poetry.dependencies]\npython = "^3.11"\n'
    assert resolve(tmp_path, {"pyproject.toml": pyproject}) == "3.14.7"


def test_poetry_python_narrows_requires_python(tmp_path):
    pyproject = (
        '[project]\nrequires-python = ">=3.11"\n[tool.poetry.dependencies]\npython = "~3.12"\n'
    )
    assert resolve(tmp_path, {"pyproject.toml": pyproject}) == "3.12.14"


def test_every_declared_range_constrains_the_chosen_version(tmp_path):
    files = {
        ".python-version": "3\n",
        "pyproject.toml": '[project]\nrequires-python = ">=3.11"\n',
        "uv.lock": 'version = 1\nrequires-python = ">=3.11, <3.14"\n',
        "poetry.lock": '[metadata]\npython-versions = "<3.13"\n',
    }
    assert resolve(tmp_path, files) == "3.12.14"


@pytest.mark.parametrize(
    ("files", "source", "constraint"),
    [
        # heroku/buildpacks-python's poetry_mismatched_python_version case
        (
            {
                ".python-version": "3.13\n",
                "pyproject.toml": '[project]\nrequires-python = "3.12.*"\n',
                "poetry.lock": '[metadata]\npython-versions = "3.12.*"\n',
            },
            ".python-version",
            "pyproject.toml",
        ),
        (
            {".python-version": "3.13", "uv.lock": 'requires-python = ">=3.10, <3.13"\n'},
            ".python-version",
            "uv.lock",
        ),
        (
            {"Pipfile.lock": '{"_meta": {"requires": {"python_version": "3.11"}}}'},
            "BP_CPYTHON_VERSION",
            "Pipfile.lock",
        ),
        (
            {
                "pyproject.toml": '[project]\nrequires-python = "<3.13"\n'
                '[tool.poetry.dependencies]\npython = "~3.13"\n'
            },
            "pyproject.toml",
            "pyproject.toml [tool.poetry]",
        ),
    ],
)
def test_a_range_that_excludes_the_requested_version_is_a_conflict(
    tmp_path, files, source, constraint
):
    with pytest.raises(UserError) as e:
        resolve(tmp_path, files, {"BP_CPYTHON_VERSION": "3.12"} if "Pipfile.lock" in files else {})
    assert e.value.title == "Conflicting Python version requirements"
    assert e.value.detail.startswith(f"{source} asks for Python ")
    assert f", but {constraint} requires " in e.value.detail


def test_pyproject_invalid_toml(tmp_path):
    with pytest.raises(UserError) as e:
        resolve(tmp_path, {"pyproject.toml": "[project\n"})
    assert e.value.title == "Invalid pyproject.toml"
    assert "line 1" in e.value.detail


def test_uv_lock(tmp_path):
    assert resolve(tmp_path, {"uv.lock": 'version = 1\nrequires-python = ">=3.11, <3.13"\n'}) == (
        "3.12.14"
    )


@pytest.mark.parametrize(
    ("constraint", "allowed", "refused"),
    [
        ("^3.11", ["3.11.16", "3.14.7"], ["3.10.20", "4.0.0"]),
        ("~3.12", ["3.12.13"], ["3.13.15", "3.11.16"]),
        ("~3.12.14", ["3.12.14"], ["3.12.13", "3.13.15"]),
        ("3.12.x", ["3.12.13"], ["3.13.15"]),
        (">= 3.10, < 3.12", ["3.10.20", "3.11.16"], ["3.12.13"]),
        (">=3.10 <3.12", ["3.11.16"], ["3.12.13"]),
        ("~3.10 || ^3.13", ["3.10.20", "3.14.7"], ["3.11.16", "3.12.13"]),
        ("*", ["3.10.20", "3.14.7"], []),
        ("~=3.12", ["3.12.13", "3.14.7"], ["3.11.16"]),
        ("!=3.12.*,>=3.11", ["3.11.16", "3.13.15"], ["3.12.14"]),
    ],
)
def test_parse_constraint(constraint, allowed, refused):
    alternatives = parse_constraint(constraint)
    for v in allowed:
        assert any(a.contains(v) for a in alternatives), v
    for v in refused:
        assert not any(a.contains(v) for a in alternatives), v


def test_invalid_env_constraint(tmp_path):
    with pytest.raises(UserError) as e:
        resolve(tmp_path, {}, {"BP_CPYTHON_VERSION": "python3.12"})
    assert e.value.title == "Invalid Python version in BP_CPYTHON_VERSION"


def test_unavailable_version_lists_available(tmp_path):
    with pytest.raises(UserError) as e:
        resolve(tmp_path, {".python-version": "3.12.99"})
    assert e.value.title == "The requested Python version isn't available"
    assert "3.10.20, 3.11.16, 3.12.13, 3.12.14, 3.13.15, 3.14.7" in e.value.detail


def test_end_of_life_error_beats_unavailable(tmp_path):
    with pytest.raises(UserError) as e:
        resolve(tmp_path, {".python-version": "3.9"})
    assert e.value.title == "The requested Python version has reached end-of-life"
    assert "2025-10-31" in e.value.detail
    assert "3.14" in e.value.fix


def test_eol_warning_after_and_before():
    assert "reached its end of life on 2026-10-31" in eol_warning(Version("3.10.20"), EOL, TODAY)
    soon = datetime.date(2030, 6, 1)
    assert "reaches its end of life on 2030-10-31" in eol_warning(Version("3.14.7"), EOL, soon)
    assert eol_warning(Version("3.14.7"), EOL, TODAY) is None


def test_other_buildpacks_constraints_are_intersected(tmp_path):
    requests = request_for(tmp_path, {".python-version": "3"})
    extra = gather_requests(tmp_path, {"BP_CPYTHON_VERSION": "<3.13"}, "3.14")[:1]
    assert str(select_version(requests[0], extra, AVAILABLE, EOL, TODAY)) == "3.12.14"


def _dep(version: str, arch: str) -> Dependency:
    return Dependency(
        "cpython", "CPython", version, arch, f"https://x/{version}", "0" * 64, "pkg", "cpe", ()
    )


def test_choose_cpython_logs_sources_and_selection(tmp_path):
    (tmp_path / ".python-version").write_text("3.12\n")
    metadata = BuildpackMetadata(
        id="x",
        name="x",
        version="0",
        sbom_formats=(),
        dependencies=(_dep("3.12.13", "amd64"), _dep("3.12.14", "arm64"), _dep("3.14.7", "amd64")),
        default_python="3.14",
        python_eol=({"version": "3.12", "date": "2028-10-31", "after": "warn"},),
    )
    out = io.StringIO()
    dep = choose_cpython(
        tmp_path, {}, metadata, "amd64", [("<3.14", "other")], Logger(out, out), TODAY
    )
    assert dep.version == "3.12.13"
    log = out.getvalue()
    assert "      .python-version   -> '3.12'\n" in log
    assert "      buildpack default -> '3.14'\n" in log
    assert "      other             -> '<3.14'\n" in log
    assert "Selected CPython 3.12.13 (using .python-version)" in log


def test_another_buildpacks_requirement_beats_the_default(tmp_path):
    metadata = BuildpackMetadata(
        id="x",
        name="x",
        version="0",
        sbom_formats=(),
        dependencies=(_dep("3.11.16", "amd64"), _dep("3.14.7", "amd64")),
        default_python="3.14",
        python_eol=(),
    )
    out = io.StringIO()
    plan = [("3.11", "another buildpack")]
    dep = choose_cpython(tmp_path, {}, metadata, "amd64", plan, Logger(out, out), TODAY)
    assert dep.version == "3.11.16"
    assert "Selected CPython 3.11.16 (using another buildpack)" in out.getvalue()
