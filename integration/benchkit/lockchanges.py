"""bench-lock-changes: what a lock change costs when it changes packages, not only bytes.

usage: python -m benchkit.lockchanges [--rounds N]

On a fresh platform per round, samples/pip-flask is built cold, then rebuilt after each lock
change in turn, every one against the build before it: the same packages (a newline added),
then one package upgraded or downgraded at a time. Each rebuild's environment is made from
empty; the chunks whose files did not change take the old environment's pycs (bytecode.Reuse).
Prints, per rebuild, the dependency step against the cold build's step in the same round, and
how many of the dependencies' files took their pycs. Needs root and PyPI.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import tempfile
from pathlib import Path

from reprocheck.testbuildpack import served_test_buildpack

from localcnb import Platform

from .phases import timed_steps
from .sample import DEPS_STEP

APP = Path(__file__).resolve().parents[2] / "samples" / "pip-flask"
# Each change is made on top of the ones before it: one package each.
CHANGES = (
    ("the same packages (a newline)", None),
    ("packaging 26.3 -> 25.0", ("packaging==26.3", "packaging==25.0")),
    ("click 8.5.1 -> 8.1.8", ("click==8.5.1", "click==8.1.8")),
    ("werkzeug 3.1.9 -> 3.1.3", ("werkzeug==3.1.9", "werkzeug==3.1.3")),
)
_COMPILED = re.compile(r"compiled \d+ of (\d+) files for the dependencies(?: \((\d+) taken)?")


def _rebuild(platform: Platform, app: Path) -> tuple[float, str]:
    """The dependency step's seconds, and "taken of files"."""
    result = platform.build(app, env={"BP_LOG_LEVEL": "DEBUG"})
    assert result.success, result.output[-3000:]
    step = next(s for what, s in timed_steps(result.output).items() if what.startswith(DEPS_STEP))
    found = _COMPILED.search(result.output)
    assert found, "no compile line in the build's debug log"
    return step, f"{found[2] or 0} of {found[1]}"


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench-lock-changes")
    parser.add_argument("--rounds", type=int, default=2)
    rounds = parser.parse_args().rounds
    root = Path(tempfile.mkdtemp(prefix="bench-lock-changes-"))
    rows: dict[str, list[tuple[float, float, str]]] = {}
    try:
        app = shutil.copytree(APP, root / "app")
        lock = app / "requirements.txt"
        with served_test_buildpack(root / "buildpack") as buildpack:
            for round_ in range(rounds):
                lock.write_text((APP / "requirements.txt").read_text())
                platform = Platform(root / f"platform-{round_}", [buildpack.path])
                cold, _ = _rebuild(platform, app)
                for what, change in CHANGES:
                    text = lock.read_text()
                    lock.write_text(text.replace(*change) if change else text + "\n")
                    seconds, taken = _rebuild(platform, app)
                    rows.setdefault(what, []).append((seconds, seconds / cold, taken))
                    print(
                        f"round {round_ + 1}: {what}: {seconds:.2f} s, cold {cold:.2f} s, "
                        f"pycs taken for {taken} files",
                        flush=True,
                    )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"\n{'lock change (on the build before)':<36}{'step (s)':>10}{'of cold':>9}  pycs taken")
    for what, runs in rows.items():
        seconds = statistics.median(r[0] for r in runs)
        ratio = statistics.median(r[1] for r in runs)
        print(f"{what:<36}{seconds:>10.2f}{ratio:>8.2f}x  {', '.join(r[2] for r in runs)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
