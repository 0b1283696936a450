"""The baseline: the same requirements installed by hand, ``python -m venv v && v/bin/pip install
-r requirements.txt``, with the same CPython, no pip cache and nothing from this shell's env.

Both steps are timed. In between, untimed, the venv's pip (ensurepip's) is replaced by the pip
version the buildpack uses, so that the two pip installs compared run the same pip.

A Poetry app's baseline is the buildpack's recipe done by hand: a venv with the buildpack's
pinned Poetry set (timed, as the build's poetry layer is), then `poetry export` and
`pip install --require-hashes --no-deps -r` of the export (timed as the "pip install")."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

CA_BUNDLE = os.environ.get("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")
POETRY_SET = Path(__file__).resolve().parents[2] / "requirements" / "tools" / "poetry.txt"


@dataclass(frozen=True)
class RawInstall:
    venv: Path
    venv_seconds: float
    pip_seconds: float
    pip_version: str
    site_packages: Path

    @property
    def seconds(self) -> float:
        return self.venv_seconds + self.pip_seconds


def extract_cpython(tarball: Path, dest: Path) -> Path:
    """Unpack a test CPython (one top-level ``python/`` dir); returns its ``bin/python3``."""
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-xzf", str(tarball), "-C", str(dest)], check=True)
    return dest / "python" / "bin" / "python3"


def raw_install(python: Path, app: Path, venv: Path, pip_version: str) -> RawInstall:
    # A clean env, and --isolated: no PIP_* variables, pip.conf or PYTHON* settings of this
    # shell. The CA bundle is passed explicitly, as the build passes it (PIP_CERT).
    env = {"PATH": "/usr/bin:/bin", "HOME": str(venv.parent), "LANG": "C.UTF-8"}
    start = time.monotonic()
    subprocess.run([str(python), "-m", "venv", str(venv)], env=env, check=True)
    venv_seconds = time.monotonic() - start
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--isolated", "--disable-pip-version-check"]
    install = [*pip, "install", "--no-cache-dir", "--cert", CA_BUNDLE, "-q"]
    subprocess.run([*install, f"pip=={pip_version}"], env=env, check=True)
    if (app / "poetry.lock").is_file():
        start = time.monotonic()
        home = venv.parent / f"{venv.name}-poetry"
        poetry = _poetry(python, home, env)
        venv_seconds += time.monotonic() - start
        exported = venv.parent / f"{venv.name}-exported.txt"
        # Poetry's cache and config in the scratch dir, as the build keeps them out of $HOME.
        poetry_env = {
            **env,
            **{f"POETRY_{d}_DIR": str(home / d.lower()) for d in ("CACHE", "CONFIG", "DATA")},
        }
        start = time.monotonic()
        export = [str(poetry), "export", "--format=requirements.txt", f"--output={exported}"]
        subprocess.run(export, env=poetry_env, cwd=app, check=True)
        locked = ["--require-hashes", "--no-deps", "-r", str(exported)]
        subprocess.run([*install, *locked], env=env, cwd=app, check=True)
        pip_seconds = time.monotonic() - start
    else:
        start = time.monotonic()
        subprocess.run([*install, "-r", "requirements.txt"], env=env, cwd=app, check=True)
        pip_seconds = time.monotonic() - start
    version = subprocess.run(
        [*pip, "--version"], env=env, check=True, capture_output=True, text=True
    ).stdout.split()[1]
    (site,) = (venv / "lib").glob("python*/site-packages")
    return RawInstall(venv, venv_seconds, pip_seconds, version, site)


def _poetry(python: Path, home: Path, env: dict[str, str]) -> Path:
    """A venv with the buildpack's pinned Poetry set."""
    subprocess.run([str(python), "-m", "venv", str(home)], env=env, check=True)
    pip = [str(home / "bin" / "python"), "-m", "pip", "--isolated", "--disable-pip-version-check"]
    pinned = ["--require-hashes", "--no-deps", "-r", str(POETRY_SET)]
    subprocess.run(
        [*pip, "install", "--no-cache-dir", "--cert", CA_BUNDLE, "-q", *pinned], env=env, check=True
    )
    return home / "bin" / "poetry"
