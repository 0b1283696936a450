"""scripts/package.sh: stage a clean buildpack and write it as a .cnb per arch (what
`pack buildpack package --format file` writes), check .cnb files, and publish to a registry.

  scripts/package.sh [--version X] [--arch A]... [--offline [--python-versions V,...]]
                     [--buildpack DIR] [--output FILE] [--publish REGISTRY/NAME:TAG]
  scripts/package.sh --check FILE...
  scripts/package.sh --publish REGISTRY/NAME:TAG FILE...
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from cnb_python.cnb.toml import load_toml
from cnb_python.dependencies import BuildpackMetadata
from cnb_python.download import bundled_path
from cnb_python.errors import UserError
from cnb_python.log import Logger, format_duration, format_size
from packager.bundle import (
    bundle_dependencies,
    bundle_tool_wheels,
    chosen_dependencies,
    place_runtime,
)
from packager.labels import Descriptor
from packager.layer import buildpack_root, escape_id
from packager.oci import write_buildpackage
from packager.reader import Package, read_package
from packager.registry import Reference, publish
from packager.stage import is_semver, stage_buildpack

ROOT = Path(__file__).resolve().parents[1]
ARCHES = ("amd64", "arm64")


def host_arch() -> str:
    machine = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/package.sh",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", help="the buildpack version (semver; default: buildpack.toml's)"
    )
    parser.add_argument(
        "--arch",
        action="append",
        help="amd64 or arm64, repeatable: one .cnb each (default: this machine's)",
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
        "--output",
        type=Path,
        help="the .cnb file (default: build/<id>-<version>-<arch>.cnb); with several arches "
        "each file is named as pack names them, <stem>-linux-<arch>.cnb",
    )
    parser.add_argument(
        "--publish",
        metavar="REGISTRY/NAME:TAG",
        help="push the package (an image index when there are several arches) to a registry",
    )
    parser.add_argument(
        "--check", action="store_true", help="read FILE... back as pack does, and report"
    )
    parser.add_argument("files", nargs="*", type=Path, metavar="FILE", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    arches = args.arch or [host_arch()]
    for arch in arches:
        if arch not in ARCHES:
            parser.error(f"--arch must be one of {', '.join(ARCHES)}, not {arch!r}")
    args.arches = [arch for arch in ARCHES if arch in arches]  # pack's order, no duplicates
    if args.version is not None and not is_semver(args.version):
        parser.error(f"--version must be a semantic version such as 1.2.3, not {args.version!r}")
    if args.python_versions and not args.offline:
        parser.error("--python-versions only applies with --offline")
    if args.check and not args.files:
        parser.error("--check needs the .cnb files to read")
    if args.files and not (args.check or args.publish):
        parser.error("FILE arguments go with --check or --publish")
    return args


def output_paths(descriptor: Descriptor, arches: list[str], output: Path | None) -> list[Path]:
    """One file per arch. A single arch keeps the given name; with several, pack's rule
    (pkg/client packageBuildpackTarget): <stem>-<os>-<arch><ext>."""
    default = ROOT / "build" / f"{escape_id(descriptor.id)}-{descriptor.version}.cnb"
    if len(arches) == 1:
        single = default.with_name(f"{default.stem}-{arches[0]}.cnb")
        return [(output or single).resolve()]
    base = (output or default).resolve()
    return [base.with_name(f"{base.stem}-linux-{arch}{base.suffix}") for arch in arches]


def stage_for_arch(args: argparse.Namespace, arch: str, stage: Path, log: Logger) -> Descriptor:
    """A staged copy of the buildpack with its bundle and a bootstrap CPython for `arch`."""
    stage_buildpack(args.buildpack.resolve(), stage, args.version)
    metadata = BuildpackMetadata.load(stage)
    if args.offline:
        wanted = [v.strip() for v in args.python_versions.split(",") if v.strip()]
        deps = chosen_dependencies(metadata, arch, wanted)
        if wanted and not any(d.id == "cpython" for d in deps):
            raise UserError(
                "No CPython to bundle",
                f"No {arch} CPython in buildpack.toml matches --python-versions {wanted}.",
                "Name versions or minors that buildpack.toml lists for this arch.",
            )
        bundle_dependencies(stage, deps, os.environ, log)
        minors = sorted({".".join(d.version.split(".")[:2]) for d in deps if d.id == "cpython"})
        pip = next(d for d in deps if d.id == "pip")
        bundle_tool_wheels(stage, bundled_path(stage, pip.url, pip.sha256), arch, minors, log)
    log.section(f"Placing a bootstrap CPython ({arch}) in runtime/")
    place_runtime(
        stage,
        arch,
        ROOT / "scripts",
        os.environ,
        installed_at=buildpack_root(metadata.id, metadata.version),
        compile_stdlib=arch == host_arch(),
    )
    return Descriptor.from_toml(load_toml(stage / "buildpack.toml"))


def package(args: argparse.Namespace, log: Logger) -> list[Path]:
    written = []
    for arch in args.arches:
        with tempfile.TemporaryDirectory(prefix="cnb-stage-") as tmp:
            descriptor = stage_for_arch(args, arch, Path(tmp, "buildpack"), log)
            output = output_paths(descriptor, args.arches, args.output)[args.arches.index(arch)]
            ref = write_buildpackage(Path(tmp, "buildpack"), descriptor, arch, output)
        read_package(output)  # what pack would reject never leaves this script
        log.title(
            f"Wrote {output} ({descriptor.id}@{descriptor.version}, linux/{arch}, "
            f"{format_size(output.stat().st_size)}, {ref.digest})"
        )
        written.append(output)
    return written


def report(package_: Package, log: Logger) -> None:
    for image in package_.images:
        metadata = image.labels["io.buildpacks.buildpackage.metadata"]
        log.title(f"{package_.path}: OK, {image.os}/{image.arch}")
        log.step(f"manifest {image.manifest_digest}")
        log.step(f"layer    {image.diff_id} (diffID), {len(image.entries)} entries")
        log.step(f"metadata {metadata}")


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    log = Logger()
    try:
        files = args.files
        if args.check:
            for path in files:
                report(read_package(path), log)
            if not args.publish:
                return 0
        ref = Reference.parse(args.publish) if args.publish else None
        if not files:
            files = package(args, log)
        if ref is not None:
            packages = [read_package(path) for path in files]
            started = time.monotonic()
            result = publish(packages, ref, os.environ, log)
            kind = "index" if len(packages) > 1 else "manifest"
            log.title(
                f"Published {ref} ({kind} {result.digest}): {result.uploaded} blobs uploaded, "
                f"{result.present} already there, "
                f"{format_duration(time.monotonic() - started)}"
            )
    except UserError as e:
        log.error(e.render())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
