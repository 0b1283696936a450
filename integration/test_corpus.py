"""The corpus of real-world layouts (issue 18), pip and conda: each modelled on its tool's own
documentation (see each app's README.md), built end to end, served, and reproducible."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import FIXTURES, SAMPLES, VENV, assert_reproducible, free_port, http_get
from testsupport.later_buildpack import make_later_buildpack

from localcnb import Platform


def test_pip_layouts_sample_installs_every_line_and_answers_http(make_app):
    """BP_PIP_REQUIREMENT (from project.toml, as pack reads it) names requirements/prod.txt,
    which nests base.txt: constraints, index options, find-links, editable local projects, a
    direct URL with its hash, extras and markers."""
    app = make_app(SAMPLES / "pip-layouts")
    result = app.build_ok()
    assert "Installing dependencies with pip (requirements/prod.txt)" in result.output
    found = app.python(
        "import importlib.metadata as m, json\n"
        "names = ('asgiref', 'colorama', 'greeting', 'itsdangerous', 'layouts-app', 'motd', "
        "'tomli', 'werkzeug')\n"
        "found = {}\n"
        "for name in names:\n"
        "    try:\n"
        "        d = m.distribution(name)\n"
        "    except m.PackageNotFoundError:\n"
        "        continue\n"
        "    url = json.loads(d.read_text('direct_url.json') or '{}')\n"
        "    found[name] = (d.version, url.get('url'), url.get('dir_info', {}).get('editable'))\n"
        "print(json.dumps(found, sort_keys=True))"
    )
    wheel = (
        "https://files.pythonhosted.org/packages/04/96/92447566d16df59b2a776c0fb82dbc4d9e07cd9"
        "5062562af01e408583fc4/itsdangerous-2.2.0-py3-none-any.whl"
    )
    assert json.loads(found) == {
        "asgiref": ["3.9.2", None, None],  # flask[async], at the version of constraints.txt
        "greeting": ["1.0", "file:///workspace/libs/greeting", True],
        "itsdangerous": ["2.2.0", wheel, None],
        "layouts-app": ["1.0", "file:///workspace", True],
        "motd": ["1.0", None, None],  # from wheels/ (--find-links)
        "werkzeug": ["3.1.9", None, None],
    }  # no tomli (python_version < "3.11") nor colorama (win32)
    port = free_port()
    with app.platform.start("web", env={"PORT": str(port)}) as running:
        running.wait_for_port(port)
        body = http_get(f"http://127.0.0.1:{port}/")
    assert body.startswith("Hello from pip's layouts. The wheel came from --find-links.")
    # An edited library reinstalls the projects alone (their files are the project step's
    # key), editable again; the same inputs are reused.
    (app.dir / "libs/greeting/greeting/__init__.py").write_text(
        'def greet() -> str:\n    return "Hi."\n'
    )
    rebuilt = app.build_ok().output
    assert "Reinstalling the app's own projects: their files changed" in rebuilt
    assert "--no-deps --no-build-isolation -e . -e ./libs/greeting'" in rebuilt
    assert app.python("import greeting; print(greeting.greet())") == "Hi.\n"
    assert "Reusing cached virtual environment" in app.build_ok().output


def conda_corpus_app(root: Path, channel_url: str) -> Path:
    """A copy of the conda corpus fixture, its channel the session's local one."""
    app = root / "app"
    shutil.copytree(FIXTURES / "conda-corpus", app)
    spec = app / "environment.yaml"
    spec.write_text(spec.read_text().replace("CHANNEL", channel_url))
    return app


def test_conda_corpus_builds_answers_http_and_sets_its_variables(tmp_path, buildpack, channel_url):
    """environment.yaml with nodefaults, channel::package, a pip: list with --index-url and
    -r, and variables, which a later buildpack sees at build and the app at launch."""
    later = make_later_buildpack(
        tmp_path / "later",
        'echo "later buildpack sees APP_MODE=$APP_MODE CONDA_PREFIX=$CONDA_PREFIX"',
    )
    platform = Platform(tmp_path / "platform", [buildpack, later])
    result = platform.build(conda_corpus_app(tmp_path, channel_url))
    assert result.success, result.output[-4000:]
    assert "Package manager: conda (environment.yaml, installed with py-rattler)" in result.output
    assert "`nodefaults`: no default channels are added" in result.output
    assert "Ignoring `name:` in environment.yaml" in result.output
    assert "Environment variables: APP_MODE, GREETING_SUFFIX" in result.output
    assert f"later buildpack sees APP_MODE=production CONDA_PREFIX={VENV}" in result.output
    assert "condaenv" not in "".join(p.name for p in (tmp_path / "app").iterdir())
    port = free_port()
    with platform.start("web", env={"PORT": str(port)}) as running:
        running.wait_for_port(port)
        body = http_get(f"http://127.0.0.1:{port}/")
    assert body == "Hello from libgreet from the environment's variables (production)\n"


def test_conda_corpus_reproduces(tmp_path, buildpack, channel_url):
    """scripts/verify-reproducible --warm: two clean builds and a rebuild that reuses the
    environment, its variables included."""
    assert_reproducible(conda_corpus_app(tmp_path, channel_url), buildpack, "--warm", timeout=1800)
