"""The verification story: build, build again under other conditions, compare the images."""

from __future__ import annotations

import time
from pathlib import Path

from localcnb import Image

from .builds import Conditions, run_build, snapshot_image, stage_app
from .images import compare_images
from .report import RunReport

# Builds take seconds anyway; the pause makes sure even a trivial one starts in a new second.
GAP_SECONDS = 1.0


def verify(
    app: Path,
    buildpack: Path,
    roots: tuple[Path, Path],
    *,
    warm: bool,
    umasks: tuple[int, int],
    change: tuple[str, str] | None = None,
) -> RunReport:
    """Cold: A and B are clean builds in ``roots[0]`` and ``roots[1]``. Warm: A, then a rebuild
    on A's cache and previous image, then a clean B; both A and the rebuild are compared to B.
    With ``change`` (a kind, "code-change" or "lock-change", and a file of the app; implies
    warm), the rebuild and B build the app with that file changed (CHANGES), and only the
    rebuild is compared to B: a rebuild after a change must give what a cold build of the
    changed app gives."""
    warm = warm or change is not None
    mode = change[0] if change else "warm" if warm else "cold"
    report = RunReport(str(app), mode)
    root_a, root_b = roots
    first = Conditions(hash_seed="1", umask=umasks[0], one_cpu=True)
    other = Conditions(hash_seed="2", umask=umasks[1])

    if not _build(report, "A", stage_app(app, root_a, "app"), root_a, buildpack, first):
        return report
    platform_a = Path(report.builds[-1].workdir)
    images: dict[str, Image] = {}
    if warm:
        images["A"] = snapshot_image(platform_a, root_a / "image-A")
        time.sleep(GAP_SECONDS)
        # A fresh checkout of the same app: new file mtimes must not defeat the cache.
        app_again = _changed(stage_app(app, root_a, "app-warm"), change)
        if not _build(report, "A-warm", app_again, root_a, buildpack, other):
            return report
        images["A-warm"] = _image(platform_a)
    else:
        images["A"] = _image(platform_a)
    time.sleep(GAP_SECONDS)
    clean = Conditions(hash_seed="3", umask=umasks[0]) if warm else other
    app_b = _changed(stage_app(app, root_b, "app"), change)
    if not _build(report, "B", app_b, root_b, buildpack, clean):
        return report
    images["B"] = _image(Path(report.builds[-1].workdir))

    if not change:
        report.comparisons.append(compare_images("A vs B (clean builds)", images["A"], images["B"]))
    if warm:
        report.comparisons.append(
            compare_images(
                "A-warm vs B (rebuild on A's cache vs clean build)", images["A-warm"], images["B"]
            )
        )
    return report


# What each kind of change adds to its file: a line of code (the app's own project is
# reinstalled alone), or a newline to the lock (the same dependencies, read from other bytes:
# the environment is rebuilt from empty, taking the previous compile's pycs).
CHANGES = {"code-change": "\nCODE_CHANGE = 1\n", "lock-change": "\n"}


def _changed(app: Path, change: tuple[str, str] | None) -> Path:
    """The staged app, with ``change`` made to it when it is given."""
    if change:
        kind, file = change
        changed = app / file
        changed.write_text(changed.read_text() + CHANGES[kind])
    return app


def _build(
    report: RunReport, name: str, app: Path, root: Path, buildpack: Path, conditions: Conditions
) -> bool:
    record = run_build(name, app, root, buildpack, conditions)
    report.builds.append(record)
    if not record.success:
        tail = "".join(Path(record.log).read_text(errors="replace").splitlines(True)[-40:])
        report.error = f"build {name} failed in {record.phase}; end of {record.log}:\n{tail}"
    return record.success


def _image(workdir: Path) -> Image:
    image = Image.load(workdir / "image")
    assert image is not None
    return image
