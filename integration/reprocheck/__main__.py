"""verify-reproducible: build an app twice on localcnb under different conditions and compare the
images: every layer digest (and, when one differs, every file in it), the layers' [metadata], the
SBOM files and the config digest.

usage: python -m reprocheck APP [--warm | --code-change FILE | --lock-change FILE] [--json FILE]
                              [--buildpack DIR] [--umasks A,B] [--keep]

Exit status: 0 reproducible, 1 the images differ, 2 a build failed (or bad usage). Needs root.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from .report import render
from .testbuildpack import served_test_buildpack
from .verify import verify

EXIT_DIFFERENT = 1
EXIT_ERROR = 2


def _umasks(text: str) -> tuple[int, int]:
    try:
        first, second = (int(part, 8) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("expected two octal umasks, e.g. 022,002") from None
    return first, second


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="verify-reproducible", description=__doc__.split("\n")[0])
    parser.add_argument("app", type=Path, help="the app directory")
    parser.add_argument(
        "--warm",
        action="store_true",
        help="also rebuild A on its own cache and compare that rebuild with the clean build B",
    )
    parser.add_argument(
        "--code-change",
        metavar="FILE",
        help="add a line to FILE (relative to the app) for the rebuild and B, and compare the "
        "rebuild with B: a code-only rebuild against a cold build of the change (implies --warm)",
    )
    parser.add_argument(
        "--lock-change",
        metavar="FILE",
        help="add a newline to FILE (the app's lock) for the rebuild and B, and compare the "
        "rebuild with B: an environment rebuilt on the previous one's pycs against a cold "
        "build (implies --warm)",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the full report here")
    parser.add_argument(
        "--buildpack",
        type=Path,
        metavar="DIR",
        help="buildpack to use as is (default: this checkout with local test CPythons)",
    )
    parser.add_argument(
        "--umasks",
        type=_umasks,
        default=(0o022, 0o002),
        metavar="A,B",
        help="umasks of the processes driving builds A and B (default 022,002)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the builds' temp roots")
    opts = parser.parse_args(argv)
    if opts.code_change and opts.lock_change:
        parser.error("--code-change and --lock-change exclude each other")
    return opts


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    app = opts.app.resolve()
    if not app.is_dir():
        print(f"verify-reproducible: {opts.app} is not a directory", file=sys.stderr)
        return EXIT_ERROR
    roots = (
        Path(tempfile.mkdtemp(prefix="reprocheck-a-")),
        Path(tempfile.mkdtemp(prefix="reprocheck-b-")),
    )
    with ExitStack() as stack:
        if opts.buildpack:
            buildpack = opts.buildpack.resolve()
        else:
            bp_root = Path(tempfile.mkdtemp(prefix="reprocheck-buildpack-"))
            stack.callback(shutil.rmtree, bp_root, ignore_errors=True)
            buildpack = stack.enter_context(served_test_buildpack(bp_root / "cnb-python")).path
        report = verify(
            app,
            buildpack,
            roots,
            warm=opts.warm,
            umasks=opts.umasks,
            change=(
                ("code-change", opts.code_change)
                if opts.code_change
                else ("lock-change", opts.lock_change)
                if opts.lock_change
                else None
            ),
        )
    sys.stdout.write(render(report))
    if opts.json:
        opts.json.parent.mkdir(parents=True, exist_ok=True)
        opts.json.write_text(json.dumps(report.as_json(), indent=2) + "\n")
    if opts.keep or report.error:  # a failed build's log is in its root
        print(f"kept: {roots[0]} {roots[1]}")
    else:
        for root in roots:
            shutil.rmtree(root, ignore_errors=True)
    if report.error:
        return EXIT_ERROR
    return 0 if report.reproducible else EXIT_DIFFERENT


if __name__ == "__main__":
    sys.exit(main())
