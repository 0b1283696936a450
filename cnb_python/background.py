"""Work run in a thread while the build goes on: a build tool's download and unpack while
CPython installs (tools.start_tools), a lock check while the dependencies install (alongside).
Its log lines are held until the build takes the result, so they appear under the step they
belong to."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from cnb_python.errors import UserError
from cnb_python.log import Logger

T = TypeVar("T")


class Background(Generic[T]):
    def __init__(self, work: Callable[[Logger], T], log: Logger) -> None:
        self._log = log.held()
        self._value: T | None = None
        self._error: BaseException | None = None
        # A daemon: a build that fails meanwhile exits without waiting for it (downloads have
        # timeouts of their own, so `result` never waits forever).
        self._thread = threading.Thread(target=self._run, args=(work,), daemon=True)
        self._thread.start()

    def _run(self, work: Callable[[Logger], T]) -> None:
        try:
            self._value = work(self._log)
        except BaseException as e:  # re-raised in the build's thread by `result`
            self._error = e

    def result(self, log: Logger) -> T:
        """Waits for the work, writes its log lines to `log`, and returns its value or raises
        its error (a UserError stays one)."""
        self._thread.join()
        log.release(self._log)
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]

    def join(self) -> None:
        """Waits for the work, leaving its log lines and its outcome: the build has failed
        meanwhile, and the work's tool must not go on writing once bin/build exits."""
        self._thread.join()


def alongside(what: str, check: Callable[[Logger], None], work: Callable[[], T], log: Logger) -> T:
    """`work` while `check` (`what` names it in the log) runs in a thread: a lock check next to
    the install it guards, since the check is mostly its tool's start-up (a second or two
    without pycs). The check's error wins, a stale lock explaining a failed install; its log
    lines follow the work's."""
    log.step(f"{what}, alongside the install (its output follows the install's)")
    checking = Background(check, log)
    try:
        value = work()
    except UserError:
        checking.result(log)
        raise
    checking.result(log)
    return value
