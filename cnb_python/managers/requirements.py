"""What a set of requirements files depends on: nested -r/-c files and local paths, the
direct URLs that hash-checking mode would refuse, and the lines that name a local project; and
copies of the files without some of those lines (listed_projects.py).

Only what affects the reuse key (and pip's hash rule) is parsed; pip itself reads the files for
the install. Paths are read as pip reads them (pip/_internal/req/req_file.py and
constructors.py): -r/-c relative to the file's directory; --find-links, unless it is a URL,
relative to the file's directory when it exists there, else to the working directory; an
editable that is a directory, and a requirement that looks like a path (a "/" in it or a
leading ".") or is an archive that exists, relative to the working directory.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping
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
# pip's URL schemes, and those of its VCS backends (pip/_internal/vcs/): a value with another
# word before a colon is a path.
_URL_SCHEMES = ("http", "https", "file", "ftp")
_VCS = ("git", "hg", "svn", "bzr")
# pip's archive extensions (pip/_internal/utils/filetypes.py): a name that ends with one and is
# a file is installed from it, with or without a "/" in it.
_ARCHIVES = (
    ".whl",
    ".zip",
    ".tar",
    ".tar.gz",
    ".tgz",
    ".tar.bz2",
    ".tbz",
    ".tar.xz",
    ".txz",
    ".tlz",
    ".tar.lz",
    ".tar.lzma",
)
# The options whose paths are relative to the file that holds them.
_REFERENCES = ("-r", "-c", "-f", "--requirement", "--constraint", "--find-links")
# A URL fragment pip takes as the archive's hash in hash-checking mode (its STRONG_HASHES).
_URL_HASH = re.compile(r"#(?:.*&)?(sha256|sha384|sha512)=[0-9a-f]+", re.IGNORECASE)
_URL = re.compile(r"^(?:[A-Za-z0-9._-]+(?:\[[^\]]*\])?\s*@\s*)?([a-z][a-z0-9+.-]*://\S+)", re.I)


@dataclass(frozen=True)
class UnhashedUrl:
    """A direct URL requirement without a hash, where it was written."""

    file: Path
    line: int
    url: str


@dataclass(frozen=True)
class ProjectLine:
    """A requirements line that names a local directory and nothing else: `-e PATH`, `PATH`,
    `PATH[extras]` (or a `file:` URL), with no marker or option."""

    file: Path
    line: int
    path: Path  # resolved
    editable: bool
    extras: tuple[str, ...]


@dataclass
class RequirementInputs:
    files: list[Path] = field(default_factory=list)  # every requirements/constraints file
    local_paths: list[Path] = field(default_factory=list)  # directories or files pip reads
    hashed: bool = False  # a --hash or --require-hashes line: pip's hash-checking mode
    unhashed_urls: list[UnhashedUrl] = field(default_factory=list)
    project_lines: list[ProjectLine] = field(default_factory=list)  # in requirements files

    def key_inputs(
        self, app: Path, leave_out: frozenset[Path] = frozenset()
    ) -> dict[str, KeyInput]:
        """The reuse key's inputs: each file, and each local path but those of `leave_out`, by
        its path in the app."""
        inputs: dict[str, KeyInput] = {}
        for path in self.files:
            inputs[f"file:{display_path(path, app)}"] = path
        for path in self.local_paths:
            if path not in leave_out:
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


def _is_url(value: str) -> bool:
    """Whether pip reads `value` as a URL (pip/_internal/utils/urls.py is_url): one of its
    schemes, or a VCS one, before a colon."""
    scheme, colon, _ = value.partition(":")
    scheme = scheme.lower()
    return bool(colon) and (scheme in _URL_SCHEMES or scheme.partition("+")[0] in _VCS)


def _is_file_url(value: str) -> bool:
    return value.lower().startswith("file:")


def _path(value: str, base: Path) -> Path | None:
    """`value` as a local path: a file: URL's, or a value that is no URL, relative to `base`.
    None: a URL, or a name no path can have (a NUL byte: pip reports the line)."""
    if "\0" in value:
        return None
    if _is_file_url(value):
        return (base / unquote(urlsplit(value).path)).resolve()
    return None if _is_url(value) else (base / value).resolve()


def _looks_like_path(value: str) -> bool:
    return "/" in value or value.startswith(".")


def _direct_path(name: str, cwd: Path) -> Path | None:
    """A requirement line's local path, as pip's install_req_from_line reads its name
    (pip/_internal/req/constructors.py): a file: URL's, a name that looks like a path (a "/"
    in it, or a leading "."), or an archive that exists; relative to the working directory."""
    if _is_file_url(name) or _looks_like_path(name):
        return _path(name, cwd)
    archive = _path(name, cwd) if name.lower().endswith(_ARCHIVES) else None
    return archive if archive is not None and archive.is_file() else None


def _editable_path(value: str, cwd: Path) -> Path | None:
    """An editable's local path, as pip's parse_editable reads it: a file: URL's, or a
    directory that exists (or a value that looks like a path, which pip reports if it is not
    one); relative to the working directory."""
    if _is_file_url(value) or _looks_like_path(value):
        return _path(value, cwd)
    directory = _path(value, cwd)
    return directory if directory is not None and directory.is_dir() else None


def _find_links_path(value: str, source_dir: Path, cwd: Path) -> Path | None:
    """A --find-links path, as pip reads the option in a requirements file (pip/_internal/req/
    req_file.py): beside the file when it exists there, else as given, which is relative to
    the working directory; None: a URL."""
    beside = None if _is_file_url(value) else _path(value, source_dir)
    return beside if beside is not None and beside.exists() else _path(value, cwd)


def _existing_file(path: Path) -> Path | None:
    """`path` resolved, if it is a file; None for a name no file can have (a NUL byte, too
    long), which pip reports like a missing file."""
    try:
        path = path.resolve()
        return path if path.is_file() else None
    except (OSError, ValueError):
        return None


def _option_value(words: list[str]) -> tuple[str, str]:
    """A line's first word as an option and its value: `-r x`, `--requirement=x`."""
    option, _, inline = words[0].partition("=")
    return option, inline or (words[1] if len(words) > 1 else "")


def _project_line(
    words: list[str], line: str, local: Path | None, source: Path, number: int
) -> ProjectLine | None:
    editable = words[0].partition("=")[0] in _EDITABLE
    alone = len(words) == (1 if not editable or "=" in words[0] else 2)
    if local is None or not alone or ";" in line or not local.is_dir():
        return None
    _, _, extras = words[-1].partition("[")
    names = tuple(e.strip() for e in extras.rstrip("]").split(",") if e.strip())
    return ProjectLine(source, number, local, editable, names)


def _scan(
    lines: Iterable[tuple[int, str]],
    source: Path,
    cwd: Path,
    inputs: RequirementInputs,
    constraints: bool = False,
) -> list[tuple[Path, bool]]:
    """Record what the lines of `source` (a constraints file: `constraints`) read; return the
    nested files they name, each with whether it is a constraints file."""
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
        option, value = _option_value(words)
        local = None
        if option in _NESTED and value:
            nested.append((source.parent / value, constraints or _NESTED[option] == "constraint"))
        elif option in _FIND_LINKS and value:
            local = _find_links_path(value, source.parent, cwd)
        elif option in _EDITABLE and value:
            local = _editable_path(value.split("[")[0], cwd)
        elif not option.startswith("-"):
            local = _direct_path(words[0].split(";")[0].split("[")[0], cwd)
            url = _URL.match(line)
            if url and not local and not _URL_HASH.search(url.group(1)) and "--hash" not in line:
                inputs.unhashed_urls.append(UnhashedUrl(source, number, url.group(1)))
        if local:
            inputs.local_paths.append(local)
            project = None if constraints else _project_line(words, line, local, source, number)
            if project:
                inputs.project_lines.append(project)
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
    pending = _scan(lines, source, cwd, inputs) + [(file, False) for file in files]
    while pending:
        file, constraints = pending.pop(0)
        path = _existing_file(file)
        if path is None or path in inputs.files:
            continue
        inputs.files.append(path)
        text = path.read_text(errors="replace")
        pending += _scan(_logical_lines(text), path, cwd, inputs, constraints)
    return inputs


def copies_without(
    files: list[Path],
    leave_out: frozenset[tuple[Path, int]],
    cwd: Path,
    lines_of: Mapping[Path, list[tuple[int, str]]] | None = None,
) -> dict[str, str] | None:
    """Copies of requirements `files` (every file collect() found) without the lines
    `leave_out` ((file, number) of their first physical line), as {path: text}, the paths
    relative to the directory the copies are written to: a nested -r/-c names the other file's
    copy, and a local --find-links its absolute path, so that the copies read from there what
    pip reads from the files, with `cwd` as its working directory. Each line keeps its number
    (for pip's messages). `lines_of` gives the lines of a file that is not a requirements file
    (environment.yml's `pip:` list, as collect_lines() took them). None: a reference the copies
    cannot follow (a variable, a file not found), which pip would follow or report itself."""
    names = {path: f"{number}/{path.name}" for number, path in enumerate(files)}
    copies = {}
    for path, name in names.items():
        given = (lines_of or {}).get(path)
        lines = _logical_lines(path.read_text(errors="replace")) if given is None else given
        out = [""] * max((number for number, _ in lines), default=0)
        for number, line in lines:
            if (path, number) in leave_out:
                continue
            copied = _copied_line(line, path, cwd, names)
            if copied is None:
                return None
            out[number - 1] = copied
        copies[name] = "\n".join(out) + "\n"
    return copies


def _copied_line(line: str, source: Path, cwd: Path, names: dict[Path, str]) -> str | None:
    """`line` as a copy of `source` reads it; None: a reference the copy cannot follow."""
    try:
        words = shlex.split(line)
    except ValueError:
        return line  # pip reports the syntax error
    if not words or not words[0].startswith(_REFERENCES):
        return line
    option, value = _option_value(words)
    if "://" in value:
        return line  # a URL reads the same from anywhere
    if "${" in line or not value:
        return None  # pip expands the variable, which the copy's path would not follow
    if option in _NESTED:
        target = _existing_file(source.parent / value)
        return f"{option} ../{names[target]}" if target in names else None
    if option in _FIND_LINKS:
        local = _find_links_path(value, source.parent, cwd)
        return line if local is None else f"{option} {shlex.quote(str(local))}"
    return None  # a short form such as -rbase.txt
