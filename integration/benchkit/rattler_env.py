"""The raw conda baseline: py-rattler driven by hand, the way its README shows, with none of the
buildpack's code. Run by the python of a venv that holds requirements/tools/py-rattler.txt:

    python rattler_env.py CHANNEL ENVIRONMENT_YML PREFIX CACHE_DIR

Solves the string entries of `dependencies` from CHANNEL alone (linux-64 and noarch, the
machine's virtual packages), installs the records at PREFIX with CACHE_DIR as rattler's package
cache, and prints the `pip:` subsection as a JSON list.

It ends with os._exit, for the reason cnb_python/toolscripts/conda_env.py gives: a tokio thread
may still hold Python references when the interpreter finalizes, and the process then dies with
SIGSEGV now and then.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import traceback
from pathlib import Path

import rattler
import yaml


async def create(channel: str, spec_file: Path, prefix: Path, cache: Path) -> list[str]:
    dependencies = yaml.safe_load(spec_file.read_text())["dependencies"]
    records = await rattler.solve(
        sources=[rattler.Channel(channel)],
        specs=[entry for entry in dependencies if isinstance(entry, str)],
        gateway=rattler.Gateway(cache_dir=cache / "repodata"),
        platforms=["linux-64", "noarch"],
        virtual_packages=rattler.VirtualPackage.detect(),
    )
    await rattler.install(
        records, target_prefix=prefix, cache_dir=cache / "pkgs", show_progress=False
    )
    return [str(r) for entry in dependencies if isinstance(entry, dict) for r in entry["pip"]]


if __name__ == "__main__":
    status = 0
    try:
        channel, spec_file, prefix, cache = sys.argv[1:]
        print(json.dumps(asyncio.run(create(channel, Path(spec_file), Path(prefix), Path(cache)))))
    except BaseException:  # report it, and still skip finalization
        traceback.print_exc()
        status = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
