"""The CPython layer end to end: version selection, reuse, bytecode, downloads, errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BP_ID, conda_flask_app, cpython_version

from localcnb import Platform
from localcnb.cache import Cache

LAYERS = "/layers/cnb-python_python"

HELLO = {"app.py": "import sys\nprint('hello from', sys.version.split()[0])\n"}


def test_no_package_manager_app_gets_cpython_and_a_process(make_app, test_cpythons):
    app = make_app(files={**HELLO, ".python-version": "3.11\n"})
    result = app.build_ok()
    v311 = cpython_version(test_cpythons, "3.11")
    assert f"Selected CPython {v311} (using .python-version)" in result.output
    assert "No package manager" in result.output
    assert "web (default): python app.py" in result.output
    # Only CPython reaches the image: no venv, no pip.
    assert set(result.image.layers) == {f"{BP_ID}:cpython"}
    assert app.platform.run(timeout=60).stdout == f"hello from {v311}\n"


def test_launch_env_has_only_what_the_app_needs(make_app):
    app = make_app(files=HELLO)
    app.build_ok()
    env = json.loads(app.python("import json, os; print(json.dumps(dict(os.environ)))"))
    assert env["PATH"].startswith(f"{LAYERS}/cpython/bin:")
    assert env["PYTHONUNBUFFERED"] == "1"
    for build_only in ("PYTHONPYCACHEPREFIX", "SOURCE_DATE_EPOCH", "CPATH", "PKG_CONFIG_PATH"):
        assert build_only not in env
    assert not any(f"{LAYERS}/pip" in value for value in env.values())


STDLIB = (
    "json, email.message, http.client, asyncio, decimal, logging, argparse, urllib.request, "
    "sqlite3, xml.etree.ElementTree, ssl, zipfile, tarfile, unittest"
)


def test_stdlib_bytecode_is_valid_after_mtime_normalization(make_app):
    app = make_app(files=HELLO)
    app.build_ok()
    # Every file in the image has a 1980 mtime; timestamp pycs would all be stale.
    hits, misses = app.bytecode_misses(STDLIB)
    assert misses == []
    assert hits > 100
    header = app.python(
        "import json, struct; "
        "print(struct.unpack('<I', open(json.__cached__, 'rb').read()[4:8])[0])"
    )
    assert header == "1\n"  # PEP 552 flags: hash-based, source not checked


def test_rebuild_reuses_the_layer_without_downloading(make_app, cpython_server):
    app = make_app(files=HELLO)
    first = app.build_ok()
    downloads = len(cpython_server.requests)
    second = app.build_ok()
    assert "Reusing cached CPython" in second.output
    assert "Downloading" not in second.output
    assert len(cpython_server.requests) == downloads
    key = f"{BP_ID}:cpython"
    assert second.image.layers[key].sha256 == first.image.layers[key].sha256
    assert second.image.config_digest == first.image.config_digest


def test_version_change_rebuilds_the_layer(make_app, test_cpythons):
    app = make_app(files={**HELLO, ".python-version": "3.11"})
    app.build_ok()
    app.write({".python-version": "3.12"})
    result = app.build_ok()
    v311, v312 = cpython_version(test_cpythons, "3.11"), cpython_version(test_cpythons, "3.12")
    assert f"Discarding cached CPython since: version {v311} -> {v312}" in result.output
    assert app.platform.run(timeout=60).stdout == f"hello from {v312}\n"


def test_two_clean_builds_are_identical(make_app):
    a, b = make_app(files=HELLO), make_app(files=HELLO)
    first, second = a.build_ok(), b.build_ok()
    assert {k: v.sha256 for k, v in first.image.layers.items()} == {
        k: v.sha256 for k, v in second.image.layers.items()
    }
    assert first.image.config_digest == second.image.config_digest


@pytest.mark.parametrize(
    ("files", "env", "title", "detail"),
    [
        (
            {".python-version": "3.12.99"},
            {},
            "The requested Python version isn't available",
            "Available versions: ",
        ),
        (
            {".python-version": "pypy3.10"},
            {},
            "Invalid Python version in .python-version",
            "'pypy3.10'",
        ),
        (
            {"runtime.txt": "python-3.9"},
            {},
            "The requested Python version has reached end-of-life",
            "2025-10-31",
        ),
        (
            {},
            {"BP_CPYTHON_VERSION": ">=3.12,<"},
            "Invalid Python version in BP_CPYTHON_VERSION",
            "'>=3.12,<'",
        ),
        ({"pyproject.toml": "[project\nname = 'x'"}, {}, "Invalid pyproject.toml", "line 1"),
        (
            # heroku/buildpacks-python's poetry_mismatched_python_version case: `poetry sync`
            # refuses 3.13 here, so the build stops before it installs anything.
            {
                ".python-version": "3.13\n",
                "pyproject.toml": '[project]\nname = "x"\nrequires-python = "3.12.*"\n'
                "[tool.poetry]\npackage-mode = false\n",
                "poetry.lock": '[metadata]\nlock-version = "2.1"\npython-versions = "3.12.*"\n'
                'content-hash = "0"\n',
            },
            {},
            "Conflicting Python version requirements",
            ".python-version asks for Python '3.13', but pyproject.toml requires '3.12.*'",
        ),
    ],
)
def test_version_errors_are_titled(make_app, files, env, title, detail):
    app = make_app(files={**HELLO, **files})
    result = app.build(env=env)
    assert not result.success and result.phase == "build"
    assert f"[Error: {title}]" in result.output
    assert detail in result.output
    assert "How to fix:" in result.output
    assert "Traceback" not in result.output


def test_end_of_life_minor_warns_but_builds(make_app, test_cpythons):
    app = make_app(files={**HELLO, ".python-version": "3.10"})
    result = app.build_ok()
    assert "[Warning: Python 3.10 end of life]" in result.output
    assert "reached its end of life on 2026-10-31" in result.output
    v310 = cpython_version(test_cpythons, "3.10")
    assert app.platform.run(timeout=60).stdout == f"hello from {v310}\n"


def test_download_retries_then_succeeds(make_app, cpython_server):
    cpython_server.fail_next(2, status=503)
    result = make_app(files=HELLO).build_ok()
    assert result.output.count("Attempt ") == 2


def test_checksum_mismatch_fails_and_nothing_is_reused(make_app, cpython_server):
    app = make_app(files=HELLO)
    cpython_server.corrupt_next(1)
    failed = app.build()
    assert not failed.success
    assert "[Error: Checksum mismatch for CPython" in failed.output
    retry = app.build_ok()
    assert "Installing CPython" in retry.output and "Reusing" not in retry.output


def test_dependency_mirror_from_a_file_url(make_app, test_cpythons, cpython_server):
    default = next(c for c in test_cpythons if c.minor == "3.12")
    app = make_app(files=HELLO)
    (app.dir / "mirror").mkdir()
    shutil.copy(default.path, app.dir / "mirror" / default.path.name)
    before = len(cpython_server.requests)
    result = app.build_ok(env={"BP_DEPENDENCY_MIRROR": "file:///workspace/mirror"})
    assert "Using BP_DEPENDENCY_MIRROR" in result.output
    assert f"Downloading file:///workspace/mirror/{default.path.name}" in result.output
    assert len(cpython_server.requests) == before


def test_dependency_mapping_binding(make_app, test_cpythons, cpython_server):
    default = next(c for c in test_cpythons if c.minor == "3.12")
    before = len(cpython_server.requests)
    binding = {
        "type": "dependency-mapping",
        default.sha256: "file:///platform/bindings/offline/cpython.tar.gz",
        "cpython.tar.gz": default.path.read_bytes(),
    }
    result = make_app(files=HELLO).build_ok(bindings={"offline": binding})
    assert "Using dependency-mapping binding 'offline'" in result.output
    assert len(cpython_server.requests) == before


def test_plain_http_mirror_is_refused(make_app):
    result = make_app(files=HELLO).build(env={"BP_DEPENDENCY_MIRROR": "http://mirror.example"})
    assert "[Error: Invalid BP_DEPENDENCY_MIRROR]" in result.output


def test_another_buildpack_can_require_cpython_for_build(make_app, tmp_path, buildpack):
    """A later buildpack that requires `cpython` with build = true gets python on its PATH."""
    later = tmp_path / "later-bp"
    (later / "bin").mkdir(parents=True)
    (later / "buildpack.toml").write_text(
        'api = "0.10"\n[buildpack]\nid = "test/uses-python"\nversion = "0.0.1"\n'
        '[[targets]]\nos = "linux"\narch = "amd64"\n[[targets]]\nos = "linux"\narch = "arm64"\n'
    )
    (later / "bin/detect").write_text(
        '#!/bin/sh\nprintf \'[[requires]]\\nname = "cpython"\\n[requires.metadata]\\n'
        'build = true\\nversion = "3.11"\\n\' > "$CNB_BUILD_PLAN_PATH"\n'
    )
    (later / "bin/build").write_text(
        "#!/bin/sh\nset -e\necho \"later: $(command -v python3) $(python3 -c 'import sys; "
        "print(sys.version.split()[0])') SDE=$SOURCE_DATE_EPOCH PPP=$PYTHONPYCACHEPREFIX\"\n"
    )
    for script in ("detect", "build"):
        (later / "bin" / script).chmod(0o755)
    app = make_app(files=HELLO)
    app.platform = Platform(tmp_path / "group", [buildpack, later])
    result = app.build_ok()
    assert "another buildpack -> '3.11'" in result.output
    assert "Selected CPython 3.11" in result.output
    assert f"later: {LAYERS}/cpython/bin/python3 3.11" in result.output
    assert "SDE=315532801 PPP=/tmp" in result.output


def test_shim_without_any_python_says_so(tmp_path, buildpack):
    (tmp_path / "app.py").write_text("")
    proc = subprocess.run(
        [str(buildpack / "bin/detect"), "/platform", str(tmp_path / "plan.toml")],
        cwd=tmp_path,
        env={"PATH": "/nonexistent"},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("[Error: No Python to run the cnb-python buildpack]")
    assert "How to fix:" in proc.stderr  # the whole text: tests/test_error_messages.py


def buildpack_on_python_39(tmp_path: Path, buildpack: Path) -> Path:
    """A copy of the buildpack with CPython 3.9 in runtime/ (scripts/place-runtime.py)."""
    copy = tmp_path / "bp-with-runtime"
    shutil.copytree(buildpack, copy)
    root = Path(__file__).resolve().parents[1]
    subprocess.run(
        [
            sys.executable,
            str(root / "scripts/place-runtime.py"),
            "amd64",
            str(copy / "runtime"),
            "--version",
            "3.9",
            "--buildpack",
            str(copy),
        ],
        check=True,
        capture_output=True,
    )
    return copy


def test_bundled_runtime_runs_the_buildpack_on_python_39(make_app, tmp_path, buildpack):
    """The shims prefer runtime/. Using 3.9 proves the buildpack itself still runs on its oldest
    Python."""
    app = make_app(files={**HELLO, "requirements.txt": "six==1.16.0\n"})
    app.platform = Platform(tmp_path / "rt", [buildpack_on_python_39(tmp_path, buildpack)])
    app.build_ok(builder_env={"PATH": "/nonexistent"})
    assert app.python("import six; print(six.__version__)") == "1.16.0\n"


def test_conda_tools_get_a_cpython_layer_when_the_buildpacks_python_is_too_old(
    tmp_path, buildpack, channel_url
):
    """py-rattler needs 3.10+: on a buildpack running on 3.9, a build-only CPython layer of the
    buildpack's default version runs it, as before the buildpack's own Python could."""
    on_39 = buildpack_on_python_39(tmp_path, buildpack)
    app = conda_flask_app(tmp_path / "app", on_39, channel_url)
    result = app.build_ok(builder_env={"PATH": "/nonexistent"})
    assert "Build tools: the buildpack's own Python" not in result.output
    assert "Selected CPython 3.12.1 (using buildpack default)" in result.output
    assert "Installing CPython 3.12.1" in result.output
    cache = Cache.load(app.platform.workdir / "cache")
    assert cache is not None and "cpython" in cache.layers_for(BP_ID)
    assert app.python("import flask; print(flask.__name__)") == "flask\n"


def test_a_misspelled_file_is_named_in_the_build_log(make_app):
    build = make_app(files={**HELLO, ".python_version": "3.11\n"}).build_ok()
    assert "Found .python_version: did you mean .python-version?" in build.output
