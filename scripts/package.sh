#!/bin/sh
# Package the buildpack as a .cnb file (an OCI image layout tar), with no pack or Docker needed:
#   scripts/package.sh [--version X] [--arch amd64|arm64] [--offline [--python-versions 3.12,3.13]]
#                      [--buildpack DIR] [--output FILE]
# It stages a clean copy (code, vendor/, a bootstrap CPython in runtime/, and with --offline every
# CPython archive and tool wheel a build downloads), then writes it deterministically: the same
# inputs give a byte-identical file. Downloads honor BP_DEPENDENCY_MIRROR and are sha256-checked.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
exec "${PYTHON:-python3}" -I -c 'import runpy, sys
root = sys.argv.pop(1)
sys.path[:0] = [root + "/vendor", root]
runpy.run_module("packager.cli", run_name="__main__", alter_sys=True)' "$root" "$@"
