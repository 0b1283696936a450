"""Comparing two layer tarballs entry by entry."""

from __future__ import annotations

import datetime
import hashlib
from pathlib import Path, PurePosixPath

from .content import classify_content
from .entries import Entry, LayerIndex
from .model import Difference

_LINK_CAUSES = {"symlink": "symlink-target", "hardlink": "hardlink-target"}


def compare_tars(where: str, tar_a: Path, tar_b: Path) -> list[Difference]:
    """Every difference between two layer tars; empty when their bytes are identical."""
    if _sha256(tar_a) == _sha256(tar_b):
        return []
    found = compare_layers(where, LayerIndex(tar_a), LayerIndex(tar_b))
    if not found:
        found = [Difference(where, "", "tar-encoding", f"{tar_a.name} vs {tar_b.name}")]
    return found


def compare_layers(where: str, a: LayerIndex, b: LayerIndex) -> list[Difference]:
    found: list[Difference] = []
    for name in sorted(a.by_name.keys() | b.by_name.keys()):
        entry_a, entry_b = a.by_name.get(name), b.by_name.get(name)
        if entry_b is None:
            assert entry_a is not None
            found.append(Difference(where, name, "only-in-a", _describe(entry_a)))
        elif entry_a is None:
            found.append(Difference(where, name, "only-in-b", _describe(entry_b)))
        else:
            found += _entry_differences(where, entry_a, entry_b, a, b)
    found += _order(where, a, b)
    return _link_pycs_to_sources(found)


def _entry_differences(
    where: str, a: Entry, b: Entry, layer_a: LayerIndex, layer_b: LayerIndex
) -> list[Difference]:
    name = a.name
    if a.kind != b.kind:
        return [Difference(where, name, "type", f"{a.kind} vs {b.kind}")]
    found = []
    if a.mode != b.mode:
        found.append(Difference(where, name, "mode", f"{a.mode:04o} vs {b.mode:04o}"))
    if (a.uid, a.gid, a.uname, a.gname) != (b.uid, b.gid, b.uname, b.gname):
        found.append(Difference(where, name, "owner", f"{_owner(a)} vs {_owner(b)}"))
    if a.mtime != b.mtime:
        found.append(Difference(where, name, "mtime", f"{_time(a.mtime)} vs {_time(b.mtime)}"))
    if a.kind in _LINK_CAUSES and a.linkname != b.linkname:
        found.append(
            Difference(where, name, _LINK_CAUSES[a.kind], f"-> {a.linkname} vs -> {b.linkname}")
        )
    if a.kind == "file" and a.sha256 != b.sha256:
        cause, detail = classify_content(name, layer_a.read(name), layer_b.read(name))
        found.append(Difference(where, name, cause, detail))
    return found


def _order(where: str, a: LayerIndex, b: LayerIndex) -> list[Difference]:
    """One difference at the first entry where the common entries' order parts."""
    common = a.by_name.keys() & b.by_name.keys()
    seq_a = [name for name in a.names if name in common]
    seq_b = [name for name in b.names if name in common]
    for index, (name_a, name_b) in enumerate(zip(seq_a, seq_b)):
        if name_a != name_b:
            detail = f"common entry #{index}: A has {name_a}, B has {name_b}"
            return [Difference(where, name_a, "order", detail)]
    return []


def _link_pycs_to_sources(found: list[Difference]) -> list[Difference]:
    """A pyc of a changed source differs as a consequence: say so, next to the pyc."""
    changed = {d.path for d in found if d.cause in ("text", "only-in-a", "only-in-b")}
    out = []
    for diff in found:
        source = _source_of(diff.path) if diff.cause.startswith("pyc-") else None
        if source in changed:
            diff = Difference(
                diff.where, diff.path, diff.cause, f"{diff.detail} (its source {source} differs)"
            )
        out.append(diff)
    return out


def _source_of(pyc: str) -> str | None:
    """``pkg/__pycache__/mod.cpython-312.pyc`` -> ``pkg/mod.py``."""
    path = PurePosixPath(pyc)
    if path.parent.name != "__pycache__":
        return None
    return str(path.parent.parent / (path.name.split(".", 1)[0] + ".py"))


def _describe(entry: Entry) -> str:
    text = f"{entry.kind}, mode {entry.mode:04o}"
    if entry.kind == "file":
        text += f", {entry.size} bytes"
    if entry.linkname:
        text += f", -> {entry.linkname}"
    return text


def _owner(entry: Entry) -> str:
    names = f" ({entry.uname}:{entry.gname})" if entry.uname or entry.gname else ""
    return f"{entry.uid}:{entry.gid}{names}"


def _time(mtime: float) -> str:
    moment = datetime.datetime.fromtimestamp(mtime, tz=datetime.timezone.utc)
    return moment.isoformat().replace("+00:00", "Z")


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()
