"""Python as the container's PID 1 stops on SIGTERM (docs/pid1.md), for every kind of process,
as the launcher starts it: PID 1 of its own PID namespace, signalled as `docker stop` does.

Each case prints its exit status and stop time (run with -s to see them); the only timing
asserted is the functional one: it stopped within the platform's grace period. The opt-out
cases show today's kernel behaviour instead: SIGTERM ignored, the process still running.
The console-script default of a package project and uvicorn are in test_uv.py; gunicorn under
a Procfile shell command in test_launch.py.
"""

from __future__ import annotations

import os
import signal

import pytest
from conftest import GRACE_PERIOD, SAMPLES, VENV, App, free_port, sigterm

CPYTHON = "/layers/cnb-python_python/cpython"
HOOK = "_cnb_python_pid1_sigterm"
OPT_OUT = {"BPL_PYTHON_PID1_SIGTERM": "false"}
# How long an opt-out case must keep running to show SIGTERM was ignored.
IGNORED_FOR = 1.5


@pytest.fixture(scope="module")
def stdlib_app(tmp_path_factory, buildpack):
    """No package manager: `python app.py` runs the CPython layer's python."""
    app = App(tmp_path_factory.mktemp("stdlib"), buildpack, SAMPLES / "no-package-manager")
    app.result = app.build_ok()
    return app


@pytest.fixture(scope="module")
def django_app(tmp_path_factory, buildpack):
    """A pip venv with Django, gunicorn and waitress (whose console script `waitress-serve`
    installs no signal handler), each kind of process as a Procfile entry."""
    app = App(tmp_path_factory.mktemp("django"), buildpack, SAMPLES / "pip-django")
    requirements = (app.dir / "requirements.txt").read_text() + "waitress==3.0.2\n"
    procfile = "\n".join(f"{kind}: {command}" for kind, (command, _) in PROCFILE.items())
    app.write({"requirements.txt": requirements, "Procfile": procfile + "\n"})
    app.result = app.build_ok()
    return app


# type: (command, exit status on SIGTERM). Django's autoreloader (runserver's default) and the
# gunicorn master handle SIGTERM themselves and exit 0; the others are stopped by the hook.
PROCFILE = {
    "web": ("gunicorn mysite.wsgi --bind 0.0.0.0:$PORT", 0),
    "script": ("waitress-serve --listen=0.0.0.0:$PORT mysite.wsgi:application", 143),
    "module": ("python -m http.server $PORT", 143),
    "runserver": ("python manage.py runserver 0.0.0.0:$PORT", 0),
    "runserver-noreload": ("python manage.py runserver --noreload 0.0.0.0:$PORT", 143),
}


def stop_started(app: App, process: str | None, command: list[str] | None = None, env=None):
    """Start a process (`{port}` in `command` is its port), SIGTERM it once it listens:
    (exit status, seconds it took, output). Still running after the wait: SIGKILL, as
    `docker stop` does after the grace period."""
    port = free_port()
    command = [part.replace("{port}", str(port)) for part in command] if command else None
    with app.platform.start(process, env={"PORT": str(port), **(env or {})}, command=command) as (
        running
    ):
        running.wait_for_port(port)
        code, took = sigterm(running, wait=IGNORED_FOR if env else GRACE_PERIOD)
        if code is None:
            os.kill(running.pid, signal.SIGKILL)
            code = running.proc.wait(timeout=10)
        return code, took, running.output()


@pytest.mark.parametrize("process", list(PROCFILE))
def test_each_kind_of_process_stops_on_sigterm(django_app, process):
    command, expected = PROCFILE[process]
    code, took, output = stop_started(django_app, process)
    print(f"{process} ({command.split(' $')[0]}): exit {code} after {took:.2f} s")
    assert code == expected, output
    assert took < GRACE_PERIOD, output


@pytest.mark.parametrize(
    ("case", "process", "command"),
    [
        ("python app.py (default)", "web", None),
        ("python -m http.server", None, ["python", "-m", "http.server", "{port}"]),
    ],
)
def test_the_cpython_layers_python_stops_on_sigterm(stdlib_app, case, process, command):
    code, took, output = stop_started(stdlib_app, process, command)
    print(f"{case}: exit {code} after {took:.2f} s")
    assert code == 128 + signal.SIGTERM, output


@pytest.mark.parametrize(
    ("case", "fixture", "process"),
    [("python app.py", "stdlib_app", "web"), ("waitress-serve", "django_app", "script")],
)
def test_the_opt_out_restores_ignoring_sigterm(request, case, fixture, process):
    app = request.getfixturevalue(fixture)
    code, took, output = stop_started(app, process, env=OPT_OUT)
    print(f"{case}, BPL_PYTHON_PID1_SIGTERM=false: running {took} s after SIGTERM, exit {code}")
    assert code == 128 + signal.SIGKILL, output


def test_no_advice_about_python_as_pid1_in_the_build_log(stdlib_app):
    assert "Assigning launch processes (app.py exists):" in stdlib_app.result.output
    assert "PID 1" not in stdlib_app.result.output


@pytest.mark.parametrize(("fixture", "site"), [("stdlib_app", CPYTHON), ("django_app", VENV)])
def test_the_hook_loads_from_hash_based_bytecode(request, fixture, site):
    """The launched `python -v` is PID 1, so it imports the hook; its pyc is valid."""
    app = request.getfixturevalue(fixture)
    assert app.bytecode_misses("os")[1] == []
    proc = app.platform.run(command=["python", "-v", "-c", "pass"], timeout=120)
    pyc = f"/site-packages/__pycache__/{HOOK}.cpython-"
    loaded = [
        line for line in proc.stderr.splitlines() if "code object from" in line and pyc in line
    ]
    assert len(loaded) == 1 and loaded[0].startswith(f"# code object from '{site}/lib/python3")
