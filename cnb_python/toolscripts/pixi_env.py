"""Install one environment of a pixi.lock (or conda-lock.yml) with py-rattler: run ONLY by the
python of the build-only py-rattler tool layer, never imported by the buildpack.

    python pixi_env.py --lock FILE --environment NAME --platform linux-64 --prefix ENV
                       --cache-dir DIR --result FILE [--manifest NAME --requirements FILE]

--requirements is a JSON list of {"kind": conda|pypi|pep508, "name", "spec", "source"}: what the
manifest asks of the environment. A lock that satisfies none of the locked packages for one of
them is stale. On success FILE holds {"pypi": [{"name", "version", "url", "sha256"}],
"local": [paths]}, the lock's PyPI packages for the buildpack to install with pip, and its
projects in the app: those the manifest names, which the buildpack's project step installs. On
a user error it holds {"error": {"title", "detail", "fix"}} and the exit status is 3. Like
conda_env.py, whose helpers it shares, the process ends with exit_now (see conda_env.py's
docstring: rattler's threads crash interpreter finalization).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import rattler
from conda_env import Failure, install, require_python, run_and_exit, write_outcome
from rattler.exceptions import InstallerError, InvalidMatchSpecError, ParseCondaLockError

_NEWER = "found newer lockfile format version"
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def read_lock(path: Path) -> Any:
    try:
        return rattler.LockFile.from_path(path)
    except ParseCondaLockError as e:
        if _NEWER in str(e):
            raise Failure(
                f"{path.name} is newer than this buildpack's py-rattler",
                f"py-rattler {_version()} cannot read {path.name}: {e}.",
                "Lock with a pixi release whose lock format this py-rattler reads, or set "
                "BP_PY_RATTLER_VERSION to a py-rattler release that reads it.",
            ) from e
        raise Failure(
            f"Invalid {path.name}",
            f"py-rattler cannot read {path.name}: {e}.",
            f"Write {path.name} again with `pixi lock` and commit it unedited.",
        ) from e


def locked_environment(lock: Any, path: Path, name: str, platform: str) -> tuple[Any, Any]:
    """(the environment, its platform object): rattler only takes the lock's own platforms."""
    environment = lock.environment(name)
    if environment is None:
        names = ", ".join(sorted(n for n, _ in lock.environments())) or "none"
        raise Failure(
            "Unknown pixi environment",
            f"BP_PIXI_ENVIRONMENT is {name!r}, but {path.name} has these environments: {names}.",
            "Set BP_PIXI_ENVIRONMENT to one of them, or run `pixi lock` if the manifest "
            "defines it and commit the lock.",
        )
    found = next((p for p in environment.platforms() if p.name == platform), None)
    if found is None:
        platforms = ", ".join(sorted(p.name for p in environment.platforms())) or "none"
        raise Failure(
            f"Platform not in {path.name}",
            f"The build runs on {platform}, but the environment {name!r} of {path.name} is "
            f"locked only for: {platforms}.",
            f"Add the platform (`pixi workspace platform add {platform}`, or `platforms` in the "
            "manifest), run `pixi lock` and commit the lock.",
        )
    return environment, found


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def unsatisfied(
    requirements: list[dict[str, str]], records: list[Any], pypi: list[Any]
) -> list[str]:
    """The manifest's requirements that no locked package satisfies, as `source: name spec`."""
    conda = {record.name.normalized: record for record in records}
    by_name = {_normalized(package.name): package for package in pypi}
    missing = []
    for requirement in requirements:
        kind, name, spec = requirement["kind"], requirement["name"], requirement["spec"]
        if kind == "pep508":
            match = _NAME.match(spec)
            name = match.group(1) if match else spec
        if kind == "conda":
            ok = _conda_satisfies(conda.get(name.lower()), name, spec)
        else:
            # pixi leaves out a PyPI requirement that a conda package of that name provides.
            wanted = spec if kind == "pep508" else "" if spec == "*" else f"{name}{spec}"
            ok = name.lower() in conda or _pypi_satisfies(by_name.get(_normalized(name)), wanted)
        if not ok:
            shown = spec if kind == "pep508" else f"{name} {spec}"
            missing.append(f"{requirement['source']}: {shown}")
    return missing


def _conda_satisfies(record: Any, name: str, spec: str) -> bool:
    if record is None:
        return False
    if spec == "*":
        return True
    try:
        return bool(rattler.MatchSpec(f"{name} {spec}").matches(record))
    except InvalidMatchSpecError:
        return True  # a spec rattler cannot read: pixi would have refused it; name checked


def _pypi_satisfies(package: Any, requirement: str) -> bool:
    """`requirement` is a PEP 508 string, or empty: any version."""
    if package is None:
        return False
    if not requirement:
        return True
    try:
        return bool(package.satisfies(requirement))
    except Exception:  # a requirement rattler cannot read: the name is checked
        return True


def pypi_packages(packages: list[Any], lock: Path) -> tuple[list[dict[str, str]], list[str]]:
    """The lock's PyPI packages as pip installs them: archives by URL and sha256, and local
    projects (paths inside the app, relative to it)."""
    archives, local = [], []
    app = lock.parent.resolve()
    for package in packages:
        location = str(package.location)
        sha256 = _sha256(package)
        if "://" not in location:
            path = (app / location).resolve()
            if not path.is_relative_to(app):
                raise Failure(
                    f"Unsupported PyPI package in {lock.name}",
                    f"The PyPI package {package.name} is locked at {location!r}, outside the app.",
                    "Move the project into the app's directory, or depend on a released version "
                    "from a package index, then run `pixi lock`.",
                )
            local.append(path.relative_to(app).as_posix() or ".")
            continue
        if not location.startswith(("https://", "http://")) or sha256 is None:
            raise Failure(
                f"Unsupported PyPI package in {lock.name}",
                f"The PyPI package {package.name} is locked as {location!r}"
                + ("" if sha256 else " without a sha256")
                + ". The buildpack installs PyPI archives the lock names by URL and hash, and "
                "projects inside the app.",
                "Depend on a released version from a package index instead of a git source, "
                "then run `pixi lock`.",
            )
        archives.append(
            {"name": package.name, "version": str(package.version), "url": location}
            | {"sha256": sha256.hex()}
        )
    return sorted(archives, key=lambda p: _normalized(p["name"])), sorted(local)


def _sha256(package: Any) -> bytes | None:
    """The locked sha256; py-rattler 0.28's PackageHashes raises AttributeError when the lock
    has no hash for the package."""
    try:
        return package.hashes.sha256
    except AttributeError:
        return None


async def create(args: argparse.Namespace) -> dict[str, Any]:
    lock = read_lock(args.lock)
    environment, platform = locked_environment(lock, args.lock, args.environment, args.platform)
    records = environment.conda_repodata_records_for_platform(platform) or []
    pypi = environment.pypi_packages_for_platform(platform) or []
    requirements = json.loads(args.requirements.read_text()) if args.requirements else []
    missing = unsatisfied(requirements, records, pypi)
    if missing:
        raise Failure(
            f"{args.lock.name} is out of date",
            f"{args.manifest} asks for what no package of the environment "
            f"{args.environment!r} ({args.platform}) in {args.lock.name} satisfies:\n"
            + "\n".join(f"  {line}" for line in missing),
            f"Run `pixi lock` and commit {args.lock.name}. The build installs exactly what "
            "the lock says and never locks by itself.",
        )
    require_python(
        [record.name.normalized for record in records],
        f"The environment {args.environment!r} of {args.lock.name}",
        'Add python to the environment\'s dependencies (e.g. `python = "3.12.*"` under '
        "[dependencies] of pixi.toml), then run `pixi lock`.",
    )
    archives, local = pypi_packages(pypi, args.lock)  # checked before any download
    declared = {Path(r["path"]).as_posix() for r in requirements if r.get("path")}
    for path in local:
        if path not in declared:  # the build's reuse key holds the paths the manifest names
            raise Failure(
                f"{args.lock.name} is out of date",
                f"{args.lock.name} installs the project at {path!r} into the environment "
                f"{args.environment!r}, but {args.manifest} names no PyPI dependency with "
                f"`path = {path!r}`.",
                f"Run `pixi lock` and commit {args.lock.name}.",
            )
    unlocked = sorted(declared - set(local))  # the buildpack installs these as projects
    if unlocked:
        raise Failure(
            f"{args.lock.name} is out of date",
            f"{args.manifest} names projects in the app ({', '.join(unlocked)}) that the "
            f"environment {args.environment!r} of {args.lock.name} does not install from there.",
            f"Run `pixi lock` and commit {args.lock.name}.",
        )
    print(f"Installing {len(records)} conda packages of {args.lock.name}", flush=True)
    for record in sorted(records, key=lambda r: r.name.normalized):
        print(f"  {record.name.normalized} {record.version} {record.build}", flush=True)
    try:
        await install(records, args.prefix, args.cache_dir)
    except InstallerError as e:
        raise Failure(
            "Unable to fetch a conda package of the lock",
            f"py-rattler could not install the locked packages: {e}",
            f"Check that the channels of {args.lock.name} are reachable and still hold the "
            "locked packages (a removed package needs `pixi lock` again), and the network.",
        ) from e
    return {"pypi": archives, "local": local}


def _version() -> str:
    from importlib.metadata import version

    return version("py-rattler")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lock", type=Path, required=True)
    parser.add_argument("--environment", required=True)
    parser.add_argument("--platform", required=True)
    parser.add_argument("--prefix", type=Path, required=True)
    parser.add_argument("--cache-dir", type=Path, required=True)
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--manifest", default="the manifest")
    parser.add_argument("--requirements", type=Path)
    args = parser.parse_args(argv)
    return write_outcome(create(args), args.result)


if __name__ == "__main__":
    run_and_exit(main)
