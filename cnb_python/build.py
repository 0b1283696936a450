"""The build, as a story: each step is one call into the module that owns it."""

from __future__ import annotations

import datetime

from cnb_python.cnb.bindings import binding_roots, read_bindings
from cnb_python.cnb.context import Context
from cnb_python.cnb.layers import Layers, LayerTypes
from cnb_python.cnb.plan import merge_entries, read_buildpack_plan
from cnb_python.cpython import LAYER_NAME as CPYTHON_LAYER
from cnb_python.cpython import provide_cpython
from cnb_python.dependencies import BuildpackMetadata
from cnb_python.log import Logger
from cnb_python.python_version import choose_cpython


def build(ctx: Context, log: Logger) -> None:
    assert ctx.layers_dir is not None and ctx.buildpack_plan_path is not None
    metadata = BuildpackMetadata.load(ctx.buildpack_dir)
    log.title(f"{metadata.name} {metadata.version}")
    layers = Layers(ctx.layers_dir)
    bindings = read_bindings(binding_roots(ctx.getenv("SERVICE_BINDING_ROOT"), ctx.platform_dir))
    cpython_plan = merge_entries(read_buildpack_plan(ctx.buildpack_plan_path), "cpython")

    dependency = choose_cpython(
        ctx.app_dir,
        ctx.env,
        metadata,
        ctx.target.arch,
        cpython_plan.versions,
        log,
        today=datetime.datetime.now(datetime.timezone.utc).date(),
    )
    provide_cpython(
        layers.get(CPYTHON_LAYER),
        dependency,
        # Cached, because the build itself needs the directory (to create the app's venv).
        LayerTypes(launch=True, build=cpython_plan.build, cache=True),
        env=ctx.env,
        bindings=bindings,
        log=log,
    )
