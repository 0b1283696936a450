from pathlib import Path

import pytest
import tomllib

from cnb_python.cnb.bindings import binding_roots, bindings_of_type, read_bindings
from cnb_python.cnb.context import build_context, detect_context
from cnb_python.cnb.launch import Process, write_launch_toml
from cnb_python.cnb.layers import Layers, LayerTypes
from cnb_python.cnb.plan import (
    Alternative,
    PlanEntry,
    Require,
    merge_entries,
    read_buildpack_plan,
    write_build_plan,
)
from cnb_python.errors import UserError


def test_detect_context_prefers_cnb_variables_over_legacy_args(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "platform" / "env").mkdir(parents=True)
    (tmp_path / "platform" / "env" / "BP_X").write_bytes(b"raw value\n")
    env = {
        "CNB_PLATFORM_DIR": str(tmp_path / "platform"),
        "CNB_BUILD_PLAN_PATH": str(tmp_path / "plan.toml"),
        "CNB_BUILDPACK_DIR": "/cnb/buildpacks/x",
        "CNB_TARGET_ARCH": "arm64",
    }
    ctx = detect_context(["/legacy/platform", "/legacy/plan"], env)
    assert ctx.platform_dir == tmp_path / "platform"
    assert ctx.build_plan_path == tmp_path / "plan.toml"
    assert ctx.app_dir == tmp_path
    assert ctx.target.arch == "arm64"
    # Platform env files are read byte for byte; the process env wins when both have a value.
    assert ctx.getenv("BP_X") == "raw value\n"
    assert ctx.getenv("CNB_TARGET_ARCH") == "arm64"


def test_build_context_falls_back_to_legacy_args(tmp_path):
    ctx = build_context(["/layers/bp", str(tmp_path), "/tmp/plan.toml"], {})
    assert ctx.layers_dir == Path("/layers/bp")
    assert ctx.platform_dir == tmp_path
    assert ctx.buildpack_plan_path == Path("/tmp/plan.toml")


def test_missing_paths_are_a_titled_error():
    with pytest.raises(UserError, match="Not run by a CNB lifecycle"):
        build_context([], {})


def test_build_plan_with_alternatives(tmp_path):
    path = tmp_path / "plan.toml"
    write_build_plan(
        path,
        [
            Alternative(("cpython",), (Require("cpython", {"launch": True}),)),
            Alternative(("cpython",)),
        ],
    )
    doc = tomllib.loads(path.read_text())
    assert doc == {
        "provides": [{"name": "cpython"}],
        "requires": [{"name": "cpython", "metadata": {"launch": True}}],
        "or": [{"provides": [{"name": "cpython"}]}],
    }


def test_buildpack_plan_entries_of_one_name_are_merged(tmp_path):
    path = tmp_path / "plan.toml"
    path.write_text(
        '[[entries]]\nname = "cpython"\n[entries.metadata]\nlaunch = true\n'
        '[[entries]]\nname = "cpython"\n[entries.metadata]\nbuild = true\nversion = "3.12"\n'
        '"version-source" = "other/bp"\n'
        '[[entries]]\nname = "node"\n'
    )
    entries = read_buildpack_plan(path)
    assert [e.name for e in entries] == ["cpython", "cpython", "node"]
    merged = merge_entries(entries, "cpython")
    assert (merged.build, merged.launch, merged.versions) == (True, True, (("3.12", "other/bp"),))
    assert merge_entries([PlanEntry("x", {})], "cpython").versions == ()


def test_layer_types_are_written_and_metadata_restored(tmp_path):
    layer = Layers(tmp_path).get("cpython")
    layer.reset()
    layer.write(LayerTypes(launch=True, cache=True), {"version": "3.12.4", "arch": "amd64"})
    doc = tomllib.loads(layer.toml_path.read_text())
    assert doc["types"] == {"launch": True, "build": False, "cache": True}
    # What the lifecycle restores: [metadata] only.
    layer.toml_path.write_text('[metadata]\nversion = "3.12.4"\narch = "amd64"\n')
    assert layer.restored_metadata() == {"version": "3.12.4", "arch": "amd64"}


def test_reset_drops_toml_first_and_empties_the_layer(tmp_path):
    layer = Layers(tmp_path).get("venv")
    layer.reset()
    (layer.path / "stale").write_text("x")
    layer.write(LayerTypes(launch=True), {"key": "1"})
    layer.sbom_path("cdx.json").write_text("{}")
    layer.reset()
    assert not layer.toml_path.exists()
    assert not layer.sbom_path("cdx.json").exists()
    assert list(layer.path.iterdir()) == []
    assert layer.restored_metadata() == {}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["venv"]  # nothing left beside it


def test_reset_aside_leaves_the_old_contents_next_to_the_emptied_layer(tmp_path):
    layer = Layers(tmp_path).get("venv")
    assert layer.reset_aside() is None  # nothing to move: a new layer
    (layer.path / "bin").mkdir()
    layer.write(LayerTypes(launch=True), {"key": "1"})
    old = layer.reset_aside()
    assert old is not None and old.parent == tmp_path
    assert not layer.toml_path.exists() and list(layer.path.iterdir()) == []
    assert (old / "venv" / "bin").is_dir()
    assert not list(tmp_path.glob(f"{old.name}*.toml"))  # no toml: the lifecycle skips it


@pytest.mark.parametrize("name", ["build", "launch", "store", "python3.12", "a/b", ""])
def test_invalid_layer_names(tmp_path, name):
    with pytest.raises(ValueError):
        Layers(tmp_path).get(name)


def test_env_files_exact_bytes_and_delim(tmp_path):
    layer = Layers(tmp_path).get("cpython")
    layer.reset()
    layer.shared_env.default("PYTHONUNBUFFERED", "1")
    layer.build_env.prepend("CPATH", "/layers/x/include", ":")
    layer.launch_env.override("A", "b c")
    layer.process_launch_env("web").append("PATH", "/extra", ":")
    files = {
        str(p.relative_to(layer.path)): p.read_bytes()
        for p in sorted(layer.path.rglob("*"))
        if p.is_file()
    }
    assert files == {
        "env/PYTHONUNBUFFERED.default": b"1",
        "env.build/CPATH.prepend": b"/layers/x/include",
        "env.build/CPATH.delim": b":",
        "env.launch/A.override": b"b c",
        "env.launch/web/PATH.append": b"/extra",
        "env.launch/web/PATH.delim": b":",
    }


def test_launch_toml_uses_array_commands(tmp_path):
    write_launch_toml(
        tmp_path,
        [
            Process("web", ("gunicorn", "app:app"), args=("--bind", "0.0.0.0:8080"), default=True),
            Process("worker", ("python", "worker.py")),
        ],
        {"org.example.python": "3.12.4"},
    )
    doc = tomllib.loads((tmp_path / "launch.toml").read_text())
    assert doc["labels"] == [{"key": "org.example.python", "value": "3.12.4"}]
    assert doc["processes"][0] == {
        "type": "web",
        "command": ["gunicorn", "app:app"],
        "args": ["--bind", "0.0.0.0:8080"],
        "default": True,
    }
    assert doc["processes"][1]["default"] is False


def test_launch_toml_rejects_two_defaults(tmp_path):
    processes = [Process("a", ("x",), default=True), Process("b", ("y",), default=True)]
    with pytest.raises(ValueError):
        write_launch_toml(tmp_path, processes, {})


def test_bindings_from_both_roots_first_wins(tmp_path):
    sbr = tmp_path / "sbr"
    platform = tmp_path / "platform"
    for root, name, btype in [
        (sbr, "mirror", "dependency-mapping"),
        (platform / "bindings", "mirror", "ignored"),
        (platform / "bindings", "pip-conf", "pip"),
    ]:
        (root / name).mkdir(parents=True)
        (root / name / "type").write_text(btype + "\n")
    (sbr / "mirror" / "abc123").write_text("file:///mirror/x.tgz\n")
    (sbr / "mirror" / ".hidden").write_text("x")
    legacy = platform / "bindings" / "legacy"
    (legacy / "metadata").mkdir(parents=True)
    (legacy / "secret").mkdir()
    (legacy / "metadata" / "kind").write_text("pip")
    (legacy / "secret" / "pip.conf").write_text("[global]\n")
    (platform / "bindings" / "untyped").mkdir()

    bindings = read_bindings(binding_roots(str(sbr), platform))
    assert {(b.name, b.type) for b in bindings} == {
        ("mirror", "dependency-mapping"),
        ("pip-conf", "pip"),
        ("legacy", "pip"),
    }
    mirror = bindings_of_type(bindings, "Dependency-Mapping")[0]
    assert list(mirror.entries) == ["abc123"]
    assert mirror.read("abc123") == "file:///mirror/x.tgz"
    assert [b.name for b in bindings_of_type(bindings, "pip")] == ["legacy", "pip-conf"]
