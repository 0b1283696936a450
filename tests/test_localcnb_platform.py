"""Behaviour of the local platform, driven by tiny fake buildpacks written in POSIX sh."""

from __future__ import annotations

import os
import platform as host_platform
import shutil
import socket
import subprocess
import sys
import tarfile
import textwrap
import urllib.request
from pathlib import Path

import pytest

from localcnb import Platform

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="localcnb needs root")

INTEGRATION = Path(__file__).resolve().parents[1] / "integration"

# Shell helper for fake buildpacks: `layer NAME [launch] [build] [cache]` writes NAME.toml.
LAYER_FN = """
layer() {
  name=$1; shift
  { echo '[types]'; for flag in "$@"; do echo "$flag = true"; done
    echo '[metadata]'; echo 'n = 3'; echo "name = \\"$name\\""; } > "$CNB_LAYERS_DIR/$name.toml"
}
"""


def make_bp(
    root: Path,
    bp_id: str = "test/a",
    *,
    detect: str = "exit 0",
    build: str = "exit 0",
    api: str = "0.10",
    keys: str = "",
    tail: str = "",
) -> Path:
    """A buildpack dir; ``keys`` go into [buildpack], ``tail`` after it."""
    path = root / "buildpacks" / bp_id.replace("/", "_")
    (path / "bin").mkdir(parents=True)
    (path / "buildpack.toml").write_text(
        f'api = "{api}"\n[buildpack]\nid = "{bp_id}"\nversion = "0.0.1"\n{keys}\n{tail}\n'
    )
    for name, body in (("detect", detect), ("build", build)):
        script = path / "bin" / name
        script.write_text("#!/bin/sh\nset -eu\n" + LAYER_FN + textwrap.dedent(body) + "\n")
        script.chmod(0o755)
    return path


@pytest.fixture
def app(tmp_path: Path) -> Path:
    path = tmp_path / "app"
    path.mkdir()
    (path / "app.txt").write_text("hello app\n")
    return path


def values(text: str, prefix: str = "") -> dict[str, str]:
    """``KEY=value`` lines (e.g. from ``env``) as a dict; the first occurrence wins."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.startswith(prefix):
            out.setdefault(key, value)
    return out


def between(text: str, start: str, end: str) -> str:
    return text.split(start, 1)[1].split(end, 1)[0]


# ------------------------------------------------------------------------- environment and inputs


def test_env_filtering_user_env_and_ca_variables(
    tmp_path: Path, app: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCALCNB_CALLER_ONLY", "leak")
    monkeypatch.setenv("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")
    bp = make_bp(tmp_path, detect="env", build="echo ==env; env; echo ==end")
    plat = Platform(tmp_path / "work", [bp])
    result = plat.build(
        app,
        env={"BP_X": "1", "PATH": "/user/bin"},
        builder_env={"PYTHONPATH": "/x", "HTTPS_PROXY": "http://proxy:3128", "CNB_STACK_ID": "s"},
    )
    assert result.success, result.output
    for env in (values(result.detect_output), values(between(result.output, "==env", "==end"))):
        assert env["BP_X"] == "1"
        assert env["PATH"] == "/user/bin:/cnb/process:/cnb/lifecycle:/usr/local/sbin:" + (
            "/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        )
        assert env["HTTPS_PROXY"] == "http://proxy:3128"
        assert env["CNB_STACK_ID"] == "s"
        assert env["HOME"] == "/home/cnb"
        assert env["SSL_CERT_FILE"] == "/etc/ssl/certs/ca-certificates.crt"
        assert "PYTHONPATH" not in env  # builder image ENV outside the include list
        assert "LOCALCNB_CALLER_ONLY" not in env  # never the caller's own env
    result = plat.build(app, pass_ca_env=False)
    assert "SSL_CERT_FILE" not in values(result.detect_output)


@pytest.mark.parametrize("api", ["0.7", "0.12"])
def test_cnb_variables_and_legacy_args(tmp_path: Path, app: Path, api: str) -> None:
    probe = """
        echo "args=$*"; echo "uid=$(id -u):$(id -g)"; echo "pwd=$(pwd)"
        env | grep '^CNB_' | sort
    """
    bp = make_bp(
        tmp_path,
        api=api,
        detect=probe + 'echo "plan_size=$(wc -c < "$2")"',
        build=probe + 'touch "$HOME/x" && echo home=writable; echo ==end',
    )
    result = Platform(tmp_path / "work", [bp]).build(app)
    assert result.success, result.output
    detect, build = values(result.detect_output), values(result.output.split("===> BUILDING")[1])
    platform_dir, plan_path = detect["args"].split()
    layers_dir, platform_dir2, bp_plan_path = build["args"].split()
    assert (platform_dir, platform_dir2, layers_dir) == ("/platform", "/platform", "/layers/test_a")
    assert detect["plan_size"] == "0"
    for env in (detect, build):
        assert env["uid"] == "1001:1000"
        assert env["pwd"] == "/workspace"
        assert env["CNB_BUILDPACK_DIR"] == "/cnb/buildpacks/test_a/0.0.1"
    assert build["home"] == "writable"
    if api == "0.7":
        assert not any(k.startswith(("CNB_PLATFORM", "CNB_TARGET", "CNB_LAYERS")) for k in build)
        return
    assert (detect["CNB_PLATFORM_DIR"], detect["CNB_BUILD_PLAN_PATH"]) == ("/platform", plan_path)
    assert build["CNB_LAYERS_DIR"] == layers_dir
    assert build["CNB_BP_PLAN_PATH"] == bp_plan_path
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(host_platform.machine())
    os_release = values(Path("/etc/os-release").read_text())
    for env in (detect, build):
        assert env["CNB_TARGET_OS"] == "linux"
        assert env["CNB_TARGET_ARCH"] == arch
        assert env["CNB_TARGET_DISTRO_NAME"] == os_release["ID"].strip('"')
        assert env["CNB_EXEC_ENV"] == "production"


def test_bindings_are_mounted_read_only_under_platform(tmp_path: Path, app: Path) -> None:
    bp = make_bp(
        tmp_path,
        build="""
            cat /platform/bindings/db/type; echo; cat /platform/bindings/db/password; echo
            touch /platform/bindings/db/x 2>&1 || true
        """,
    )
    plat = Platform(tmp_path / "work", [bp])
    result = plat.build(app, bindings={"db": {"type": "postgresql", "password": b"s3cret"}})
    assert result.success, result.output
    assert "postgresql\ns3cret\n" in result.output
    assert "Read-only file system" in result.output
    with pytest.raises(ValueError, match="type"):
        plat.build(app, bindings={"db": {"password": "x"}})


# --------------------------------------------------------------------------------------- detect


def test_detect_fail_is_quiet_and_error_is_shown(tmp_path: Path, app: Path) -> None:
    failing = make_bp(tmp_path, "test/fail", detect="echo not-my-app; exit 100")
    result = Platform(tmp_path / "w1", [failing]).build(app)
    assert (result.success, result.phase, result.exit_code) == (False, "detect", 20)
    assert result.detect_code == 100
    assert "not-my-app" not in result.output  # debug level only
    assert "not-my-app" in result.detect_output

    broken = make_bp(tmp_path, "test/broken", detect="echo boom; exit 3")
    result = Platform(tmp_path / "w2", [broken]).build(app)
    assert (result.phase, result.exit_code, result.detect_code) == ("detect", 21, 3)
    assert "boom" in result.output
    assert "err:  test/broken@0.0.1 (3)" in result.output


def test_detect_cannot_write_the_app_but_build_can(tmp_path: Path, app: Path) -> None:
    bp = make_bp(
        tmp_path,
        detect="touch /workspace/new 2>&1 || echo detect-could-not-write",
        build='echo built > /workspace/built.txt; stat -c "owner=%u:%g" /workspace/app.txt',
    )
    plat = Platform(tmp_path / "work", [bp])
    result = plat.build(app)
    assert result.success, result.output
    assert "Read-only file system" in result.detect_output
    assert "detect-could-not-write" in result.detect_output
    assert "owner=1001:1000" in result.output  # the app is chowned to the build user
    assert plat.run(command=["cat", "/workspace/built.txt"]).stdout == "built\n"


def test_target_mismatch_and_unsupported_api(tmp_path: Path, app: Path) -> None:
    other = make_bp(tmp_path, "test/s390x", tail='[[targets]]\nos = "linux"\narch = "s390x"')
    result = Platform(tmp_path / "w1", [other]).build(app)
    assert (result.exit_code, result.detect_codes) == (21, {"test/s390x": -1})
    assert "unable to satisfy target os/arch constraints" in result.output

    old = make_bp(tmp_path, "test/old", api="0.6")
    result = Platform(tmp_path / "w2", [old]).build(app)
    assert (result.phase, result.exit_code) == ("detect", 12)


def test_plan_resolution_with_or_and_buildpack_plans(tmp_path: Path, app: Path) -> None:
    provider = make_bp(
        tmp_path,
        "test/a",
        detect="""
            cat > "$CNB_BUILD_PLAN_PATH" <<'EOF'
            [[provides]]
            name = "unused"
            [[or]]
            [[or.provides]]
            name = "x"
            EOF
        """,
        build='echo ==a; cat "$CNB_BP_PLAN_PATH"; echo ==end',
    )
    requirer = make_bp(
        tmp_path,
        "test/b",
        detect="""
            cat > "$CNB_BUILD_PLAN_PATH" <<'EOF'
            [[requires]]
            name = "x"
            [requires.metadata]
            version = "3.12"
            [[provides]]
            name = "y"
            [[requires]]
            name = "y"
            EOF
        """,
        build='echo ==b; cat "$CNB_BP_PLAN_PATH"; echo ==end',
    )
    result = Platform(tmp_path / "work", [provider, requirer]).build(app)
    assert result.success, result.output
    assert result.group == ["test/a", "test/b"]
    assert result.plan == {
        "test/a": [{"name": "x", "metadata": {"version": "3.12"}}],
        "test/b": [{"name": "y", "metadata": {}}],
    }
    assert 'name = "x"' in between(result.output, "==a", "==end")
    assert 'version = "3.12"' in between(result.output, "==a", "==end")
    assert "provides unused unused" in result.detect_output


def test_top_level_version_in_requires_is_a_detect_error(tmp_path: Path, app: Path) -> None:
    bp = make_bp(
        tmp_path,
        detect="""
            cat > "$CNB_BUILD_PLAN_PATH" <<'EOF'
            [[provides]]
            name = "x"
            [[requires]]
            name = "x"
            version = "1"
            EOF
        """,
    )
    result = Platform(tmp_path / "work", [bp]).build(app)
    assert (result.exit_code, result.detect_codes) == (21, {"test/a": -1})
    assert '"version" key which is not supported' in result.output


@pytest.mark.parametrize("unmet", ["x", "nope"])
def test_unmet_entries_go_to_the_next_provider(tmp_path: Path, app: Path, unmet: str) -> None:
    provide = 'printf \'[[provides]]\\nname = "x"\\n\' > "$CNB_BUILD_PLAN_PATH"'
    first = make_bp(
        tmp_path,
        "test/a",
        detect=provide,
        build=f'printf \'[[unmet]]\\nname = "{unmet}"\\n\' > "$CNB_LAYERS_DIR/build.toml"',
    )
    second = make_bp(tmp_path, "test/b", detect=provide)
    requirer = make_bp(
        tmp_path,
        "test/c",
        detect='printf \'[[requires]]\\nname = "x"\\n[requires.metadata]\\nk = "v"\\n\' '
        '> "$CNB_BUILD_PLAN_PATH"',
    )
    result = Platform(tmp_path / "work", [first, second, requirer]).build(app)
    if unmet == "nope":
        assert (result.phase, result.exit_code) == ("build", 52)
        assert "unmet.name 'nope' must match a requested dependency" in result.output
        return
    assert result.success, result.output
    entry = [{"name": "x", "metadata": {"k": "v"}}]
    assert result.plan == {"test/a": entry, "test/b": entry, "test/c": []}


# ---------------------------------------------------------------------------------------- build


def test_buildpack_dir_is_read_only_root_owned_and_normalized(tmp_path: Path, app: Path) -> None:
    bp = make_bp(
        tmp_path,
        build="""
            cd "$CNB_BUILDPACK_DIR"
            stat -c '%n %u:%g %a %Y' bin/build data.txt tool.sh
            touch x 2>&1 || true
        """,
    )
    (bp / "data.txt").write_text("data")
    (bp / "data.txt").chmod(0o664)
    (bp / "tool.sh").write_text("")
    (bp / "tool.sh").chmod(0o700)
    result = Platform(tmp_path / "work", [bp]).build(app)
    assert result.success, result.output
    assert "bin/build 0:0 755 315532801" in result.output
    assert "data.txt 0:0 644 315532801" in result.output
    assert "tool.sh 0:0 755 315532801" in result.output
    assert "Read-only file system" in result.output


def test_build_layers_feed_later_buildpacks_only(tmp_path: Path, app: Path) -> None:
    first = make_bp(
        tmp_path,
        "test/a",
        build="""
            layer tool build
            L="$CNB_LAYERS_DIR/tool"; mkdir -p "$L/bin" "$L/env.build" "$L/env"
            printf '#!/bin/sh\\n' > "$L/bin/tool"; chmod +x "$L/bin/tool"
            printf '/from/buildpack' > "$L/env.build/TOOL_HOME.override"
            printf 'a' > "$L/env/SHARED.default"
            command -v tool || echo "a-has-no-tool"
        """,
    )
    second = make_bp(
        tmp_path,
        "test/b",
        build='echo "tool=$(command -v tool)"; echo "TOOL_HOME=$TOOL_HOME"; echo "SHARED=$SHARED"',
    )
    result = Platform(tmp_path / "work", [first, second]).build(app, env={"TOOL_HOME": "user"})
    assert result.success, result.output
    found = values(result.output)
    assert "a-has-no-tool" in result.output  # a buildpack's own layers are not in its env
    assert found["tool"] == "/layers/test_a/tool/bin/tool"
    assert found["TOOL_HOME"] == "user"  # a user value overrides buildpack env files
    assert found["SHARED"] == "a"


def test_all_false_layers_are_renamed_and_never_exported(tmp_path: Path, app: Path) -> None:
    first = make_bp(
        tmp_path,
        "test/a",
        build="""
            layer x; mkdir "$CNB_LAYERS_DIR/x"
            mkdir "$CNB_LAYERS_DIR/y"
        """,
    )
    second = make_bp(tmp_path, "test/b", build="echo ==ls; ls /layers/test_a; echo ==end")
    plat = Platform(tmp_path / "work", [first, second])
    result = plat.build(app)
    assert result.success, result.output
    # A directory without a toml is not renamed: the lifecycle only walks *.toml.
    assert between(result.output, "==ls\n", "==end").split() == ["x.ignore", "x.toml", "y"]
    assert result.image is not None and result.image.layers == {}


PROCESS = '[[processes]]\\ntype = "%s"\\ncommand = %s\\n'


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("printf 'launch = true' > t.toml", "should be in the types table"),
        ("mkdir store", "layer name 'store' is reserved"),
        (f"printf '{PROCESS}' web '\"run\"' > launch.toml", "command must be an array of strings"),
        (
            f"printf '{PROCESS}direct = true' web '[\"run\"]' > launch.toml",
            "process.direct is not supported",
        ),
        (
            f"printf '{PROCESS}default = true\\n' a '[\"x\"]' b '[\"x\"]' > launch.toml",
            "multiple default process types aren't allowed",
        ),
        (
            "layer t launch; mkdir t; echo {} > t.sbom.foo.json",
            "unsupported SBOM file format: '/layers/test_a/t.sbom.foo.json'",
        ),
        (
            "layer t launch; mkdir t; echo {} > t.sbom.spdx.json",
            "undeclared SBOM media type: 'application/spdx+json'",
        ),
    ],
)
def test_lifecycle_validation_errors(tmp_path: Path, app: Path, script: str, message: str) -> None:
    keys = 'sbom-formats = ["application/vnd.cyclonedx+json"]'
    bp = make_bp(tmp_path, build=f'cd "$CNB_LAYERS_DIR"\n{script}', keys=keys)
    plat = Platform(tmp_path / "work", [bp])
    result = plat.build(app)
    assert (result.success, result.phase, result.exit_code) == (False, "build", 52)
    assert message in result.output
    assert plat.image is None


def test_failed_build_keeps_previous_image_and_cache(tmp_path: Path, app: Path) -> None:
    bp = make_bp(
        tmp_path,
        build="""
            [ "${BP_FAIL:-}" = 1 ] && { echo failing >&2; exit 3; }
            layer c cache; mkdir "$CNB_LAYERS_DIR/c"
        """,
    )
    plat = Platform(tmp_path / "work", [bp])
    first = plat.build(app)
    assert first.image is not None
    cache_json = (tmp_path / "work" / "cache" / "cache.json").read_text()
    result = plat.build(app, env={"BP_FAIL": "1"})
    assert (result.phase, result.exit_code, result.build_code) == ("build", 51, 3)
    assert "failing" in result.output
    assert "ERROR: failed to build: exit status 3" in result.output
    assert plat.image is not None and plat.image.config_digest == first.image.config_digest
    assert (tmp_path / "work" / "cache" / "cache.json").read_text() == cache_json


# -------------------------------------------------------------------------------------- restore


RESTORE_BP = """
    echo "==restored"
    cd "$CNB_LAYERS_DIR"
    ls -A | sort | sed 's/^/entry /'
    for f in lc c l b bc; do
      [ -e "$f.toml" ] && { echo "--- $f.toml"; cat "$f.toml"; }
      [ -d "$f" ] && echo "dir $f $(cat $f/data) $(stat -c '%u:%g %a mtime=%Y' $f/data)"
    done
    echo "==end"
    layer lc launch cache; mkdir -p lc; echo "lc-$BP_ROUND" > lc/data
    layer c cache; mkdir -p c; echo c > c/data; chmod 600 c/data
    layer l launch
    if [ "$BP_ROUND" = 1 ]; then mkdir l; echo l > l/data; echo '{}' > l.sbom.cdx.json; fi
    layer b build; mkdir -p b; echo b > b/data
    layer bc build cache; mkdir -p bc; echo bc > bc/data
    echo '{}' > lc.sbom.cdx.json
    printf '[metadata]\\nkey = "v"\\n' > store.toml
"""


def test_restore_table(tmp_path: Path, app: Path) -> None:
    bp = make_bp(
        tmp_path, build=RESTORE_BP, keys='sbom-formats = ["application/vnd.cyclonedx+json"]'
    )
    plat = Platform(tmp_path / "work", [bp])
    first = plat.build(app, env={"BP_ROUND": "1"})
    assert first.success, first.output
    assert between(first.output, "==restored\n", "==end").strip() == ""
    second = plat.build(app, env={"BP_ROUND": "2"})
    assert second.success, second.output
    seen = between(second.output, "==restored\n", "==end")
    entries = {line.split()[1] for line in seen.splitlines() if line.startswith("entry ")}
    assert entries == {
        "bc", "bc.toml",  # build+cache: from the cache
        "c", "c.toml",  # cache only
        "lc", "lc.toml", "lc.sbom.cdx.json",  # launch+cache: metadata from image, dir from cache
        "l.toml", "l.sbom.cdx.json",  # launch only: metadata and SBOM, never the directory
        "store.toml",
    }  # fmt: skip
    # build-only "b" is gone; restored tomls hold [metadata] only, numbers as the Go JSON
    # round trip leaves them.
    assert "[types]" not in seen
    assert '--- lc.toml\n[metadata]\nn = 3.0\nname = "lc"\n' in seen
    dirs = {
        line.split()[1]: line.split()[2:] for line in seen.splitlines() if line.startswith("dir ")
    }
    assert dirs["lc"][:3] == ["lc-1", "1001:1000", "644"]
    assert dirs["c"][:3] == ["c", "1001:1000", "600"]
    # The lifecycle's extraction does not restore mtimes (lc:archive/extract.go).
    assert dirs["c"][3] != "mtime=315532801"

    assert second.image is not None and first.image is not None
    reused = second.image.layers["test/a:l"]
    assert reused.sha256 == first.image.layers["test/a:l"].sha256
    assert reused.types == {"build": False, "cache": False, "launch": True}
    assert "Reusing layer 'test/a:l'" in second.output
    assert plat.run(command=["cat", "/layers/test_a/l/data"]).stdout == "l\n"
    assert second.image.store == {"test/a": {"key": "v"}}
    # l.sbom.cdx.json was restored with l.toml and not deleted, so it is exported again.
    assert set(second.image.sbom_files) == {"test_a/lc/sbom.cdx.json", "test_a/l/sbom.cdx.json"}


def test_wrong_sha_deletes_layer_and_cache_fills_a_missing_image_layer(
    tmp_path: Path, app: Path
) -> None:
    bp = make_bp(
        tmp_path,
        build="""
            cd "$CNB_LAYERS_DIR"
            [ -e lc.toml ] && echo has-toml
            [ -d lc ] && echo "has-dir $(cat lc/data)"
            layer lc launch cache; mkdir -p lc; echo "$BP_CONTENT" > lc/data
        """,
    )
    one, two = Platform(tmp_path / "one", [bp]), Platform(tmp_path / "two", [bp])
    assert one.build(app, env={"BP_CONTENT": "one"}).success
    assert two.build(app, env={"BP_CONTENT": "two"}).success
    # An image built elsewhere: its launch+cache layer sha differs from our cache's.
    shutil.rmtree(tmp_path / "one" / "image")
    shutil.copytree(tmp_path / "two" / "image", tmp_path / "one" / "image")
    result = one.build(app, env={"BP_CONTENT": "three"})
    assert 'Removing "test/a:lc", wrong sha' in result.output
    assert "has-toml" not in result.output and "has-dir" not in result.output
    # Platform API >= 0.14: a launch+cache layer missing from the image comes from the cache.
    one.clear_image()
    result = one.build(app, env={"BP_CONTENT": "four"})
    assert 'Restoring metadata for "test/a:lc" from cache' in result.output
    assert "has-toml" in result.output and "has-dir three" in result.output


# --------------------------------------------------------------------------------------- export


REPRO_BP = """
    layer lay launch
    L="$CNB_LAYERS_DIR/lay"; mkdir -p "$L/sub"
    echo payload > "$L/sub/file"; chmod 600 "$L/sub/file"
    ln "$L/sub/file" "$L/hard"; ln -s sub/file "$L/link"
"""


def test_export_normalization_and_reproducibility(tmp_path: Path, app: Path) -> None:
    bp = make_bp(tmp_path, build=REPRO_BP)
    images = [Platform(tmp_path / name, [bp]).build(app).image for name in ("one", "two")]
    (app / "app.txt").write_text("hello app!\n")
    images.append(Platform(tmp_path / "three", [bp]).build(app).image)
    one, two, three = images
    assert one is not None and two is not None and three is not None
    assert one.config_digest == two.config_digest
    assert one.diff_ids == two.diff_ids
    assert one.created == "1980-01-01T00:00:01Z"
    assert three.layers["test/a:lay"].sha256 == one.layers["test/a:lay"].sha256
    assert one.app_layer is not None and three.app_layer is not None
    assert three.app_layer.sha256 != one.app_layer.sha256
    assert three.config_digest != one.config_digest

    with tarfile.open(one.layers["test/a:lay"].tar) as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == [
        "/layers",
        "/layers/test_a",
        "/layers/test_a/lay",
        "/layers/test_a/lay/hard",
        "/layers/test_a/lay/link",
        "/layers/test_a/lay/sub",
        "/layers/test_a/lay/sub/file",
    ]
    assert {m.mtime for m in members} == {315532801}
    assert {(m.uid, m.gid, m.uname, m.gname) for m in members} == {(1001, 1000, "", "")}
    hard = next(m for m in members if m.name.endswith("/hard"))
    assert hard.isreg() and hard.size == len("payload\n") and hard.mode == 0o600
    with tarfile.open(one.app_layer.tar) as tar:
        app_members = {m.name: m for m in tar.getmembers()}
    assert app_members["/workspace/app.txt"].uid == 1001


def test_source_date_epoch_sets_created(tmp_path: Path, app: Path) -> None:
    result = Platform(tmp_path / "work", [make_bp(tmp_path)]).build(
        app, env={"SOURCE_DATE_EPOCH": "1700000000"}
    )
    assert result.image is not None and result.image.created == "2023-11-14T22:13:20Z"


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("layer l launch", "cannot reuse 'test/a:l', previous image has no metadata"),
        ("layer lc launch cache", "layer 'test/a:lc' is cache=true but has no contents"),
    ],
)
def test_export_errors(tmp_path: Path, app: Path, script: str, message: str) -> None:
    result = Platform(tmp_path / "work", [make_bp(tmp_path, build=script)]).build(app)
    assert (result.success, result.phase, result.exit_code) == (False, "export", 62)
    assert message in result.output


def test_cache_layer_without_contents_is_skipped(tmp_path: Path, app: Path) -> None:
    result = Platform(tmp_path / "work", [make_bp(tmp_path, build="layer c cache")]).build(app)
    assert result.success, result.output
    assert "Failed to cache layer 'test/a:c' because it has no contents" in result.output


def test_sbom_layer_contents(tmp_path: Path, app: Path) -> None:
    bp = make_bp(
        tmp_path,
        keys='sbom-formats = ["application/vnd.cyclonedx+json; version=1.5"]',
        build="""
            cd "$CNB_LAYERS_DIR"
            layer t launch; mkdir t; echo '{"t": 1}' > t.sbom.cdx.json
            echo '{"app": 1}' > launch.sbom.cdx.json
            echo '{"orphan": 1}' > orphan.sbom.cdx.json
        """,
    )
    result = Platform(tmp_path / "work", [bp]).build(app)
    assert result.success, result.output
    assert result.image is not None
    assert result.image.sbom_files == {
        "test_a/t/sbom.cdx.json": b'{"t": 1}\n',
        "test_a/sbom.cdx.json": b'{"app": 1}\n',
    }
    written = result.image.extract_sbom(tmp_path / "sbom")
    assert sorted(p.relative_to(tmp_path / "sbom").as_posix() for p in written) == [
        "test_a/sbom.cdx.json",
        "test_a/t/sbom.cdx.json",
    ]


# ------------------------------------------------------------------------------------------ run


LAUNCH_BP = """
    layer tools launch
    L="$CNB_LAYERS_DIR/tools"
    mkdir -p "$L/bin" "$L/env" "$L/env.launch/web" "$L/exec.d"
    cat > "$L/bin/hello" <<'EOF'
    #!/bin/sh
    echo "args=$*"; echo "GREETING=$GREETING"; echo "PYTHONPATH=$PYTHONPATH"
    echo "JOINED=$JOINED"; echo "ONLY_WEB=${ONLY_WEB:-}"; echo "FROM_EXEC_D=${FROM_EXEC_D:-}"
    echo "pwd=$(pwd)"; echo "uid=$(id -u)"
    touch /layers/test_a/tools/new 2>/dev/null && echo "layer=writable" || echo "layer=read-only"
    EOF
    chmod +x "$L/bin/hello"
    printf 'hi' > "$L/env.launch/GREETING.default"
    printf '/layers/test_a/tools/lib' > "$L/env/PYTHONPATH.prepend"
    printf ':' > "$L/env/PYTHONPATH.delim"
    printf 'b' > "$L/env.launch/JOINED.append"
    printf 'yes' > "$L/env.launch/web/ONLY_WEB"
    printf '#!/bin/sh\\necho "FROM_EXEC_D = \\\\"$GREETING\\\\"" >&3\\n' > "$L/exec.d/10-probe"
    chmod +x "$L/exec.d/10-probe"
    cat > "$CNB_LAYERS_DIR/launch.toml" <<'EOF'
    [[processes]]
    type = "web"
    command = ["hello", "fixed"]
    args = ["default"]
    default = true
    [[processes]]
    type = "worker"
    command = ["hello"]
    args = ["w1"]
    working-dir = "/layers/test_a/tools"
    EOF
"""


@pytest.fixture
def launched(tmp_path: Path, app: Path) -> Platform:
    plat = Platform(tmp_path / "work", [make_bp(tmp_path, build=LAUNCH_BP)])
    result = plat.build(app)
    assert result.success, result.output
    return plat


def test_run_default_process_with_launch_env(launched: Platform) -> None:
    proc = launched.run(env={"PYTHONPATH": "/app", "JOINED": "a"})
    assert proc.returncode == 0, proc.stderr
    assert values(proc.stdout) == {
        "args": "fixed default",
        "GREETING": "hi",  # .default applies when the user did not set it
        "PYTHONPATH": "/layers/test_a/tools/lib:/app",  # prepend with the delim file
        "JOINED": "ab",  # append without a delim file: no separator
        "ONLY_WEB": "yes",  # env.launch/<process>/
        "FROM_EXEC_D": "hi",  # exec.d ran after the env files, TOML on fd 3
        "pwd": "/workspace",
        "uid": "1002",
        "layer": "read-only",  # the run user cannot write into layers owned by the build user
    }


def test_run_user_args_and_env_override(launched: Platform) -> None:
    proc = launched.run(args=["u1", "u2"], env={"GREETING": "mine"})
    found = values(proc.stdout)
    assert found["args"] == "fixed u1 u2"  # command[1:] kept, default args replaced
    assert found["GREETING"] == found["FROM_EXEC_D"] == "mine"

    proc = launched.run("worker", args=["x"])
    found = values(proc.stdout)
    assert (found["args"], found["ONLY_WEB"], found["pwd"]) == ("x", "", "/layers/test_a/tools")


def test_run_command_and_launch_errors(launched: Platform) -> None:
    proc = launched.run(command=["sh", "-c", "command -v hello; stat -c %Y /workspace/app.txt"])
    assert proc.stdout.split() == ["/layers/test_a/tools/bin/hello", "315532801"]
    missing = launched.run("nope")
    assert missing.returncode == 82
    assert "process type nope was not found" in missing.stderr
    assert launched.run(command=["no-such-program"]).returncode == 82
    with pytest.raises(subprocess.TimeoutExpired):
        launched.run(command=["sleep", "30"], timeout=0.5)


def test_start_serves_in_background(tmp_path: Path, app: Path) -> None:
    # The run image has no Python: the image brings the host's, in a launch layer.
    server = """
        py="$CNB_LAYERS_DIR/py"
        mkdir -p "$py/bin" "$py/lib"
        cp /usr/bin/python3.11 "$py/bin/python3"
        tar -C /usr/lib -cf - --exclude=__pycache__ --exclude='config-*' --exclude=test \\
          python3.11 | tar -C "$py/lib" -xf -
        printf '[types]\\nlaunch = true\\n' > "$py.toml"
        cat > "$CNB_LAYERS_DIR/launch.toml" <<'EOF'
        [[processes]]
        type = "web"
        command = ["sh", "-c", "exec python3 -m http.server \\"$PORT\\" --bind 127.0.0.1"]
        default = true
        EOF
    """
    plat = Platform(tmp_path / "work", [make_bp(tmp_path, build=server)])
    assert plat.build(app).success
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with plat.start(env={"PORT": str(port)}) as running:
        running.wait_for_port(port, timeout=20)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/app.txt", timeout=5) as resp:
            assert resp.read() == b"hello app\n"
    assert running.proc.poll() is not None


def test_cli_build_and_run(tmp_path: Path, app: Path) -> None:
    bp = make_bp(tmp_path, build='[ "${BP_FAIL:-}" = 1 ] && exit 4; echo cli-build-ran')
    cli = [sys.executable, "-m", "localcnb"]
    env = {**os.environ, "PYTHONPATH": str(INTEGRATION)}
    work = str(tmp_path / "work")
    build = [*cli, "build", "--workdir", work, "--buildpack", str(bp), "--app", str(app)]
    done = subprocess.run(build, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "cli-build-ran" in done.stdout and "===> EXPORTING" in done.stdout
    failed = subprocess.run(
        [*build, "--env", "BP_FAIL=1"], env=env, capture_output=True, check=False
    )
    assert failed.returncode == 51
    ran = subprocess.run(
        [*cli, "run", "--workdir", work, "--", "sh", "-c", "echo cli-run; exit 7"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (ran.returncode, ran.stdout) == (7, "cli-run\n")
