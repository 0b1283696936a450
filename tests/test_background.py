"""Work run in a thread while CPython installs: its value, its error, its log."""

from __future__ import annotations

import io
import threading

import pytest

from cnb_python.background import Background
from cnb_python.errors import UserError
from cnb_python.log import Logger


def test_the_value_and_the_log_come_when_the_build_takes_them():
    out = io.StringIO()
    log = Logger(out, io.StringIO())
    started = threading.Event()

    def work(held: Logger) -> int:
        held.step("Downloading pip")
        started.set()
        return 42

    pending = Background(work, log)
    started.wait(10)
    log.section("Installing CPython")
    log.section("Installing pip")
    assert pending.result(log) == 42
    assert out.getvalue() == "  Installing CPython\n  Installing pip\n    Downloading pip\n"


def test_an_error_in_the_thread_is_raised_in_the_build_after_its_log():
    out = io.StringIO()
    log = Logger(out, io.StringIO())

    def work(held: Logger) -> None:
        held.step("Downloading pip")
        raise UserError("Unable to download pip", "It failed.", "Retry.")

    pending = Background(work, log)
    with pytest.raises(UserError, match="Unable to download pip"):
        pending.result(log)
    assert out.getvalue() == "    Downloading pip\n"
