"""A conda environment's stdlib, and the tools that run on its Python next, compiled once."""

from __future__ import annotations

import io
import sys

from cnb_python.environments import compile_own_stdlib
from cnb_python.log import Logger
from cnb_python.tools import Tool


def test_a_tools_pycs_for_the_environments_python_are_compiled_once(tmp_path):
    """The running Python stands in for the environment's: its stdlib and pip's modules get
    pycs; a module that already has one (a reused pip layer) is not compiled again."""
    minor = "{}.{}".format(*sys.version_info[:2])
    prefix = tmp_path / "env"
    (prefix / "bin").mkdir(parents=True)
    (prefix / "bin" / "python").symlink_to(sys.executable)
    stdlib = prefix / "lib" / f"python{minor}"
    stdlib.mkdir(parents=True)
    (stdlib / "os_like.py").write_text("x = 1\n")
    site = tmp_path / "pip" / "site"
    (site / "pip").mkdir(parents=True)
    (site / "pip" / "new.py").write_text("y = 2\n")
    (site / "pip" / "kept.py").write_text("z = 3\n")
    cache = site / "pip" / "__pycache__"
    cache.mkdir()
    tag = sys.implementation.cache_tag
    (cache / f"kept.{tag}.pyc").write_bytes(b"from an earlier build")

    out = io.StringIO()
    pip = Tool("pip", "26.3", tmp_path / "pip", site_dirs=(site,))
    compile_own_stdlib(prefix, Logger(out, io.StringIO()), [pip])

    assert "Compiling the environment's standard library and pip" in out.getvalue()
    assert (stdlib / "__pycache__" / f"os_like.{tag}.pyc").is_file()
    assert (cache / f"new.{tag}.pyc").is_file()
    assert (cache / f"kept.{tag}.pyc").read_bytes() == b"from an earlier build"
