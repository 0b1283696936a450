"""The baseline: the same dependencies installed by hand with the same CPython and tool version,
no cache and nothing from this shell's env, each once with the tool writing bytecode as it does
by default (or as its flag asks) and once without. Both steps (venv, install) are timed.

- pip: ``python -m venv v && v/bin/pip install -r requirements.txt``, pip's default compile;
  without: ``--no-compile``. In between, untimed, the venv's pip (ensurepip's) is replaced by
  the pip version the buildpack uses. pip-native's C code builds with CC=cc and CXX=c++ (the
  test CPython's build settings name PBS's clang) and CFLAGS=-g0, as the build's do.
- pylock.toml: the same venv, then ``pip install --no-deps --require-hashes -r pylock.toml``.
- Pipenv: the same venv, then ``pipenv sync`` into it, with the buildpack's pinned Pipenv set
  installed beforehand in a venv of its own, untimed; without: ``PIP_COMPILE=false`` for the
  pip that Pipenv runs.
- Poetry: the buildpack's recipe done by hand: the same venv, a venv with the buildpack's pinned
  Poetry set (timed, as the build's poetry layer is), then ``poetry export`` and
  ``pip install --require-hashes --no-deps -r`` of the export (timed as the install); without:
  that pip install with ``--no-compile``.
- PDM: the same recipe with the buildpack's pinned PDM set: ``pdm export --prod`` (with the
  venv's interpreter as PDM_PYTHON, in a copy of the app) and ``pip install --require-hashes
  --no-deps -r`` of the export, then ``pip install --no-deps .`` for the project itself (build
  isolation: pip fetches its build backend), all timed as the install; without: both pip
  installs with ``--no-compile``.
- uv: ``uv sync --locked --no-dev --compile-bytecode`` into a new venv (UV_PROJECT_ENVIRONMENT),
  which uv makes, as the build's dependency step makes the app's: the venv is timed with the
  install. The uv release the buildpack pins, from PyPI into a scratch dir, untimed; without: no
  ``--compile-bytecode``.
- conda: py-rattler by hand (rattler_env.py: solve + install, with the buildpack's pinned
  py-rattler set in a venv of the buildpack's default CPython, untimed), from the app's vendor/
  channel, then ``pip --python ENV/bin/python install --no-compile`` of the ``pip:`` subsection,
  then ``python -m compileall -q -j 0 ENV/lib`` with the environment's python; without: no
  compileall.

pip's ``PIP_NO_COMPILE=1`` would not do for Pipenv: pip sets an option's destination to the
variable's truth value, so ``PIP_NO_COMPILE=1`` means compile=True (measured with pip 26.3).
Every install is checked: with bytecode its site-packages hold pycs, without they hold none."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .sizes import is_pip

CA_BUNDLE = os.environ.get("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")
TOOL_SETS = Path(__file__).resolve().parents[2] / "requirements" / "tools"
PIPENV_SET = TOOL_SETS / "pipenv.txt"
POETRY_SET = TOOL_SETS / "poetry.txt"
PDM_SET = TOOL_SETS / "pdm.txt"
RATTLER_SET = TOOL_SETS / "py-rattler.txt"
RATTLER_SCRIPT = Path(__file__).with_name("rattler_env.py")
# No config or env of this shell, no cache; the CA bundle as the build passes it (PIP_CERT).
PIP_OPTIONS = ("--isolated", "--disable-pip-version-check")
INSTALL_OPTIONS = ("--no-cache-dir", "--cert", CA_BUNDLE, "-q", "--root-user-action=ignore")


@dataclass(frozen=True)
class RawInstall:
    venv: Path
    venv_seconds: float
    install_seconds: float
    tool_version: str
    site_packages: Path

    @property
    def seconds(self) -> float:
        return self.venv_seconds + self.install_seconds


def extract_cpython(tarball: Path, dest: Path) -> Path:
    """Unpack a test CPython (one top-level ``python/`` dir); returns its ``bin/python3``."""
    dest.mkdir(parents=True, exist_ok=True)
    _run(["tar", "-xzf", str(tarball), "-C", str(dest)])
    return dest / "python" / "bin" / "python3"


def raw_install(
    python: Path,
    app: Path,
    venv: Path,
    tool: str,
    version: str,
    *,
    bytecode: bool,
    env: Mapping[str, str] | None = None,
) -> RawInstall:
    """`tool` installs `app`'s dependencies into `venv`; `version` is the buildpack's version of
    uv for uv, of pip for the others (conda's pip: subsection included). `env`: added to the
    clean environment of the pip installs."""
    if tool == "uv":
        raw = raw_uv_install(python, app, venv, version, bytecode)
    elif tool == "conda":
        raw = raw_conda_install(python, app, venv, version, bytecode)
    else:
        raw = raw_pip_install(python, app, venv, version, bytecode, env or {})
    check_bytecode(raw.site_packages, bytecode)
    return raw


def _clean_env(home: Path) -> dict[str, str]:
    """No PIP_*, UV_* or PYTHON* settings of this shell; the CA bundle is passed explicitly."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}


def raw_uv_install(
    python: Path, app: Path, venv: Path, uv_version: str, bytecode: bool
) -> RawInstall:
    tools = venv.parent / f"uv-{uv_version}"
    if not (tools / "bin" / "uv").exists():
        _run(["pip", "install", "--isolated", "-q", "--prefix", str(tools), f"uv=={uv_version}"])
    uv = str(tools / "bin" / "uv")
    env = {
        **_clean_env(venv.parent),
        "SSL_CERT_FILE": CA_BUNDLE,
        "UV_NO_CACHE": "1",
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_PROJECT_ENVIRONMENT": str(venv),
    }
    # `uv sync` makes the venv itself, as the build's dependency step does.
    sync = [uv, "sync", "-q", "--locked", "--no-dev", f"--python={python}"]
    if bytecode:
        sync.append("--compile-bytecode")
    start = time.monotonic()
    _run(sync, env=env, cwd=app)
    seconds = time.monotonic() - start
    return RawInstall(venv, 0.0, seconds, uv_version, _site_packages(venv))


def raw_pip_install(
    python: Path, app: Path, venv: Path, pip_version: str, bytecode: bool, extra: Mapping[str, str]
) -> RawInstall:
    env = {**_clean_env(venv.parent), **extra}
    start = time.monotonic()
    _run([str(python), "-m", "venv", str(venv)], env=env)
    venv_seconds = time.monotonic() - start
    pip = _pip_at(venv, pip_version, env)
    install = [*pip, "install", *INSTALL_OPTIONS]
    compile_flag = [] if bytecode else ["--no-compile"]
    if (app / "Pipfile.lock").is_file():
        sync = _pipenv(python, venv, env)
        sync_env = _pipenv_env(env, app, venv)
        if not bytecode:
            sync_env["PIP_COMPILE"] = "false"
        start = time.monotonic()
        _run([*sync, "sync"], env=sync_env, cwd=venv.parent)
        install_seconds = time.monotonic() - start
    elif (app / "poetry.lock").is_file():
        start = time.monotonic()
        home = venv.parent / f"{venv.name}-poetry"
        poetry = _fresh_tool_venv(python, home, POETRY_SET, env) / "poetry"
        venv_seconds += time.monotonic() - start
        exported = venv.parent / f"{venv.name}-exported.txt"
        # Poetry's cache and config in the scratch dir, as the build keeps them out of $HOME.
        poetry_env = {
            **env,
            **{f"POETRY_{d}_DIR": str(home / d.lower()) for d in ("CACHE", "CONFIG", "DATA")},
        }
        start = time.monotonic()
        export = [str(poetry), "export", "--format=requirements.txt", f"--output={exported}"]
        _run(export, env=poetry_env, cwd=app)
        locked = ["--require-hashes", "--no-deps", "-r", str(exported)]
        _run([*install, *compile_flag, *locked], env=env, cwd=app)
        install_seconds = time.monotonic() - start
        shutil.rmtree(home)
    elif (app / "pdm.lock").is_file():
        start = time.monotonic()
        home = venv.parent / f"{venv.name}-pdm"
        pdm = _fresh_tool_venv(python, home, PDM_SET, env) / "pdm"
        venv_seconds += time.monotonic() - start
        # A copy: PDM may note the interpreter it used in the project dir.
        project = shutil.copytree(app, venv.parent / f"{venv.name}-project")
        exported = venv.parent / f"{venv.name}-exported.txt"
        pdm_env = {
            **env,
            "PDM_PYTHON": str(venv / "bin" / "python"),
            "PDM_CACHE_DIR": str(home / "cache"),
            "PDM_CONFIG_FILE": str(home / "config.toml"),
            "PDM_CHECK_UPDATE": "false",
        }
        start = time.monotonic()
        export = [str(pdm), "export", "--format=requirements", "--prod", f"--output={exported}"]
        _run(export, env=pdm_env, cwd=project)
        locked = ["--require-hashes", "--no-deps", "-r", str(exported)]
        _run([*install, *compile_flag, *locked], env=env, cwd=project)
        _run([*install, *compile_flag, "--no-deps", "."], env=env, cwd=project)
        install_seconds = time.monotonic() - start
        shutil.rmtree(home)
        shutil.rmtree(project)
    else:
        start = time.monotonic()
        locked = ["--no-deps", "--require-hashes", "-r", "pylock.toml"]
        requirements = locked if (app / "pylock.toml").is_file() else ["-r", "requirements.txt"]
        _run([*install, *compile_flag, *requirements], env=env, cwd=app)
        install_seconds = time.monotonic() - start
    version = _run([*pip, "--version"], env=env).split()[1]
    return RawInstall(venv, venv_seconds, install_seconds, version, _site_packages(venv))


def raw_conda_install(
    python: Path, app: Path, prefix: Path, pip_version: str, bytecode: bool
) -> RawInstall:
    """py-rattler into `prefix` from the app's vendor/ channel (the bench's conda app has one);
    `python` (the buildpack's default CPython) runs py-rattler and pip."""
    env = _clean_env(prefix.parent)
    rattler = _tool_venv(python, prefix.parent / "rattler-tool", RATTLER_SET, env)
    pip_venv = prefix.parent / "rattler-pip"
    if not pip_venv.exists():
        _run([str(python), "-m", "venv", str(pip_venv)], env=env)
    pip = _pip_at(pip_venv, pip_version, env)
    cache = prefix.parent / f"{prefix.name}-rattler-cache"
    create = [str(rattler), str(RATTLER_SCRIPT), (app / "vendor").as_uri(), "environment.yml"]
    start = time.monotonic()
    requirements = json.loads(_run([*create, str(prefix), str(cache)], env=env, cwd=app))
    if requirements:
        target = ["--python", str(prefix / "bin" / "python")]
        install = [*pip, *target, "install", *INSTALL_OPTIONS]
        _run([*install, "--no-compile", *requirements], env=env)
    if bytecode:
        compileall = [str(prefix / "bin" / "python"), "-m", "compileall", "-q", "-j", "0"]
        _run([*compileall, str(prefix / "lib")], env=env)
    seconds = time.monotonic() - start
    shutil.rmtree(cache)
    return RawInstall(prefix, 0.0, seconds, pip_version, _site_packages(prefix))


def _run(argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    """Run a step with its output captured (the bench prints a table); its stdout, or an error
    with the output's tail."""
    proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr)[-3000:]
        raise RuntimeError(f"{shlex.join(argv)} exited {proc.returncode}:\n{output}")
    return proc.stdout


def _site_packages(venv: Path) -> Path:
    (site,) = (venv / "lib").glob("python*/site-packages")
    return site


def check_bytecode(site: Path, bytecode: bool) -> None:
    """The baseline does what its row says: pycs of the installed packages, or none (pip's own
    are left out: pip writes them when it runs from the venv). Packages with no Python source
    (pip-native's C modules) have none either way."""

    def count(pattern: str) -> int:
        paths = site.rglob(pattern)
        return sum(1 for path in paths if not is_pip(path.relative_to(site.parent).as_posix()))

    pycs = count("*.pyc")
    wrong = pycs == 0 and count("*.py") > 0 if bytecode else pycs > 0
    if wrong:
        state = "with" if bytecode else "without"
        raise RuntimeError(f"the raw install {state} bytecode left {pycs} pycs in {site}")


def _pip_at(venv: Path, pip_version: str, env: dict[str, str]) -> list[str]:
    """The venv's pip switched to `pip_version` (untimed); how to run it."""
    pip = [str(venv / "bin" / "python"), "-m", "pip", *PIP_OPTIONS]
    _run([*pip, "install", *INSTALL_OPTIONS, f"pip=={pip_version}"], env=env)
    return pip


def _tool_venv(python: Path, venv: Path, requirement_set: Path, env: dict[str, str]) -> Path:
    """A venv with one of the buildpack's pinned tool sets, made once; returns its python."""
    if not (venv / "bin" / "python").exists():
        _run([str(python), "-m", "venv", str(venv)], env=env)
        pip = [str(venv / "bin" / "python"), "-m", "pip", *PIP_OPTIONS, "install", *INSTALL_OPTIONS]
        pinned = ["--require-hashes", "--no-deps", "-r", str(requirement_set)]
        _run([*pip, *pinned], env=env)
    return venv / "bin" / "python"


def _pipenv(python: Path, venv: Path, env: dict[str, str]) -> list[str]:
    """The buildpack's pinned Pipenv set in a venv of its own, next to `venv` (made once)."""
    tool = _tool_venv(python, venv.parent / "pipenv-tool", PIPENV_SET, env)
    return [str(tool.parent / "pipenv")]


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


def _fresh_tool_venv(python: Path, home: Path, requirement_set: Path, env: dict[str, str]) -> Path:
    """A venv with one of the buildpack's pinned tool sets (timed by the caller: a fresh venv
    each run, as the build's tool layer is on a cold build); returns its bin/."""
    _run([str(python), "-m", "venv", str(home)], env=env)
    pip = [str(home / "bin" / "python"), "-m", "pip", *PIP_OPTIONS, "install", *INSTALL_OPTIONS]
    pinned = ["--require-hashes", "--no-deps", "-r", str(requirement_set)]
    _run([*pip, *pinned], env=env)
    return home / "bin"
