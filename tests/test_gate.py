"""The gate for unsafe settings: every variable of every row, for every manager."""

from __future__ import annotations

import io

import pytest

from cnb_python.errors import UserError
from cnb_python.log import Logger
from cnb_python.managers import MANAGERS
from cnb_python.managers.gate import PYTHON, RULES, check_settings

CASES = [
    pytest.param(rule, name, manager, id=f"{rule.run}-{name}-{manager.name}")
    for rule in RULES
    for name in rule.names
    for manager in MANAGERS
]


def test_every_row_guards_a_tool_some_manager_runs():
    runs = {tool for m in MANAGERS for tool in m.tools}
    assert [r.run for r in RULES if r is not PYTHON and r.run not in runs] == []


@pytest.mark.parametrize(("rule", "name", "manager"), CASES)
def test_each_variable_of_each_row_for_each_manager(rule, name, manager):
    out = io.StringIO()
    env = {"PATH": "/usr/bin", name: "/elsewhere"}
    applies = rule is PYTHON or rule.run in manager.tools
    if applies and rule.stops:
        with pytest.raises(UserError) as error:
            check_settings(manager, env, Logger(out, out))
        assert error.value.title == rule.title
        assert error.value.detail == f"{name} {rule.effect}"
        return
    gated = check_settings(manager, env, Logger(out, out))
    if applies:
        assert gated == {"PATH": "/usr/bin"}
        assert f"[Warning: {rule.title}]" in out.getvalue()
        assert f"{name} {rule.effect}" in out.getvalue().replace("\n  ", " ")
    else:
        assert gated == env and out.getvalue() == ""


def test_errors_come_before_warnings_and_name_every_variable_set():
    pip = next(m for m in MANAGERS if m.name == "pip")
    out = io.StringIO()
    env = {"PYTHONPATH": "/x", "PIP_USER": "1", "PIP_TARGET": "/t", "PIP_ROOT": ""}
    with pytest.raises(UserError) as error:
        check_settings(pip, env, Logger(out, out))
    assert error.value.detail.startswith("PIP_TARGET, PIP_USER would make pip install")
    assert out.getvalue() == ""


def test_an_empty_value_is_unset_and_still_dropped():
    uv = next(m for m in MANAGERS if m.name == "uv")
    out = io.StringIO()
    assert check_settings(uv, {"UV_CACHE_DIR": "", "A": "1"}, Logger(out, out)) == {"A": "1"}
    assert out.getvalue() == ""


def test_without_a_manager_no_tool_runs_and_nothing_is_checked():
    env = {"PIP_TARGET": "/t", "PYTHONPATH": "/x"}
    assert check_settings(None, env, Logger(io.StringIO())) == env
