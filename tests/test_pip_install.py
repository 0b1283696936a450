"""The shared pip install leaves the app dir as it was, except around a run that goes on
meanwhile (the build backends' install alongside the dependencies')."""

import os
from pathlib import Path

import pytest

from cnb_python.log import Logger
from cnb_python.managers.pip import PipOptions, pip_install
from cnb_python.tools import Tool


def fake_pip(tmp_path: Path) -> Tool:
    """A "pip" that builds in place, as pip does a local project: it leaves build/ behind."""
    script = tmp_path / "pip"
    script.write_text("#!/bin/sh\nmkdir -p build && touch build/artifact\n")
    os.chmod(script, 0o755)
    return Tool("pip", "0", tmp_path, executable=script)


@pytest.mark.parametrize("builds_in_app", [True, False])
def test_what_a_run_leaves_in_the_app_goes_unless_it_builds_nothing_there(tmp_path, builds_in_app):
    app = tmp_path / "app"
    app.mkdir()
    pip_install(
        tmp_path / "venv",
        fake_pip(tmp_path),
        ["--target", "site", "setuptools"],
        app=app,
        options=PipOptions(None, None),
        env={"PATH": os.environ["PATH"]},
        log=Logger(),
        builds_in_app=builds_in_app,
    )
    # builds_in_app=False: what is new is another run's, which removes it when it ends.
    assert (app / "build" / "artifact").exists() is not builds_in_app
