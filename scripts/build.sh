#!/bin/sh
# Prepare this checkout so that `pack build --buildpack ./` (or `pack buildpack package`) works:
#   - install the pinned, hash-checked runtime dependencies into vendor/;
#   - with --runtime ARCH (amd64|arm64), also place a bootstrap CPython from the buildpack's own
#     metadata into runtime/, so the buildpack runs on builder images that have no Python at all.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
python=${PYTHON:-python3}
runtime_arch=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runtime) runtime_arch=${2:?--runtime needs an arch: amd64 or arm64}; shift 2 ;;
    *) echo "usage: scripts/build.sh [--runtime amd64|arm64]" >&2; exit 2 ;;
  esac
done

stamp=vendor/.requirements.sha256
want=$(sha256sum requirements/runtime.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  rm -rf vendor
  # Pure-Python wheels for the oldest supported interpreter: one vendor/ for every arch and Python.
  "$python" -m pip install --isolated --disable-pip-version-check --quiet \
    --require-hashes --no-deps --only-binary :all: \
    --platform any --implementation py --abi none --python-version 3.9 \
    --target vendor -r requirements/runtime.txt
  rm -rf vendor/bin
  echo "$want" > "$stamp"
fi

if [ -n "$runtime_arch" ]; then
  "$python" -I scripts/place-runtime.py "$runtime_arch" runtime
fi
