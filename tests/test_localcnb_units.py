"""Unit tests of the local platform's pure parts: TOML I/O, plan resolution, env files, tarballs."""

from __future__ import annotations

import contextlib
import datetime
import os
import socket
import tarfile
from pathlib import Path

import pytest
import tomllib

from localcnb import PlatformError, plan, tomlio
from localcnb.envfiles import Env
from localcnb.tarball import extract_like_restorer, extract_like_runtime, write_layer

# ------------------------------------------------------------------------------------------ TOML


def test_dumps_round_trips_nested_tables_arrays_and_escapes() -> None:
    doc = {
        "entries": [
            {"name": "cpython", "metadata": {"version": "3.12", "opts": {"a.b": 1, "q": '"\n\t'}}},
            {"name": "pip", "metadata": {"list": [1, "x", {"k": True}], "f": 1.5, "e": []}},
        ],
        "top": "\x01ü",
    }
    assert tomllib.loads(tomlio.dumps(doc)) == doc


def test_golike_turns_numbers_into_floats_and_dates_into_strings() -> None:
    value = {"n": 3, "ok": True, "d": datetime.date(2024, 1, 2), "l": [1, {"x": 2}]}
    assert tomlio.golike(value) == {"n": 3.0, "ok": True, "d": "2024-01-02", "l": [1.0, {"x": 2.0}]}
    assert tomlio.dumps({"metadata": tomlio.golike({"n": 3})}) == "[metadata]\nn = 3.0\n"


# ------------------------------------------------------------------------------------------ plans


def _alts(*pairs: tuple[list[str], list[str]]) -> list[plan.Sections]:
    return [
        plan.Sections(tuple(p), tuple(plan.Require(r, {"by": "x"}) for r in rq)) for p, rq in pairs
    ]


def test_resolve_tries_or_alternatives_depth_first() -> None:
    # A's first alternative provides "y" that nobody requires; its [[or]] provides "x".
    passed = [("a", _alts((["y"], []), (["x"], []))), ("b", _alts(([], ["x"])))]
    entries, reasons = plan.resolve(passed)
    assert entries is not None
    assert [(e.name, e.providers, [r.name for r in e.requires]) for e in entries] == [
        ("x", ["a"], ["x"])
    ]
    assert "fail: a provides unused y" in reasons


def test_resolve_fails_when_requirement_comes_before_provider() -> None:
    passed = [("a", _alts(([], ["x"]))), ("b", _alts((["x"], [])))]
    entries, reasons = plan.resolve(passed)
    assert entries is None
    assert "fail: a requires x" in reasons


def test_buildpack_plan_lists_every_requirer_and_filter_removes_met() -> None:
    passed = [
        ("a", _alts((["x"], ["x"]))),
        ("b", _alts((["x"], []))),
        ("c", _alts(([], ["x"]))),
    ]
    entries, _ = plan.resolve(passed)
    assert entries is not None
    assert len(plan.for_buildpack(entries, "a")) == 2  # same name twice: a's and c's requires
    assert len(plan.for_buildpack(entries, "b")) == 2
    assert plan.for_buildpack(plan.without_met(entries, {"x"}), "b") == []


def test_parse_rejects_top_level_version() -> None:
    with pytest.raises(PlatformError, match='"version" key'):
        plan.parse({"requires": [{"name": "x", "version": "1"}]}, "a")
    with pytest.raises(PlatformError, match='"version" key'):
        plan.parse({"or": [{"requires": [{"name": "x", "version": "1"}]}]}, "a")


# -------------------------------------------------------------------------------------- env files


def _files(directory: Path, files: dict[str, bytes]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (directory / name).write_bytes(data)
    return directory


def test_env_file_actions_are_byte_for_byte(tmp_path: Path) -> None:
    env = Env({"P": "old", "A": "old", "D": "set", "O": "old", "N": "old"}, {})
    env.add_env_dir(
        _files(
            tmp_path / "env",
            {
                "P.prepend": b"new",
                "P.delim": b":",
                "A.append": b"new",  # no A.delim: no separator at all
                "D.default": b"ignored",
                "E.default": b"used",
                "O.override": b"x\n",  # the newline is part of the value
                "N": b"plain",  # no suffix: override
                "U.weird": b"ignored",
            },
        )
    )
    assert env.values == {
        "P": "new:old",
        "A": "oldnew",
        "D": "set",
        "E": "used",
        "O": "x\n",
        "N": "plain",
    }


def test_build_env_keeps_only_the_include_list() -> None:
    env = Env.for_build(
        {"PATH": "/bin", "HOME": "/h", "PYTHONPATH": "/x", "https_proxy": "p", "CPATH": "c"}
    )
    assert env.values == {"PATH": "/bin", "HOME": "/h", "https_proxy": "p", "CPATH": "c"}


def test_user_env_prepends_path_variables_and_overrides_others(tmp_path: Path) -> None:
    env = Env.for_build({"PATH": "/bin"})
    _files(tmp_path / "env", {"PATH": b"/user", "LIBRARY_PATH": b"/l", "X": b"1"})
    assert env.with_overrides(tmp_path) == {"PATH": "/user:/bin", "LIBRARY_PATH": "/l", "X": "1"}


def test_root_dirs_use_container_paths_and_last_added_comes_first(tmp_path: Path) -> None:
    env = Env.for_build({"PATH": "/bin"})
    for name in ("a", "b"):
        (tmp_path / name / "bin").mkdir(parents=True)
    (tmp_path / "b" / "lib").mkdir()
    env.add_root_dir(tmp_path / "a", "/layers/bp/a")
    env.add_root_dir(tmp_path / "b", "/layers/bp/b")
    assert env.values["PATH"] == "/layers/bp/b/bin:/layers/bp/a/bin:/bin"
    assert env.values["LD_LIBRARY_PATH"] == env.values["LIBRARY_PATH"] == "/layers/bp/b/lib"


def test_launch_env_strips_lifecycle_variables() -> None:
    env = Env.for_launch(
        {"PATH": "/cnb/process:/cnb/lifecycle:/bin", "CNB_LAYERS_DIR": "/layers", "X": "1"}
    )
    assert env.values == {"PATH": "/bin", "X": "1"}


# --------------------------------------------------------------------------------------- tarballs


def _layer_tree(root: Path, payload: bytes = b"payload") -> None:
    layer = root / "layers" / "bp" / "lay"
    (layer / "sub").mkdir(parents=True)
    (layer / "sub" / "f").write_bytes(payload)
    os.chmod(layer / "sub" / "f", 0o600)
    os.link(layer / "sub" / "f", layer / "hard")
    os.symlink("sub/f", layer / "link")
    (layer / "a-b").write_bytes(b"")
    with contextlib.chdir(layer), socket.socket(socket.AF_UNIX) as sock:
        sock.bind("sock")  # relative: socket paths are limited to 108 bytes


def _members(tar_path: Path) -> list[tarfile.TarInfo]:
    with tarfile.open(tar_path) as tar:
        return tar.getmembers()


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")


@needs_root
def test_layer_tar_is_normalized_like_the_exporter(tmp_path: Path) -> None:
    root, out = tmp_path / "root", tmp_path / "out"
    out.mkdir()
    _layer_tree(root)
    os.chown(root / "layers", 0, 0)
    os.chown(root / "layers" / "bp", 1234, 4321)
    sha = write_layer(out, root, "/layers/bp/lay", 1001, 1000)
    members = _members(out / f"{sha}.tar")
    assert [m.name for m in members] == [
        "/layers",
        "/layers/bp",
        "/layers/bp/lay",
        "/layers/bp/lay/a-b",
        "/layers/bp/lay/hard",
        "/layers/bp/lay/link",
        "/layers/bp/lay/sub",
        "/layers/bp/lay/sub/f",
    ]  # lexical walk order, absolute names, no socket
    assert {m.mtime for m in members} == {315532801}
    assert {(m.uname, m.gname) for m in members} == {("", "")}
    assert [(m.uid, m.gid) for m in members[:2]] == [(0, 0), (1234, 4321)]  # parents: real owner
    assert {(m.uid, m.gid) for m in members[2:]} == {(1001, 1000)}
    by_name = {m.name: m for m in members}
    assert by_name["/layers/bp/lay/hard"].isreg() and by_name["/layers/bp/lay/hard"].size == 7
    assert by_name["/layers/bp/lay/link"].issym()
    assert by_name["/layers/bp/lay/link"].linkname == "sub/f"
    assert by_name["/layers/bp/lay/sub/f"].mode == 0o600


def test_layer_digest_is_stable_and_content_sensitive(tmp_path: Path) -> None:
    shas = []
    for name, payload in (("one", b"payload"), ("two", b"payload"), ("three", b"payloaD")):
        root, out = tmp_path / name / "root", tmp_path / name / "out"
        out.mkdir(parents=True)
        _layer_tree(root, payload)
        shas.append(write_layer(out, root, "/layers/bp/lay", 1001, 1000))
    assert shas[0] == shas[1] != shas[2]


def test_app_layer_is_sorted_by_full_path(tmp_path: Path) -> None:
    (tmp_path / "root" / "workspace" / "a").mkdir(parents=True)
    (tmp_path / "root" / "workspace" / "a" / "x").write_text("")
    (tmp_path / "root" / "workspace" / "a-b").write_text("")
    sha = write_layer(tmp_path, tmp_path / "root", "/workspace", 1001, 1000, sort_by_path=True)
    names = [m.name for m in _members(tmp_path / f"{sha}.tar")]
    assert names == ["/workspace", "/workspace/a", "/workspace/a-b", "/workspace/a/x"]


@needs_root
def test_restorer_keeps_modes_but_not_mtimes_runtime_keeps_both(tmp_path: Path) -> None:
    root, out = tmp_path / "root", tmp_path / "out"
    out.mkdir()
    _layer_tree(root)
    sha = write_layer(out, root, "/layers/bp/lay", 1001, 1000)
    restored = tmp_path / "restored"
    (restored / "layers").mkdir(parents=True)
    extract_like_restorer(out / f"{sha}.tar", restored, 1001, 1000)
    f = (restored / "layers/bp/lay/sub/f").stat()
    assert (f.st_mode & 0o777, f.st_uid, f.st_gid) == (0o600, 1001, 1000)
    assert f.st_mtime > 315532801  # the lifecycle's extraction does not set mtimes
    runtime = tmp_path / "runtime"
    extract_like_runtime(out / f"{sha}.tar", runtime)
    for path in (runtime / "layers/bp/lay/sub/f", runtime / "layers/bp/lay/sub"):
        assert path.stat().st_mtime == 315532801
    assert (runtime / "layers/bp/lay/link").readlink() == Path("sub/f")


def test_project_toml_build_env_as_pack_reads_it(tmp_path):
    assert tomlio.project_build_env(tmp_path) == {}
    (tmp_path / "project.toml").write_text(
        '[_]\nschema-version = "0.2"\n\n[[io.buildpacks.build.env]]\nname = "BP_X"\n'
        'value = "requirements/prod.txt"\n\n[[io.buildpacks.build.env]]\nname = "N"\nvalue = 1\n'
    )
    assert tomlio.project_build_env(tmp_path) == {"BP_X": "requirements/prod.txt", "N": "1"}
