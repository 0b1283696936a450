#!/bin/sh
# Regenerate vendor/ (committed) from requirements/runtime.txt: the pinned, hash-checked,
# pure-Python wheels, unpacked as they are (the way pip vendors its own dependencies).
# Deterministic and idempotent: the same requirements give the same bytes, and nothing is done
# when vendor/.requirements.sha256 already matches.
#   scripts/build.sh                 regenerate vendor/ if requirements/runtime.txt changed
#   scripts/build.sh --force         regenerate it anyway
#   scripts/build.sh --check         fail if vendor/ differs from a fresh regeneration (CI)
#   scripts/build.sh --runtime ARCH  also place a bootstrap CPython (amd64|arm64) into runtime/,
#                                    so the buildpack runs on builder images without Python
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
python=${PYTHON:-python3}
runtime_arch="" mode=update
while [ $# -gt 0 ]; do
  case "$1" in
    --runtime) runtime_arch=${2:?--runtime needs an arch: amd64 or arm64}; shift 2 ;;
    --force) mode=force; shift ;;
    --check) mode=check; shift ;;
    *) echo "usage: scripts/build.sh [--force|--check] [--runtime amd64|arm64]" >&2; exit 2 ;;
  esac
done

# make_vendor DEST: DEST must not exist.
make_vendor() {
  wheels=$(mktemp -d)
  # Pure-Python wheels for the oldest supported interpreter: one vendor/ for every arch and
  # Python. --isolated: no user config (extra indexes) can change what is fetched.
  "$python" -m pip download --isolated --disable-pip-version-check --quiet \
    --require-hashes --no-deps --only-binary :all: \
    --platform any --implementation py --abi none --python-version 3.9 \
    --dest "$wheels" -r requirements/runtime.txt
  "$python" -I scripts/unpack-wheels.py "$1" "$wheels"/*.whl
  rm -rf "$wheels"
  sha256sum requirements/runtime.txt | cut -d' ' -f1 > "$1/.requirements.sha256"
}

want=$(sha256sum requirements/runtime.txt | cut -d' ' -f1)
case "$mode" in
  check)
    fresh=$(mktemp -d)
    trap 'rm -rf "$fresh"' EXIT
    make_vendor "$fresh/vendor"
    if ! diff -r -x __pycache__ vendor "$fresh/vendor" >/dev/null 2>&1; then
      diff -rq -x __pycache__ vendor "$fresh/vendor" >&2 || true
      echo "vendor/ does not match requirements/runtime.txt: run scripts/build.sh --force and commit vendor/" >&2
      exit 1
    fi
    echo "vendor/ matches requirements/runtime.txt"
    ;;
  *)
    if [ "$mode" = force ] || [ "$(cat vendor/.requirements.sha256 2>/dev/null)" != "$want" ]; then
      rm -rf vendor.new
      make_vendor vendor.new
      rm -rf vendor
      mv vendor.new vendor
    fi
    ;;
esac

if [ -n "$runtime_arch" ]; then
  "$python" -I scripts/place-runtime.py "$runtime_arch" runtime
fi
