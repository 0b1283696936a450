"""The contract every package manager keeps, on its sample app: the app answers HTTP, its
dependencies load from valid hash-based bytecode, no build tool reaches the image, and an
unchanged rebuild reuses every layer and runs no tool. What is particular to a manager stays in
its own test file."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from conftest import BP_ID, MANAGER_SAMPLES, free_port, http_get

from cnb_python.managers import MANAGERS


@dataclass(frozen=True)
class Contract:
    says: tuple[str, ...]  # lines of the first build's log
    body: str  # what GET / answers starts with
    imports: str  # modules whose import must load only valid pycs
    layers: tuple[str, ...] = ("cpython", "venv")  # the launch layers of the image
    tools: tuple[str, ...] | None = None  # the build-only tools its build installs; None: all


FLASK = "flask, gunicorn.app.wsgiapp, jinja2, werkzeug"
CONTRACTS = {
    "pip": Contract(
        (
            "Package manager: pip (requirements.txt) (requirements.txt found)",
            "Running 'pip install --no-input",
        ),
        "Hello from Flask on Python 3.12",
        FLASK,
    ),
    "uv": Contract(
        (
            "Package manager: uv (uv.lock) (uv.lock found)",
            "Running 'uv sync --locked --no-default-groups --no-install-project --no-editable'",
        ),
        '{"message":"Hello from FastAPI on Python 3.12"}',
        "fastapi, uvicorn, pydantic, starlette",
    ),
    "poetry": Contract(
        (
            "Package manager: Poetry (poetry.lock, main group) (poetry.lock found)",
            "poetry.lock is up to date: its content-hash is pyproject.toml's",
            "Ignoring colorama: markers",  # Windows-only: skipped, not fatal
        ),
        "Hello from Flask on Python 3.12",
        FLASK,
        tools=("pip",),  # the lock is checked and exported without Poetry
    ),
    "pdm": Contract(
        (
            "Package manager: PDM (pdm.lock, default group) (pdm.lock found)",
            "pdm.lock is up to date: its content_hash is pyproject.toml's",
            "Ignoring colorama: markers",  # Windows-only: skipped, not fatal
        ),
        "Hello from Flask on Python 3.12",
        FLASK,
        tools=("pip",),  # the lock is checked and exported without PDM
    ),
    "pipenv": Contract(
        (
            "Package manager: Pipenv (Pipfile.lock) (Pipfile.lock found)",
            "Pipfile.lock is up to date: its _meta.hash is the Pipfile's",
        ),
        "Hello from Flask on Python 3.12",
        FLASK,
        tools=("pip",),  # the lock's hash is checked without Pipenv
    ),
    "conda": Contract(
        (
            "Package manager: conda (environment.yml, installed with py-rattler)",
            "Running 'py-rattler install (environment.yml)'",
            "pip install (the pip: subsection of environment.yml)",
        ),
        "Hello from libgreet to Flask on Python 3.12.1\n",
        "flask, gunicorn, jinja2, json, email.parser",  # the stdlib is the environment's too
        layers=("venv",),  # the app's Python is conda's: no CPython layer
    ),
    "pylock": Contract(
        (
            "Package manager: pylock.toml (pylock.toml, installed with pip) (pylock.toml found)",
            "--no-deps --require-hashes --requirement=pylock.toml'",
        ),
        "Hello from Flask on Python 3.12",
        FLASK,
    ),
    "pixi": Contract(
        (
            "Package manager: pixi (pixi.lock, environment default, installed with py-rattler) "
            "(pixi.lock found)",
            "Running 'py-rattler install (pixi.lock, environment default)'",
            "Running 'pip install --require-hashes --no-deps --requirement <the PyPI packages of "
            "pixi.lock>'",
        ),
        "Hello from libgreet to Flask on Python 3.12.1\n",
        "flask, gunicorn, jinja2, json, email.parser",
        layers=("venv",),  # the app's Python is the lock's: the CPython layer is build-only
    ),
}
MANAGER_IDS = [m.name for m in MANAGERS]


def test_every_manager_has_a_sample_and_a_contract():
    assert set(CONTRACTS) == set(MANAGER_SAMPLES) == set(MANAGER_IDS)


@pytest.fixture(params=MANAGERS, ids=MANAGER_IDS)
def manager(request):
    return request.param


def test_sample_answers_http(built_sample, manager):
    app, contract = built_sample(manager.name), CONTRACTS[manager.name]
    for line in contract.says:
        assert line in app.first.output
    assert set(app.first.image.layers) == {f"{BP_ID}:{name}" for name in contract.layers}
    port = free_port()
    with app.platform.start("web", env={"PORT": str(port)}) as running:
        running.wait_for_port(port)
        assert http_get(f"http://127.0.0.1:{port}/").startswith(contract.body)


def test_dependencies_load_from_valid_bytecode(built_sample, manager):
    hits, misses = built_sample(manager.name).bytecode_misses(CONTRACTS[manager.name].imports)
    assert misses == []
    assert hits > 100


_FIND_TOOLS = """
import importlib.metadata as m, json, os, sys
tools = json.loads(sys.argv[1])
dists = {d.metadata["Name"].lower() for d in m.distributions()}
on_path = [os.path.join(d, t) for d in os.environ["PATH"].split(":") if d.startswith("/layers/")
           for t in tools if os.path.exists(os.path.join(d, t))]
print(json.dumps({"dists": sorted(dists & set(tools)), "on_path": on_path}))
"""


def test_no_build_tool_is_in_the_image(built_sample, manager):
    app = built_sample(manager.name)
    layers = {name.split(":", 1)[1] for name in app.first.image.layers}
    assert layers.isdisjoint(manager.tools)
    proc = app.platform.run(
        command=["python", "-c", _FIND_TOOLS, json.dumps(list(manager.tools))], timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout) == {"dists": [], "on_path": []}


def test_an_unchanged_rebuild_reuses_every_layer_and_runs_no_tool(built_sample, manager):
    app = built_sample(manager.name)
    output = app.again.output
    assert "Reusing cached virtual environment: the install inputs are unchanged" in output
    used = CONTRACTS[manager.name].tools or manager.tools
    for tool in manager.tools:
        assert (f"Installing {tool} " in app.first.output) == (tool in used)
        assert (f"Reusing cached {tool} " in output) == (tool in used)
        assert f"Running '{tool}" not in output
    assert "Installing dependencies" not in output
    assert {k: v.sha256 for k, v in app.again.image.layers.items()} == {
        k: v.sha256 for k, v in app.first.image.layers.items()
    }
