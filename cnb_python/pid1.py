"""Python as a container's PID 1 stops on SIGTERM (docs/pid1.md).

Every site-packages of the image that a launch process's Python reads (the CPython layer's, the
venv's, a conda environment's) gets a .pth file, which `site` runs at startup before any user
code, and the module it imports (image_hooks/pid1_sigterm.py, copied byte for byte). The .pth
line costs one getpid() in every other process; only PID 1 imports the module. The module is
compiled by the layer's own bytecode step, like every other .py in a layer.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from cnb_python.fingerprint import file_sha256

MODULE = "_cnb_python_pid1_sigterm"
_SOURCE = Path(__file__).parent / "image_hooks" / "pid1_sigterm.py"
# `site` executes a .pth line that starts with `import`; os is already imported by then.
_PTH_NAME = "cnb_python_pid1_sigterm.pth"
_PTH_LINE = f'import os; os.getpid() == 1 and __import__("{MODULE}").install()\n'
# Part of the reuse key of every layer that holds the hook, so a changed hook reaches them.
HOOK_DIGEST = file_sha256(_SOURCE)


def install_hook(site_packages: Path) -> Path:
    """Put the hook into `site_packages`; return the module's path (for the bytecode step)."""
    site_packages.mkdir(parents=True, exist_ok=True)
    module = site_packages / f"{MODULE}.py"
    shutil.copyfile(_SOURCE, module)
    (site_packages / _PTH_NAME).write_text(_PTH_LINE)
    return module
