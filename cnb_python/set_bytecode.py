"""Tools keep the bytecode of their own files from one import to the next, where it is safe: a
requirement set's tool from one run to the next, pip's build backends within a pip run, and the
backends of the app's own projects from one build to the next.

A set (tools.py) is installed without pycs: compiling all of it would cost a cold build seconds
of CPU for the few hundred files one command imports. Its tool compiles those as it imports
them anyway, so it writes them too: the set's interpreter gets a .pth hook
(toolscripts/set_pycs.py) that turns bytecode writing on for files inside the set's own layer,
and nowhere else. A cold build pays for the writing only; a later run after a lock change reads
them (poetry-flask's lock-change dependency step: 2.0-2.3 s to 1.4-1.5 s, docs/benchmarks.md).

These are the timestamp pycs imports write: valid while a source keeps the mtime and size the
pyc recorded. The lifecycle's restorer gives every file of a cache layer the time of the restore
(`lc:archive/extract.go` sets no mtimes), so the set's sources get one fixed mtime when the set
is installed and again each time the layer is reused. The layer is build-only and never reaches
the image; its sources never change once installed (a new set is a new layer).

pip installs the build backends of the sdists it builds into a temp build environment without
pycs (pip's build_env/installer.py passes --no-compile), then runs each backend hook in a new
interpreter, which compiles the backend's imports again when it may not write them:
pip-native's dependency step spent 0.6-0.9 s doing so (docs/benchmarks.md). For the length of
the run, the interpreter of the environment pip installs into gets the same hook, with the temp
directories as roots: the backends run with that interpreter, and pip's build environments are
there. That site-packages is being compiled meanwhile (the backends of the app's own projects
install while the dependencies compile), so only a .pth goes there, which runs the buildpack's
own copy of the module: a module next to it would be compiled into the image.

The projects' backends are imported from a build-only cache layer (projects.py): while the
projects build, that layer is a root too, and its sources get the fixed mtime as a set's do.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from cnb_python.buildenv import DEFAULT_SOURCE_DATE_EPOCH
from cnb_python.environments import site_packages
from cnb_python.fingerprint import file_sha256

MODULE = "_cnb_python_set_pycs"
_SOURCE = Path(__file__).parent / "toolscripts" / "set_pycs.py"
_PTH_NAME = "cnb_python_set_pycs.pth"
# Part of a set layer's metadata, so a changed hook reinstalls the sets.
HOOK_DIGEST = file_sha256(_SOURCE)
# Any constant works; this is the one the exporter gives every file.
SOURCE_MTIME = DEFAULT_SOURCE_DATE_EPOCH


def install_hook(site_dirs: Iterable[Path]) -> None:
    """Put the hook into the set's site-packages directories: the layer keeps its own copy of
    the module, as it outlives this version of the buildpack."""
    for site in site_dirs:
        module = site / f"{MODULE}.py"
        shutil.copyfile(_SOURCE, module)
        _put_pth(site, module, "[sys.prefix]")


def _put_pth(site: Path, module: Path, roots: str) -> None:
    """A .pth that runs the hook's source file `module` at start-up and calls keep_below with
    `roots`, a Python expression. A .pth line is run when it starts with `import`."""
    path = repr(str(module))
    # Replaced whole: an interpreter starting meanwhile reads the old roots or the new ones.
    # The temp name is no .pth, which site would read.
    temp = site / f".{_PTH_NAME}.new"
    temp.write_text(
        f'import sys; hook = {{}}; exec(compile(open({path}, encoding="utf-8").read(), {path}, '
        f'"exec"), hook); hook["keep_below"]({roots})\n'
    )
    os.replace(temp, site / _PTH_NAME)


_runs_lock = threading.Lock()
_runs: dict[Path, Counter[str]] = {}  # site-packages dir -> the roots of the runs going on


@contextmanager
def keep_pycs(prefix: Path, roots: Sequence[str]) -> Iterator[None]:
    """While the block runs, the interpreter of the environment at `prefix` keeps the pycs of
    sources below `roots` (build-only directories: pip's temp dirs, the projects' backends),
    those that hold the environment itself left out. Runs on one environment may overlap (the
    project step's backends install while the dependencies do; its build holds the backends'
    directory while pip runs): the hook keeps the roots of every run going on, and the last to
    end takes it out. An interpreter keeps the roots it started with."""
    sites = site_packages(prefix)
    kept = Counter(root for root in roots if not prefix.is_relative_to(root))
    if len(sites) != 1 or not kept:
        yield
        return
    site = sites[0]
    with _runs_lock:
        _runs.setdefault(site, Counter()).update(kept)
        _write_roots(site)
    try:
        yield
    finally:
        with _runs_lock:
            _runs[site].subtract(kept)
            _write_roots(site)


def _write_roots(site: Path) -> None:
    """The hook with the roots of the runs on `site` going on; none: no hook."""
    roots = sorted(+_runs[site])  # + drops the roots whose runs ended
    if roots:
        _put_pth(site, _SOURCE, repr(roots))
    else:
        del _runs[site]
        (site / _PTH_NAME).unlink(missing_ok=True)


def fix_source_mtimes(layer: Path) -> None:
    """Give every .py file of the set layer SOURCE_MTIME, as its pycs recorded."""
    times = (SOURCE_MTIME, SOURCE_MTIME)
    for directory, _, filenames in os.walk(layer):
        for name in filenames:
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                if not os.path.islink(path):
                    os.utime(path, times)
