"""The filesystem of one build or app container, as host directories.

``Container.root`` stands for ``/``: ``root/workspace`` is mounted at ``/workspace``,
``root/layers`` at ``/layers`` and so on, so a path inside the container maps to the host by
joining it onto ``root``. Layer tarballs use absolute names (``/layers/...``) and extract onto
``root`` the same way.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from .constants import APP_DIR, BUILD_UID, CNB_DIR, CNB_GID, HOME_DIR, LAYERS_DIR, PLATFORM_DIR
from .sandbox import Mount


class Container:
    def __init__(self, root: Path):
        self.root = root
        # Docker gives every container a random HOSTNAME, and the lifecycle passes it through.
        self.hostname = secrets.token_hex(6)

    def host(self, container_path: str) -> Path:
        return self.root / container_path.lstrip("/")

    @classmethod
    def create(cls, root: Path, uid: int) -> Container:
        """Skeleton shared by build and app containers: a home, /tmp and a passwd naming ``uid``."""
        self = cls(root)
        home = self.host(HOME_DIR)
        home.mkdir(parents=True)
        os.chown(home, uid, CNB_GID)
        tmp = self.host("/tmp")
        tmp.mkdir()
        os.chmod(tmp, 0o1777)
        etc = self.host("/etc")
        etc.mkdir()
        _write_identity(etc, uid)
        return self

    def mounts(self, *, app_readonly: bool = False, build: bool = True) -> list[Mount]:
        mounts = [
            Mount(str(self.host(APP_DIR)), APP_DIR, readonly=app_readonly),
            Mount(str(self.host(LAYERS_DIR)), LAYERS_DIR),
        ]
        if build:
            mounts += [
                Mount(str(self.host(PLATFORM_DIR)), PLATFORM_DIR, readonly=True),
                Mount(str(self.host(CNB_DIR)), CNB_DIR, readonly=True),
            ]
        mounts += [
            Mount(str(self.host(HOME_DIR)), HOME_DIR),
            Mount(str(self.host("/etc/passwd")), "/etc/passwd", readonly=True),
            Mount(str(self.host("/etc/group")), "/etc/group", readonly=True),
            # Last: the other sources may live below the host's /tmp.
            Mount(str(self.host("/tmp")), "/tmp"),
        ]
        return mounts

    def make_run_root(self, base: Path) -> None:
        """Make ``root`` a run image: the base's ``/usr`` (mounted read-only by
        :meth:`run_mounts`) behind usr-merged links, its ``/etc`` beside this container's
        passwd and group, device nodes, ``/dev/shm`` and ``/proc``. Nothing of the host's."""
        for name in ("bin", "lib", "lib64", "sbin"):
            os.symlink(f"usr/{name}", self.root / name)
        for name in ("usr", "proc", "dev/shm", "var"):
            self.host(f"/{name}").mkdir(parents=True, exist_ok=True)
        for device in _DEVICES:
            self.host(device).touch(mode=0o666)
        for entry in (base / "etc").iterdir():
            dest = self.host("/etc") / entry.name
            if entry.is_dir() and not entry.is_symlink():
                shutil.copytree(entry, dest, symlinks=True)
            elif not dest.exists():
                shutil.copy2(entry, dest, follow_symlinks=False)

    def run_mounts(self, base: Path) -> list[Mount]:
        """Mounts of :meth:`make_run_root`, relative to ``root`` (``Spec.root``)."""
        return [
            Mount(str(base / "usr"), "/usr", readonly=True),
            *(Mount(device, device) for device in _DEVICES),
            Mount("", "/dev/shm", fstype="tmpfs"),
            Mount("", "/proc", fstype="proc"),
        ]


# What a container runtime gives every container (bind mounts of the host's nodes).
_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty")


def _write_identity(etc: Path, uid: int) -> None:
    """The images' ``cnb`` user and group, replacing host entries that use the same ids."""
    users = [
        line
        for line in Path("/etc/passwd").read_text().splitlines()
        if line.split(":")[0] != "cnb" and line.split(":")[2:3] != [str(uid)]
    ]
    groups = [
        line
        for line in Path("/etc/group").read_text().splitlines()
        if line.split(":")[0] != "cnb" and line.split(":")[2:3] != [str(CNB_GID)]
    ]
    users.append(f"cnb:x:{uid}:{CNB_GID}:cnb:{HOME_DIR}:/bin/sh")
    groups.append(f"cnb:x:{CNB_GID}:")
    for name, lines in (("passwd", users), ("group", groups)):
        (etc / name).write_text("\n".join(lines) + "\n")
        os.chmod(etc / name, 0o644)


# The lifecycle itself runs as the build user, so whatever it writes into /layers belongs to that
# user and has umask 022 modes. We run as root, hence the explicit ownership.


def make_dirs(path: Path) -> None:
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for new in reversed(missing):
        new.mkdir()
        os.chmod(new, 0o755)
        os.chown(new, BUILD_UID, CNB_GID)


def write_file(path: Path, data: bytes) -> None:
    make_dirs(path.parent)
    path.write_bytes(data)
    os.chmod(path, 0o644)
    os.chown(path, BUILD_UID, CNB_GID)
