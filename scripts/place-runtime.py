"""Place a bootstrap CPython from the buildpack's own metadata into a directory (runtime/), so
bin/detect and bin/build run on builder images without Python. Used by scripts/build.sh.

    python3 scripts/place-runtime.py ARCH DEST [--version 3.12] [--buildpack DIR]

The download is verified against buildpack.toml's sha256; BP_DEPENDENCY_MIRROR applies.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "vendor"), str(ROOT)]

from packaging.version import Version  # noqa: E402

from cnb_python.cpython import CPython, install_cpython  # noqa: E402
from cnb_python.dependencies import BuildpackMetadata  # noqa: E402
from cnb_python.errors import UserError  # noqa: E402
from cnb_python.log import Logger  # noqa: E402
from cnb_python.python_version import (  # noqa: E402
    VersionRequest,
    parse_eol_table,
    plain_version_spec,
    select_version,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("arch", choices=["amd64", "arm64"])
    parser.add_argument("dest", type=Path)
    parser.add_argument("--version", help="a CPython version or minor (default: the default)")
    parser.add_argument("--buildpack", type=Path, default=ROOT)
    parser.add_argument(
        "--no-compile", action="store_true", help="no stdlib bytecode (for another arch)"
    )
    parser.add_argument(
        "--shown-as", help="the directory's path at run time, recorded in the stdlib's pycs"
    )
    args = parser.parse_args()

    metadata = BuildpackMetadata.load(args.buildpack)
    wanted = args.version or metadata.default_python
    spec = plain_version_spec(wanted)
    if spec is None:
        sys.exit(f"--version must be a version such as 3.12 or 3.12.4, not {wanted!r}")
    candidates = {Version(d.version): d for d in metadata.candidates("cpython", args.arch)}
    log = Logger()
    try:
        version = select_version(
            VersionRequest("--version", wanted, (spec,)),
            [],
            list(candidates),
            parse_eol_table(()),  # a bootstrap interpreter is not the app's Python
            datetime.date.today(),
        )
        dep = candidates[version]
        dest = args.dest.resolve()
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        log.title(f"Placing CPython {dep.version} ({args.arch}) in {dest}")
        cpython = CPython(dest, dep.version)
        install_cpython(
            cpython,
            dep,
            env=os.environ,
            bindings=[],
            log=log,
            buildpack_dir=args.buildpack,
            compile_stdlib=not args.no_compile,
            shown_home=args.shown_as,
        ).wait(log)
    except UserError as e:
        log.error(e.render())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
