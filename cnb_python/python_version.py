"""Which CPython the app asks for, where it asked, and which available release satisfies it.

Sources, highest priority first (all found are logged): BP_CPYTHON_VERSION, .python-version,
runtime.txt, Pipfile.lock, Pipfile, pyproject.toml (requires-python), pyproject.toml
([tool.poetry.dependencies] python), poetry.lock, uv.lock, pylock.toml (or the
`pylock.<name>.toml` BP_PYLOCK_FILE names), then the buildpack's default. The sources in a
package manager's own files are declared by its module (PackageManager.python_sources), ranked
among the shared ones here.

The first one present picks the version; every other one the app declares is a constraint the
version must also satisfy, as the package managers themselves require (`poetry sync`, `uv sync`
and `pipenv` refuse a Python outside the project's range). When they cannot all hold, the build
stops before any install and names the two sources that disagree.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from cnb_python.appfiles import read_text, read_toml, table
from cnb_python.dependencies import BuildpackMetadata, Dependency
from cnb_python.errors import UserError
from cnb_python.log import Logger
from cnb_python.managers import MANAGERS
from cnb_python.managers.base import VersionSource

_PLAIN_VERSION = re.compile(r"^\d+(\.\d+){0,2}$")
_WILDCARD_VERSION = re.compile(r"^(\d+(?:\.\d+)?)\.[x*]$")

DEFAULT_SOURCE = "buildpack default"


@dataclass(frozen=True)
class VersionRequest:
    source: str  # e.g. ".python-version" or "BP_CPYTHON_VERSION"
    text: str  # as the user wrote it
    alternatives: tuple[SpecifierSet, ...]  # satisfied when any one matches

    def allows(self, version: Version) -> bool:
        return any(spec.contains(version, prereleases=False) for spec in self.alternatives)


# --- parsing ---------------------------------------------------------------------------------


def plain_version_spec(text: str) -> SpecifierSet | None:
    """`3` / `3.12` -> that release line; `3.12.4` -> exactly it; `3.12.*`/`3.12.x` -> the line."""
    wildcard = _WILDCARD_VERSION.match(text)
    if wildcard:
        return SpecifierSet(f"=={wildcard.group(1)}.*")
    if not _PLAIN_VERSION.match(text):
        return None
    if text.count(".") == 2:
        return SpecifierSet(f"=={text}")
    return SpecifierSet(f"=={text}.*")


def _poetry_term(term: str) -> str:
    """One poetry constraint term -> a PEP 440 clause list."""
    if term in ("*", ""):
        return ""
    if term[0] in "^~" and not term.startswith("~="):
        base = term[1:].strip()
        if not _PLAIN_VERSION.match(base):
            raise InvalidSpecifier(term)
        parts = [int(p) for p in base.split(".")]
        if term[0] == "^":
            # Up to the next change of the first non-zero part.
            index = next((i for i, p in enumerate(parts) if p != 0), len(parts) - 1)
        else:
            index = min(1, len(parts) - 1) if len(parts) > 1 else 0
        upper = [*parts[:index], parts[index] + 1]
        return f">={base},<{'.'.join(map(str, upper))}"
    plain = plain_version_spec(term)
    if plain is not None:
        return str(plain)
    return term


def parse_constraint(text: str) -> tuple[SpecifierSet, ...]:
    """PEP 440 specifiers, plus poetry's `^`, `~`, `*`, space-separated AND and `||` OR."""
    alternatives = []
    for branch in re.split(r"\|\|?", text):
        branch = re.sub(r"([<>=!~^]+)\s+", r"\1", branch.strip())  # ">= 3.10" -> ">=3.10"
        clauses = [_poetry_term(t) for t in re.split(r"[,\s]+", branch) if t]
        alternatives.append(SpecifierSet(",".join(c for c in clauses if c)))
    return tuple(alternatives)


def _request(
    source: str, text: str, parse: Callable[[str], tuple[SpecifierSet, ...]]
) -> VersionRequest:
    try:
        return VersionRequest(source, text, parse(text))
    except InvalidSpecifier as e:
        raise UserError(
            f"Invalid Python version in {source}",
            f"{source} asks for Python {text!r}, which is not a valid version constraint.",
            "Use a version such as `3.14` or `3.14.7`, or a PEP 440 range such as `>=3.12,<3.15`.",
        ) from e


def exact(source: str, text: str) -> VersionRequest:
    spec = plain_version_spec(text)
    if spec is None:
        raise UserError(
            f"Invalid Python version in {source}",
            f"{source} asks for Python {text!r}. Only plain CPython versions are understood here.",
            "Write a version such as `3.14` (newest 3.14 release) or `3.14.7` (exactly that).",
        )
    return VersionRequest(source, text, (spec,))


# --- sources ---------------------------------------------------------------------------------


def _from_env(app: Path, env: Mapping[str, str]) -> VersionRequest | None:
    text = env.get("BP_CPYTHON_VERSION", "").strip()
    return _request("BP_CPYTHON_VERSION", text, parse_constraint) if text else None


def _from_python_version_file(app: Path, env: Mapping[str, str]) -> VersionRequest | None:
    path = app / ".python-version"
    if not path.is_file():
        return None
    lines = [line.strip() for line in read_text(path).splitlines()]
    versions = [line for line in lines if line and not line.startswith("#")]
    if not versions:
        raise UserError(
            "No Python version in .python-version",
            ".python-version exists but holds no version (only blank lines or # comments).",
            "Put a version such as `3.14` on the first line, or delete the file.",
        )
    return exact(".python-version", versions[0])


def _from_runtime_txt(app: Path, env: Mapping[str, str]) -> VersionRequest | None:
    path = app / "runtime.txt"
    if not path.is_file():
        return None
    text = read_text(path).strip()
    match = re.fullmatch(r"python-(\S+)", text)
    if not match:
        raise UserError(
            "Invalid Python version in runtime.txt",
            f"runtime.txt holds {text!r}; the format is `python-<version>`.",
            "Write for example `python-3.14.7`, or move to a .python-version file holding `3.14`.",
        )
    return exact("runtime.txt", match.group(1))


def toml_range(app: Path, name: str, keys: tuple[str, ...], source: str) -> VersionRequest | None:
    """The version range at `keys` in the TOML file `name`, as the request of `source`."""
    path = app / name
    if not path.is_file():
        return None
    value = table(read_toml(path), *keys[:-1]).get(keys[-1])
    if isinstance(value, str) and value.strip():
        return _request(source, value.strip(), parse_constraint)
    return None


def _from_pyproject(app: Path, env: Mapping[str, str]) -> VersionRequest | None:
    return toml_range(app, "pyproject.toml", ("project", "requires-python"), "pyproject.toml")


# The shared sources; a package manager declares its own (PackageManager.python_sources),
# so a new manager with a version file touches only its module.
SOURCES = (
    VersionSource(0, _from_env),
    VersionSource(10, _from_python_version_file),
    VersionSource(20, _from_runtime_txt),
    # 30-49: Pipenv's files (managers/pipenv.py)
    VersionSource(50, _from_pyproject),
    # 60-: Poetry's (60, 61), uv.lock (70), pylock.toml (80): their modules
)


def all_sources() -> list[VersionSource]:
    """The shared sources and every manager's, in rank order."""
    found = [*SOURCES, *(source for m in MANAGERS for source in m.python_sources)]
    return sorted(found, key=lambda source: source.rank)


def gather_requests(app: Path, env: Mapping[str, str], default: str) -> list[VersionRequest]:
    """Every source that asks for a version, in priority order, ending with the default."""
    requests = (source.read(app, env) for source in all_sources())
    found = [r for r in requests if r is not None]
    return [*found, exact(DEFAULT_SOURCE, default)]


# --- resolution ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EndOfLife:
    minor: str  # "3.10"
    date: datetime.date
    after: str  # "warn" or "error"


def parse_eol_table(rows: Iterable[Mapping[str, Any]]) -> list[EndOfLife]:
    table = []
    for row in rows:
        date = row["date"]
        if not isinstance(date, datetime.date):
            date = datetime.date.fromisoformat(str(date))
        table.append(EndOfLife(str(row["version"]), date, str(row.get("after", "warn"))))
    return table


def _minor(version: Version) -> str:
    return f"{version.major}.{version.minor}"


def select_version(
    request: VersionRequest,
    extra: Sequence[VersionRequest],
    available: Sequence[Version],
    eol_table: Sequence[EndOfLife],
    today: datetime.date,
    constraints: Sequence[VersionRequest] = (),
) -> Version:
    """The newest available version that the request, the app's other `constraints` and every
    other buildpack's requirement (`extra`) allow. End-of-life minors error or warn (by the
    table) before availability is judged; a constraint that excludes every version the request
    allows is a conflict between the two."""
    eol_by_minor = {e.minor: e for e in eol_table}
    requests = [request, *constraints, *extra]
    matching = [v for v in available if all(r.allows(v) for r in requests)]
    if not matching:
        allowed = [v for v in available if request.allows(v)]
        for constraint in constraints:
            if allowed and not any(constraint.allows(v) for v in allowed):
                raise _conflict_error(request, constraint)
            allowed = [v for v in allowed if constraint.allows(v)]
        for eol in eol_table:
            if (
                eol.after == "error"
                and today > eol.date
                and request.allows(Version(f"{eol.minor}.0"))
            ):
                raise _eol_error(request, eol, available)
        raise _unavailable_error(request, extra, available)
    chosen = max(matching)
    eol = eol_by_minor.get(_minor(chosen))
    if eol and today > eol.date and eol.after == "error":
        raise _eol_error(request, eol, available)
    return chosen


def eol_warning(
    version: Version, eol_table: Sequence[EndOfLife], today: datetime.date
) -> str | None:
    eol = next((e for e in eol_table if e.minor == _minor(version)), None)
    if eol is None:
        return None
    if today > eol.date:
        return (
            f"Python {eol.minor} reached its end of life on {eol.date.isoformat()} and gets no "
            "more security fixes. Move to a newer Python soon: support for it will be removed."
        )
    if (eol.date - today).days <= 183:
        return f"Python {eol.minor} reaches its end of life on {eol.date.isoformat()}."
    return None


def _list_versions(available: Sequence[Version]) -> str:
    return ", ".join(str(v) for v in sorted(available))


def _eol_error(request: VersionRequest, eol: EndOfLife, available: Sequence[Version]) -> UserError:
    newest = max(available)
    return UserError(
        "The requested Python version has reached end-of-life",
        f"{request.source} asks for Python {request.text!r}. Python {eol.minor} reached its end "
        f"of life on {eol.date.isoformat()} and this buildpack no longer supports it.",
        f"Move the app to a supported Python, ideally {_minor(newest)}, and update "
        f"{request.source} (for example to `{_minor(newest)}`).",
    )


def _conflict_error(request: VersionRequest, constraint: VersionRequest) -> UserError:
    lock = constraint.source.endswith(".lock") or constraint.source.startswith("pylock.")
    widen = (
        f"regenerate {constraint.source} for the Python you want"
        if lock
        else f"change {constraint.source} to allow it"
    )
    return UserError(
        "Conflicting Python version requirements",
        f"{request.source} asks for Python {request.text!r}, but {constraint.source} requires "
        f"{constraint.text!r}. No Python satisfies both, and the package manager would refuse "
        "to install the app on a Python outside its range.",
        f"Make them agree: change {request.source} to a version that {constraint.source} "
        f"allows, or {widen}.",
    )


def _unavailable_error(
    request: VersionRequest, extra: Sequence[VersionRequest], available: Sequence[Version]
) -> UserError:
    asked = f"{request.source} asks for Python {request.text!r}"
    others = "".join(f"\nAnother buildpack requires {r.text!r} ({r.source})." for r in extra)
    return UserError(
        "The requested Python version isn't available",
        f"{asked}, and no version this buildpack provides satisfies it.{others}\n"
        f"Available versions: {_list_versions(available)}.",
        f"Request one of the available versions in {request.source}. A minor version such as "
        f"`{_minor(max(available))}` always gets the newest patch release.",
    )


def choose_cpython(
    app: Path,
    env: Mapping[str, str],
    metadata: BuildpackMetadata,
    arch: str,
    plan_versions: Sequence[tuple[str, str]],
    log: Logger,
    today: datetime.date,
    app_requests: bool = True,
) -> Dependency:
    """Resolve the app's request against the buildpack's CPython builds for `arch`, logging
    every source found and which one decided. Without `app_requests` (a conda app, whose
    Python is a conda package) only the default and other buildpacks' requirements count."""
    log.section("Resolving CPython version")
    requests = gather_requests(app, env, metadata.default_python)
    if not app_requests:
        requests = requests[-1:]
    plan = [_request(source, text, parse_constraint) for text, source in plan_versions]
    # The app's own request wins; other buildpacks' requirements narrow it. When the app asks
    # for nothing, their requirement beats the buildpack default.
    primary = plan[0] if plan and requests[0].source == DEFAULT_SOURCE else requests[0]
    extra = [r for r in plan if r is not primary]
    constraints = [r for r in requests[:-1] if r is not primary]
    width = max(len(r.source) for r in [*requests, *plan])
    log.step("Candidate version sources (in priority order):")
    for r in [*requests[:-1], *plan, requests[-1]]:
        log.detail(f"{r.source.ljust(width)} -> {r.text!r}")
    candidates = {Version(d.version): d for d in metadata.candidates("cpython", arch)}
    if not candidates:
        raise UserError(
            "No CPython for this architecture",
            f"This buildpack has no CPython build for the target architecture {arch!r}.",
            "Build for linux/amd64 or linux/arm64.",
        )
    eol_table = parse_eol_table(metadata.python_eol)
    chosen = select_version(primary, extra, list(candidates), eol_table, today, constraints)
    log.blank()
    log.step(f"Selected CPython {chosen} (using {primary.source})")
    warning = eol_warning(chosen, eol_table, today)
    if warning:
        log.warning(f"Python {_minor(chosen)} end of life", warning)
    log.blank()
    return candidates[chosen]
