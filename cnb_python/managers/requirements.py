"""What a set of requirements files depends on: nested -r/-c files and local paths, and the
direct URLs that hash-checking mode would refuse.

Only what affects the reuse key (and pip's hash rule) is parsed; pip itself reads the files for
the install. Relative paths are read as pip reads them (pip/_internal/req/req_file.py): -r/-c
from the file's directory, --find-links from the file's directory when it exists there, else
from the working directory, and editable or direct local paths from the working directory.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from cnb_python.fingerprint import KeyInput

_NESTED = {
    "-r": "requirement",
    "--requirement": "requirement",
    "-c": "constraint",
    "--constraint": "constraint",
}
_EDITABLE = ("-e", "--editable")
_FIND_LINKS = ("-f", "--find-links")
# A URL fragment pip takes as the archive's hash in hash-checking mode (its STRONG_HASHES).
_URL_HASH = re.compile(r"#(?:.*&)?(sha256|sha384|sha512)=[0-9a-f]+", re.IGNORECASE)
_URL = re.compile(r"^(?:[A-Za-z0-9._-]+(?:\[[^\]]*\])?\s*@\s*)?([a-z][a-z0-9+.-]*://\S+)", re.I)


@dataclass(frozen=True)
class UnhashedUrl:
    """A direct URL requirement without a hash, where it was written."""

    file: Path
    line: int
    url: str


@dataclass
class RequirementInputs:
    files: list[Path] = field(default_factory=list)  # every requirements/constraints file
    local_paths: list[Path] = field(default_factory=list)  # directories or files pip reads
    hashed: bool = False  # a --hash or --require-hashes line: pip's hash-checking mode
    unhashed_urls: list[UnhashedUrl] = field(default_factory=list)

    def key_inputs(self, app: Path) -> dict[str, KeyInput]:
        """The reuse key's inputs: each file, and each local path, by its path in the app."""
        inputs: dict[str, KeyInput] = {}
        for path in self.files:
            inputs[f"file:{display_path(path, app)}"] = path
        for path in self.local_paths:
            inputs[f"path:{display_path(path, app)}"] = path
        return inputs


def display_path(path: Path, app: Path) -> str:
    try:
        return path.relative_to(app).as_posix() or "."
    except ValueError:
        return path.as_posix()


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(number of the first physical line, the line joined and without its comment)."""
    lines, current, start = [], "", 1
    for number, raw in enumerate(text.splitlines(), 1):
        if not current:
            start = number
        if raw.endswith("\\"):
            current += raw[:-1]
            continue
        lines.append((start, current + raw))
        current = ""
    if current:
        lines.append((start, current))
    # A comment starts at a "#" at the line start or after whitespace.
    return [(n, re.sub(r"(^|\s)#.*$", "", line).strip()) for n, line in lines]


def _local(value: str, base: Path) -> Path | None:
    if "\0" in value:  # no path can hold it: pip reports the line
        return None
    if value.startswith("file:"):
        return Path(unquote(urlsplit(value).path))
    if value.startswith((".", "/")):
        return (base / value).resolve()
    return None


def _find_links(value: str, source_dir: Path, cwd: Path) -> Path | None:
    beside = _local(value, source_dir)
    if beside is not None and not value.startswith(("/", "file:")) and not beside.exists():
        return _local(value, cwd)
    return beside


def _existing_file(path: Path) -> Path | None:
    """`path` resolved, if it is a file; None for a name no file can have (a NUL byte, too
    long), which pip reports like a missing file."""
    try:
        path = path.resolve()
        return path if path.is_file() else None
    except (OSError, ValueError):
        return None


def _scan(
    lines: Iterable[tuple[int, str]], source: Path, cwd: Path, inputs: RequirementInputs
) -> list[Path]:
    """Record what the lines of `source` read; return the nested files they name."""
    nested = []
    for number, line in lines:
        try:
            words = shlex.split(line)
        except ValueError:
            continue  # pip reports the syntax error
        if not words:
            continue
        if any(w == "--require-hashes" or w.startswith("--hash") for w in words):
            inputs.hashed = True
        option, _, inline = words[0].partition("=")
        value = inline or (words[1] if len(words) > 1 else "")
        local = None
        if option in _NESTED and value:
            nested.append(source.parent / value)
        elif option in _FIND_LINKS and value:
            local = _find_links(value, source.parent, cwd)
        elif option in _EDITABLE and value:
            local = _local(value, cwd)
        elif not option.startswith("-"):
            local = _local(words[0].split("[")[0], cwd)
            url = _URL.match(line)
            if url and not local and not _URL_HASH.search(url.group(1)) and "--hash" not in line:
                inputs.unhashed_urls.append(UnhashedUrl(source, number, url.group(1)))
        if local:
            inputs.local_paths.append(local)
    return nested


def collect(files: list[Path], cwd: Path | None = None) -> RequirementInputs:
    """Follow -r/-c references; a missing nested file is left for pip to report.
    `cwd` is where pip runs (default: the first file's directory)."""
    return collect_lines([], files[0].parent if cwd is None else cwd, files)


def collect_lines(
    lines: list[tuple[int, str]], source: Path, files: list[Path], cwd: Path | None = None
) -> RequirementInputs:
    """As collect(), starting with requirement `lines` written in `source` (a file such as
    environment.yml's `pip:` list, or a directory), then the `files`."""
    inputs = RequirementInputs()
    cwd = cwd or (source if source.is_dir() else source.parent)
    pending = _scan(lines, source, cwd, inputs) + list(files)
    while pending:
        path = _existing_file(pending.pop(0))
        if path is None or path in inputs.files:
            continue
        inputs.files.append(path)
        text = path.read_text(errors="replace")
        pending += _scan(_logical_lines(text), path, cwd, inputs)
    return inputs
