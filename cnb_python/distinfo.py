"""Installed-distribution metadata that installers add for themselves and that records when or
where they ran (uv's build-cache stamps hold source mtimes): removed, with their RECORD rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path


def drop_metadata_files(site_dirs: Iterable[Path], names: Sequence[str]) -> list[Path]:
    """Remove `names` from every *.dist-info under `site_dirs`; return what was removed."""
    removed = []
    for site in site_dirs:
        for dist_info in sorted(site.glob("*.dist-info")):
            gone = [dist_info / name for name in names if (dist_info / name).is_file()]
            if not gone:
                continue
            for path in gone:
                path.unlink()
            record = dist_info / "RECORD"
            if record.is_file():
                prefixes = tuple(f"{dist_info.name}/{name}," for name in names)
                lines = record.read_text(encoding="utf-8").splitlines(keepends=True)
                record.write_text(
                    "".join(line for line in lines if not line.startswith(prefixes)),
                    encoding="utf-8",
                )
            removed += gone
    return removed
