"""The PID 1 SIGTERM hook (cnb_python/pid1.py, image_hooks/pid1_sigterm.py), run by `site` from
its .pth file in a Python that is PID 1 of a new PID namespace (`unshare --pid`, needs root).
The end-to-end runs, as the launcher starts each kind of process, are in
integration/test_sigterm.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from cnb_python import pid1

# Far above how long any of these take to stop; only the opt-out cases wait for it.
STILL_RUNNING_AFTER = 1.0


@pytest.fixture
def site_dir(tmp_path: Path) -> Path:
    module = pid1.install_hook(tmp_path / "site-packages")
    assert module.name == "_cnb_python_pid1_sigterm.py"
    return module.parent


def program(site_dir: Path, body: str) -> list[str]:
    """python -c: process site_dir's .pth files as `site` does at startup, then run `body`."""
    code = f"import site, sys\nsite.addsitedir({str(site_dir)!r})\n" + textwrap.dedent(body)
    return [sys.executable, "-c", code]


def start_pid1(argv: list[str], env: dict[str, str] | None = None, **kwargs):
    """`argv` as PID 1 of a new PID namespace; returns (unshare's Popen, PID 1's host pid)."""
    proc = subprocess.Popen(
        ["unshare", "--pid", "--fork", "--kill-child", "--", *argv],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        text=True,
        **kwargs,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "ready\n"
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    return proc, int(children[0])


def stop(proc: subprocess.Popen[str], pid: int) -> tuple[int | None, float]:
    """SIGTERM to PID 1 as `docker stop` sends it: (exit status or None if still running after
    STILL_RUNNING_AFTER, seconds it took)."""
    started = time.monotonic()
    os.kill(pid, signal.SIGTERM)
    try:
        code = proc.wait(timeout=STILL_RUNNING_AFTER)
    except subprocess.TimeoutExpired:
        proc.kill()  # --kill-child takes PID 1 along
        proc.wait()
        return None, STILL_RUNNING_AFTER
    return code, time.monotonic() - started


WAITS = {
    "sleep": "time.sleep(60)",
    "event wait": "threading.Event().wait()",
    "accept": "socket.create_server(('127.0.0.1', 0)).accept()",
}


@pytest.mark.parametrize("wait", list(WAITS))
def test_pid1_without_a_handler_stops_with_143(site_dir, wait):
    proc, pid = start_pid1(
        program(
            site_dir,
            f"""
            import os, socket, threading, time
            assert os.getpid() == 1
            print("ready", flush=True)
            {WAITS[wait]}
            """,
        )
    )
    code, took = stop(proc, pid)
    print(f"{wait}: exit {code} after {took:.3f} s")
    assert code == 128 + signal.SIGTERM


def test_the_opt_out_keeps_the_kernels_behaviour(site_dir):
    proc, pid = start_pid1(
        program(site_dir, 'print("ready", flush=True)\nimport time; time.sleep(60)'),
        env={"BPL_PYTHON_PID1_SIGTERM": "false"},
    )
    assert stop(proc, pid)[0] is None  # ignored, as without the hook


def test_an_apps_own_handler_wins(site_dir):
    body = """
        import signal, sys, time
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(7))
        print("ready", flush=True)
        time.sleep(60)
        """
    proc, pid = start_pid1(program(site_dir, body))
    assert stop(proc, pid)[0] == 7


def test_a_sigterm_ignored_at_start_stays_ignored(site_dir):
    proc, pid = start_pid1(
        program(site_dir, 'print("ready", flush=True)\nimport time; time.sleep(60)'),
        preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_IGN),
    )
    assert stop(proc, pid)[0] is None


def test_outside_pid1_the_module_is_not_even_imported(site_dir):
    code = """
        import signal
        print(signal.getsignal(signal.SIGTERM) is signal.SIG_DFL)
        print("_cnb_python_pid1_sigterm" in sys.modules)
        """
    out = subprocess.run(program(site_dir, code), capture_output=True, text=True, check=True)
    assert out.stdout == "True\nFalse\n"


def test_a_forked_child_of_pid1_dies_by_the_signal_as_anywhere(site_dir):
    body = """
        import os, signal, time
        assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
        child = os.fork()
        if child == 0:
            os.write(1, repr(signal.getsignal(signal.SIGTERM) is signal.SIG_DFL).encode())
            time.sleep(60)
            os._exit(0)
        time.sleep(0.3)
        os.kill(child, signal.SIGTERM)
        _, status = os.waitpid(child, 0)
        print(" killed by", os.WTERMSIG(status) if os.WIFSIGNALED(status) else None)
        print("ready", flush=True)
        """
    out = subprocess.run(
        ["unshare", "--pid", "--fork", "--kill-child", "--", *program(site_dir, body)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert out.stdout == f"True killed by {int(signal.SIGTERM)}\nready\n"
