"""Work run in a thread while CPython installs: its value, its error, its log."""

from __future__ import annotations

import io
import threading

import pytest

from cnb_python.background import Background, alongside
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


def check_failing(held: Logger) -> None:
    held.step("Running 'pdm lock --check'")
    raise UserError("pdm.lock is out of date", "Stale.", "Run `pdm lock`.")


def test_alongside_returns_the_work_and_logs_the_check_after_it():
    out = io.StringIO()
    log = Logger(out, io.StringIO())

    def check(held: Logger) -> None:
        held.step("Running 'pipenv verify'")

    def work() -> str:
        log.step("Running 'pip install'")
        return "installed"

    assert alongside("Checking Pipfile.lock", check, work, log) == "installed"
    assert out.getvalue() == (
        "    Checking Pipfile.lock, alongside the install (its output follows the install's)\n"
        "    Running 'pip install'\n"
        "    Running 'pipenv verify'\n"
    )


def test_a_failed_check_fails_a_finished_install():
    log = Logger(io.StringIO(), io.StringIO())
    with pytest.raises(UserError, match=r"pdm\.lock is out of date"):
        alongside("Checking pdm.lock", check_failing, lambda: None, log)


def test_the_checks_error_wins_over_the_installs():
    """A stale lock explains why its install failed: that is the error the user sees."""
    log = Logger(io.StringIO(), io.StringIO())

    def work() -> None:
        raise UserError("A locked package is not on the index", "Missing.", "Lock again.")

    with pytest.raises(UserError, match=r"pdm\.lock is out of date"):
        alongside("Checking pdm.lock", check_failing, work, log)
