"""The subprocess runner stops what it started: at a command's deadline, and when the build is
interrupted (SIGTERM, SIGINT), every process below it, orphans included, within 5 s."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from cnb_python.errors import UserError
from cnb_python.log import Logger
from cnb_python.run import Deadline, alive, descendants, run

REPO = Path(__file__).resolve().parents[1]
# A child that starts a grandchild, and an orphan whose parent has already exited; each one's
# pid in a file of that name in the directory argv[1].
SPAWN = """
import os, subprocess, sys, time
d = sys.argv[1]
child = subprocess.Popen(["sh", "-c", f"sleep 300 & echo $! > {d}/grandchild; sleep 300"])
open(f"{d}/child", "w").write(str(child.pid))
subprocess.run(["sh", "-c", f"sleep 300 & echo $! > {d}/orphan"], check=True)
"""
NAMES = ("child", "grandchild", "orphan")


def read_pids(directory: Path) -> dict[str, int]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            return {name: int((directory / name).read_text()) for name in NAMES}
        except (OSError, ValueError):
            time.sleep(0.02)
    raise AssertionError(f"not all of {NAMES} in {directory}")


def test_a_command_past_its_deadline_is_stopped_with_what_it_started(tmp_path):
    pids = tmp_path
    code = SPAWN + "print('working', flush=True); time.sleep(300)"
    out = io.StringIO()
    started = time.monotonic()
    with pytest.raises(UserError) as error:
        run(
            [sys.executable, "-c", code, str(pids)],
            env={"PATH": os.environ["PATH"]},
            log=Logger(out, out),
            show="slow-step",
            error_title="failed",
            error_fix="",
            deadline=Deadline(time.monotonic() + 3, 3, "The slow step timed out", "Wait less."),
        )
    assert time.monotonic() - started < 10
    assert error.value.render() == (
        "[Error: The slow step timed out]\n\n"
        "  The command 'slow-step' was stopped: the step's deadline of 3 seconds passed.\n\n"
        "  The end of its output:\n    working\n\n"
        "  How to fix:\n    Wait less."
    )
    # The child, its child, and the orphan (reparented away, but holding the output open).
    assert not any(alive(pid) for pid in read_pids(pids).values())


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_an_interrupted_build_stops_every_process_below_it(tmp_path, sig):
    """A build interrupted mid-command: the command, its child, and an orphan whose parent
    exited before (the build is their subreaper) are all gone, and the build ends at once
    with 128 + the signal, running nothing after the command (it would declare a layer)."""
    pids = tmp_path / "pids"
    pids.mkdir()
    declared = tmp_path / "layer.toml"
    build = textwrap.dedent(f"""
        import io, sys
        sys.path.insert(0, {str(REPO)!r})
        from cnb_python.log import Logger
        from cnb_python.run import run, stop_on_interrupt
        stop_on_interrupt()
        log = Logger(sys.stdout, sys.stdout)
        run([sys.executable, "-c", {SPAWN + "time.sleep(300)"!r}, {str(pids)!r}],
            env={{}}, log=log, error_title="", error_fix="")
        open({str(declared)!r}, "w").close()
        """)
    proc = subprocess.Popen([sys.executable, "-c", build], stderr=subprocess.PIPE, text=True)
    below = list(read_pids(pids).values())
    # The orphan too, once its parent's exit has reparented it to the build (a moment after
    # its pid is written: until then a scan can see neither parent nor orphan).
    deadline = time.monotonic() + 5
    while not set(below) <= set(descendants(proc.pid)) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert set(below) <= set(descendants(proc.pid))
    started = time.monotonic()
    proc.send_signal(sig)
    code = proc.wait(timeout=10)
    took = time.monotonic() - started
    assert code == 128 + sig
    assert took < 5
    assert not any(alive(pid) for pid in below)
    assert not declared.exists()
    assert proc.stderr is not None
    stderr = proc.stderr.read()
    assert f"Build interrupted ({signal.Signals(sig).name})" in stderr
    print(f"{signal.Signals(sig).name}: every process gone, build ended {code} in {took:.2f} s")
