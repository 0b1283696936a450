"""Unpack wheels into a directory, as an install would lay them out but byte-for-byte the same
on every run: no RECORD rewrite, no INSTALLER, no pycs, no scripts, every file mode 0644.
Used by scripts/build.sh to make vendor/.

    python3 scripts/unpack-wheels.py DEST WHEEL...
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path, PurePosixPath


def unpack(wheel: Path, dest: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            if info.is_dir():
                continue
            parts = PurePosixPath(info.filename).parts
            if parts[0].endswith(".data"):
                # Only library code belongs in vendor/; scripts and headers do not.
                if len(parts) < 3 or parts[1] not in ("purelib", "platlib"):
                    continue
                parts = parts[2:]
            if ".." in parts or PurePosixPath(info.filename).is_absolute():
                sys.exit(f"{wheel.name}: unsafe path {info.filename!r}")
            target = dest.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(info))
            target.chmod(0o644)


def main() -> int:
    dest, wheels = Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]]
    if not wheels:
        sys.exit("usage: unpack-wheels.py DEST WHEEL...")
    dest.mkdir(parents=True)
    for wheel in sorted(wheels, key=lambda w: w.name):
        unpack(wheel, dest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
