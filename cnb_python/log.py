"""Build output in the shape users know from Paketo: a title, indented steps, timings.

Levels: title (column 0), section (2), step (4), detail (6). Warnings and errors go to stderr.
Every line passes through redaction, so credentials in URLs or known secret values never
reach the log.
"""

from __future__ import annotations

import io
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/@\s]+)@")


def _redact_userinfo(match: re.Match[str]) -> str:
    user, has_password, _ = match.group("userinfo").partition(":")
    # user:password keeps the user; a lone user part is usually a token.
    return f"{match.group('scheme')}{user + ':****' if has_password else '****'}@"


def redact_urls(text: str) -> str:
    """https://user:secret@host -> https://user:****@host; https://token@host -> https://****@host"""
    return _URL_USERINFO.sub(_redact_userinfo, text)


def format_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.3f}s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}m{rest:.3f}s"


def format_size(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


class Logger:
    def __init__(
        self, out: TextIO | None = None, err: TextIO | None = None, debug: bool = False
    ) -> None:
        self._out = out or sys.stdout
        self._err = err or sys.stderr
        self.debug_enabled = debug
        self._secrets: set[str] = set()

    def add_secret(self, value: str) -> None:
        """Never print this value (a password from a binding or an index URL, say)."""
        if len(value) >= 4:
            self._secrets.add(value)

    def redact(self, text: str) -> str:
        text = redact_urls(text)
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, "****")
        return text

    def _print(self, indent: int, text: str, stream: TextIO | None = None) -> None:
        stream = stream or self._out
        for line in self.redact(text).splitlines() or [""]:
            stream.write(f"{' ' * indent}{line}".rstrip() + "\n")
        stream.flush()

    def held(self) -> Logger:
        """A logger whose lines wait for `release`: work running in a thread logs into it, and
        its lines reach the build log under the step they belong to, not amid another's."""
        held = Logger(io.StringIO(), io.StringIO(), self.debug_enabled)
        held._secrets = self._secrets
        return held

    def release(self, held: Logger) -> None:
        for source, stream in ((held._out, self._out), (held._err, self._err)):
            assert isinstance(source, io.StringIO)
            stream.write(self.redact(source.getvalue()))  # with the secrets known by now
            source.seek(0)
            source.truncate()
        self._out.flush()

    def title(self, text: str) -> None:
        self._print(0, text)

    def section(self, text: str) -> None:
        self._print(2, text)

    def step(self, text: str) -> None:
        self._print(4, text)

    def detail(self, text: str) -> None:
        self._print(6, text)

    def blank(self) -> None:
        self._out.write("\n")

    def debug(self, text: str) -> None:
        if self.debug_enabled:
            self._print(6, f"[debug] {text}")

    def warning(self, title: str, body: str) -> None:
        self._print(2, f"[Warning: {title}]", self._err)
        self._print(4, body, self._err)

    def error(self, rendered: str) -> None:
        self._err.write("\n")
        self._print(0, rendered, self._err)

    @contextmanager
    def timed(self) -> Iterator[None]:
        """Print `Completed in …` under the current step once the block succeeds."""
        start = time.monotonic()
        yield
        self.detail(f"Completed in {format_duration(time.monotonic() - start)}")
