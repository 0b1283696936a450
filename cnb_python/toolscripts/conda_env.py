"""Create a conda environment with py-rattler: run ONLY by the python of the build-only conda tool
layer (a venv holding requirements/tools/py-rattler.txt), never imported by the buildpack.

It reads YAML and talks to channels, which the buildpack itself must not (its runtime deps stay
tomli, tomli-w, packaging, requests). Standard library, rattler and yaml only.

    python conda_env.py --prefix ENV --platform linux-64 --cache-dir DIR --result FILE
                        --default-channels conda-forge (--environment FILE | --explicit FILE)

On success FILE holds {"pip": [requirements of the `pip:` subsection]}; on a user error it
holds {"error": {"title", "detail", "fix"}} and the exit status is 3.

The process ends with os._exit, never with interpreter finalization: rattler completes each
awaited call from a tokio thread (pyo3-async-runtimes' set_result -> loop.call_soon_threadsafe).
The Python side can see the result and finish the program while that thread still waits for the
GIL to drop its references. If the interpreter is finalizing by then, CPython (3.13 and older)
ends the thread with pthread_exit; the forced unwind runs Rust destructors that decref Python
objects without a thread state, and the process dies with SIGSEGV (seen about once in 70 runs
under load: `scripts/stress-conda-install`). Nothing needs finalization here: the result file is
closed and the output flushed before the exit.
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
import traceback
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import rattler
import yaml
from rattler.exceptions import (
    FetchRepoDataError,
    GatewayError,
    InvalidMatchSpecError,
    SolverError,
)

USER_ERROR = 3
NODEFAULTS, DEFAULTS = "nodefaults", "defaults"
CHANNEL_ALIAS = "https://conda.anaconda.org/"
# What `defaults` means on Linux: conda's DEFAULT_CHANNELS_UNIX (conda/base/constants.py).
ANACONDA_DEFAULTS = ("https://repo.anaconda.com/pkgs/main", "https://repo.anaconda.com/pkgs/r")
_IGNORED_KEYS = {
    "name": "the environment is the buildpack's env layer",
    "prefix": "the environment is the buildpack's env layer",
}
# What conda accepts as a variable name: one the shell can export.
_VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# rattler: "could not find subdir 'noarch' in channel '<url>'" when the index is not there.
_MISSING_CHANNEL = re.compile(r"could not find subdir 'noarch' in channel '([^']+)'")


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
    path: Path,
) -> tuple[list[str], list[str], list[str], dict[str, str]]:
    """(channels as listed, conda specs, pip requirements, variables) of an environment.yml
    (or .yaml)."""
    text = _read_text(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (at line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise Failure(
            f"Invalid {path.name}",
            f"{path.name} is not valid YAML{where}: {problem}.",
            "Fix the YAML at that line: indent list items under `dependencies:` with `- `, and "
            "quote values that contain `: `.",
        ) from e
    if not isinstance(data, dict) or not isinstance(data.get("dependencies"), list):
        raise Failure(
            f"Invalid {path.name}",
            f"{path.name} must be a mapping with a `dependencies` list.",
            "Write it as `conda env export --from-history` does: `name`, `channels` and "
            "`dependencies` (with an optional `pip:` list inside).",
        )
    for key, why in _IGNORED_KEYS.items():
        if key in data:
            print(f"Ignoring `{key}:` in {path.name}: {why}", flush=True)
    channels = data.get("channels") or []
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        raise Failure(
            f"Invalid {path.name}",
            f"`channels` in {path.name} must be a list of channel names or URLs.",
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
                f"Invalid {path.name}",
                f"Unexpected entry in `dependencies`: {entry!r}.",
                "Each dependency is a conda spec such as `flask=3.1` or one `pip:` list.",
            )
    return channels, specs, pip, read_variables(data.get("variables"), path.name)


def read_variables(variables: object, name: str) -> dict[str, str]:
    """`variables:`, which `conda env create` stores in conda-meta/state for `conda activate`
    to export. Values are scalars, exported as text."""
    if variables is None:
        return {}
    bad = (
        not isinstance(variables, dict)
        or not all(isinstance(k, str) and _VARIABLE_NAME.match(k) for k in variables)
        or not all(isinstance(v, (str, int, float, bool)) for v in variables.values())
    )
    if bad:
        raise Failure(
            f"Invalid {name}",
            f"`variables` in {name} must map variable names (letters, digits and `_`) to "
            "single values.",
            "Write each variable as `NAME: value` under `variables:`, e.g. `APP_MODE: prod`.",
        )
    return {key: _text(value) for key, value in variables.items()}


def _text(value: str | int | float | bool) -> str:
    """A YAML scalar as the text conda exports (YAML's spelling of booleans)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def write_state(prefix: Path, variables: dict[str, str]) -> None:
    """The environment's variables where conda keeps them (conda-meta/state, `env_vars`)."""
    if variables:
        state = prefix / "conda-meta" / "state"
        state.write_text(json.dumps({"env_vars": variables}, indent=2) + "\n")
        state.chmod(0o644)


async def solve(
    channels: list[str], specs: list[str], platform: str, cache: Path, condarc: Condarc
) -> list[Any]:
    try:
        return await rattler.solve(
            sources=[_channel(_with_auth_file(c, cache), condarc) for c in channels],
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
        missing = _MISSING_CHANNEL.search(str(e))
        if missing:
            raise Failure(
                "Unknown conda channel",
                f"The channel {missing.group(1)} does not exist: its index "
                f"({missing.group(1)}noarch/repodata.json) was not found.",
                "Check the spelling of the channel in environment.yml (or in "
                "BP_CONDA_DEFAULT_CHANNELS or the binding's .condarc): a name such as "
                "`conda-forge` means https://conda.anaconda.org/conda-forge/.",
            ) from e
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


@dataclass(frozen=True)
class Condarc:
    """The settings of a conda binding's .condarc that choose channels, with conda's defaults."""

    channels: list[str]  # used when environment.yml lists none
    default_channels: list[str]  # what `defaults` stands for; [] turns it off
    channel_alias: str  # where a channel name such as `conda-forge` lives
    source: str  # where these come from, for messages


def read_condarc(path: Path | None) -> Condarc:
    if path is None:
        return Condarc([], list(ANACONDA_DEFAULTS), CHANNEL_ALIAS, "conda's defaults")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise Failure(
            "Invalid .condarc in the conda binding",
            f"The binding's .condarc is not valid YAML: {e}",
            "Fix the .condarc entry of the binding of type `conda`.",
        ) from e
    data = data if isinstance(data, dict) else {}
    channels = [str(c) for c in data.get("channels") or []]
    defaults = data.get("default_channels")
    default_channels = list(ANACONDA_DEFAULTS) if defaults is None else [str(c) for c in defaults]
    if NODEFAULTS in channels:
        default_channels = []
    alias = str(data.get("channel_alias") or CHANNEL_ALIAS)
    return Condarc(
        [c for c in channels if c != NODEFAULTS],
        default_channels,
        alias if alias.endswith("/") else alias + "/",
        "the conda binding's .condarc",
    )


def resolve_channels(listed: list[str], fallback: list[str], condarc: Condarc) -> list[str]:
    """The channels to solve from, as conda reads them: `nodefaults` only says not to add
    conda's default channels (the build never adds them), and `defaults` stands for the
    .condarc's `default_channels`, Anaconda's own channels unless a binding says otherwise."""
    if NODEFAULTS in listed:
        print("`nodefaults`: no default channels are added (the build adds none)", flush=True)
    channels = [c for c in listed if c != NODEFAULTS] or condarc.channels or fallback
    resolved: list[str] = []
    for channel in channels:
        if channel != DEFAULTS:
            resolved.append(channel)
            continue
        if not condarc.default_channels:
            raise Failure(
                "The `defaults` channel is turned off",
                f"The app's channels include `defaults`, but {condarc.source} turns it off "
                "(`nodefaults` in its channels, or an empty `default_channels`).",
                "Name the channels the app needs instead of `defaults` (e.g. `conda-forge`), "
                "or set `default_channels` in the binding's .condarc.",
            )
        print(
            f"`defaults` means {', '.join(condarc.default_channels)} ({condarc.source}); "
            "Anaconda's terms of service apply to its channels",
            flush=True,
        )
        resolved += condarc.default_channels
    return list(dict.fromkeys(resolved))


def pin_spec_channels(specs: list[str], channels: list[str], condarc: Condarc) -> list[str]:
    """`channel::package` specs with the channel as a full URL, which rattler resolves
    without our channel_alias; each such channel joins `channels` (conda searches it for that
    package even when the list does not name it)."""
    pinned = []
    for spec in specs:
        channel, separator, rest = spec.rpartition("::")
        if not separator:
            pinned.append(spec)
            continue
        if channel == DEFAULTS:
            channel = resolve_channels([DEFAULTS], [], condarc)[0]
        url = str(_channel(channel, condarc).base_url)
        if url not in (str(_channel(c, condarc).base_url) for c in channels):
            channels.append(channel)
        pinned.append(f"{url}::{rest}")
    return pinned


def _any_subdir(message: str) -> str:
    """rattler reads the subdirs in parallel and reports whichever failed first: name none."""
    message = re.sub(r"/(noarch|[a-z]+-[a-z0-9_]+)/repodata[\w.]*", "/<subdir>/repodata", message)
    return re.sub(r"subdir '[^']+'", "subdir <subdir>", message)


def _channel(name: str, condarc: Condarc) -> Any:
    config = rattler.ChannelConfig(channel_alias=condarc.channel_alias, root_dir="/")
    return rattler.Channel(name, config)


def _with_auth_file(url: str, directory: Path) -> str:
    """Move user:password@ of a channel URL into rattler's auth file and return the bare URL,
    so the credentials travel the one way rattler's authenticating client reads them. The file,
    a copy of RATTLER_AUTH_FILE (a binding's auth.json) plus these, lives in the build's temp
    dir."""
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


async def fetch_explicit(
    packages: list[tuple[str, str, str]], directory: Path
) -> list[tuple[Any, str]]:
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
        records.append((await rattler.RepoDataRecord.from_package_archive(target), url))
    return records


def require_python(names: list[str], source: str, fix: str | None = None) -> None:
    """The environment's python is the app's: an environment without one cannot run the app."""
    if "python" not in names:
        raise Failure(
            "No python in the conda environment",
            f"{source} does not install the `python` package, so the app would have no Python.",
            fix
            or (
                "Add python to the dependencies, e.g. `- python=3.12`."
                if source != "package-list.txt"
                else "Export the list from an environment that has python in it."
            ),
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
    parser.add_argument("--condarc", type=Path, help="a binding's .condarc (channels, aliases)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--environment", type=Path)
    source.add_argument("--explicit", type=Path)
    args = parser.parse_args(argv)
    create = from_environment if args.environment else from_explicit
    return write_outcome(create(args), args.result)


def write_outcome(work: Coroutine[Any, Any, dict[str, Any]], result: Path) -> int:
    """Run `work` and write what it returns to `result` for the buildpack, or the titled error
    it raised with the status USER_ERROR (pixi_env.py shares it)."""
    try:
        outcome = asyncio.run(work)
    except Failure as failure:
        result.write_text(json.dumps({"error": failure.payload}))
        return USER_ERROR
    result.write_text(json.dumps(outcome))
    return 0


async def from_environment(args: argparse.Namespace) -> dict[str, Any]:
    condarc = read_condarc(args.condarc)
    listed, specs, pip, variables = read_environment(args.environment)
    if args.only_channel:
        channels = [args.only_channel]
        specs = [spec.rpartition("::")[2] for spec in specs]  # every package is in it
    else:
        fallback = args.default_channels.replace(",", " ").split()
        channels = resolve_channels(listed, fallback, condarc)
        specs = pin_spec_channels(specs, channels, condarc)
    print(f"Solving {', '.join(specs)} from {', '.join(channels)}", flush=True)
    records = await solve(channels, specs, args.platform, args.cache_dir, condarc)
    require_python([record.name.normalized for record in records], args.environment.name)
    for record in sorted(records, key=lambda r: r.name.normalized):
        print(f"  {record.name.normalized} {record.version} {record.build}", flush=True)
    await install(records, args.prefix, args.cache_dir)
    write_state(args.prefix, variables)
    if variables:
        print(f"Environment variables: {', '.join(variables)}", flush=True)
    return {"pip": pip, "origins": {}}


async def from_explicit(args: argparse.Namespace) -> dict[str, Any]:
    """Install the archives of package-list.txt; `origins` maps each file name to its URL,
    which rattler cannot know (it installs from the downloaded archive)."""
    with tempfile.TemporaryDirectory(dir=args.cache_dir) as tmp:
        fetched = await fetch_explicit(read_explicit(args.explicit), Path(tmp))
        require_python([record.name.normalized for record, _ in fetched], "package-list.txt")
        print(f"Installing {len(fetched)} packages from package-list.txt", flush=True)
        await install([record for record, _ in fetched], args.prefix, args.cache_dir)
    return {"pip": [], "origins": {record.file_name: url for record, url in fetched}}


def exit_now(status: int) -> NoReturn:
    """End the process without interpreter finalization (see the module docstring)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def run_and_exit(main: Callable[[list[str]], int]) -> NoReturn:
    """Run a tool script's `main` on the command line and end with exit_now, whatever happens
    (pixi_env.py shares it)."""
    try:
        status = main(sys.argv[1:])
    except SystemExit as e:  # argparse's usage errors
        status = e.code if isinstance(e.code, int) else 2
    except BaseException:  # an internal error: print it, and still skip finalization
        traceback.print_exc()
        status = 1
    exit_now(status)


if __name__ == "__main__":
    run_and_exit(main)
