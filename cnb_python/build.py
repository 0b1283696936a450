"""The build, as a story: each step is one call into the module that owns it."""

from __future__ import annotations

import datetime
import shlex
from dataclasses import replace

from cnb_python import buildenv, django
from cnb_python.cnb.bindings import binding_roots, read_bindings
from cnb_python.cnb.context import Context
from cnb_python.cnb.launch import write_launch_toml
from cnb_python.cnb.layers import Layers, LayerTypes
from cnb_python.cnb.plan import merge_entries, read_buildpack_plan
from cnb_python.cpython import LAYER_NAME as CPYTHON_LAYER
from cnb_python.cpython import CPython, provide_cpython
from cnb_python.dependencies import BuildpackMetadata
from cnb_python.environments import Venv
from cnb_python.layer_sboms import LayerSboms
from cnb_python.log import Logger
from cnb_python.lookalikes import lookalike_warnings
from cnb_python.managers import ignored_warning, select_manager
from cnb_python.managers.gate import check_settings
from cnb_python.processes import app_processes, pid1_advice
from cnb_python.projects import LAYER_NAME as PROJECT_BUILD_LAYER
from cnb_python.python_version import choose_cpython
from cnb_python.tools import buildpack_python, provide_tools, start_tools
from cnb_python.venv import LAYER_NAME as VENV_LAYER
from cnb_python.venv import provide_venv


def build(ctx: Context, log: Logger) -> None:
    assert ctx.layers_dir is not None and ctx.buildpack_plan_path is not None
    metadata = BuildpackMetadata.load(ctx.buildpack_dir)
    log.title(f"{metadata.name} {metadata.version}")
    layers = Layers(ctx.layers_dir)
    env = ctx.env
    bindings = read_bindings(binding_roots(ctx.getenv("SERVICE_BINDING_ROOT"), ctx.platform_dir))
    cpython_plan = merge_entries(read_buildpack_plan(ctx.buildpack_plan_path), "cpython")
    # Layers later buildpacks may use are `build` layers only when one of them asks for it.
    shared = LayerTypes(launch=True, build=cpython_plan.build, cache=True)

    # 1. Configuration that can fail fast: the package manager, its inputs, unsafe settings.
    choice = select_manager(ctx.app_dir, env, bindings)
    manager, installer = choice.manager, choice.installer
    log.section(
        f"Package manager: {installer.describe()} ({choice.reason})"
        if installer
        else f"No package manager: {choice.reason}"
    )
    ignored = ignored_warning(choice)
    if ignored:
        log.warning(*ignored)
    for warning in lookalike_warnings(ctx.app_dir):
        log.warning(*warning)
    gated_env = check_settings(manager, env, log)
    log.blank()
    # An environment that brings its own Python needs CPython for the build tools only.
    environment_kind = manager.environment if manager else Venv
    own_python = environment_kind.own_python

    # 2. CPython: the app's; or only the tools', which the buildpack's own interpreter runs when
    # it can and no later buildpack asks for CPython at build time.
    ignored_requests = environment_kind.ignored_python_requests(
        ctx.app_dir, env, metadata.default_python
    )
    if ignored_requests:
        log.warning(*ignored_requests)
    tool_names = manager.tools_of(installer) if manager and installer else []
    own_interpreter = (
        buildpack_python(tool_names, ctx.buildpack_dir)
        if own_python and not cpython_plan.build
        else None
    )
    dependency = None
    if own_interpreter:
        log.section(f"Build tools: the buildpack's own Python {own_interpreter.version}")
        layers.get(CPYTHON_LAYER).remove()
        cpython = own_interpreter
    else:
        dependency = choose_cpython(
            ctx.app_dir,
            env,
            metadata,
            ctx.target.arch,
            cpython_plan.versions,
            log,
            today=datetime.datetime.now(datetime.timezone.utc).date(),
            app_requests=not own_python,
        )
        cpython = CPython(layers.get(CPYTHON_LAYER).path, dependency.version)
    # The tools' downloads need no CPython: they run while it installs.
    pending_tools = start_tools(
        tool_names,
        layers.get,
        cpython,
        metadata=metadata,
        buildpack_dir=ctx.buildpack_dir,
        arch=ctx.target.arch,
        env=env,
        bindings=bindings,
        log=log,
    )
    sboms = LayerSboms(metadata, cpython.version, ctx.target.arch, buildenv.source_date_epoch(env))
    cpython_layer = None
    if dependency:
        cpython_types = replace(shared, launch=False) if own_python else shared
        cpython_layer = provide_cpython(
            layers.get(CPYTHON_LAYER),
            dependency,
            cpython_types,
            env=env,
            bindings=bindings,
            log=log,
        )
        sboms.cpython(cpython_layer.layer, dependency)

    # 3. The app's dependencies: the tool in a build-only layer, the packages in a venv.
    django_app, site_packages = None, []
    if manager is None or installer is None:
        layers.get(VENV_LAYER).remove()
        layers.get(PROJECT_BUILD_LAYER).remove()
    else:
        tool_env = buildenv.tool_env(gated_env, cpython.python.parent)
        tools = provide_tools(
            pending_tools,
            cpython,
            buildpack_dir=ctx.buildpack_dir,
            tool_env=tool_env,
            log=log,
            compile_wheels=not own_python,
        )
        for provided in tools:
            sboms.tool(provided.layer, provided.dependency, provided.tool.site_dirs)
        venv_layer = layers.get(VENV_LAYER)
        environment = provide_venv(
            venv_layer,
            layers.get(PROJECT_BUILD_LAYER),
            cpython,
            manager,
            installer,
            {provided.tool.name: provided.tool for provided in tools},
            shared,
            app=ctx.app_dir,
            arch=ctx.target.arch,
            user_env=env,
            tool_env=tool_env,
            log=log,
        )
        site_packages = environment.site_packages()
        environment.write_sbom(sboms, venv_layer)
        # Django's static files go into the app dir, so into the app layer; collectstatic runs
        # in the activated environment, as at launch.
        django_app = django.find_django(ctx.app_dir, site_packages)
        if django_app:
            app_env = {**tool_env, **environment.activation()}
            django.collect_static(django_app, environment.python, app_env, log)
        # The tools' bytecode, compiling since each was installed, must be complete now.
        for provided in tools:
            provided.finish(log)

    # The stdlib bytecode, compiling since CPython was unpacked, must be complete now.
    if cpython_layer:
        cpython_layer.finish(log)

    # 4. Processes.
    processes, source = app_processes(
        ctx.app_dir,
        installer.project_scripts() if installer else (),
        django.default_process(django_app, site_packages) if django_app else None,
    )
    log.blank()
    if processes:
        log.section(f"Assigning launch processes ({source}):")
        for p in processes:
            log.step(f"{p.type}{' (default)' if p.default else ''}: {shlex.join(p.command)}")
        for advice in filter(None, map(pid1_advice, processes)):
            log.step(advice)
    else:
        log.section(
            "No launch process set: add a Procfile (e.g. `web: gunicorn app:app`) or an app.py, "
            "or start the image with a command."
        )
    write_launch_toml(ctx.layers_dir, processes, {})
