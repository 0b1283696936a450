# The body of a compiler shim (cnb_python/toolchain.py writes the header: `real`, the compiler
# it stands for; `temp_roots` and `map_options`, one per line). It runs the real compiler with
# the build's own arguments, then, last, a prefix map for each directory the build works in:
# its working directory, and every directory below a temp root named on its command line (in a
# response file or CPATH too). Each is written as "." in debug info and __FILE__, so objects do
# not depend on the random directory pip or a build backend picked (docs/reproducibility.md).
# Coming last, the maps win over the build's own (gcc takes the last matching one).
set -f
nl='
'
dirs=

# List directory $1, unless a listed one contains it; drop the listed ones it contains. Only
# the outermost directories are mapped, so the maps never overlap and their order is moot. A
# temp root (or a directory holding one) is never mapped: every directory below it would follow.
keep_outermost() {
  case $1 in '' | *=*) return ;; esac # "=" would end the map's old prefix early
  IFS=$nl
  for root in $temp_roots; do
    case $root/ in "$1"/*) unset IFS; return ;; esac
  done
  for listed in $dirs; do
    case $1/ in "$listed"/*) unset IFS; return ;; esac
  done
  kept=
  for listed in $dirs; do
    case $listed/ in "$1"/*) ;; *) kept=$kept$listed$nl ;; esac
  done
  unset IFS
  dirs=$kept$1$nl
}

# A path on the command line ("/x/a.c", "-I/x", "--sysroot=/x"): its directory, when that is
# below a temp root (never a temp root itself: that would map every other build's directory).
consider() {
  case $1 in
    /*) path=$1 ;;
    -*/*) path=/${1#*/} ;;
    *) return ;;
  esac
  [ -d "$path" ] || path=${path%/*}
  IFS=$nl
  for root in $temp_roots; do
    case $path in "$root"/?*) unset IFS; keep_outermost "$path"; return ;; esac
  done
  unset IFS
}

# gcc uses $PWD for the working directory when it names it; make it the physical path.
cd -P . 2>/dev/null && export PWD
keep_outermost "$PWD"
for arg; do
  case $arg in
    @*) [ -r "${arg#@}" ] && for word in $(cat "${arg#@}"); do consider "$word"; done ;;
    *) consider "$arg" ;;
  esac
done
IFS=:
for dir in ${CPATH-} ${C_INCLUDE_PATH-} ${CPLUS_INCLUDE_PATH-}; do consider "$dir"; done
IFS=$nl
for dir in $dirs; do
  for option in $map_options; do set -- "$@" "$option=$dir=."; done
done
unset IFS
exec "$real" "$@"
