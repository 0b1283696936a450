"""Running an exported image like the launcher does (cnb-spec.md §3.3 "Launch order", §3.4, §4;
``lc:launch/launcher.go``, ``launch/process.go``, ``env/launch.go``).

The image's layer tarballs are applied to a fresh root, so files carry their 1980 mtimes and the
build uid as owner, exactly as in a container. Processes run as the run uid, which therefore
cannot write into layers: stale ``.pyc`` files show up here as they would in production.

That root is the whole filesystem the process sees: the layers over a minimal Debian run image
base (:mod:`localcnb.runbase`), never the host's ``/usr``. The launcher execs the process, so it
is PID 1 of the container's PID namespace; :attr:`Running.pid` is its host pid, the process that
``docker stop`` signals.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from .constants import (
    APP_DIR,
    CNB_GID,
    EXEC_ENV,
    LAYERS_DIR,
    RUN_IMAGE_ENV,
    RUN_UID,
    PlatformError,
    api_tuple,
    escape_id,
)
from .container import Container
from .envfiles import Env
from .image import Image
from .runbase import run_base
from .sandbox import Spec
from .tarball import extract_like_runtime


@contextmanager
def app_container(image: Image, workdir: Path) -> Iterator[Container]:
    """A fresh root holding the image's layers; removed afterwards."""
    scratch = workdir / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=scratch))
    try:
        container = Container.create(run_dir / "root", RUN_UID)
        for layer in image.all_layers:
            extract_like_runtime(layer.tar, container.root)
        # The real image always has /layers (launcher config); keep the mountpoint source valid.
        container.host(LAYERS_DIR).mkdir(exist_ok=True)
        container.make_run_root(run_base())
        yield container
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def launch_spec(
    image: Image,
    container: Container,
    process_type: str | None,
    args: Sequence[str] | None,
    env: Mapping[str, str] | None,
    command: Sequence[str] | None,
) -> Spec:
    """Raises :class:`PlatformError` where the launcher would fail before exec."""
    if command:
        # ``--entrypoint launcher img -- cmd``: a direct user process, no process type.
        argv, proc_type, working_dir = list(command), "", APP_DIR
    else:
        argv, proc_type, working_dir = _select(image, process_type, args)
    container_env = {**RUN_IMAGE_ENV, "HOSTNAME": container.hostname, **(env or {})}
    values, exec_d = _launch_env(image, container, proc_type, container_env)
    return Spec(
        mounts=container.run_mounts(run_base()),
        uid=RUN_UID,
        gid=CNB_GID,
        argv=argv,
        env=values,
        cwd=APP_DIR,
        launcher=True,
        exec_d=exec_d,
        process_cwd=working_dir,
        root=str(container.root),
        pid_file=str(container.root.parent / "pid"),
    )


def _select(
    image: Image, process_type: str | None, args: Sequence[str] | None
) -> tuple[list[str], str, str]:
    wanted = process_type or image.default_process
    if not wanted:
        raise PlatformError(
            "determine start command: when there is no default process a command is required"
        )
    # Platform API 0.15: processes restricted to other execution environments are not eligible.
    proc = next(
        (
            p
            for p in image.processes
            if p["type"] == wanted
            and (not p["exec_env"] or "*" in p["exec_env"] or EXEC_ENV in p["exec_env"])
        ),
        None,
    )
    if proc is None:
        raise PlatformError(f"determine start command: process type {wanted} was not found")
    if not proc["direct"]:
        raise PlatformError(
            f"localcnb does not launch shell processes (type {wanted}: direct = false, "
            "buildpack API < 0.9)"
        )
    command, defaults, user = proc["command"], proc["args"], list(args or [])
    if len(command) > 1:
        argv = [*command, *(user or defaults)]
    elif not user:
        argv = [*command, *defaults]
    elif _api(image, proc["buildpack_id"]) < (0, 9):
        argv = [*command, *defaults, *user]
    else:
        argv = [*command, *user]  # user args replace the defaults
    return argv, wanted, proc["working_dir"] or APP_DIR


def _api(image: Image, bp_id: str) -> tuple[int, int]:
    return next(api_tuple(bp["api"]) for bp in image.buildpacks if bp["id"] == bp_id)


def _launch_env(
    image: Image, container: Container, proc_type: str, container_env: Mapping[str, str]
) -> tuple[dict[str, str], list[str]]:
    """Per buildpack (group order): every layer's bin/ and lib/, then every layer's env files;
    exec.d programs are collected to run after all env files."""
    env = Env.for_launch(container_env)
    exec_d: list[str] = []
    for bp in image.buildpacks:
        bp_dir = f"{LAYERS_DIR}/{escape_id(bp['id'])}"
        names = _entries(container.host(bp_dir), dirs=True)
        for name in names:
            env.add_root_dir(container.host(f"{bp_dir}/{name}"), f"{bp_dir}/{name}")
        for name in names:
            layer = container.host(f"{bp_dir}/{name}")
            env.add_env_dir(layer / "env")
            env.add_env_dir(layer / "env.launch")
            if proc_type:
                env.add_env_dir(layer / "env.launch" / proc_type)
    for bp in image.buildpacks:
        bp_dir = f"{LAYERS_DIR}/{escape_id(bp['id'])}"
        for name in _entries(container.host(bp_dir), dirs=True):
            subdirs = ["exec.d", f"exec.d/{proc_type}"] if proc_type else ["exec.d"]
            for sub in subdirs:
                for program in _entries(container.host(f"{bp_dir}/{name}/{sub}"), dirs=False):
                    exec_d.append(f"{bp_dir}/{name}/{sub}/{program}")
    return env.values, exec_d


def _entries(path: Path, *, dirs: bool) -> list[str]:
    try:
        found = [e.name for e in os.scandir(path) if e.is_dir(follow_symlinks=False) == dirs]
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(found, key=os.fsencode)


def kill_group(proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """Stop the process and everything it started (it leads its own process group)."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


class Running:
    """A background app process started by :meth:`Platform.start`."""

    def __init__(self, proc: subprocess.Popen[bytes], log_path: Path):
        self.proc = proc
        self.log_path = log_path

    @property
    def pid(self) -> int:
        """The host pid of the container's PID 1 (the launched process)."""
        pid_file = self.log_path.with_name("pid")
        deadline = time.monotonic() + 10
        while not pid_file.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the container did not start:\n{self.output()}")
            time.sleep(0.05)
        return int(pid_file.read_text())

    def output(self) -> str:
        return self.log_path.read_bytes().decode(errors="replace")

    def wait_for_port(self, port: int, timeout: float = 30.0, host: str = "127.0.0.1") -> None:
        """Block until something accepts TCP connections on ``port``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"process exited ({self.proc.returncode}):\n{self.output()}")
            try:
                with socket.create_connection((host, port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s:\n{self.output()}")

    def stop(self) -> int:
        kill_group(self.proc)
        return self.proc.wait()
