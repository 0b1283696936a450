"""conda apps end to end: py-rattler solves and links against a local channel of real packages
that this session builds (no conda channel host is reachable); the `pip:` subsection comes
from PyPI."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import tarfile
from pathlib import Path

import pytest
from conftest import (
    BP_ID,
    FIXTURES,
    HELLO_PROJECT,
    HELLO_PY,
    assert_reproducible,
    conda_env_state,
    conda_flask_app,
    venv_sbom_purls,
)
from testsupport.condachannel import Channel
from testsupport.server import DownloadServer

from localcnb.cache import Cache

ENV = "/layers/cnb-python_python/venv"


@pytest.fixture
def built(built_sample):
    """The environment.yml Flask app, built once per session; the contract every manager keeps
    is in test_manager_contract.py."""
    return built_sample("conda")


def test_env_has_no_history_and_no_trace_of_the_build(built):
    found = conda_env_state(built, "cnb-python-conda")
    assert found == {"prefix": ENV, "conda_prefix": ENV, "history": False, "traces": []}


def test_sbom_lists_conda_packages_and_the_pip_subsection(built):
    purls = venv_sbom_purls(built)
    purls = [p.split("@")[0] if p.startswith("pkg:pypi/packaging@") else p for p in purls]
    assert purls == [
        "pkg:conda/blinker@1.9.0",
        "pkg:conda/click@8.1.8",
        "pkg:conda/flask@3.1.2",
        "pkg:conda/itsdangerous@2.2.0",
        "pkg:conda/jinja2@3.1.6",
        "pkg:conda/libgreet@1.0.0",
        "pkg:conda/markupsafe@3.0.2",
        "pkg:conda/python@3.12.1",
        "pkg:conda/werkzeug@3.1.3",
        "pkg:pypi/gunicorn@23.0.0",
        "pkg:pypi/packaging",  # gunicorn's dependency, not pinned
    ]


def test_pip_starts_from_pycs_of_the_environments_python(built):
    """The pip: subsection's pip runs on the environment's Python (conda's 3.12): its layer holds
    pycs for that Python, compiled with the stdlib, and none for the Python that runs the
    buildpack. The rebuild reused the layer with them."""
    cache = Cache.load(built.platform.workdir / "cache")
    assert cache is not None
    with tarfile.open(cache.tar(cache.layers_for(BP_ID)["pip"].sha256)) as tar:
        tags = {name.rsplit(".", 2)[-2] for name in tar.getnames() if name.endswith(".pyc")}
    assert tags == {"cpython-312"}
    assert "Reusing cached pip" in built.again.output


def test_clean_builds_are_identical(built, tmp_path, buildpack, channel_url):
    other = conda_flask_app(tmp_path, buildpack, channel_url).build_ok()
    first = built.first.image
    assert {k: v.sha256 for k, v in other.image.layers.items()} == {
        k: v.sha256 for k, v in first.layers.items()
    }
    assert other.image.config_digest == first.config_digest


def url_of(channel: Channel, name: str, base_url: str) -> str:
    return f"{base_url}/{channel.package(name).relative_to(channel.path).as_posix()}"


def test_package_list_app_installs_the_explicit_urls(make_app, conda_channel, channel_url):
    lines = ["# conda list --explicit --sha256", "@EXPLICIT"]
    for name in ("python", "click", "libgreet"):
        digest = hashlib.sha256(conda_channel.package(name).read_bytes()).hexdigest()
        lines.append(f"{url_of(conda_channel, name, channel_url)}#sha256:{digest}")
    app = make_app(files={"package-list.txt": "\n".join(lines) + "\n"})
    result = app.build_ok()
    assert "Package manager: conda (package-list.txt, installed with py-rattler)" in result.output
    out = app.python(
        "import click, json, sys; meta = sys.prefix + '/conda-meta/'; "
        "print(click.__version__, json.load(open(meta + 'click-8.1.8-pyh_0.json'))['url'])"
    )
    assert out == f"8.1.8 {url_of(conda_channel, 'click', channel_url)}\n"


def test_nodefaults_and_a_channel_qualified_spec(make_app, tmp_path, conda_channel, channel_url):
    """conda-forge's own form: the channel list ends with `nodefaults`, and a package names
    its channel (`channel::package`), here one the list does not name: a copy of the test
    channel on a server of its own."""
    shutil.copytree(conda_channel.path, tmp_path / "other")
    with DownloadServer(tmp_path / "other") as other:
        app = make_app(
            files={
                "environment.yml": f"name: app\nchannels:\n  - {channel_url}\n  - nodefaults\n"
                f"dependencies:\n  - python=3.12\n  - {other.base_url}::libgreet\n",
            }
        )
        result = app.build_ok()
    assert "`nodefaults`: no default channels are added" in result.output
    assert "Ignoring `name:` in environment.yml" in result.output
    assert f"from {channel_url}, {other.base_url}\n" in result.output
    channel = app.python(
        "import json, sys; print(json.load(open(sys.prefix + '/conda-meta/"
        "libgreet-1.0.0-h0.json'))['channel'])"
    )
    assert channel == f"{other.base_url}/\n"


def test_vendor_channel_builds_offline_from_a_file_url(make_app, conda_channel):
    """vendor/ is a channel: the app's channels are replaced by file:///workspace/vendor."""
    app = make_app("conda-flask")
    shutil.copytree(conda_channel.path, app.dir / "vendor")
    spec = app.dir / "environment.yml"
    spec.write_text(spec.read_text().replace("CHANNEL", "http://127.0.0.1:9/unreachable"))
    spec.write_text(spec.read_text().replace("  - pip:\n      - gunicorn==23.0.0\n", ""))
    result = app.build_ok(env={"BP_CPYTHON_VERSION": "3.11"})
    assert "from file:///workspace/vendor" in result.output
    assert "Ignoring Python version requests" in result.output
    # The buildpack's own Python (3.10+) runs py-rattler: no CPython layer is installed.
    assert "Build tools: the buildpack's own Python" in result.output
    assert "Installing CPython" not in result.output
    cache = Cache.load(app.platform.workdir / "cache")
    assert cache is not None
    cached = cache.layers_for(BP_ID)
    assert "py-rattler" in cached and "cpython" not in cached
    assert app.python("import ctypes, flask; print(flask.__name__)") == "flask\n"


def test_bad_input_is_a_titled_error(tmp_path, buildpack, channel_url, conda_channel):
    """One app built once (a failed build saves no cache, so the tool layers stay cached from
    it), five bad inputs, then the good input again: its env is reused, untouched by them."""
    app = conda_flask_app(tmp_path, buildpack, channel_url)
    good = (app.dir / "environment.yml").read_text()
    app.build_ok()
    click = url_of(conda_channel, "click", channel_url)
    cases = [
        (
            {"environment.yml": "channels: [x]\ndependencies:\n  - python\n   - flask: [\n"},
            "Invalid environment.yml",
            "(at line 4, column 11)",
        ),
        (
            {"environment.yml": good.replace("libgreet", "nosuchpkg")},
            "Conda package not found",
            "nosuchpkg",
        ),
        (
            {"environment.yml": good.replace("libgreet", "blinker<1.9")},
            "Conflicting conda specs",
            "blinker >=1.9.0",
        ),
        (
            {"environment.yml": good.replace(channel_url, "http://127.0.0.1:9/nothing")},
            "Unable to reach a conda channel",
            "127.0.0.1:9",
        ),
        (
            {"package-list.txt": f"@EXPLICIT\n{click}#sha256:{'0' * 64}\n"},
            "Conda package checksum mismatch",
            "but package-list.txt expects " + "0" * 64,
        ),
    ]
    for files, title, says in cases:
        if "package-list.txt" in files:
            (app.dir / "environment.yml").unlink()
        app.write(files)
        result = app.build()
        assert not result.success and result.phase == "build", title
        error = result.output[result.output.index("[Error: ") :]
        assert error.startswith(f"[Error: {title}]"), error
        assert says in error and "How to fix:" in error and "Traceback" not in result.output
        assert "Reusing cached py-rattler 0.28.0" in result.output
    (app.dir / "package-list.txt").unlink()
    app.write({"environment.yml": good})
    assert "Reusing cached virtual environment" in app.build_ok().output


def test_condarc_binding_gives_channels_and_its_secret_stays_out_of_the_image(
    tmp_path, buildpack, channel_url, channel_server
):
    secret = "s3cr3t-conda-t0ken"
    app = conda_flask_app(tmp_path, buildpack, channel_url)
    spec = app.dir / "environment.yml"
    spec.write_text(spec.read_text().replace(f"channels:\n  - {channel_url}\n", ""))
    authed = channel_url.replace("http://", f"http://builder:{secret}@")
    result = app.build_ok(
        bindings={"conda": {"type": "conda", "condarc": f"channels:\n  - {authed}\n"}}
    )
    assert "Solving python=3.12, flask=3.1, libgreet from http://builder:****@" in result.output
    # rattler sent the credentials (the test server accepts any).
    basic = "Basic " + base64.b64encode(f"builder:{secret}".encode()).decode()
    authorized = {
        r.path
        for r in channel_server.requests
        if {k.lower(): v for k, v in r.headers.items()}.get("authorization") == basic
    }
    assert {"/noarch/repodata.json", "/noarch/flask-3.1.2-pyh_0.tar.bz2"} <= authorized
    image = result.image
    assert secret not in result.output
    assert secret not in json.dumps(image.config)
    for record in [*image.layers.values(), image.sbom_layer, image.app_layer]:
        assert secret.encode() not in Path(record.tar).read_bytes()


@pytest.mark.parametrize("change", [[], ["--lock-change", "environment.yml"]])
def test_verify_reproducible_on_a_vendored_conda_app(conda_channel, buildpack, tmp_path, change):
    """scripts/verify-reproducible (other temp roots, clocks, hash seeds and umasks) on the
    Flask app with the channel in vendor/: the conda sample that CI can build offline. Also
    after a lock change: the environment rebuilt on the old one's pycs is a cold build's."""
    app = tmp_path / "app"
    shutil.copytree(FIXTURES / "conda-flask", app)
    shutil.copytree(conda_channel.path, app / "vendor")
    spec = app / "environment.yml"
    spec.write_text(spec.read_text().replace("CHANNEL", "http://127.0.0.1:9/unused"))
    assert_reproducible(app, buildpack, *change)


_ENVIRONMENT = """\
channels:
  - CHANNEL
dependencies:
  - python=3.12
  - click
  - pip:
      - -e .  # the app itself
"""


def _project_app(root: Path, channel: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "environment.yml").write_text(_ENVIRONMENT.replace("CHANNEL", channel))
    (root / "pyproject.toml").write_text(HELLO_PROJECT)
    (root / "hello.py").write_text(HELLO_PY)


def test_a_code_change_reinstalls_the_pip_lists_project_alone(make_app, channel_url):
    """`- -e .` in the pip: list: its dependencies install with the list, the project after
    them, editable; an edit reinstalls the project alone."""
    app = make_app()
    _project_app(app.dir, channel_url)
    result = app.build_ok()
    assert "Installing the app's own projects (.)" in result.output
    assert "--requirement <the dependencies of .>" in result.output
    proc = app.platform.run(command=["hello"], timeout=120)
    assert proc.stdout == "hello from the project\n", proc.stderr[-2000:]
    editable = "import hello, gunicorn; print(hello.__file__, gunicorn.__name__)"
    assert app.python(editable) == "/workspace/hello.py gunicorn\n"
    (app.dir / "hello.py").write_text("def main():\n    print('changed')\n")
    changed = app.build_ok().output
    assert "Reinstalling the app's own projects: their files changed" in changed
    assert "py-rattler install" not in changed and "Installing the pip: subsection" not in changed
    proc = app.platform.run(command=["hello"], timeout=120)
    assert proc.stdout == "changed\n", proc.stderr[-2000:]


def test_a_code_change_to_a_pip_list_project_gives_a_cold_builds_bytes(
    conda_channel, buildpack, tmp_path
):
    """scripts/verify-reproducible --code-change, the channel inside the app."""
    app = tmp_path / "app"
    _project_app(app, "file:///workspace/channel")
    shutil.copytree(conda_channel.path, app / "channel")
    assert_reproducible(app, buildpack, "--code-change", "hello.py")
