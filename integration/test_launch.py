"""Apps as production containers run them: PID 1 of their own PID namespace, on a run image
base apart from the host, stopped with SIGTERM as `docker stop` does."""

from __future__ import annotations

import os
import signal
import subprocess
import urllib.request

import pytest
from conftest import GRACE_PERIOD, SAMPLES, App, free_port, sigterm


@pytest.fixture(scope="module")
def flask_app(tmp_path_factory, buildpack):
    app = App(tmp_path_factory.mktemp("flask"), buildpack, SAMPLES / "pip-flask")
    app.build_ok()
    return app


def test_procfile_shell_command_is_execd(flask_app):
    web = next(p for p in flask_app.platform.image.processes if p["type"] == "web")
    assert web["command"] == [
        "sh",
        "-c",
        "exec gunicorn app:app --bind 0.0.0.0:${PORT:-8080} --workers 2",
    ]


def test_sigterm_to_pid1_stops_gunicorn_gracefully(flask_app):
    port = free_port()
    with flask_app.platform.start("web", env={"PORT": str(port)}) as running:
        running.wait_for_port(port)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            assert response.status == 200
        code, took = sigterm(running)
        output = running.output()
    print(f"gunicorn (Procfile, pip): exit {code} after {took:.2f} s")
    assert code == 0, output
    assert took < GRACE_PERIOD / 2, output
    assert "Handling signal: term" in output
    assert "Shutting down: Master" in output


def test_a_shell_as_pid1_ignores_sigterm(flask_app):
    """The platform is faithful: a PID 1 without a SIGTERM handler does not stop."""
    with flask_app.platform.start(command=["sh", "-c", "sleep 60; true"]) as running:
        os.kill(running.pid, signal.SIGTERM)
        with pytest.raises(subprocess.TimeoutExpired):
            running.proc.wait(timeout=1.5)
        os.kill(running.pid, signal.SIGKILL)
        assert running.proc.wait(timeout=10) == 128 + signal.SIGKILL


def test_the_launched_process_is_pid_1(flask_app):
    proc = flask_app.platform.run(command=["sh", "-c", "echo $$"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "1\n"


def test_host_python_pip_and_compiler_are_not_visible(flask_app):
    out = flask_app.python(
        "import os, shutil, ssl, sqlite3, ctypes, lzma, bz2, zlib, uuid, readline; "
        "print([t for t in ('pip', 'pip3', 'gcc', 'cc', 'apt-get', 'dpkg') if shutil.which(t)]); "
        "print([p for p in ('/usr/bin/python3', '/usr/lib/gcc', '/usr/include', '/root', "
        "'/usr/local/bin/python3') if os.path.exists(p)]); "
        "print(shutil.which('python3'), shutil.which('sh'), ssl.OPENSSL_VERSION.split()[0])"
    )
    assert out.splitlines() == [
        "[]",
        "[]",
        "/layers/cnb-python_python/venv/bin/python3 /usr/bin/sh OpenSSL",
    ]
