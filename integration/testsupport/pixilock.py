"""Real pixi.lock files, written with py-rattler's lock-file support (rattler_lock is the library
pixi itself writes them with), because pixi is not on PyPI: a solve against a channel, then
the records and PyPI packages of each environment and platform.

rattler's Python API adds a PyPI package without hashes; pixi writes its sha256, so `sha256:`
is added to the file afterwards, and the file is read back to check that rattler parses it.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import rattler
from rattler import LockChannel, LockFile, LockPlatform


@dataclass(frozen=True)
class PypiPackage:
    name: str
    version: str
    url: str
    sha256: str  # empty: none in the lock


_FILES = "https://files.pythonhosted.org/packages"
GUNICORN = PypiPackage(
    "gunicorn",
    "23.0.0",
    f"{_FILES}/cb/7d/6dac2a6e1eba33ee43f318edbed4ff29151a49b5d37f080aad1e6469bca4/"
    "gunicorn-23.0.0-py3-none-any.whl",
    "ec400d38950de4dfd418cff8328b2c8faed0edb0d517d3394e457c317908ca4d",
)
PACKAGING = PypiPackage(
    "packaging",
    "25.0",
    f"{_FILES}/20/12/38679034af332785aac8774540895e234f4d07f7545804097de4b666afd8/"
    "packaging-25.0-py3-none-any.whl",
    "29572ef2b1f17581046b3a2227d5c611fb25ec70ca1ba8554b24b0e69331a484",
)


@dataclass(frozen=True)
class LockedEnvironment:
    specs: tuple[str, ...]  # conda specs solved against the channel
    pypi: tuple[PypiPackage, ...] = ()
    platforms: tuple[str, ...] = field(default=("linux-64",))


def write_pixi_lock(path: Path, channel: str, environments: dict[str, LockedEnvironment]) -> None:
    """pixi.lock at `path`: each environment solved from `channel` (a URL) for its platforms."""
    platforms = sorted({p for env in environments.values() for p in env.platforms})
    lock = LockFile([LockPlatform(p) for p in platforms])
    hashes = {}
    for name, env in environments.items():
        lock.set_channels(name, [LockChannel(channel.rstrip("/") + "/")])
        for platform in env.platforms:
            records = asyncio.run(_solve(channel, list(env.specs), platform))
            for record in records:
                lock.add_conda_package(name, LockPlatform(platform), record)
            for package in env.pypi:
                lock.add_pypi_package(
                    name, LockPlatform(platform), package.name, package.version, package.url
                )
                if package.sha256:
                    hashes[package.url] = package.sha256
    lock.to_path(path)
    text = path.read_text()
    for url, sha256 in hashes.items():
        entry = f"- pypi: {url}\n"
        start = text.index(entry, text.index("\npackages:\n"))
        end = text.index("\n", text.index("  version: ", start)) + 1
        text = text[:end] + f"  sha256: {sha256}\n" + text[end:]
    path.write_text(text)
    reread = LockFile.from_path(path)
    assert sorted(n for n, _ in reread.environments()) == sorted(environments)


async def _solve(channel: str, specs: list[str], platform: str) -> list[object]:
    with tempfile.TemporaryDirectory(prefix="pixilock-") as cache:
        return await rattler.solve(
            sources=[rattler.Channel(channel)],
            specs=specs,
            gateway=rattler.Gateway(cache_dir=Path(cache)),
            platforms=[platform, "noarch"],
            virtual_packages=[],
        )
