"""pylock.toml (PEP 751): the lock installed exactly, with pip, every file hash-checked.

The installer is pip's own `pip install -r pylock.toml` (pip 26.3, the pinned pip every
manager uses): pip runs under the app's interpreter, so the lock's markers, `requires-python`
and wheel tags are evaluated for the image's Python and platform by the PEP 751 selection of
`packaging.pylock`, and each package is installed from the very file the lock names (its
`url`, or its `path` relative to the lock), checked against the lock's hashes; with --no-deps
nothing outside the lock is installed. A requirements export would let pip pick any index file
with a listed hash; uv (`uv pip sync`) has accepted empty hash tables. pip marks its pylock.toml
support experimental; the buildpack checks the lock itself first (packaging.pylock, the same
code pip uses), so a bad lock is a titled error before any layer.

A `directory` entry inside the app (the project itself, in `uv export` of a package project) has
no hash: pip gets a copy of the lock without it, and the project follows, non-editable, with
--no-deps, as Pipenv's path entries do. VCS entries are refused.

Groups are the lock's `default-groups` plus BP_PYLOCK_INSTALL_GROUPS, extras
BP_PYLOCK_INSTALL_EXTRAS; each must be one the lock declares. BP_PYLOCK_FILE picks a
`pylock.<name>.toml` instead of pylock.toml. The lock's `requires-python` is also a Python
version request (python_version.py), so the chosen Python satisfies it.
"""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnb_python.appfiles import read_toml
from cnb_python.cnb.bindings import Binding, binding_entry
from cnb_python.errors import UserError
from cnb_python.fingerprint import KeyInput
from cnb_python.managers.base import PackageManager, Signal, ToolRun, VersionSource, file_signal
from cnb_python.managers.locks import path_in_app
from cnb_python.managers.options import listed, vendor_dir
from cnb_python.managers.pip import InstallsLockedProjects, PipOptions, pip_install

FILE_VARIABLE = "BP_PYLOCK_FILE"
if TYPE_CHECKING:
    from cnb_python.python_version import VersionRequest

GROUPS_VARIABLE = "BP_PYLOCK_INSTALL_GROUPS"
EXTRAS_VARIABLE = "BP_PYLOCK_INSTALL_EXTRAS"
DEFAULT_LOCK = "pylock.toml"
_LOCK_NAME = re.compile(r"pylock\.[^./\\]+\.toml")  # PEP 751: pylock.<name>.toml, no dots
SUPPORTED_MAJOR = 1  # lock-version 1.x


def lock_name(env: Mapping[str, str]) -> str:
    """The lock the build installs: BP_PYLOCK_FILE, else pylock.toml (python_version.py reads
    the same file for its `requires-python`)."""
    return env.get(FILE_VARIABLE, "").strip() or DEFAULT_LOCK


def _relock(lock: str) -> str:
    return (
        f"Regenerate {lock} (`pip lock -r requirements.txt -o {lock}`, or "
        f"`uv export --format pylock.toml -o {lock}`) and commit it."
    )


def pip_known_errors(lock: str) -> dict[str, tuple[str, str]]:
    """pip's failures while installing `lock`, as titled errors (pip's output names the file)."""
    relock = _relock(lock)
    return {
        "DO NOT MATCH THE HASHES": (
            f"A file does not match its hash in {lock}",
            "The file downloaded is not the one the lock was made from (pip's output above "
            f"names it and both hashes). If the package was re-released: {relock} Otherwise "
            "check what stands between the build and the index (a proxy or mirror).",
        ),
        "HTTP error 404 while getting": (
            f"A file named in {lock} is missing",
            f"The index no longer serves a file the lock names (pip's output above gives its "
            f"URL): the release was deleted or the lock points at another index. {relock}",
        ),
        "does not satisfy the Python version requirement": (
            f"{lock} does not allow this Python",
            "The lock, or a package in it, requires another Python than the image's (pip's "
            f"output above says which). {relock} on the Python the app runs on, or ask for a "
            "Python the lock allows (.python-version).",
        ),
        "does not satisfy any of the environments": (
            f"{lock} was not made for this platform",
            "The lock's `environments` exclude the image (Linux, CPython). Lock for Linux as "
            "well, and commit the lock.",
        ),
        "No wheel found matching the provided tags": (
            f"{lock} has no file for this platform",
            "A package in the lock has no wheel for the image's Python and platform and no "
            f"sdist (pip's output above names it). {relock} with files for Linux and the "
            "app's Python.",
        ),
        "Multiple packages with the name": (
            f"{lock} selects a package twice",
            "Two entries of the same package both apply to the image (their markers overlap). "
            f"{relock}",
        ),
    }


@dataclass(frozen=True)
class PylockManager(InstallsLockedProjects):
    app: Path
    lock: str  # the lock's file name at the app root
    groups: tuple[str, ...]  # BP_PYLOCK_INSTALL_GROUPS, on top of the lock's default-groups
    extras: tuple[str, ...]  # BP_PYLOCK_INSTALL_EXTRAS
    pip: PipOptions  # a `pip` binding's pip.conf; no vendor dir: the lock names every file
    vendor: Path | None  # where a lock's `path` entries usually point: an input only
    local: tuple[str, ...] = ()  # the app's own projects (`directory` entries), app-relative

    def describe(self) -> str:
        selection = "".join(
            f", {what} {', '.join(names)}"
            for what, names in (("groups", self.groups), ("extras", self.extras))
            if names
        )
        return f"pylock.toml ({self.lock}{selection}, installed with pip)"

    def inputs(self) -> dict[str, KeyInput]:
        inputs: dict[str, KeyInput] = {
            f"file:{self.lock}": self.app / self.lock,
            "groups": ",".join(self.groups),
            "extras": ",".join(self.extras),
        }
        if self.vendor:
            inputs["vendor"] = self.vendor
        return {**inputs, **self.pip.inputs()}

    def install(self, tool_run: ToolRun) -> None:
        venv, tools, env, log = tool_run
        with tempfile.TemporaryDirectory(prefix="cnb-python-pylock-") as tmp:
            # pip would refuse a directory entry among hashed files: it gets a copy of the lock
            # without them (its relative paths made absolute), and the projects follow.
            lock = str(self._files_only(Path(tmp))) if self.local else self.lock
            shown = " (without its directory entries)" if self.local else ""
            pip_install(
                venv,
                tools["pip"],
                self._arguments(lock),
                app=self.app,
                options=self.pip,
                env=env,
                log=log,
                show=f"pip install {' '.join(self._arguments(self.lock))}{shown}",
                known_errors=pip_known_errors(self.lock),
            )

    def _arguments(self, lock: str) -> list[str]:
        extras = f"[{','.join(self.extras)}]" if self.extras else ""
        return [
            "--no-deps",
            "--require-hashes",
            f"--requirement={lock}{extras}",
            *(f"--group={lock}:{group}" for group in self.groups),
        ]

    def _files_only(self, tmp: Path) -> Path:
        """The lock without its directory entries, at `tmp`/pylock.toml, its relative file
        paths made absolute (PEP 751: relative to the lock)."""
        import tomli_w

        doc = dict(read_toml(self.app / self.lock))
        packages = []
        for package in doc.get("packages", []):
            if "directory" in package:
                continue
            package = dict(package)
            for key in ("archive", "sdist"):
                if isinstance(package.get(key), dict):
                    package[key] = self._absolute(package[key])
            if isinstance(package.get("wheels"), list):
                package["wheels"] = [self._absolute(w) for w in package["wheels"]]
            packages.append(package)
        doc["packages"] = packages
        path = tmp / "pylock.toml"
        path.write_text(tomli_w.dumps(doc))
        return path

    def _absolute(self, file: Mapping[str, Any]) -> dict[str, Any]:
        file = dict(file)
        if isinstance(file.get("path"), str) and not Path(file["path"]).is_absolute():
            file["path"] = str(self.app / file["path"])
        return file


def _invalid(lock: str, detail: str) -> UserError:
    return UserError(f"Invalid {lock}", detail, _relock(lock))


def check_lock(
    lock: str, doc: Mapping[str, Any], app: Path, groups: Sequence[str], extras: Sequence[str]
) -> tuple[str, ...]:
    """The lock as PEP 751 defines it (packaging.pylock, as pip reads it), its version, what it
    installs, and the groups and extras asked for; a titled error for each problem. Returns
    its directory entries: the app's own projects, relative to the app."""
    from packaging.pylock import Pylock, PylockValidationError  # detect never loads packaging
    from packaging.version import InvalidVersion, Version

    version = doc.get("lock-version")
    try:
        major = Version(version).major if isinstance(version, str) else None
    except InvalidVersion:
        major = None
    if major is None:
        raise _invalid(lock, f"{lock} has no valid `lock-version`, so it is not a PEP 751 lock.")
    if major != SUPPORTED_MAJOR:
        raise UserError(
            f"{lock} is newer than this buildpack supports",
            f"{lock} has lock-version {version}; this buildpack installs lock-version "
            f"{SUPPORTED_MAJOR}.x (PEP 751).",
            f"Write the lock with a tool that writes lock-version {SUPPORTED_MAJOR}.x, or use a "
            "buildpack release that supports the newer format.",
        )
    # A newer minor version is read, with a warning: pip's, in the install's output (here it
    # would be a stray line on stderr).
    quiet = logging.getLogger("packaging.pylock")
    quiet.disabled = True
    try:
        pylock = Pylock.from_dict(doc)
    except PylockValidationError as e:
        raise _invalid(lock, f"{lock} does not follow PEP 751: {e}.") from e
    finally:
        quiet.disabled = False
    vcs = sorted(p.name for p in pylock.packages if p.vcs)
    if vcs:
        raise UserError(
            f"{lock} installs a package without hashes",
            f"{lock} installs {', '.join(vcs)} from a VCS checkout, which has no file hash to "
            "check, so the build cannot install it exactly.",
            "Publish it as a wheel (on an index, or in the app by `path`) and lock that.",
        )
    for what, asked, declared, variable in (
        ("dependency group", groups, pylock.dependency_groups, GROUPS_VARIABLE),
        ("extra", extras, pylock.extras, EXTRAS_VARIABLE),
    ):
        missing = [name for name in asked if name not in (declared or ())]
        if missing:
            raise UserError(
                f"{what.capitalize()} not found in {lock}",
                f"{variable} asks for {', '.join(missing)}, which {lock} does not declare (it "
                f"has: {', '.join(declared or ()) or 'none'}).",
                f"Name {what}s the lock declares in {variable}, or lock with them.",
            )
    return tuple(_local_project(lock, p, app) for p in pylock.packages if p.directory)


def _local_project(lock: str, package: Any, app: Path) -> str:
    """A `directory` entry: a project in the app, installed after the locked files."""
    directory = package.directory
    path = Path(directory.path, directory.subdirectory or "").as_posix()
    if package.marker is not None:
        raise UserError(
            f"{lock} installs a directory the build cannot",
            f"{lock} installs {package.name} from the directory {path!r} under the marker "
            f"{str(package.marker)!r}. The build installs the app's own projects (directories "
            "inside the app, without a marker) after the locked files.",
            f"Drop the marker of {package.name}, or publish it as a wheel and lock that.",
        )
    return path_in_app(app, path, lock, package.name)


def pylock_manager(
    app: Path, env: Mapping[str, str], bindings: Sequence[Binding], signal: Signal
) -> PylockManager:
    lock = lock_name(env)
    if not _LOCK_NAME.fullmatch(lock) and lock != DEFAULT_LOCK:
        raise UserError(
            f"Invalid {FILE_VARIABLE}",
            f"{FILE_VARIABLE} is {lock!r}; PEP 751 names a lock `pylock.toml` or "
            "`pylock.<name>.toml`, at the app root.",
            f"Set {FILE_VARIABLE} to a file name such as `pylock.prod.toml`, or unset it.",
        )
    if not (app / lock).is_file():
        raise UserError(
            f"{lock} not found",
            f"{FILE_VARIABLE} names {lock}, which the app does not contain.",
            f"Commit {lock} at the app root, or fix {FILE_VARIABLE}.",
        )
    groups, extras = listed(env, GROUPS_VARIABLE), listed(env, EXTRAS_VARIABLE)
    local = check_lock(lock, read_toml(app / lock), app, groups, extras)
    return PylockManager(
        app=app,
        lock=lock,
        groups=groups,
        extras=extras,
        pip=PipOptions(None, binding_entry(bindings, "pip", "pip.conf")),
        vendor=vendor_dir(app, env),
        local=local,
    )


def _python_of_lock(app: Path, env: Mapping[str, str]) -> VersionRequest | None:
    from cnb_python.python_version import toml_range  # here: detect imports this module

    name = lock_name(env)
    return toml_range(app, name, ("requires-python",), name) if "/" not in name else None


MANAGER = PackageManager(
    name="pylock",
    display="pylock.toml",
    signals=(
        Signal(
            55,
            FILE_VARIABLE,
            f"`{FILE_VARIABLE}` is set",
            lambda app: bool(app.env.get(FILE_VARIABLE, "").strip()),
            owned=False,
            outcome="with the `pylock.<name>.toml` it names",
        ),
        file_signal(
            56,
            DEFAULT_LOCK,
            found=lambda app: app.has(DEFAULT_LOCK) and not app.env.get(FILE_VARIABLE, "").strip(),
        ),
    ),
    tools=("pip",),
    env_prefixes=("PIP_", "BP_PYLOCK_"),
    python_sources=(VersionSource(80, _python_of_lock),),
    make=pylock_manager,
)
