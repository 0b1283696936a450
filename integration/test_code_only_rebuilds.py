"""A change to the files of the app's own project reinstalls the project alone, for every
manager that installs one: the dependencies stay, nothing is downloaded, nothing of the old
version is left, and the build backends read the pycs the first build left them. (That the
result is byte-identical to a cold build of the changed sources is
`scripts/verify-reproducible --code-change`'s, run in CI.)"""

from __future__ import annotations

import pytest
from conftest import BP_ID, SAMPLES
from testsupport.cachedpycs import cached_pycs

from cnb_python.set_bytecode import SOURCE_MTIME

# (fixture, the project's package directory, the manager's line in the log)
PROJECTS = {
    "uv": ("uv-package", "src/hello_server", "Package manager: uv"),
    "poetry": ("poetry-package", "src/hello_poetry", "Package manager: Poetry"),
    "pipenv": ("pipenv-project", "src/hello", "Package manager: Pipenv"),
    "pdm": (str(SAMPLES / "pdm-flask"), "src/pdm_flask", "Package manager: PDM"),
    # uv-package without uv.lock: `pip install .` of its pyproject.toml
    "pip": ("uv-package", "src/hello_server", "Package manager: pip (the app's own project"),
    # and with a requirements.txt that lists it, non-editable (listed_projects.py)
    "pip-requirements": ("uv-package", "src/hello_server", "Package manager: pip (requirements"),
}


@pytest.mark.parametrize("manager", sorted(PROJECTS))
def test_a_code_change_reinstalls_only_the_project(make_app, manager):
    fixture, package, says = PROJECTS[manager]
    app = make_app(fixture)
    if manager in ("pip", "pip-requirements"):
        (app.dir / "uv.lock").unlink()
    if manager == "pip-requirements":
        (app.dir / "requirements.txt").write_text("gunicorn==23.0.0\n.\n")
    module = package.rsplit("/", 1)[-1]
    init = app.dir / package / "__init__.py"
    (app.dir / package / "old_helper.py").write_text("GONE = False\n")
    first = app.build_ok()
    assert says in first.output
    assert "Installing the app's own projects" in first.output
    # The backends kept the pycs of what they imported: timestamp pycs of the fixed mtime.
    backend_pycs = cached_pycs(app, "project-build")
    assert backend_pycs
    assert set(backend_pycs.values()) == {(0, SOURCE_MTIME)}
    assert app.python(f"import {module}.old_helper as h; print(h.GONE)") == "False\n"

    (app.dir / package / "old_helper.py").unlink()
    init.write_text(init.read_text() + "\nCODE_CHANGE = 2\n")
    second = app.build_ok()
    assert "Reinstalling the app's own projects: their files changed" in second.output
    assert "Installing dependencies with" not in second.output  # no manager, no lock export
    assert "Reusing the cached build backends" in second.output  # nothing downloaded
    # and their pycs were read: the restore's new mtimes were fixed, and nothing was rewritten
    assert f"Reusing cache layer '{BP_ID}:project-build'" in second.output
    assert app.python(f"import {module}; print({module}.CODE_CHANGE)") == "2\n"
    found = app.python(
        f"import importlib.util as u, pathlib, {module} as m; "
        f"print(u.find_spec('{module}.old_helper'), "
        "sorted(p.name for p in pathlib.Path(m.__file__).parent.rglob('old_helper*')))"
    )
    assert found == "None []\n"

    unchanged = app.build_ok()
    assert "Reusing cached virtual environment: the install inputs are unchanged" in (
        unchanged.output
    )
