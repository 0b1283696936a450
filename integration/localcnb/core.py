"""The platform: one ``pack build`` (detect, restore, build, export) and ``docker run``."""

from __future__ import annotations

import datetime
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from . import buildpacks, plan
from .build import BuildpackFailed, Outputs, build
from .cache import Cache
from .constants import (
    APP_DIR,
    BUILD_UID,
    BUILDER_IMAGE_ENV,
    CNB_DIR,
    CNB_GID,
    EXIT_BUILD_ERROR,
    EXIT_DETECT_ERROR,
    EXIT_EXPORT_ERROR,
    EXIT_FAILED_BUILD_WITH_ERRORS,
    EXIT_FAILED_DETECT,
    EXIT_INCOMPATIBLE_BUILDPACK_API,
    EXIT_LAUNCH_ERROR,
    EXIT_RESTORE_ERROR,
    LAYERS_DIR,
    NORMALIZED_TIME,
    PLATFORM_DIR,
    PlatformError,
)
from .container import Container
from .detect import detect
from .envfiles import Env
from .export import export
from .image import Image
from .kill import KillPoint
from .log import Log
from .restore import restore
from .run import Running, app_container, kill_group, launch_spec
from .sandbox import ensure_mountpoints, popen
from .tomlio import project_build_env

# A user behind a TLS-inspecting proxy passes these with `pack build --env`.
CA_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "PIP_CERT")
_BINDING_NAME = re.compile(r"^[a-z0-9.-]{1,253}$")


@dataclass
class BuildResult:
    success: bool
    phase: str  # the phase that failed ("detect", "restore", "build", "export") or "complete"
    exit_code: int  # the lifecycle's exit code (0, 20, 21, 51, 62, ...)
    output: str  # the build log as pack prints it (info level)
    detect_output: str = ""  # every bin/detect output and the resolver's debug log
    detect_code: int | None = None  # first non-zero bin/detect status, 0 if all passed
    detect_codes: dict[str, int] = field(default_factory=dict)  # -1: failed by the lifecycle
    build_code: int | None = None  # failing bin/build status, 0 if all succeeded
    group: list[str] = field(default_factory=list)
    plan: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    image: Image | None = None


class Platform:
    """Builds apps with a fixed group of buildpacks; ``workdir`` keeps the previous image and the
    layer cache between builds. Needs root (mount namespaces, uid switching)."""

    def __init__(
        self, workdir: Path, buildpacks: Sequence[Path], *, echo: TextIO | None = None
    ) -> None:
        self.workdir = Path(workdir).resolve()
        self.buildpacks = [Path(p) for p in buildpacks]
        self.echo = echo  # also stream the build log here as it happens

    @property
    def image(self) -> Image | None:
        return Image.load(self.workdir / "image")

    def clear_cache(self) -> None:
        shutil.rmtree(self.workdir / "cache", ignore_errors=True)

    def clear_image(self) -> None:
        shutil.rmtree(self.workdir / "image", ignore_errors=True)

    def build(
        self,
        app: Path,
        env: Mapping[str, str] | None = None,
        bindings: Mapping[str, Mapping[str, str | bytes]] | None = None,
        builder_env: Mapping[str, str] | None = None,
        pass_ca_env: bool = True,
        sbom_output_dir: Path | None = None,
        kill: KillPoint | None = None,
        target: buildpacks.HostTarget | None = None,
    ) -> BuildResult:
        """`sbom_output_dir`, like `pack build --sbom-output-dir`, receives the build's
        `<layers>/sbom` tree (launch, build and cache SBOMs) after a successful export.
        `kill` SIGKILLs bin/build at that point (a cancelled job; see :mod:`localcnb.kill`).
        `target` stands for the run image's target labels (default: this machine's, as the
        lifecycle reads them from /etc/os-release when the run image has none)."""
        _require_root()
        # A build container has its own umask; the caller's must not leak into the modes of
        # the directories the platform creates (/layers is in every layer tar).
        umask = os.umask(0o022)
        try:
            return self._build(
                app, env, bindings, builder_env, pass_ca_env, sbom_output_dir, kill, target
            )
        finally:
            os.umask(umask)

    def _build(
        self,
        app: Path,
        env: Mapping[str, str] | None,
        bindings: Mapping[str, Mapping[str, str | bytes]] | None,
        builder_env: Mapping[str, str] | None,
        pass_ca_env: bool,
        sbom_output_dir: Path | None,
        kill: KillPoint | None,
        target: buildpacks.HostTarget | None,
    ) -> BuildResult:
        ensure_mountpoints()
        user_env = {**project_build_env(app), **(env or {})}
        if pass_ca_env:
            for name in CA_VARIABLES:
                if name in os.environ:
                    user_env.setdefault(name, os.environ[name])
        (self.workdir / "tmp").mkdir(parents=True, exist_ok=True)
        build_dir = Path(tempfile.mkdtemp(prefix="build-", dir=self.workdir / "tmp"))
        log = Log(self.echo)
        try:
            container = Container.create(build_dir / "root", BUILD_UID)
            _stage_app(Path(app), container.host(APP_DIR))
            _stage_platform(container.host(PLATFORM_DIR), user_env, bindings or {})
            layers_dir = container.host(LAYERS_DIR)
            layers_dir.mkdir()
            os.chown(layers_dir, BUILD_UID, CNB_GID)
            base_env = Env.for_build(
                {**BUILDER_IMAGE_ENV, "HOSTNAME": container.hostname, **(builder_env or {})}
            )
            result = self._phases(
                container, user_env, base_env, log, kill, target or buildpacks.HostTarget.detect()
            )
            sboms = container.host(f"{LAYERS_DIR}/sbom")
            if result.success and sbom_output_dir is not None and sboms.is_dir():
                shutil.copytree(sboms, sbom_output_dir, dirs_exist_ok=True)
            return result
        finally:
            shutil.rmtree(build_dir, ignore_errors=True)

    def _phases(
        self,
        container: Container,
        user_env: dict[str, str],
        base_env: Env,
        log: Log,
        kill: KillPoint | None,
        target: buildpacks.HostTarget,
    ) -> BuildResult:
        def failed(phase: str, code: int, message: str, **extra: Any) -> BuildResult:
            log.line(f"ERROR: failed to {phase}: {message}")
            return BuildResult(False, phase, code, log.text(), **extra)

        log.line("===> DETECTING")
        try:
            group = [buildpacks.load(path) for path in self.buildpacks]
        except PlatformError as exc:
            return failed("detect", EXIT_DETECT_ERROR, str(exc))
        try:
            for bp in group:
                buildpacks.check_api(bp)
                buildpacks.stage(bp, container.host(CNB_DIR))
        except PlatformError as exc:
            return failed("detect", EXIT_INCOMPATIBLE_BUILDPACK_API, str(exc))
        outcome = detect(group, container, base_env, target)
        log.lines(outcome.info)
        detected = {
            "detect_output": "\n".join(outcome.debug) + "\n",
            "detect_codes": {run.bp.id: run.code for run in outcome.runs},
            "detect_code": next((run.code for run in outcome.runs if run.code), 0),
        }
        if outcome.entries is None:
            log.line("ERROR: No buildpack groups passed detection.")
            log.line("ERROR: Please check that you are running against the correct path.")
            reason = (
                "no buildpacks participating"
                if outcome.exit_code == EXIT_FAILED_DETECT
                else "buildpack(s) failed with err"
            )
            return failed("detect", outcome.exit_code, reason, **detected)
        group = [run.bp for run in outcome.runs]
        outputs = Outputs(
            plans={
                bp.id: [r.as_json() for r in plan.for_buildpack(outcome.entries, bp.id)]
                for bp in group
            }
        )
        detected["group"] = [bp.id for bp in group]

        log.line("===> RESTORING")
        previous, previous_cache = self.image, Cache.load(self.workdir / "cache")
        try:
            log.lines(restore(group, container, previous, previous_cache))
        except PlatformError as exc:
            return failed("restore", EXIT_RESTORE_ERROR, str(exc), plan=outputs.plans, **detected)

        log.line("===> BUILDING")
        try:
            build(group, outcome.entries, container, base_env, target, log, outputs, kill)
        except BuildpackFailed as exc:
            return failed(
                "build",
                EXIT_FAILED_BUILD_WITH_ERRORS,
                str(exc).removeprefix("failed to build: "),
                build_code=exc.code,
                plan=outputs.plans,
                **detected,
            )
        except PlatformError as exc:
            return failed(
                "build", EXIT_BUILD_ERROR, str(exc), build_code=0, plan=outputs.plans, **detected
            )

        log.line("===> EXPORTING")
        try:
            created = _creation_time(user_env)
            image = export(
                group, container, outputs, previous, previous_cache, self.workdir, created, log
            )
        except PlatformError as exc:
            return failed(
                "export", EXIT_EXPORT_ERROR, str(exc), build_code=0, plan=outputs.plans, **detected
            )
        return BuildResult(
            True,
            "complete",
            0,
            log.text(),
            build_code=0,
            plan=outputs.plans,
            image=image,
            **detected,
        )

    def run(
        self,
        process_type: str | None = None,
        args: list[str] | None = None,
        env: Mapping[str, str] | None = None,
        command: list[str] | None = None,
        timeout: float | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run a process of the current image to completion, like ``docker run``. Launcher
        failures come back as exit status 82 with the launcher's message on stderr."""
        image = self._require_image()
        with app_container(image, self.workdir) as container:
            try:
                spec = launch_spec(image, container, process_type, args, env, command)
            except PlatformError as exc:
                argv = list(command or [])
                return subprocess.CompletedProcess(
                    argv, EXIT_LAUNCH_ERROR, "", f"ERROR: failed to launch: {exc}\n"
                )
            proc = popen(
                spec, container.root.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            try:
                out, err = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                kill_group(proc, grace=0)
                out, err = proc.communicate()
                raise subprocess.TimeoutExpired(spec.argv, timeout or 0, out, err) from None
            return subprocess.CompletedProcess(
                spec.argv,
                proc.returncode,
                out.decode(errors="replace"),
                err.decode(errors="replace"),
            )

    @contextmanager
    def start(
        self,
        process_type: str | None = None,
        args: list[str] | None = None,
        env: Mapping[str, str] | None = None,
        command: list[str] | None = None,
    ) -> Iterator[Running]:
        """Run a process in the background (stdout+stderr to a log); stopped on exit."""
        image = self._require_image()
        with app_container(image, self.workdir) as container:
            spec = launch_spec(image, container, process_type, args, env, command)
            log_path = container.root.parent / "output.log"
            with open(log_path, "wb") as fh:
                proc = popen(spec, container.root.parent, stdout=fh, stderr=subprocess.STDOUT)
            running = Running(proc, log_path)
            try:
                yield running
            finally:
                running.stop()

    def _require_image(self) -> Image:
        _require_root()
        ensure_mountpoints()
        image = self.image
        if image is None:
            raise PlatformError(f"no image in {self.workdir}: build first")
        return image


def _require_root() -> None:
    if os.geteuid() != 0:
        raise PlatformError("localcnb needs root (mount namespaces and uid switching)")


def _stage_app(app: Path, dest: Path) -> None:
    """Copy the app with its modes and mtimes, owned by the build user (as pack does)."""
    shutil.copytree(app, dest, symlinks=True)
    os.chmod(dest, 0o755)
    for dirpath, dirnames, filenames in os.walk(dest):
        os.chown(dirpath, BUILD_UID, CNB_GID)
        for name in dirnames + filenames:
            os.chown(os.path.join(dirpath, name), BUILD_UID, CNB_GID, follow_symlinks=False)


def _stage_platform(
    platform_dir: Path, env: Mapping[str, str], bindings: Mapping[str, Mapping[str, str | bytes]]
) -> None:
    """``<platform>/env/<NAME>`` raw values (``pack build --env``) and service bindings."""
    files: dict[Path, bytes] = {}
    for name, value in env.items():
        files[platform_dir / "env" / name] = os.fsencode(value)
    for name, entries in bindings.items():
        if not _BINDING_NAME.match(name) or "type" not in entries:
            raise ValueError(f"binding {name!r}: name must match [a-z0-9.-]+ and have a 'type'")
        for key, value in entries.items():
            data = value if isinstance(value, bytes) else value.encode()
            files[platform_dir / "bindings" / name / key] = data
    for sub in ("", "env", "bindings"):
        (platform_dir / sub).mkdir(exist_ok=True)
        os.chmod(platform_dir / sub, 0o755)
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o755)
        path.write_bytes(data)
        os.chmod(path, 0o644)


def _creation_time(user_env: Mapping[str, str]) -> str:
    """Image ``created``: SOURCE_DATE_EPOCH when the user sets it, else the constant."""
    epoch = user_env.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        return NORMALIZED_TIME
    try:
        moment = datetime.datetime.fromtimestamp(int(epoch), tz=datetime.timezone.utc)
    except (ValueError, OverflowError) as exc:
        raise PlatformError(f"invalid SOURCE_DATE_EPOCH {epoch!r}: {exc}") from exc
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
