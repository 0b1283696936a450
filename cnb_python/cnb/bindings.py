"""Service bindings: $SERVICE_BINDING_ROOT (Service Binding spec) and <platform>/bindings.

The lifecycle does not pass SERVICE_BINDING_ROOT into builds unless the user sets it as platform
env, and `pack build --volume ./b:/platform/bindings/<name>` mounts under <platform>/bindings, so
both roots are read; a name found in the first root wins. The legacy CNB layout
(metadata/kind + secret/) is read too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cnb_python.errors import UserError


@dataclass(frozen=True)
class Binding:
    name: str
    type: str
    provider: str
    path: Path
    entries: dict[str, Path]  # entry name -> file; contents may be secrets, read only on demand

    def read(self, entry: str) -> str:
        return read_entry(self.entries[entry])


def read_entry(path: Path) -> str:
    """A binding file's value: UTF-8 text, surrounding whitespace dropped."""
    try:
        return path.read_bytes().decode().strip()
    except UnicodeDecodeError as e:
        raise UserError(
            f"Unable to read the binding {path.parent.name}",
            f"Its file {path.name} is not valid UTF-8 text ({e.reason} at byte {e.start}).",
            f"Write {path.name} of the binding as plain UTF-8 text.",
        ) from e


def read_bindings(roots: Iterable[Path]) -> list[Binding]:
    found: dict[str, Binding] = {}
    for root in roots:
        if not root.is_dir():
            continue
        for path in sorted(root.iterdir()):
            if path.name.startswith(".") or not path.is_dir() or path.name in found:
                continue
            binding = _read_binding(path)
            if binding:
                found[path.name] = binding
    return list(found.values())


def binding_roots(service_binding_root: str, platform_dir: Path) -> list[Path]:
    roots = [Path(service_binding_root)] if service_binding_root else []
    return [*roots, platform_dir / "bindings"]


def _files(directory: Path) -> dict[str, Path]:
    if not directory.is_dir():
        return {}
    return {
        p.name: p for p in sorted(directory.iterdir()) if p.is_file() and not p.name.startswith(".")
    }


def _read_binding(path: Path) -> Binding | None:
    files = _files(path)
    if "type" in files:
        entries = {k: v for k, v in files.items() if k not in ("type", "provider")}
        provider = read_entry(files["provider"]) if "provider" in files else ""
        return Binding(path.name, read_entry(files["type"]), provider, path, entries)
    metadata = _files(path / "metadata")
    if "kind" in metadata:  # legacy CNB bindings extension
        provider = read_entry(metadata["provider"]) if "provider" in metadata else ""
        return Binding(
            path.name, read_entry(metadata["kind"]), provider, path, _files(path / "secret")
        )
    return None


def bindings_of_type(bindings: Iterable[Binding], binding_type: str) -> list[Binding]:
    return [b for b in bindings if b.type.lower() == binding_type.lower()]


def binding_entry(bindings: Iterable[Binding], binding_type: str, entry: str) -> Path | None:
    """The file of `entry` in the first binding of `binding_type` that has one (a tool's config
    file such as pip.conf or uv.toml)."""
    return next(
        (b.entries[entry] for b in bindings_of_type(bindings, binding_type) if entry in b.entries),
        None,
    )
