"""The build log: collected for :class:`BuildResult`, optionally echoed as it happens."""

from __future__ import annotations

import codecs
import os
import subprocess
from collections.abc import Callable
from typing import TextIO


class Log:
    def __init__(self, echo: TextIO | None = None):
        self.parts: list[str] = []
        self.echo = echo

    def write(self, text: str) -> None:
        self.parts.append(text)
        if self.echo is not None:
            self.echo.write(text)
            self.echo.flush()

    def line(self, text: str) -> None:
        self.write(text + "\n")

    def lines(self, lines: list[str]) -> None:
        for text in lines:
            self.line(text)

    def stream(
        self, proc: subprocess.Popen[bytes], watch: Callable[[str], None] | None = None
    ) -> int:
        """Copy a child's (stdout+stderr) pipe into the log until it closes; return its status.
        ``watch`` sees the text as it arrives."""
        assert proc.stdout is not None
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        fd = proc.stdout.fileno()
        while chunk := os.read(fd, 65536):
            text = decoder.decode(chunk)
            self.write(text)
            if watch is not None:
                watch(text)
        self.write(decoder.decode(b"", final=True))
        proc.stdout.close()
        return proc.wait()

    def text(self) -> str:
        return "".join(self.parts)
