"""uv apps end to end, with real packages from PyPI."""

from __future__ import annotations

import json
import urllib.request

import pytest
from conftest import SAMPLES, App, free_port

BP_ID = "cnb-python/python"
VENV = "/layers/cnb-python_python/venv"


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


@pytest.fixture(scope="module")
def fastapi_app(tmp_path_factory, buildpack):
    """The uv-fastapi sample, built once for the read-only checks below."""
    app = App(tmp_path_factory.mktemp("uv-fastapi"), buildpack, SAMPLES / "uv-fastapi")
    app.first = app.build_ok()
    return app


def test_fastapi_sample_answers_http(fastapi_app):
    output = fastapi_app.first.output
    assert "Package manager: uv (uv.lock) (uv.lock found)" in output
    assert "Running 'uv sync --locked --no-dev --no-editable'" in output
    assert set(fastapi_app.first.image.layers) == {f"{BP_ID}:cpython", f"{BP_ID}:venv"}
    port = free_port()
    with fastapi_app.platform.start("web", env={"PORT": str(port)}) as running:
        running.wait_for_port(port)
        assert json.loads(get(f"http://127.0.0.1:{port}/")) == {
            "message": "Hello from FastAPI on Python 3.12"
        }
