"""Lets an interpreter of a cnb-python build keep the bytecode of sources below some roots.

The cnb-python buildpack (its cnb_python/set_bytecode.py) puts a .pth file into a site-packages
directory that runs this module at start-up and calls `keep_below`: a requirement set's layer
(Poetry, Pipenv, PDM, py-rattler), which keeps a copy of it, with its own environment
(sys.prefix), and the environment a pip install runs in, with the temp directories where pip
builds (this file runs from the buildpack: nothing but the .pth is added to the environment,
which is compiled meanwhile). The build runs its
tools with PYTHONDONTWRITEBYTECODE; this turns writing back on in this interpreter for sources
below the roots only: the stdlib's pycs are the buildpack's hash-based ones, compiled in the
background, and the app and the other layers are never written to. If importlib lacks the
method wrapped here, nothing changes.
"""

import _frozen_importlib_external as _external
import os
import sys


def keep_below(roots):
    loader = _external.SourceFileLoader
    write = getattr(loader, "_cache_bytecode", None)
    if write is None:
        return
    prefixes = tuple(os.path.join(root, "") for root in roots)

    def cache_bytecode(self, source_path, bytecode_path, data):
        if source_path.startswith(prefixes):
            return write(self, source_path, bytecode_path, data)
        return None

    loader._cache_bytecode = cache_bytecode
    sys.dont_write_bytecode = False
