"""localcnb: a local stand-in for the CNB lifecycle and pack (detect, restore, build, export, run).

It follows ``/work/shared/docs/cnb-spec.md`` and behaves like lifecycle 0.21 under Platform API
0.15: builds and app processes run in a private mount namespace at the lifecycle's own paths
(``/workspace``, ``/layers``, ``/platform``, ``/cnb/buildpacks``, ``HOME=/home/cnb``), as build
uid 1001 / run uid 1002 (gid 1000). Needs root. Never imports the buildpack.

    plat = Platform(workdir, [buildpack_dir])
    result = plat.build(app_dir, env={"BP_X": "1"})
    proc = plat.run("web", args=["--help"])
"""

from .constants import PlatformError
from .core import BuildResult, Platform
from .image import Image, LayerRecord
from .kill import KillPoint
from .run import Running

__all__ = [
    "BuildResult",
    "Image",
    "KillPoint",
    "LayerRecord",
    "Platform",
    "PlatformError",
    "Running",
]
