"""What a set of requirements files depends on: nested -r/-c files and local paths.

Only what affects the reuse key is parsed; pip itself reads the files for the install.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

_NESTED = {
    "-r": "requirement",
    "--requirement": "requirement",
    "-c": "constraint",
    "--constraint": "constraint",
}
_LOCAL_OPTIONS = ("-e", "--editable", "-f", "--find-links")


@dataclass
class RequirementInputs:
    files: list[Path] = field(default_factory=list)  # every requirements/constraints file
    local_paths: list[Path] = field(default_factory=list)  # directories or files pip reads


def _logical_lines(text: str) -> list[str]:
    lines, current = [], ""
    for raw in text.splitlines():
        if raw.endswith("\\"):
            current += raw[:-1]
            continue
        lines.append(current + raw)
        current = ""
    if current:
        lines.append(current)
    # A comment starts at a "#" at the line start or after whitespace.
    return [re.sub(r"(^|\s)#.*$", "", line).strip() for line in lines]


def _local(value: str, base: Path) -> Path | None:
    if "\0" in value:  # no path can hold it: pip reports the line
        return None
    if value.startswith("file:"):
        return Path(unquote(urlsplit(value).path))
    if value.startswith((".", "/")):
        return (base / value).resolve()
    return None


def _existing_file(path: Path) -> Path | None:
    """`path` resolved, if it is a file; None for a name no file can have (a NUL byte, too
    long), which pip reports like a missing file."""
    try:
        path = path.resolve()
        return path if path.is_file() else None
    except (OSError, ValueError):
        return None


def collect(files: list[Path]) -> RequirementInputs:
    """Follow -r/-c references depth-first; a missing nested file is left for pip to report."""
    inputs = RequirementInputs()
    pending = list(files)
    while pending:
        path = _existing_file(pending.pop(0))
        if path is None or path in inputs.files:
            continue
        inputs.files.append(path)
        for line in _logical_lines(path.read_text(errors="replace")):
            try:
                words = shlex.split(line)
            except ValueError:
                continue  # pip reports the syntax error
            if not words:
                continue
            option, _, inline = words[0].partition("=")
            value = inline or (words[1] if len(words) > 1 else "")
            if option in _NESTED and value:
                pending.append(path.parent / value)
            elif option in _LOCAL_OPTIONS and value:
                local = _local(value, path.parent)
                if local:
                    inputs.local_paths.append(local)
            else:
                local = _local(words[0].split("[")[0], path.parent)
                if local:
                    inputs.local_paths.append(local)
    return inputs
