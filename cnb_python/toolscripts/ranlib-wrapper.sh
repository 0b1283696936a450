# The body of a `ranlib` shim (cnb_python/toolchain.py writes the header: `real`, the ranlib it
# stands for): deterministic mode (-D: a zero timestamp in the symbol index) whatever the build
# asked for; a -U is dropped (docs/reproducibility.md).
for arg; do
  shift
  [ "$arg" = -U ] || set -- "$@" "$arg"
done
exec "$real" -D "$@"
