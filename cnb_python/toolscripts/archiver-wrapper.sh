# The body of an `ar` shim (cnb_python/toolchain.py writes the header: `real`, the ar it stands
# for). Deterministic mode is forced on every operation that writes an archive (D: zero
# timestamps, uids and gids, mode 644; a U the build asked for is dropped), and the members of
# an insertion (r, q) go in in sorted order, so an archive depends neither on when nor in which
# order the build made its objects (docs/reproducibility.md). Anything it does not recognize
# runs as given.
set -f
nl='
'
# Long options before the key, as gcc-ar passes them (--plugin NAME, --target=BFD).
before=
while :; do
  case ${1-} in
    --plugin) [ $# -ge 2 ] || exec "$real" "$@"; before=$before$1$nl$2$nl; shift 2 ;;
    --*=*) before=$before$1$nl; shift ;;
    *) break ;;
  esac
done
case ${1-} in
  --* | *[!A-Za-z-]* | '') exec "$real" "$@" ;; # not a key (--version, --help): as given
esac
dash=${1%%[!-]*}
key=${1#"$dash"}
shift
case $key in *U*) key=$(printf %s "$key" | tr -d U) ;; esac
case $key in *[dmqrs]*) case $key in *D*) ;; *) key=${key}D ;; esac ;; esac
# r or q with no positional modifier (a, b, i: relpos; N: count) and plain member names only.
sort_members=
case $key in *[rq]*) case $key in *[abiN]*) ;; *) sort_members=1 ;; esac ;; esac
if [ -n "$sort_members" ] && [ $# -ge 2 ]; then
  archive=$1
  shift
  for member; do
    case $member in -* | @* | *"$nl"*) sort_members= ;; esac
  done
  if [ -n "$sort_members" ]; then
    sorted=$(printf '%s\n' "$@" | LC_ALL=C sort)
    IFS=$nl
    set -- "$archive" $sorted
    unset IFS
  else
    set -- "$archive" "$@"
  fi
fi
IFS=$nl
set -- $before "$dash$key" "$@"
unset IFS
exec "$real" "$@"
