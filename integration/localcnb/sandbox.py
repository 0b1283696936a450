"""Run one program the way the lifecycle does inside a container (host side).

:func:`popen` writes a JSON :class:`Spec` and starts
``unshare --mount --propagation private python -I nsexec.py <spec>``; ``nsexec.py`` then
bind-mounts per-build host directories onto the lifecycle's own paths (``/workspace``,
``/layers``, ``/platform``, ``/cnb``, ``/home/cnb``, ``/tmp``, ``/etc/passwd``), drops to an
unprivileged uid and execs. The host mountpoints must exist (:func:`ensure_mountpoints`); the bind
sources may live anywhere, even below a private directory, because access goes through the
mountpoint.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .constants import APP_DIR, CNB_DIR, HOME_DIR, LAYERS_DIR, PLATFORM_DIR

MOUNTPOINTS = (APP_DIR, LAYERS_DIR, PLATFORM_DIR, CNB_DIR, HOME_DIR)
_NSEXEC = Path(__file__).with_name("nsexec.py")


@dataclass
class Mount:
    source: str
    target: str
    readonly: bool = False
    fstype: str = ""  # "tmpfs" or "proc": a new filesystem instead of a bind mount of `source`


@dataclass
class Spec:
    mounts: list[Mount]
    uid: int
    gid: int
    argv: list[str]
    env: dict[str, str]
    cwd: str = APP_DIR
    # Launcher behaviour (run only): exec.d programs, then chdir and a $PATH lookup of argv[0].
    launcher: bool = False
    exec_d: list[str] = field(default_factory=list)
    process_cwd: str = APP_DIR
    # A container of its own (run only): mount targets are inside `root`, which becomes `/`, and
    # the program is PID 1 of a new PID namespace; its host pid is written to `pid_file`.
    root: str = ""
    pid_file: str = ""


def ensure_mountpoints() -> None:
    """Empty, root-owned 0755 directories on the host; nothing is ever written into them."""
    for path in MOUNTPOINTS:
        if not os.path.isdir(path):
            os.makedirs(path, mode=0o755, exist_ok=True)


def popen(spec: Spec, scratch: Path, **kwargs: Any) -> subprocess.Popen[bytes]:
    """Start ``spec`` in its own mount namespace and process group (so it can be killed whole).
    ``scratch`` is a host directory for the spec file, invisible to the program."""
    fd, spec_path = tempfile.mkstemp(prefix="sandbox-", suffix=".json", dir=scratch)
    with os.fdopen(fd, "w") as fh:
        json.dump(asdict(spec), fh)
    argv = ["unshare", "--mount", "--propagation", "private", "--"]
    argv += [sys.executable, "-I", "-B", str(_NSEXEC), spec_path]
    kwargs.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.Popen(
        argv, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}, start_new_session=True, **kwargs
    )
