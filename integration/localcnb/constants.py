"""Fixed facts of the emulated builder, run image and lifecycle."""

from __future__ import annotations

# Builder image user (CNB_USER_ID/CNB_GROUP_ID) and a *different* run image user, as the spec asks
# (platform.md "Run Image") and as Paketo images do.
BUILD_UID = 1001
RUN_UID = 1002
CNB_GID = 1000

# lc:archive/writer.go NormalizedModTime.
NORMALIZED_MTIME = 315532801
NORMALIZED_TIME = "1980-01-01T00:00:01Z"

APP_DIR = "/workspace"
LAYERS_DIR = "/layers"
PLATFORM_DIR = "/platform"
CNB_DIR = "/cnb"
BUILDPACKS_DIR = "/cnb/buildpacks"
HOME_DIR = "/home/cnb"

# Behaviour emulated: lifecycle 0.21.x with Platform API 0.15 (what pack 0.40 negotiates with it).
PLATFORM_API = "0.15"
SUPPORTED_BUILDPACK_APIS = ("0.7", "0.8", "0.9", "0.10", "0.11", "0.12")
EXEC_ENV = "production"  # lc:platform/defaults.go DefaultExecEnv

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BUILDER_IMAGE_ENV = {"PATH": f"/cnb/process:/cnb/lifecycle:{DEFAULT_PATH}", "HOME": HOME_DIR}
RUN_IMAGE_ENV = {"PATH": DEFAULT_PATH, "HOME": HOME_DIR}

# lc:platform/exit.go defaultExitCodes.
EXIT_FAILED_DETECT = 20
EXIT_FAILED_DETECT_WITH_ERRORS = 21
EXIT_DETECT_ERROR = 22
EXIT_INCOMPATIBLE_BUILDPACK_API = 12
EXIT_RESTORE_ERROR = 42
EXIT_FAILED_BUILD_WITH_ERRORS = 51
EXIT_BUILD_ERROR = 52
EXIT_EXPORT_ERROR = 62
EXIT_LAUNCH_ERROR = 82


class PlatformError(Exception):
    """A lifecycle error: the message is what the lifecycle would print after ``ERROR:``."""


def escape_id(buildpack_id: str) -> str:
    """``lc:launch.EscapeID``: a buildpack's directory name under /layers and /cnb/buildpacks."""
    return buildpack_id.replace("/", "_")


def api_tuple(api: str) -> tuple[int, int]:
    major, _, minor = api.partition(".")
    return int(major), int(minor or 0)
