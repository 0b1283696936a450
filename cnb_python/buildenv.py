"""The environment in which the build runs Python tools (pip, compileall, venv).

It starts from what the lifecycle gave us, drops variables that would silently redirect an
interpreter or an install, and adds what makes tool output reproducible.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

from cnb_python.log import Logger

# These make an interpreter load code or stdlib from somewhere else, or install elsewhere.
IGNORED_FOR_TOOLS = (
    "PYTHONHOME",
    "PYTHONPATH",
    "PYTHONSTARTUP",
    "PYTHONINSPECT",
    "PYTHONUSERBASE",
    "PYTHONNOUSERSITE",
    "PYTHONPLATLIBDIR",
    "PYTHONEXECUTABLE",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
)

# 1980-01-01T00:00:01Z, the mtime the exporter gives every file.
DEFAULT_SOURCE_DATE_EPOCH = 315532801

# C and C++ code that pip compiles from sdists gets no debug info unless the user sets these
# (CPython's CFLAGS has -g): it would make compiled modules several times larger. Builds are
# reproducible either way: the compiler shims of toolchain.py keep build directories out.
NO_DEBUG_INFO_FLAGS = {"CFLAGS": "-g0", "CXXFLAGS": "-g0"}


def source_date_epoch(env: Mapping[str, str]) -> int:
    """A user's SOURCE_DATE_EPOCH (whole seconds) is respected; otherwise the exporter's."""
    value = env.get("SOURCE_DATE_EPOCH", "").strip()
    return int(value) if value.isdigit() else DEFAULT_SOURCE_DATE_EPOCH


def without_settings(
    env: Mapping[str, str], names: Collection[str], log: Logger, *, title: str, effect: str
) -> dict[str, str]:
    """`env` without the settings the buildpack controls; a warning names those the user set,
    followed by `effect` (what they would have done)."""
    overridden = sorted(name for name in names if env.get(name))
    if overridden:
        log.warning(title, f"{', '.join(overridden)} {effect}")
    return {k: v for k, v in env.items() if k not in names}


def tool_env(env: Mapping[str, str], python_bin: Path, log: Logger) -> dict[str, str]:
    result = without_settings(
        env,
        IGNORED_FOR_TOOLS,
        log,
        title="Ignoring variables that would redirect Python",
        effect="set in the build environment would make the build's Python tools load or "
        "install code elsewhere, so the build runs them without.",
    )
    result.pop("PYTHONPYCACHEPREFIX", None)
    path = result.get("PATH", "/usr/local/bin:/usr/bin:/bin")
    for name, flags in NO_DEBUG_INFO_FLAGS.items():
        result.setdefault(name, flags)
    result.update(
        PATH=f"{python_bin}:{path}",
        # Tools must not write timestamp-based pycs into layers: the buildpack compiles
        # hash-based ones itself. They write none and read ours. PYTHONPYCACHEPREFIX=/tmp would
        # also keep writes out, but it makes Python read pycs only from /tmp, so pip and the
        # stdlib compile from source on every run: a flask install took 4.0 s instead of 1.7 s.
        # Later buildpacks still get PYTHONPYCACHEPREFIX=/tmp (see cpython.py).
        PYTHONDONTWRITEBYTECODE="1",
        SOURCE_DATE_EPOCH=str(source_date_epoch(env)),
        PYTHONHASHSEED="0",
        PYTHONUNBUFFERED="1",
    )
    return result
