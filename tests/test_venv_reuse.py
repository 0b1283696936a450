"""The venv's reuse inputs: the manager's and the C toolchain's, kept in the layer metadata as
short digests, and the names of those that changed, for the log."""

from __future__ import annotations

from pathlib import Path

from cnb_python.managers import pip
from cnb_python.managers.pip import PipManager, PipOptions
from cnb_python.tools import Tool
from cnb_python.venv import changed_inputs, describe_input, input_digests, reuse_inputs

PIP = {"pip": Tool("pip", "25.2", Path("/layers/pip"))}


def _inputs(app: Path, tool_env: dict[str, str], version: str = "3.12.4") -> dict[str, str]:
    installer = PipManager(app, (app / "requirements.txt",), PipOptions(None, None))
    env = {"PATH": "/nonexistent", **tool_env}
    return reuse_inputs(pip.MANAGER, installer, PIP, version, "amd64", {}, env)


def _metadata(inputs: dict[str, str]) -> dict[str, object]:
    return {"inputs": input_digests(inputs)}


def test_a_change_is_named_app_files_first_then_the_build_inputs(tmp_path):
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    before = _metadata(_inputs(tmp_path, {}))
    (tmp_path / "requirements.txt").write_text("six==1.17.0\n")
    after = _inputs(tmp_path, {"CFLAGS": "-O3", "CNB_TARGET_DISTRO_VERSION": "24.04"})
    assert changed_inputs(before, after) == ["requirements.txt", "CFLAGS", "the target distro"]
    assert changed_inputs(before, _inputs(tmp_path, {}, "3.12.5")) == [
        "requirements.txt",
        "the Python version",
    ]


def test_every_venv_is_keyed_on_the_toolchain(tmp_path):
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    inputs = _inputs(tmp_path, {})
    for name in ("CC", "CXX", "CFLAGS", "CXXFLAGS", "CPPFLAGS", "LDFLAGS"):
        assert name in inputs
    assert {"compiler:CC", "compiler:CXX", "target-distro"} <= set(inputs)


def test_the_metadata_keeps_short_digests_never_values(tmp_path):
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    secret = "-DAPI_TOKEN=s3cret"
    digests = input_digests(_inputs(tmp_path, {"CFLAGS": secret}))
    assert all(len(value) == 16 and int(value, 16) >= 0 for value in digests.values())
    assert secret not in repr(digests)


def test_metadata_from_before_the_digests_names_nothing(tmp_path):
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    assert changed_inputs({"key": "old"}, _inputs(tmp_path, {})) == []


def test_a_removed_input_is_named_too():
    assert changed_inputs({"inputs": {"vendor": "abc"}}, {}) == ["vendor"]


def test_inputs_are_described_for_people():
    assert describe_input("file:uv.lock") == "uv.lock"
    assert describe_input("path:greet") == "greet"
    assert describe_input("path:.") == "the app's files"
    assert describe_input("dependencies:libs/x") == "the dependencies of libs/x"
    assert describe_input("dependencies:.") == "the dependencies of the app"
    assert describe_input("compiler:CC") == "the C compiler"
    assert describe_input("env") == "the package manager's variables"
    assert describe_input("CPPFLAGS") == "CPPFLAGS"
