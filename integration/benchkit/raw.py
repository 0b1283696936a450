"""The baseline: the same dependencies installed by hand with the same CPython and tool version,
no cache and nothing from this shell's env. Both steps (venv, install) are timed.

- pip: ``python -m venv v && v/bin/pip install -r requirements.txt``. In between, untimed, the
  venv's pip (ensurepip's) is replaced by the pip version the buildpack uses.
- Pipenv: the same venv, then ``pipenv sync`` into it, with the buildpack's pinned Pipenv set
  installed beforehand in a venv of its own, untimed.
- Poetry: the buildpack's recipe done by hand: the same venv, a venv with the buildpack's pinned
  Poetry set (timed, as the build's poetry layer is), then `poetry export` and
  `pip install --require-hashes --no-deps -r` of the export (timed as the install).
- pylock.toml: the same venv, then ``pip install --no-deps --require-hashes -r pylock.toml``.
- uv: ``uv venv v && uv sync --locked --no-dev`` into it (UV_PROJECT_ENVIRONMENT), with the uv
  release the buildpack pins, from PyPI into a scratch dir, untimed."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

CA_BUNDLE = os.environ.get("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")
TOOL_SETS = Path(__file__).resolve().parents[2] / "requirements" / "tools"
PIPENV_SET = TOOL_SETS / "pipenv.txt"
POETRY_SET = TOOL_SETS / "poetry.txt"


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


def raw_install(python: Path, app: Path, venv: Path, tool: str, version: str) -> RawInstall:
    if tool == "uv":
        return raw_uv_install(python, app, venv, version)
    return raw_pip_install(python, app, venv, version)


def raw_uv_install(python: Path, app: Path, venv: Path, uv_version: str) -> RawInstall:
    tools = venv.parent / f"uv-{uv_version}"
    if not (tools / "bin" / "uv").exists():
        subprocess.run(
            ["pip", "install", "--isolated", "-q", "--prefix", str(tools), f"uv=={uv_version}"],
            check=True,
        )
    uv = str(tools / "bin" / "uv")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(venv.parent),
        "LANG": "C.UTF-8",
        "SSL_CERT_FILE": CA_BUNDLE,
        "UV_NO_CACHE": "1",
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_PROJECT_ENVIRONMENT": str(venv),
    }
    start = time.monotonic()
    subprocess.run([uv, "venv", "-q", "--python", str(python), str(venv)], env=env, check=True)
    venv_seconds = time.monotonic() - start
    start = time.monotonic()
    subprocess.run([uv, "sync", "-q", "--locked", "--no-dev"], env=env, cwd=app, check=True)
    seconds = time.monotonic() - start
    (site,) = (venv / "lib").glob("python*/site-packages")
    return RawInstall(venv, venv_seconds, seconds, uv_version, site)


def raw_pip_install(python: Path, app: Path, venv: Path, pip_version: str) -> RawInstall:
    # A clean env, and --isolated: no PIP_* variables, pip.conf or PYTHON* settings of this
    # shell. The CA bundle is passed explicitly, as the build passes it (PIP_CERT).
    env = {"PATH": "/usr/bin:/bin", "HOME": str(venv.parent), "LANG": "C.UTF-8"}
    start = time.monotonic()
    subprocess.run([str(python), "-m", "venv", str(venv)], env=env, check=True)
    venv_seconds = time.monotonic() - start
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--isolated", "--disable-pip-version-check"]
    install = [*pip, "install", "--no-cache-dir", "--cert", CA_BUNDLE, "-q"]
    subprocess.run([*install, f"pip=={pip_version}"], env=env, check=True)
    if (app / "Pipfile.lock").is_file():
        sync = _pipenv(python, venv, env)
        start = time.monotonic()
        subprocess.run(
            [*sync, "sync"], env=_pipenv_env(env, app, venv), cwd=venv.parent, check=True
        )
        pip_seconds = time.monotonic() - start
    elif (app / "poetry.lock").is_file():
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
    elif (app / "pylock.toml").is_file():
        start = time.monotonic()
        locked = ["--no-deps", "--require-hashes", "-r", "pylock.toml"]
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


def _pipenv(python: Path, venv: Path, env: dict[str, str]) -> list[str]:
    """The buildpack's pinned Pipenv set in a venv of its own, next to `venv`."""
    tool = venv.parent / f"{venv.name}-pipenv"
    subprocess.run([str(python), "-m", "venv", str(tool)], env=env, check=True)
    pip = [str(tool / "bin" / "python"), "-m", "pip", "--isolated", "install", "-q"]
    pinned = ["--require-hashes", "--no-deps", "-r", str(PIPENV_SET)]
    subprocess.run([*pip, "--no-cache-dir", "--cert", CA_BUNDLE, *pinned], env=env, check=True)
    return [str(tool / "bin" / "pipenv")]


def _pipenv_env(env: dict[str, str], app: Path, venv: Path) -> dict[str, str]:
    """`pipenv sync` into `venv`, with the CA bundle for its pip and its cache off in scratch."""
    return {
        **env,
        "PIPENV_PIPFILE": str(app / "Pipfile"),
        "VIRTUAL_ENV": str(venv),
        "PIPENV_CACHE_DIR": str(venv.parent / "pipenv-cache"),
        "PIP_NO_CACHE_DIR": "1",
        "PIP_CERT": CA_BUNDLE,
        "PIPENV_NOSPIN": "1",
        "PIPENV_YES": "1",
    }


def _poetry(python: Path, home: Path, env: dict[str, str]) -> Path:
    """A venv with the buildpack's pinned Poetry set."""
    subprocess.run([str(python), "-m", "venv", str(home)], env=env, check=True)
    pip = [str(home / "bin" / "python"), "-m", "pip", "--isolated", "--disable-pip-version-check"]
    pinned = ["--require-hashes", "--no-deps", "-r", str(POETRY_SET)]
    subprocess.run(
        [*pip, "install", "--no-cache-dir", "--cert", CA_BUNDLE, "-q", *pinned], env=env, check=True
    )
    return home / "bin" / "poetry"
