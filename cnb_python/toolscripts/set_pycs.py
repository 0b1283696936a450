"""Lets a cnb-python build tool's interpreter keep the bytecode of its own files.

Put into a requirement set's site-packages (Poetry, Pipenv, PDM, py-rattler) by the cnb-python
buildpack (its cnb_python/set_bytecode.py), with a .pth file that imports it at start-up. The
build runs its tools with PYTHONDONTWRITEBYTECODE; this turns writing back on in this
interpreter, for sources inside its own environment (sys.prefix) only: the stdlib's pycs are the
buildpack's hash-based ones, compiled in the background, and the app and the other layers are
never written to. If importlib lacks the method wrapped here, nothing changes.
"""

import _frozen_importlib_external as _external
import os
import sys

_HOME = os.path.join(sys.prefix, "")


def _install():
    loader = _external.SourceFileLoader
    write = getattr(loader, "_cache_bytecode", None)
    if write is None:
        return

    def cache_bytecode(self, source_path, bytecode_path, data):
        if source_path.startswith(_HOME):
            return write(self, source_path, bytecode_path, data)
        return None

    loader._cache_bytecode = cache_bytecode
    sys.dont_write_bytecode = False


_install()
