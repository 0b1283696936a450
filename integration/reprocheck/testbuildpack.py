"""The buildpack of this checkout, set up for local builds as ``integration/conftest.py`` does:
its CPython downloads point at relocatable test tarballs served over local HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from testsupport.buildpack import make_test_buildpack
from testsupport.cpython import TestCPython, build_available
from testsupport.server import DownloadServer

DEFAULT_PYTHON = "3.12"  # the test default of integration/conftest.py


@dataclass(frozen=True)
class TestBuildpack:
    __test__ = False  # not a pytest test class

    path: Path
    cpythons: list[TestCPython]

    def cpython(self, version: str) -> TestCPython:
        return next(c for c in self.cpythons if c.version == version)

    def default_cpython(self) -> TestCPython:
        return next(c for c in self.cpythons if c.minor == DEFAULT_PYTHON)


@contextmanager
def served_test_buildpack(dest: Path, *, wrap_toolchain: bool = True) -> Iterator[TestBuildpack]:
    """A test buildpack at ``dest``; its download server runs while the context is open. The
    server's port is in the buildpack's metadata (and so in the SBOMs): builds that are to be
    compared must use the same one. ``wrap_toolchain=False``: see make_test_buildpack."""
    cpythons = build_available()
    with DownloadServer(cpythons[0].path.parent) as server:
        path = make_test_buildpack(
            dest,
            base_url=server.base_url,
            cpythons=cpythons,
            default_python=DEFAULT_PYTHON,
            wrap_toolchain=wrap_toolchain,
        )
        yield TestBuildpack(path, cpythons)
