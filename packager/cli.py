"""scripts/package.sh [--version X] [--arch amd64|arm64] [--offline [--python-versions V,...]]
[--buildpack DIR] [--output FILE]: stage a clean buildpack and write it as a .cnb file."""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

from cnb_python.cnb.toml import load_toml
from cnb_python.dependencies import BuildpackMetadata
from cnb_python.download import bundled_path
from cnb_python.errors import UserError
from cnb_python.log import Logger
from packager.bundle import (
    bundle_dependencies,
    bundle_tool_wheels,
    chosen_dependencies,
    place_runtime,
)
from packager.layer import buildpack_root
from packager.oci import Descriptor, write_buildpackage
from packager.stage import is_semver, stage_buildpack

ROOT = Path(__file__).resolve().parents[1]
ARCHES = ("amd64", "arm64")


def host_arch() -> str:
    machine = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/package.sh", description=__doc__)
    parser.add_argument(
        "--version", help="the buildpack version (semver; default: buildpack.toml's)"
    )
    parser.add_argument(
        "--arch", default=host_arch(), help="amd64 or arm64 (default: this machine's)"
    )
    parser.add_argument(
        "--offline", action="store_true", help="bundle every download a build needs"
    )
    parser.add_argument(
        "--python-versions",
        default="",
        help="with --offline: bundle only these CPython versions or minors, comma-separated",
    )
    parser.add_argument("--buildpack", type=Path, default=ROOT, help="the buildpack to package")
    parser.add_argument(
        "--output", type=Path, help="the .cnb file (default: build/<id>-<version>-<arch>.cnb)"
    )
    args = parser.parse_args(argv)
    if args.arch not in ARCHES:
        parser.error(f"--arch must be one of {', '.join(ARCHES)}, not {args.arch!r}")
    if args.version is not None and not is_semver(args.version):
        parser.error(f"--version must be a semantic version such as 1.2.3, not {args.version!r}")
    if args.python_versions and not args.offline:
        parser.error("--python-versions only applies with --offline")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    log = Logger()
    source = args.buildpack.resolve()
    with tempfile.TemporaryDirectory(prefix="cnb-stage-") as tmp:
        stage = Path(tmp, "buildpack")
        stage_buildpack(source, stage, args.version)
        metadata = BuildpackMetadata.load(stage)
        try:
            if args.offline:
                wanted = [v.strip() for v in args.python_versions.split(",") if v.strip()]
                deps = chosen_dependencies(metadata, args.arch, wanted)
                if wanted and not any(d.id == "cpython" for d in deps):
                    log.error(f"No CPython in buildpack.toml matches --python-versions {wanted}")
                    return 2
                bundle_dependencies(stage, deps, os.environ, log)
                minors = sorted(
                    {".".join(d.version.split(".")[:2]) for d in deps if d.id == "cpython"}
                )
                pip = next(d for d in deps if d.id == "pip")
                pip_wheel = bundled_path(stage, pip.url, pip.sha256)
                bundle_tool_wheels(stage, pip_wheel, args.arch, minors, log)
            log.section(f"Placing a bootstrap CPython ({args.arch}) in runtime/")
            place_runtime(
                stage,
                args.arch,
                ROOT / "scripts",
                os.environ,
                installed_at=buildpack_root(metadata.id, metadata.version),
                compile_stdlib=args.arch == host_arch(),
            )
        except UserError as e:
            log.error(e.render())
            return 1
        descriptor = Descriptor.from_toml(load_toml(stage / "buildpack.toml"))
        name = f"{descriptor.id.replace('/', '_')}-{descriptor.version}-{args.arch}.cnb"
        output = (args.output or ROOT / "build" / name).resolve()
        digest = write_buildpackage(stage, descriptor, args.arch, output)
        shutil.rmtree(stage)
    log.title(f"Wrote {output} ({descriptor.id}@{descriptor.version}, linux/{args.arch}, {digest})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
