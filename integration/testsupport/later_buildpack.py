"""A small buildpack that runs after cnb-python in the same group, as a platform team's own
buildpack would: it requires `cpython` (for build, optionally with a version constraint) and
runs a shell script during build. Group tests use it to check what a later buildpack sees.

The script runs with the lifecycle's build environment (our build and shared env files applied)
and the CNB_* variables; a non-zero exit fails the build, and its output is in the build log.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

_DETECT = """#!/bin/sh
set -eu
cat > "$CNB_BUILD_PLAN_PATH" <<'EOF'
{plan}
EOF
"""

_BUILD = """#!/bin/sh
set -eu
{script}
"""


def make_later_buildpack(
    dest: Path,
    build_script: str,
    *,
    bp_id: str = "test/later",
    version: str = "0.0.1",
    cpython_version: str | None = None,
    build: bool = True,
    launch: bool = False,
) -> Path:
    """Write the buildpack into `dest`; the Buildpack API is ours (0.10)."""
    metadata: dict[str, object] = {}
    if build:
        metadata["build"] = True
    if launch:
        metadata["launch"] = True
    if cpython_version:
        metadata["version"] = cpython_version
    require = '[[requires]]\nname = "cpython"\n'
    if metadata:
        require += "[requires.metadata]\n" + "".join(
            f"{key} = {json.dumps(value)}\n" for key, value in metadata.items()
        )
    (dest / "bin").mkdir(parents=True, exist_ok=True)
    (dest / "buildpack.toml").write_text(
        'api = "0.10"\n\n[buildpack]\n'
        f'id = "{bp_id}"\nversion = "{version}"\n\n'
        '[[targets]]\nos = "linux"\n'
    )
    for name, text in {
        "detect": _DETECT.format(plan=require.rstrip("\n")),
        "build": _BUILD.format(script=build_script),
    }.items():
        path = dest / "bin" / name
        path.write_text(text)
        os.chmod(path, 0o755)
    return dest
