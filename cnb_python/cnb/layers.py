"""Layers: directories under CNB_LAYERS_DIR, their <name>.toml, env files and SBOM files.

Restored tomls come back with only [metadata] (the lifecycle strips [types]), so every build
must write [types] again or the layer is ignored.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnb_python.cnb.toml import TOMLDecodeError, load_toml, write_bytes_atomic, write_toml

_LAYER_NAME = re.compile(
    r"^[A-Za-z0-9_-]+$"
)  # no dots: the lifecycle cuts SBOM names at the first dot
_RESERVED = frozenset({"build", "launch", "store"})


@dataclass(frozen=True)
class LayerTypes:
    launch: bool = False
    build: bool = False
    cache: bool = False


class EnvDir:
    """One env directory (env/, env.build/, env.launch/ or env.launch/<process>/).

    Values are written byte for byte with no trailing newline, because the lifecycle uses file
    contents verbatim; every prepend/append gets a .delim, or values would be glued together.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def _write(self, filename: str, value: str) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(self.path / filename, value.encode())

    def override(self, name: str, value: str) -> None:
        self._write(f"{name}.override", value)

    def default(self, name: str, value: str) -> None:
        self._write(f"{name}.default", value)

    def prepend(self, name: str, value: str, delim: str) -> None:
        self._write(f"{name}.prepend", value)
        self._write(f"{name}.delim", delim)

    def append(self, name: str, value: str, delim: str) -> None:
        self._write(f"{name}.append", value)
        self._write(f"{name}.delim", delim)


class Layer:
    def __init__(self, layers_dir: Path, name: str) -> None:
        if not _LAYER_NAME.match(name) or name in _RESERVED:
            raise ValueError(f"invalid layer name {name!r}")
        self.name = name
        self.path = layers_dir / name
        self.toml_path = layers_dir / f"{name}.toml"

    # Env directories, as the spec names them.
    @property
    def shared_env(self) -> EnvDir:
        return EnvDir(self.path / "env")

    @property
    def build_env(self) -> EnvDir:
        return EnvDir(self.path / "env.build")

    @property
    def launch_env(self) -> EnvDir:
        return EnvDir(self.path / "env.launch")

    def process_launch_env(self, process_type: str) -> EnvDir:
        return EnvDir(self.path / "env.launch" / process_type)

    def restored_metadata(self) -> dict[str, Any]:
        """[metadata] from the previous build, or {} when there is none or it is unreadable."""
        try:
            return dict(load_toml(self.toml_path).get("metadata", {}))
        except (OSError, TOMLDecodeError):
            return {}

    def reset(self) -> None:
        """Start from empty. The toml goes first: if the build dies while the directory is being
        filled, no metadata claims the half-written contents, so they are never reused."""
        old = self.reset_aside()
        if old is not None:
            shutil.rmtree(old)

    def reset_aside(self) -> Path | None:
        """`reset`, with the old contents moved to a directory next to the layer, for the caller
        to remove while it fills the layer (a directory without a toml is no layer: it is never
        exported or cached); None when there were none."""
        self.forget_metadata()
        for sbom in self.path.parent.glob(f"{self.name}.sbom.*"):
            sbom.unlink()
        old = None
        if self.path.is_symlink() or self.path.is_file():
            self.path.unlink()
        elif self.path.exists():
            old = Path(tempfile.mkdtemp(prefix=f"{self.name}-old-", dir=self.path.parent))
            self.path.rename(old / self.name)
        self.path.mkdir(parents=True)
        return old

    def forget_metadata(self) -> None:
        """Before changing restored contents in place: a build that dies midway leaves no
        metadata that claims them, so they are never reused."""
        self.toml_path.unlink(missing_ok=True)

    def remove(self) -> None:
        """Drop the layer entirely (also from the image on the next export)."""
        self.reset()
        self.path.rmdir()

    def write(self, types: LayerTypes, metadata: dict[str, Any]) -> None:
        """Declare the layer. Called last, after its contents are complete."""
        write_toml(
            self.toml_path,
            {
                "types": {"launch": types.launch, "build": types.build, "cache": types.cache},
                "metadata": metadata,
            },
        )

    def sbom_path(self, extension: str) -> Path:
        """<layers>/<layer>.sbom.<ext>, e.g. extension "cdx.json"."""
        return self.path.parent / f"{self.name}.sbom.{extension}"


class Layers:
    def __init__(self, path: Path) -> None:
        self.path = path

    def get(self, name: str) -> Layer:
        return Layer(self.path, name)
