"""Create a conda environment with py-rattler: run ONLY by the python of the build-only conda tool
layer (a venv holding requirements/tools/py-rattler.txt), never imported by the buildpack.

It reads YAML and talks to channels, which the buildpack itself must not (its runtime deps stay
tomli, tomli-w, packaging, requests). Standard library, rattler and yaml only.

    python conda_env.py --prefix ENV --platform linux-64 --cache-dir DIR --result FILE
                        --default-channels conda-forge (--environment FILE | --explicit FILE)

On success FILE holds {"pip": [requirements of the `pip:` subsection]}; on a user error it
holds {"error": {"title", "detail", "fix"}} and the exit status is 3.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import rattler
import yaml
from rattler.exceptions import (
    FetchRepoDataError,
    GatewayError,
    InvalidMatchSpecError,
    SolverError,
)

USER_ERROR = 3


class Failure(Exception):
    def __init__(self, title: str, detail: str, fix: str) -> None:
        super().__init__(title)
        self.payload = {"title": title, "detail": detail, "fix": fix}


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise Failure(
            f"Unable to read {path.name}",
            f"{path.name} is not valid UTF-8 text ({e.reason} at byte {e.start}).",
            f"Save {path.name} as plain UTF-8 text.",
        ) from e


def read_environment(
    path: Path, default_channels: list[str]
) -> tuple[list[str], list[str], list[str]]:
    """(channels, conda specs, pip requirements) of an environment.yml."""
    text = _read_text(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (at line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise Failure(
            "Invalid environment.yml",
            f"environment.yml is not valid YAML{where}: {problem}.",
            "Fix the YAML at that line: indent list items under `dependencies:` with `- `, and "
            "quote values that contain `: `.",
        ) from e
    if not isinstance(data, dict) or not isinstance(data.get("dependencies"), list):
        raise Failure(
            "Invalid environment.yml",
            "environment.yml must be a mapping with a `dependencies` list.",
            "Write it as `conda env export --from-history` does: `name`, `channels` and "
            "`dependencies` (with an optional `pip:` list inside).",
        )
    channels = data.get("channels") or default_channels
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        raise Failure(
            "Invalid environment.yml",
            "`channels` in environment.yml must be a list of channel names or URLs.",
            "Write each channel on its own `- ` line, e.g. `- conda-forge`.",
        )
    specs: list[str] = []
    pip: list[str] = []
    for entry in data["dependencies"]:
        if isinstance(entry, str):
            specs.append(entry)
        elif isinstance(entry, dict) and set(entry) == {"pip"} and isinstance(entry["pip"], list):
            pip += [str(requirement) for requirement in entry["pip"]]
        else:
            raise Failure(
                "Invalid environment.yml",
                f"Unexpected entry in `dependencies`: {entry!r}.",
                "Each dependency is a conda spec such as `flask=3.1` or one `pip:` list.",
            )
    return channels, specs, pip


async def solve(channels: list[str], specs: list[str], platform: str, cache: Path) -> list[Any]:
    try:
        return await rattler.solve(
            sources=[_channel(c, cache) for c in channels],
            specs=specs,
            gateway=rattler.Gateway(cache_dir=cache / "repodata", client=_client()),
            platforms=[platform, "noarch"],
            virtual_packages=rattler.VirtualPackage.detect(),
        )
    except InvalidMatchSpecError as e:
        raise Failure(
            "Invalid package spec in environment.yml",
            str(e),
            "Write each dependency as conda does, e.g. `flask`, `flask=3.1` or `flask>=3,<4`.",
        ) from e
    except (FetchRepoDataError, GatewayError) as e:
        raise Failure(
            "Unable to reach a conda channel",
            f"The channel index could not be read: {_any_subdir(str(e))}",
            "Check the channel names and URLs in environment.yml (or BP_CONDA_DEFAULT_CHANNELS),"
            " the network, and the credentials of a `conda` binding.",
        ) from e
    except SolverError as e:
        message = str(e)
        if "because of: No candidates were found" in message:
            raise Failure(
                "Conda package not found",
                f"No channel has a package the environment asks for:\n{message}",
                f"Check the spelling and version of the package, and that one of the channels "
                f"({', '.join(channels)}) has it for {platform} or noarch.",
            ) from e
        raise Failure(
            "Conflicting conda specs",
            f"The dependencies cannot be installed together:\n{message}",
            "Relax the version pins named above so that one set of packages satisfies all of "
            "them, and check it locally with `conda env create --dry-run -f environment.yml`.",
        ) from e


def read_condarc_channels(path: Path) -> list[str]:
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise Failure(
            "Invalid .condarc in the conda binding",
            f"The binding's .condarc is not valid YAML: {e}",
            "Fix the .condarc entry of the binding of type `conda`.",
        ) from e
    channels = data.get("channels") if isinstance(data, dict) else None
    return [str(c) for c in channels] if isinstance(channels, list) else []


def _any_subdir(message: str) -> str:
    """rattler reads the subdirs in parallel and reports whichever failed first: name none."""
    message = re.sub(r"/(noarch|[a-z]+-[a-z0-9_]+)/repodata[\w.]*", "/<subdir>/repodata", message)
    return re.sub(r"subdir '[^']+'", "subdir <subdir>", message)


def _channel(name: str, directory: Path) -> Any:
    return rattler.Channel(_with_auth_file(name, directory), rattler.ChannelConfig(root_dir="/"))


def _with_auth_file(url: str, directory: Path) -> str:
    """Move user:password@ of a channel URL into rattler's auth file and return the bare URL.
    (The install crashed with SIGSEGV in the test build container with credentials in the URL;
    it did not outside it. Credentials in the auth file work in both.) The file, a copy of
    RATTLER_AUTH_FILE (a binding's auth.json) plus these, lives in the build's temp dir."""
    parts = urllib.parse.urlsplit(url)
    if not parts.username:
        return url
    host = parts.hostname or ""  # rattler looks credentials up by host name, without port
    given = os.environ.get("RATTLER_AUTH_FILE")
    entries = json.loads(Path(given).read_text()) if given and Path(given).is_file() else {}
    auth_file = directory / "rattler-auth.json"
    os.environ["RATTLER_AUTH_FILE"] = str(auth_file)
    entries[host] = {
        "BasicHTTP": {
            "username": urllib.parse.unquote(parts.username),
            "password": urllib.parse.unquote(parts.password or ""),
        }
    }
    auth_file.write_text(json.dumps(entries))
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def read_explicit(path: Path) -> list[tuple[str, str, str]]:
    """(url, algorithm, digest) of each package in a `conda list --explicit` file."""
    lines = [line.strip() for line in _read_text(path).splitlines()]
    if "@EXPLICIT" not in lines:
        raise Failure(
            "Invalid package-list.txt",
            "package-list.txt has no `@EXPLICIT` line, so it is not a `conda list --explicit` "
            "file.",
            "Make it with `conda list --explicit --sha256 > package-list.txt`.",
        )
    packages = []
    for number, line in enumerate(
        lines[lines.index("@EXPLICIT") + 1 :], lines.index("@EXPLICIT") + 2
    ):
        if not line or line.startswith("#"):
            continue
        url, _, checksum = line.partition("#")
        algorithm, _, digest = checksum.partition(":") if ":" in checksum else ("md5", "", checksum)
        if (
            not url.endswith((".conda", ".tar.bz2"))
            or algorithm not in ("sha256", "md5")
            or not digest
        ):
            raise Failure(
                "Invalid package-list.txt",
                f"Line {number} is not a package URL with a checksum: {line!r}.",
                "Each line after @EXPLICIT is URL#sha256:DIGEST (or URL#MD5), as "
                "`conda list --explicit --sha256` writes it.",
            )
        packages.append((url, algorithm, digest.lower()))
    return packages


def fetch_explicit(packages: list[tuple[str, str, str]], directory: Path) -> list[tuple[Any, str]]:
    """Download and check each package; (its RepoDataRecord, its URL)."""
    records = []
    for url, algorithm, digest in packages:
        target = directory / url.rsplit("/", 1)[1]
        try:
            with urllib.request.urlopen(url, timeout=60) as response, target.open("wb") as out:
                shutil.copyfileobj(response, out)
        except (urllib.error.URLError, OSError) as e:
            raise Failure(
                "Unable to download a conda package",
                f"{url} could not be downloaded: {e}",
                "Check the URL in package-list.txt, the network, and the channel credentials.",
            ) from e
        actual = hashlib.new(algorithm, target.read_bytes()).hexdigest()
        if actual != digest:
            raise Failure(
                "Conda package checksum mismatch",
                f"{url}\nhas {algorithm} {actual},\nbut package-list.txt expects {digest}.",
                "The package changed or the list is wrong: export it again with "
                "`conda list --explicit --sha256 > package-list.txt`.",
            )
        record = asyncio.run(rattler.RepoDataRecord.from_package_archive(target))
        records.append((record, url))
    return records


def require_python(names: list[str], source: str) -> None:
    """The environment's python is the app's: an environment without one cannot run the app."""
    if "python" not in names:
        raise Failure(
            "No python in the conda environment",
            f"{source} does not install the `python` package, so the app would have no Python.",
            "Add python to the dependencies, e.g. `- python=3.12`."
            if source == "environment.yml"
            else "Export the list from an environment that has python in it.",
        )


async def install(records: list[Any], prefix: Path, cache: Path) -> None:
    await rattler.install(
        records,
        target_prefix=prefix,
        cache_dir=cache / "pkgs",
        show_progress=False,
        execute_link_scripts=False,
        client=_client(),
    )


def _client() -> Any:
    """rattler's client with its authentication middleware (reads RATTLER_AUTH_FILE): the
    plain default sends no credentials."""
    return rattler.Client.default_client()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prefix", type=Path, required=True)
    parser.add_argument("--platform", required=True)
    parser.add_argument("--cache-dir", type=Path, required=True)
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--default-channels", default="conda-forge")
    parser.add_argument("--only-channel", help="a local channel that replaces all others")
    parser.add_argument("--condarc", type=Path, help="its `channels` replace the defaults")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--environment", type=Path)
    source.add_argument("--explicit", type=Path)
    args = parser.parse_args(argv)
    try:
        outcome = from_environment(args) if args.environment else from_explicit(args)
    except Failure as failure:
        args.result.write_text(json.dumps({"error": failure.payload}))
        return USER_ERROR
    args.result.write_text(json.dumps(outcome))
    return 0


def from_environment(args: argparse.Namespace) -> dict[str, Any]:
    defaults = args.default_channels.replace(",", " ").split()
    if args.condarc:
        defaults = read_condarc_channels(args.condarc) or defaults
    channels, specs, pip = read_environment(args.environment, defaults)
    if args.only_channel:
        channels = [args.only_channel]
    print(f"Solving {', '.join(specs)} from {', '.join(channels)}", flush=True)
    records = asyncio.run(solve(channels, specs, args.platform, args.cache_dir))
    require_python([record.name.normalized for record in records], "environment.yml")
    for record in sorted(records, key=lambda r: r.name.normalized):
        print(f"  {record.name.normalized} {record.version} {record.build}", flush=True)
    asyncio.run(install(records, args.prefix, args.cache_dir))
    return {"pip": pip, "origins": {}}


def from_explicit(args: argparse.Namespace) -> dict[str, Any]:
    """Install the archives of package-list.txt; `origins` maps each file name to its URL,
    which rattler cannot know (it installs from the downloaded archive)."""
    with tempfile.TemporaryDirectory(dir=args.cache_dir) as tmp:
        fetched = fetch_explicit(read_explicit(args.explicit), Path(tmp))
        require_python([record.name.normalized for record, _ in fetched], "package-list.txt")
        print(f"Installing {len(fetched)} packages from package-list.txt", flush=True)
        asyncio.run(install([record for record, _ in fetched], args.prefix, args.cache_dir))
    return {"pip": [], "origins": {record.file_name: url for record, url in fetched}}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
