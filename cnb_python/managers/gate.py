"""The one gate for unsafe settings, passed right after the package manager is chosen and
before any layer is touched (as heroku/buildpacks-python's src/checks.rs checks its forbidden
variables first).

The table is PYTHON (every Python tool the build runs) and each manager's `controls`, one row
per tool run: a row applies to a manager whose tools include the row's tool. A variable of a
row that `stops` is a titled error; the others are dropped from the env every tool of the
build runs with, with a warning naming those the user set. The README's table of unsafe
settings is this one (tests/test_registry.py).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from cnb_python.errors import UserError
from cnb_python.log import Logger
from cnb_python.managers import MANAGERS
from cnb_python.managers.base import PackageManager, Rule

PYTHON = Rule(
    "python",
    # They make an interpreter load code or its stdlib from elsewhere, or install elsewhere.
    (
        "PYTHONHOME",
        "PYTHONPATH",
        "PYTHONSTARTUP",
        "PYTHONINSPECT",
        "PYTHONUSERBASE",
        "PYTHONNOUSERSITE",
        "PYTHONPLATLIBDIR",
        "PYTHONEXECUTABLE",
        "VIRTUAL_ENV",
        "CONDA_PREFIX",
    ),
    stops=False,
    title="Ignoring variables that would redirect Python",
    effect="set in the build environment would make the build's Python tools load or install "
    "code elsewhere, so the build runs them without.",
)
RULES: tuple[Rule, ...] = (PYTHON, *(rule for m in MANAGERS for rule in m.controls))


def rules_for(manager: PackageManager) -> list[Rule]:
    """The rows that apply to the tool runs of `manager`."""
    return [r for r in RULES if r.run == PYTHON.run or r.run in manager.tools]


def check_settings(
    manager: PackageManager | None, env: Mapping[str, str], log: Logger
) -> dict[str, str]:
    """`env` for the build's tool runs: a titled error for a variable that stops the build,
    else `env` without the ignored ones (with a warning). No manager runs no tool."""
    if manager is None:
        return dict(env)
    rules = rules_for(manager)
    for rule in rules:
        found = _set(env, rule.names)
        if rule.stops and found:
            names = ", ".join(found)
            raise UserError(
                rule.title,
                f"{names} {rule.effect}",
                f"Unset {names} (pack build --env sets them; so can an earlier buildpack).",
            )
    for rule in rules:
        found = _set(env, rule.names)
        if found:
            log.warning(rule.title, f"{', '.join(found)} {rule.effect}")
    ignored = {name for rule in rules for name in rule.names}
    return {k: v for k, v in env.items() if k not in ignored}


def _set(env: Mapping[str, str], names: Collection[str]) -> list[str]:
    """The names of `names` the user set (an empty value is unset), sorted."""
    return sorted(name for name in names if env.get(name))
