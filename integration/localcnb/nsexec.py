"""Inside the new mount namespace: mount, drop privileges, (launcher: exec.d), exec.

App containers (a spec with ``root`` and ``pid_file``) also get their own root (chroot) and PID
namespace: this process stays outside as the container runtime, forwarding signals to the
program, which is PID 1 inside, as in ``docker run``. So a PID 1 that installs no SIGTERM handler
ignores SIGTERM here exactly as it does in a container.

Runs as a standalone script (``python -I nsexec.py <spec.json>``, stdlib only) so that starting
it stays cheap; the spec is written by :mod:`localcnb.sandbox`. Everything it needs to import is
imported before privileges are dropped.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import sys
from typing import Any, NoReturn

import tomllib

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC = 1, 2, 4, 8, 32, 4096, 16384
CLONE_NEWPID = 0x20000000
PR_SET_PDEATHSIG = 1
FORWARDED = (
    signal.SIGTERM,
    signal.SIGINT,
    signal.SIGHUP,
    signal.SIGQUIT,
    signal.SIGUSR1,
    signal.SIGUSR2,
)
_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


EXIT_SETUP_ERROR = 125  # like a container runtime failing to start the container
EXIT_LAUNCH_ERROR = 82  # lc:platform/exit.go LaunchError


def bind(source: str, target: str, readonly: bool) -> None:
    _check(
        _libc.mount(source.encode(), target.encode(), None, MS_BIND | MS_REC, None),
        f"bind {source} on {target}",
    )
    if readonly:
        flags = MS_BIND | MS_REMOUNT | MS_RDONLY
        _check(_libc.mount(None, target.encode(), None, flags, None), f"remount {target} ro")


def mount_new(fstype: str, target: str) -> None:
    """A fresh tmpfs (world-writable, sticky, like /dev/shm) or proc."""
    flags = MS_NOSUID | MS_NODEV | (MS_NOEXEC if fstype == "proc" else 0)
    data = b"mode=1777" if fstype == "tmpfs" else None
    _check(
        _libc.mount(fstype.encode(), target.encode(), fstype.encode(), flags, data),
        f"mount {fstype} on {target}",
    )


def supervise(pid_file: str) -> None:
    """Fork the container's PID 1 into a new PID namespace; only the child returns. The parent
    forwards signals to it (``docker stop`` signals PID 1 only) and exits with its status."""
    _check(_libc.unshare(CLONE_NEWPID), "unshare PID namespace")
    pid = os.fork()
    if pid == 0:
        return
    with open(pid_file + ".tmp", "w") as fh:
        fh.write(str(pid))
    os.rename(pid_file + ".tmp", pid_file)

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)

    for sig in FORWARDED:
        signal.signal(sig, forward)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    os._exit(code if code >= 0 else 128 - code)  # killed by signal N: 128+N, as docker reports


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
    root = spec["root"]
    try:
        for mount in spec["mounts"]:
            if mount["fstype"] == "tmpfs":
                mount_new("tmpfs", root + mount["target"])
            elif not mount["fstype"]:
                bind(mount["source"], root + mount["target"], mount["readonly"])
        if spec["pid_file"]:
            supervise(spec["pid_file"])
            os.setsid()  # the container's own session: host signals reach it only via us
            for mount in spec["mounts"]:
                if mount["fstype"] == "proc":  # shows this PID namespace, so mounted in it
                    mount_new("proc", root + mount["target"])
        if root:
            os.chroot(root)
        os.setgroups([])
        os.setgid(spec["gid"])
        os.setuid(spec["uid"])
        os.umask(0o022)
        os.chdir(spec["cwd"])
        if spec["pid_file"]:  # after setuid, which clears it: die with the runtime
            _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")
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
