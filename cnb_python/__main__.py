"""Entry point of bin/detect and bin/build: `python -m cnb_python detect|build [legacy args]`."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

from cnb_python.cnb.context import build_context, detect_context
from cnb_python.errors import UserError
from cnb_python.log import Logger

EXIT_ERROR = 1
BUILDPACK_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def incomplete_buildpack(module: str) -> UserError:
    return UserError(
        "The cnb-python buildpack is incomplete",
        f"The Python module '{module}' is missing from {BUILDPACK_DIR}/vendor.",
        "Use a complete checkout or package (vendor/ is committed; 'scripts/build.sh --force' "
        "regenerates it from requirements/runtime.txt).",
    )


def _detect(args: Sequence[str], log: Logger) -> int:
    from cnb_python.cnb.plan import write_build_plan
    from cnb_python.detect import DETECT_FAIL, DETECT_PASS, build_plan, python_signals
    from cnb_python.lookalikes import lookalike_warnings

    ctx = detect_context(args)
    signals = python_signals(ctx.app_dir)
    if not signals:
        log.title("No Python app found: none of the files that mark one exist at the app root.")
        for warning in lookalike_warnings(ctx.app_dir):  # a misspelled one is the likely cause
            log.warning(*warning)
        return DETECT_FAIL
    log.title(f"Python app detected ({', '.join(signals[:5])})")
    assert ctx.build_plan_path is not None
    write_build_plan(ctx.build_plan_path, build_plan())
    return DETECT_PASS


def _build(args: Sequence[str], log: Logger) -> int:
    from cnb_python.build import build
    from cnb_python.run import stop_on_interrupt

    # Files the build creates get the same modes whatever umask the platform runs us with.
    os.umask(0o022)
    stop_on_interrupt()
    build(build_context(args), log)
    return 0


def main(argv: Sequence[str]) -> int:
    phase, args = (argv[1], argv[2:]) if len(argv) > 1 else ("", [])
    log = Logger(debug=os.environ.get("BP_LOG_LEVEL", "").upper() == "DEBUG")
    try:
        if phase == "detect":
            return _detect(args, log)
        if phase == "build":
            return _build(args, log)
        log.error("usage: python -m cnb_python detect|build")
        return EXIT_ERROR
    except UserError as e:
        if log.debug_enabled:
            log.debug(traceback.format_exc())
        log.error(e.render())
        return EXIT_ERROR
    except ModuleNotFoundError as e:
        # Only the buildpack's own imports run in this process: a missing one is a broken copy.
        if log.debug_enabled:
            log.debug(traceback.format_exc())
        log.error(incomplete_buildpack(e.name or str(e)).render())
        return EXIT_ERROR
    except Exception as e:
        if log.debug_enabled:
            log.debug(traceback.format_exc())
        log.error(
            UserError(
                "Internal buildpack error",
                f"{type(e).__name__}: {e}",
                "Retry the build. If it fails again, report it with the build log; rerun with "
                "`pack build --env BP_LOG_LEVEL=DEBUG` to include the traceback.",
            ).render()
        )
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main(sys.argv))
