"""Which package manager installs the app's dependencies, and why.

MANAGERS is the registry: one line per manager module (base.py says what a module declares), in
the order of the precedence. The precedence itself is the ranks of the managers' signals: of
the signals found in the app, the lowest rank wins, and BP_PYTHON_PACKAGE_MANAGER picks a
manager's first signal found. Selection, detect, the gate and the README tables read the
registry (tests/test_registry.py checks the README against it). Files of other managers that
lose are named in a warning: they never change what is installed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cnb_python.cnb.bindings import Binding
from cnb_python.errors import UserError
from cnb_python.managers import conda, pdm, pip, pipenv, pixi, poetry, pylock, uv
from cnb_python.managers.base import AppFiles, Installer, PackageManager, Signal

MANAGERS: tuple[PackageManager, ...] = (
    uv.MANAGER,
    poetry.MANAGER,
    pdm.MANAGER,
    pipenv.MANAGER,
    pixi.MANAGER,
    conda.MANAGER,
    pylock.MANAGER,
    pip.MANAGER,
)
FORCE_VARIABLE = "BP_PYTHON_PACKAGE_MANAGER"


@dataclass(frozen=True)
class Found:
    """A signal found in the app, and the manager it selects."""

    manager: PackageManager
    signal: Signal


@dataclass(frozen=True)
class Choice:
    manager: PackageManager | None  # None: no dependencies to install
    installer: Installer | None  # the manager made for this app
    reason: str  # for the log: why this manager
    ignored: tuple[Found, ...] = ()  # other managers' files that lost the precedence


def found_signals(app: Path, env: Mapping[str, str]) -> list[Found]:
    """Every signal in the app, in precedence order."""
    files = AppFiles(app, env)
    found = [Found(m, s) for m in MANAGERS for s in m.signals if s.found(files)]
    return sorted(found, key=lambda f: f.signal.rank)


def select_manager(app: Path, env: Mapping[str, str], bindings: Sequence[Binding]) -> Choice:
    signals = found_signals(app, env)
    forced = env.get(FORCE_VARIABLE, "").strip().lower()
    if forced:
        manager = next((m for m in MANAGERS if m.name == forced), None)
        if manager is None:
            raise UserError(
                f"Unknown package manager in {FORCE_VARIABLE}",
                f"{FORCE_VARIABLE} is {env[FORCE_VARIABLE].strip()!r}.",
                f"Set {FORCE_VARIABLE} to one of {', '.join(m.name for m in MANAGERS)}, or "
                "unset it to let the buildpack choose from the app's files.",
            )
        chosen = next((f for f in signals if f.manager is manager), None)
        if chosen is None:
            expected = ", ".join(s.doc.replace("`", "") for s in manager.signals)
            raise UserError(
                f"No {manager.display} files found",
                f"{FORCE_VARIABLE} asks for {manager.display}, but the app has none of these: "
                f"{expected}.",
                f"Add the {manager.display} files to the app, or unset {FORCE_VARIABLE}.",
            )
        reason = f"{FORCE_VARIABLE}={forced}"
    elif signals:
        chosen = signals[0]
        reason = f"{chosen.signal.what} found"
    else:
        return Choice(None, None, "no requirements.txt, project metadata or lock file")
    installer = chosen.manager.make(app, env, bindings, chosen.signal)
    # A file the chosen install reads (conda's `pip: [-r requirements.txt]`) is not ignored.
    read = {name.partition(":")[2] for name in installer.inputs() if name.startswith("file:")}
    ignored = tuple(
        f
        for f in signals
        if f.manager is not chosen.manager and f.signal.owned and not set(f.signal.files) <= read
    )
    return Choice(chosen.manager, installer, reason, ignored)


def ignored_warning(choice: Choice) -> tuple[str, str] | None:
    """(title, body) of the warning about other managers' files, or None."""
    if choice.manager is None or not choice.ignored:
        return None
    files = ", ".join(f"{f.signal.what} ({f.manager.display})" for f in choice.ignored)
    return (
        "Ignoring files of other package managers",
        f"{choice.reason.replace(' found', '')} selects {choice.manager.display}, so the "
        f"build ignores {files}. They do not change what is installed.",
    )
