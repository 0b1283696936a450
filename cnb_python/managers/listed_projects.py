"""The app's own projects that requirements files list (`-e .`, `-e ./libs/x`, `./libs/x`):
installed by the project step (projects.py) after their dependencies, so that a change to their
files reinstalls them alone.

pip installs requirements files in one run. Here it runs on copies of the files without the
projects' lines, plus one more file with the projects' own dependencies; then the project step
installs the projects with --no-deps, editable when their lines say `-e`. A cold build and a
code-only rebuild run those same two steps. A project qualifies when pip would read the same
dependencies from its pyproject.toml: static `[project]` dependencies, and the optional ones of
the extras its line asks for. Any other (a setup.py, `dynamic` dependencies, a line with a
marker or an option, hash-checking mode, where a directory has no hash anyway) is installed with
the rest, keyed on its files, as before.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cnb_python.appfiles import read_toml, table
from cnb_python.managers.requirements import ProjectLine, RequirementInputs, copies_without

DEPENDENCIES_FILE = "dependencies-of-the-projects.txt"
OPTIONS_FILE = "index-options.txt"
# The options pip hands on to an isolated build's install of the backends (pip/_internal/
# build_env.py), which the backends' own install takes from the files for the same effect.
_INDEX_OPTIONS = (
    "-i",
    "--index-url",
    "--extra-index-url",
    "--no-index",
    "-f",
    "--find-links",
    "--trusted-host",
    "--pre",
    "--prefer-binary",
    "--only-binary",
    "--no-binary",
)


@dataclass(frozen=True)
class ListedProject:
    path: str  # relative to the app, "." for the app
    editable: bool
    dependencies: tuple[str, ...]  # its own and those of the extras its lines ask for


@dataclass(frozen=True)
class ListedProjects:
    projects: tuple[ListedProject, ...] = ()
    copies: tuple[tuple[str, str], ...] = ()  # (path, text): copies_without's
    given: tuple[str, ...] = ()  # the copies of the files pip is given, in order
    paths: frozenset[Path] = field(default_factory=frozenset)  # the projects' directories

    def key_inputs(self) -> dict[str, str]:
        """What the dependencies' key takes of each project: its dependencies, not its files."""
        return {f"dependencies:{p.path}": "\n".join(p.dependencies) for p in self.projects}

    @contextmanager
    def requirements(self) -> Iterator[list[str]]:
        """pip's arguments for the dependencies: the copies and the projects' dependencies,
        written to a temp dir for as long as the install runs."""
        dependencies = sorted({d for p in self.projects for d in p.dependencies})
        files = {**dict(self.copies), DEPENDENCIES_FILE: "".join(f"{d}\n" for d in dependencies)}
        with _written(files) as directory:
            yield [
                a
                for name in (*self.given, DEPENDENCIES_FILE)
                for a in ("-r", str(directory / name))
            ]

    @contextmanager
    def index_options(self) -> Iterator[list[str]]:
        """pip's arguments for the projects' build backends: the files' index options, as pip
        gives them to an isolated build, from a file, as they may hold credentials."""
        lines = [
            line
            for _, text in self.copies
            for line in text.splitlines()
            if _option(line) in _INDEX_OPTIONS
        ]
        if not lines:
            yield []
            return
        with _written({OPTIONS_FILE: "".join(f"{line}\n" for line in lines)}) as directory:
            yield ["-r", str(directory / OPTIONS_FILE)]


def _option(line: str) -> str:
    words = line.split()
    return words[0].partition("=")[0] if words else ""


@contextmanager
def _written(files: dict[str, str]) -> Iterator[Path]:
    """A temp dir with `files` ({path in it: text}), removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="cnb-python-requirements-") as temp:
        directory = Path(temp)
        for name, text in files.items():
            (directory / name).parent.mkdir(parents=True, exist_ok=True)
            (directory / name).write_text(text)
        yield directory


def listed_projects(
    found: RequirementInputs,
    given: Sequence[Path],
    app: Path,
    lines_of: Mapping[Path, list[tuple[int, str]]] | None = None,
) -> ListedProjects:
    """The projects of `found` that can be installed by the project step; none when the copies
    could not read what the files read. `found` is collect() of the files pip is given
    (`given`, resolved as collect() resolves them), or collect_lines() of the lines of a file
    that is not a requirements file (`lines_of`: environment.yml's `pip:` list)."""
    if found.hashed:
        return ListedProjects()
    app = app.resolve()  # as the lines' paths are
    lines: dict[Path, list[ProjectLine]] = {}
    for line in found.project_lines:
        lines.setdefault(line.path, []).append(line)
    named = Counter(found.local_paths)
    chosen: dict[Path, tuple[str, ListedProject]] = {}
    for path, its_lines in lines.items():
        editable = {line.editable for line in its_lines}
        if named[path] != len(its_lines) or len(editable) != 1 or not path.is_relative_to(app):
            continue  # also named by a line that stays, or both editable and not
        read = _static_dependencies(path, {e for line in its_lines for e in line.extras})
        if read is not None:
            relative = path.relative_to(app).as_posix() or "."
            chosen[path] = (read[0], ListedProject(relative, editable.pop(), read[1]))
    projects = _without_each_other(chosen) if chosen else None
    if projects is None:
        return ListedProjects()
    leave_out = frozenset((line.file, line.line) for path in chosen for line in lines[path])
    lines_of = lines_of or {}
    files = [*lines_of, *found.files]
    copies = copies_without(files, leave_out, app, lines_of)
    if copies is None:
        return ListedProjects()
    names = {path: name for name, path in zip(copies, files)}
    return ListedProjects(
        projects=tuple(projects),
        copies=tuple(copies.items()),
        given=tuple(names[path] for path in given),
        paths=frozenset(chosen),
    )


def _static_dependencies(directory: Path, extras: set[str]) -> tuple[str, tuple[str, ...]] | None:
    """(the project's name, its dependencies and those of `extras`) when pyproject.toml states
    them, and none is a local file; None otherwise."""
    # detect imports this module: packaging stays out of it
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    pyproject = directory / "pyproject.toml"
    project = table(read_toml(pyproject), "project") if pyproject.is_file() else {}
    dynamic = project.get("dynamic", [])
    name = project.get("name")
    if not isinstance(name, str) or (directory / "setup.py").exists():
        return None
    optional = project.get("optional-dependencies", {}) if extras else {}
    if extras and ("optional-dependencies" in dynamic or not isinstance(optional, dict)):
        return None
    wanted = {canonicalize_name(extra) for extra in extras}
    lists = [project.get("dependencies", [])]
    lists += [more for extra, more in optional.items() if canonicalize_name(extra) in wanted]
    if "dependencies" in dynamic or not all(_strings(each) for each in lists):
        return None
    found = [dependency for each in lists for dependency in each]
    try:
        if any((Requirement(d).url or "").startswith("file:") for d in found):
            return None
    except InvalidRequirement:
        return None  # pip reports it
    return canonicalize_name(name), tuple(found)


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _without_each_other(
    chosen: dict[Path, tuple[str, ListedProject]],
) -> list[ListedProject] | None:
    """The projects, each without the dependencies on the others (the project step installs
    them); None when such a dependency asks for more than the project (extras, a version)."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    names = {name for name, _ in chosen.values()}
    projects = []
    for _, project in chosen.values():
        kept = []
        for dependency in project.dependencies:
            requirement = Requirement(dependency)
            if canonicalize_name(requirement.name) not in names:
                kept.append(dependency)
            elif requirement.extras or requirement.specifier or requirement.marker:
                return None
        projects.append(ListedProject(project.path, project.editable, tuple(kept)))
    return projects
