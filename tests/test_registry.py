"""The registry of package managers is the one source: the orchestrator names no manager, the
README's precedence and unsafe-settings tables and detect's files are the registry's, and every
manager's declaration is complete."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from cnb_python.dependencies import BuildpackMetadata
from cnb_python.detect import SIGNAL_FILES
from cnb_python.managers import FORCE_VARIABLE, MANAGERS, select_manager
from cnb_python.managers.gate import PYTHON, RULES, rules_for
from cnb_python.tools import is_requirement_set
from cnb_python.venv import install_inputs

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
IDS = [m.name for m in MANAGERS]


def precedence_table() -> str:
    names = [f"`{m.name}`" for m in MANAGERS]
    rows = [
        "| priority | when | manager |",
        "|---|---|---|",
        f"| 1 | `{FORCE_VARIABLE}` is {', '.join(names[:-1])} or {names[-1]} | that one (an "
        "unknown value, or a manager whose files are missing, is an error) |",
    ]
    signals = sorted(((s, m) for m in MANAGERS for s in m.signals), key=lambda p: p[0].rank)
    for priority, (signal, manager) in enumerate(signals, start=2):
        outcome = f", {signal.outcome}" if signal.outcome else ""
        rows.append(f"| {priority} | {signal.doc} | {manager.display}{outcome} |")
    rows.append(f"| {len(signals) + 2} | none of these | no dependencies to install |")
    return "\n".join(rows) + "\n"


def gate_table() -> str:
    rows = ["| variables | tool runs | managers | when set |", "|---|---|---|---|"]
    for rule in RULES:
        names = ", ".join(f"`{name}`" for name in rule.names)
        runs = "every Python tool of the build" if rule is PYTHON else rule.run
        managers = ", ".join(m.display for m in MANAGERS if rule in rules_for(m))
        verdict = "a titled error, before any layer" if rule.stops else "ignored, with a warning"
        rows.append(f"| {names} | {runs} | {managers} | {verdict} |")
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize("table", [precedence_table, gate_table])
def test_the_readme_tables_are_the_registrys(table):
    assert table() in README, f"README.md should hold:\n{table()}"


def test_the_readme_names_every_file_detect_looks_for():
    detect_step = README[README.index("1. **Detect.**") : README.index("2. **Package manager.**")]
    assert [name for name in SIGNAL_FILES if f"`{name}`" not in detect_step] == []


@pytest.mark.parametrize("module", ["build.py", "venv.py"])
def test_the_orchestrator_and_the_env_layer_name_no_manager(module):
    text = (REPO / "cnb_python" / module).read_text()
    words = {word for m in MANAGERS for word in (m.name, m.display)}
    found = [w for w in words if re.search(rf"\b{re.escape(w)}\b", text, re.IGNORECASE)]
    assert found == []


def test_the_registry_is_in_precedence_order_and_ranks_are_unique():
    ranks = [s.rank for m in MANAGERS for s in m.signals]
    assert len(set(ranks)) == len(ranks)
    for manager in MANAGERS:
        assert [s.rank for s in manager.signals] == sorted(s.rank for s in manager.signals)
    assert [m.signals[0].rank for m in MANAGERS] == sorted(m.signals[0].rank for m in MANAGERS)
    assert len({m.name for m in MANAGERS}) == len(MANAGERS)


@pytest.mark.parametrize("manager", MANAGERS, ids=IDS)
def test_every_tool_is_pinned(manager):
    metadata = BuildpackMetadata.load(REPO)
    for tool in manager.tools:
        # A requirement set is installed with the uv pinned in buildpack.toml.
        wheel = "uv" if is_requirement_set(tool, REPO) else tool
        assert metadata.candidates(wheel, "amd64"), tool


# An app each manager is chosen for, and the vendor directory it reads: wheels, or a channel.
APPS = {
    "uv": {"uv.lock": "version = 1\n", "pyproject.toml": "[project]\nname = 'x'\n"},
    "poetry": {"poetry.lock": "", "pyproject.toml": "[tool.poetry]\npackage-mode = false\n"},
    "pdm": {"pdm.lock": "", "pyproject.toml": "[project]\nname = 'x'\n"},
    "pipenv": {"Pipfile": "", "Pipfile.lock": '{"_meta": {}, "default": {}}'},
    "conda": {"environment.yml": "", "wheels/noarch/repodata.json": "{}"},
    "pixi": {"pixi.lock": "", "pixi.toml": ""},
    "pip": {"requirements.txt": ""},
    "pylock": {"pylock.toml": 'lock-version = "1.0"\ncreated-by = "x"\npackages = []\n'},
}


def test_every_manager_has_an_app_for_the_vendor_rule():
    assert set(APPS) == set(IDS)


@pytest.mark.parametrize("manager", MANAGERS, ids=IDS)
@pytest.mark.parametrize("env", [{}, {"BP_PIP_DEST_PATH": "wheels"}], ids=["vendor", "dest-path"])
def test_one_vendor_rule_for_every_manager(tmp_path, manager, env):
    """BP_PIP_DEST_PATH names the vendor directory, else vendor/, for every manager."""
    for name, content in APPS[manager.name].items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content)
    (tmp_path / "vendor").mkdir(exist_ok=True)
    (tmp_path / "vendor" / "marker").write_text("vendor")
    (tmp_path / "wheels").mkdir(exist_ok=True)
    if manager.name == "conda":
        (tmp_path / "vendor" / "noarch").mkdir()
        (tmp_path / "vendor" / "noarch" / "repodata.json").write_text("{}")
    choice = select_manager(tmp_path, env, [])
    assert choice.manager is manager and choice.installer is not None
    key = install_inputs(manager, choice.installer, env)
    (tmp_path / "vendor" / "marker").write_text("changed")
    changed = install_inputs(manager, choice.installer, env)
    # vendor/ is the vendor directory unless BP_PIP_DEST_PATH names another one.
    assert (key["vendor"] != changed["vendor"]) == ("BP_PIP_DEST_PATH" not in env)


def test_the_architecture_notes_name_every_module():
    notes = (REPO / "docs" / "architecture.md").read_text()
    modules = sorted((REPO / "cnb_python").rglob("*.py"))
    missing = [
        str(m.relative_to(REPO)) for m in modules if m.name != "__init__.py" and m.name not in notes
    ]
    assert missing == []


def test_detect_reads_the_registry_without_loading_the_build():
    """bin/detect runs on every build: the managers' modules it imports leave the tool layers,
    version resolution and packaging to the build."""
    code = (
        "import sys; import cnb_python.detect; "
        "print(sorted(m for m in sys.modules if m.startswith(('packaging', 'cnb_python.tools', "
        "'cnb_python.python_version', 'cnb_python.cpython', 'requests'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={"PYTHONPATH": f"{REPO}:{REPO / 'vendor'}"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout == "[]\n"


def test_python_version_sources_have_one_order():
    """The shared sources and the managers' own (python_sources) rank in one order, as the
    module docstring of python_version lists them."""
    from cnb_python.python_version import all_sources

    ranks = [source.rank for source in all_sources()]
    assert len(ranks) == len(set(ranks))
    names = [source.read.__module__.rsplit(".", 1)[-1] for source in all_sources()]
    assert names == [
        *["python_version"] * 3,
        "pipenv",
        "pipenv",
        "python_version",
        "poetry",
        "poetry",
        "uv",
        "pylock",
    ]
