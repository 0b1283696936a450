"""Files that look like ones the buildpack reads, and directories from a developer machine."""

from __future__ import annotations

import pytest

from cnb_python.fingerprint import tree_sha256
from cnb_python.lookalikes import lookalike_warnings


@pytest.mark.parametrize(
    ("name", "meant"),
    [
        ("requirement.txt", "requirements.txt"),
        ("Requirements.txt", "requirements.txt"),
        ("requirements.text", "requirements.txt"),
        (".python_version", ".python-version"),
        ("Pipfile.lck", "Pipfile.lock"),
        ("pipfile", "Pipfile"),
        ("procfile", "Procfile"),
        ("Environment.yml", "environment.yml"),
    ],
)
def test_a_lookalike_names_the_file_the_build_reads(tmp_path, name, meant):
    (tmp_path / name).write_text("x\n")
    assert lookalike_warnings(tmp_path) == [
        (
            f"Found {name}: did you mean {meant}?",
            f"The buildpack reads {meant}, not {name}, so {name} changes nothing. "
            f"Rename it to {meant} if it is meant for the build.",
        )
    ]


def test_no_warning_beside_the_real_file_or_for_other_names(tmp_path):
    for name in ("requirements.txt", "requirement.txt", "requirements-dev.txt", "app.py"):
        (tmp_path / name).write_text("x\n")
    (tmp_path / "requirements").mkdir()
    assert lookalike_warnings(tmp_path) == []


def test_committed_environments_and_bytecode_warn_and_stay_out_of_reuse_keys(tmp_path):
    (tmp_path / "app.py").write_text("print(1)\n")
    (tmp_path / "venv").mkdir()  # an app package that happens to be called venv
    (tmp_path / "venv" / "__init__.py").write_text("")
    before = tree_sha256(tmp_path)
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "app.cpython-312.pyc").write_bytes(b"\0")
    assert tree_sha256(tmp_path) == before
    titles = [title for title, _ in lookalike_warnings(tmp_path)]
    assert titles == [
        "Ignoring the committed .venv directory",
        "Ignoring the committed __pycache__ directory",
    ]
    (tmp_path / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    assert "Ignoring the committed venv directory" in [t for t, _ in lookalike_warnings(tmp_path)]


def test_environment_yaml_is_a_file_the_build_reads(tmp_path):
    (tmp_path / "environment.yaml").write_text("dependencies: [python]\n")
    assert lookalike_warnings(tmp_path) == []
