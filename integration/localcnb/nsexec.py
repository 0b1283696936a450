"""Inside the new mount namespace: mount, drop privileges, (launcher: exec.d), exec.

Runs as a standalone script (``python -I nsexec.py <spec.json>``, stdlib only) so that starting
it stays cheap; the spec is written by :mod:`localcnb.sandbox`. Everything it needs to import is
imported before privileges are dropped.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
from typing import Any, NoReturn

import tomllib

MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC = 1, 32, 4096, 16384
EXIT_SETUP_ERROR = 125  # like a container runtime failing to start the container
EXIT_LAUNCH_ERROR = 82  # lc:platform/exit.go LaunchError


def bind(source: str, target: str, readonly: bool) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.mount(source.encode(), target.encode(), None, MS_BIND | MS_REC, None) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"bind {source} on {target}: {os.strerror(err)}")
    if readonly:
        flags = MS_BIND | MS_REMOUNT | MS_RDONLY
        if libc.mount(None, target.encode(), None, flags, None) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"remount {target} read-only: {os.strerror(err)}")


def fail(message: str, code: int) -> NoReturn:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
    os._exit(code)


def launch_fail(message: str) -> NoReturn:
    fail(f"ERROR: failed to launch: {message}", EXIT_LAUNCH_ERROR)


def run_exec_d(program: str, env: dict[str, str]) -> dict[str, str]:
    """exec.d: run with the current launch env; TOML on fd 3 overrides variables
    (cnb-spec.md §3.4, ``lc:launch/exec_d.go``)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_end)
            os.dup2(write_end, 3)
            os.set_inheritable(3, True)  # dup2 onto itself would keep close-on-exec
            os.execve(program, [program], env)
        except OSError as exc:
            fail(f"exec {program}: {exc.strerror}", 127)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        output = pipe.read()
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    where = f"exec.d file at path '{program}'"
    if code != 0:
        launch_fail(f"exec.d: failed to execute {where}: exit status {code}")
    try:
        values = tomllib.loads(output.decode())
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        launch_fail(f"exec.d: failed to decode output from {where}: {exc}")
    if not all(isinstance(v, str) for v in values.values()):
        launch_fail(f"exec.d: {where} must output string values only")
    return {**env, **values}


def main(spec_path: str) -> NoReturn:
    with open(spec_path) as fh:
        spec: dict[str, Any] = json.load(fh)
    try:
        for mount in spec["mounts"]:
            bind(mount["source"], mount["target"], mount["readonly"])
        os.setgroups([])
        os.setgid(spec["gid"])
        os.setuid(spec["uid"])
        os.umask(0o022)
        os.chdir(spec["cwd"])
    except OSError as exc:
        fail(f"localcnb sandbox: {exc}", EXIT_SETUP_ERROR)
    argv, env = spec["argv"], spec["env"]
    if not spec["launcher"]:
        try:
            os.execve(argv[0], argv, env)
        except OSError as exc:
            fail(f"fork/exec {argv[0]}: {exc.strerror}", 126 if exc.errno == 13 else 127)
    for program in spec["exec_d"]:
        env = run_exec_d(program, env)
    try:
        os.chdir(spec["process_cwd"])
    except OSError as exc:
        launch_fail(f"change directory: {exc}")
    try:
        os.execvpe(argv[0], argv, env)
    except OSError as exc:
        launch_fail(f'path lookup: exec: "{argv[0]}": {exc.strerror}')


if __name__ == "__main__":
    main(sys.argv[1])
