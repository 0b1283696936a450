"""Run the conda install many times, as the build runs it, and count crashes.

One conda app is built on the local platform (test CPython 3.12, the local test channel). Then
the cached `py-rattler` layer is restored into a build container, and the install runs again and
again there: the tool layer's python (a venv of the Python that runs the buildpack), the
command that CondaManager.install runs (`tool_command`), the build's tool environment, uid and
mounts. The runs alternate between environment.yml (solve and install) and package-list.txt
(download, check and install). Each makes a new environment; any exit by a signal is a crash.

    scripts/stress-conda-install [--runs 200] [--jobs 2]

`--jobs` runs that many installs at once, to load the machine as a busy CI does (the crash it
was written for, a tokio thread racing interpreter finalization, showed only under load). Exit 0
when every run succeeded, 1 otherwise. Needs root, like every local platform build.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import signal
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from testsupport.buildpack import make_test_buildpack
from testsupport.condachannel import Channel, build_channel
from testsupport.cpython import build_minor
from testsupport.server import DownloadServer

from cnb_python import buildenv
from cnb_python.managers.conda import SCRIPT, TOOL, CondaManager
from cnb_python.managers.pip import PipOptions
from cnb_python.tools import Tool
from localcnb import Platform
from localcnb.cache import Cache
from localcnb.constants import (
    APP_DIR,
    BUILD_UID,
    CNB_DIR,
    CNB_GID,
    HOME_DIR,
    LAYERS_DIR,
    PLATFORM_DIR,
)
from localcnb.container import Container
from localcnb.sandbox import Spec, ensure_mountpoints, popen
from localcnb.tarball import extract_like_restorer

BP_ID = "cnb-python/python"
LAYERS = f"{LAYERS_DIR}/cnb-python_python"
_NO_BYTECODE = shutil.ignore_patterns("__pycache__")
# What the environment.yml app solves to (blinker: the newest of two), for package-list.txt.
PACKAGES = (
    *("python", "libgreet", "flask", "click", "werkzeug", "jinja2", "markupsafe"),
    *("itsdangerous", "blinker"),
)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="condastress-") as tmp:
        work = Path(tmp)
        work.chmod(0o755)  # the build uid reads the apps and the channel from here
        cpython = build_minor("3.12")
        channel = build_channel(work / "channel", cpython)
        with (
            DownloadServer(cpython.path.parent) as python_server,
            DownloadServer(channel.path) as channel_server,
        ):
            buildpack = make_test_buildpack(
                work / "buildpack" / "cnb-python",
                base_url=python_server.base_url,
                cpythons=[cpython],
                default_python=cpython.minor,
            )
            container = Container.create(work / "container", BUILD_UID)
            apps = write_apps(container, channel, channel_server.base_url)
            restore_tool_layers(work / "platform", buildpack, container, apps["environment.yml"])
            codes = stress(container, apps, args.runs, args.jobs)
    return report(codes)


def write_apps(container: Container, channel: Channel, url: str) -> dict[str, Path]:
    """Two apps with the same packages in the container's /workspace, an environment.yml and a
    package-list.txt; their paths as the container sees them."""
    for directory in (APP_DIR, PLATFORM_DIR, CNB_DIR):
        container.host(directory).mkdir()
    root = container.host(APP_DIR)
    environment = root / "environment"
    environment.mkdir()
    (environment / "environment.yml").write_text(
        f"channels:\n  - {url}\ndependencies:\n  - python=3.12\n  - flask=3.1\n  - libgreet\n"
    )
    explicit = root / "explicit"
    explicit.mkdir()
    lines = ["@EXPLICIT"]
    for name in PACKAGES:
        package = channel.package(name)
        digest = hashlib.sha256(package.read_bytes()).hexdigest()
        subdir = package.parent.name
        lines.append(f"{url}/{subdir}/{package.name}#sha256:{digest}")
    (explicit / "package-list.txt").write_text("\n".join(lines) + "\n")
    return {
        name: Path(APP_DIR, app.name)
        for name, app in (("environment.yml", environment), ("package-list.txt", explicit))
    }


def restore_tool_layers(workdir: Path, buildpack: Path, container: Container, app: Path) -> None:
    """Build the app once, then restore its cached py-rattler layer into the container (a CPython
    layer too, when the build had one)."""
    platform = Platform(workdir, [buildpack])
    result = platform.build(container.host(str(app)))
    if not result.success:
        sys.exit(f"The first build failed:\n{result.output}")
    cache = Cache.load(platform.workdir / "cache")
    assert cache is not None
    for name, layer in cache.layers_for(BP_ID).items():
        if name in ("cpython", TOOL):
            extract_like_restorer(cache.tar(layer.sha256), container.root, BUILD_UID, CNB_GID)


def stress(container: Container, apps: dict[str, Path], runs: int, jobs: int) -> list[int]:
    ensure_mountpoints()
    tool = Tool(TOOL, "", Path(LAYERS) / TOOL)
    # The build puts the bin/ of the Python that runs the tools first on PATH: the venv's home.
    config = container.host(f"{LAYERS}/{TOOL}/pyvenv.cfg").read_text().splitlines()
    home = next(line.split("=", 1)[1].strip() for line in config if line.startswith("home"))
    env = buildenv.tool_env({"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": HOME_DIR}, Path(home))
    scratch = container.root.parent / "scratch"
    scratch.mkdir()
    # The buildpack's tool scripts where the build has them, below /cnb: the host's copy may
    # sit under a /tmp that the container's own /tmp hides.
    scripts = Path(CNB_DIR, "toolscripts")
    shutil.copytree(SCRIPT.parent, container.host(str(scripts)), ignore=_NO_BYTECODE)

    def one(number: int) -> int:
        spec_file = ("environment.yml", "package-list.txt")[number % 2]
        app = apps[spec_file]
        manager = CondaManager(
            app=app,
            spec_file=app / spec_file,
            vendor=None,
            binding_files=(),
            pip=PipOptions(vendor=None, config=None),
        )
        run_dir = f"/tmp/run-{number}"
        spec = Spec(
            mounts=container.mounts(app_readonly=True),
            uid=BUILD_UID,
            gid=CNB_GID,
            argv=[
                "/bin/sh",
                "-c",
                # a failed run's directory stays, with its output, for a look inside
                'mkdir "$0" && cd "$0" && "$@" >out.txt 2>&1; code=$?; '
                '[ $code = 0 ] && rm -rf "$0"; exit $code',
                run_dir,
                *[
                    str(scripts / SCRIPT.name) if arg == str(SCRIPT) else arg
                    for arg in manager.tool_command(
                        tool, Path(run_dir, "env"), Path(run_dir), Path(run_dir, "result.json"), env
                    )
                ],
            ],
            env=env,
            cwd=str(app),
        )
        code = popen(spec, scratch).wait()
        if code != 0:
            print(f"run {number + 1}/{runs} ({spec_file}): {describe(code)}", flush=True)
            out = container.host(run_dir) / "out.txt"
            if out.is_file():
                print("  " + "\n  ".join(out.read_text().splitlines()[-5:]), flush=True)
        return code

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, range(runs)))


def describe(code: int) -> str:
    """The exit status as the shell reports it: 128+N is signal N."""
    if code > 128 and code - 128 in signal.Signals._value2member_map_:
        return f"killed by {signal.Signals(code - 128).name}"
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return "ok" if code == 0 else f"exit status {code}"


def report(codes: list[int]) -> int:
    failures = [describe(code) for code in codes if code != 0]
    print(f"{len(codes)} installs, {len(failures)} failed", end="")
    print(f": {', '.join(sorted(set(failures)))}" if failures else "")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
