"""Command line: ``python -m localcnb build|run`` (exit codes are the lifecycle's / the app's)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from .constants import PlatformError
from .core import Platform


def _pairs(values: list[str]) -> dict[str, str]:
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"expected K=V, got {item!r}")
        out[key] = value
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localcnb")
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="detect, restore, build and export an app")
    build.add_argument("--workdir", type=Path, required=True)
    build.add_argument("--buildpack", type=Path, action="append", required=True)
    build.add_argument("--app", type=Path, required=True)
    build.add_argument("--env", action="append", default=[], metavar="K=V", help="user env")
    build.add_argument("--builder-env", action="append", default=[], metavar="K=V")
    build.add_argument("--no-ca-env", action="store_true", help="do not pass SSL_CERT_FILE etc.")
    run = sub.add_parser(
        "run",
        help="run the image: the default process, --process TYPE [-- args], or -- command",
    )
    run.add_argument("--workdir", type=Path, required=True)
    run.add_argument("--process", help="process type; arguments after -- replace its args")
    run.add_argument("--env", action="append", default=[], metavar="K=V")
    run.add_argument("rest", nargs=argparse.REMAINDER)
    opts = parser.parse_args(argv)

    try:
        if opts.command == "build":
            plat = Platform(opts.workdir, opts.buildpack, echo=sys.stdout)
            result = plat.build(
                opts.app,
                env=_pairs(opts.env),
                builder_env=_pairs(opts.builder_env),
                pass_ca_env=not opts.no_ca_env,
            )
            return result.exit_code
        rest = opts.rest[1:] if opts.rest[:1] == ["--"] else opts.rest
        plat = Platform(opts.workdir, [])
        proc: subprocess.CompletedProcess[str] = plat.run(
            process_type=opts.process,
            args=rest if opts.process else None,
            command=None if opts.process else rest or None,
            env=_pairs(opts.env),
        )
        sys.stdout.write(proc.stdout)
        sys.stderr.write(proc.stderr)
        return proc.returncode
    except PlatformError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
