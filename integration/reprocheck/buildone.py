"""One localcnb build in this process; run by :mod:`reprocheck.builds` as a child process, so the
build's driver has the hash seed and umask the parent chose.

usage: python -m reprocheck.buildone WORKDIR BUILDPACK APP LOG

Writes the build log to LOG and one JSON object to stdout; exits 0 when the build succeeded.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from localcnb import Platform


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def main(argv: list[str]) -> int:
    workdir, buildpack, app, log = map(Path, argv)
    with log.open("w") as fh:
        result = Platform(workdir, [buildpack], echo=fh).build(app)
    outcome = {
        "success": result.success,
        "phase": result.phase,
        "exit_code": result.exit_code,
        "config_digest": result.image.config_digest if result.image else None,
        # What the driver really ran with, to prove the parent's settings took effect.
        "seen_umask": f"{current_umask():03o}",
        "seen_hash_seed": os.environ.get("PYTHONHASHSEED", ""),
    }
    print(json.dumps(outcome))
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
