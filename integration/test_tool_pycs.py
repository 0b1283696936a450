"""A requirement set's tool (Poetry, PDM, Pipenv) writes the pycs of the files it imports into
its own layer on a cold build, and a rebuild after an input change reads them: the cache restored
the layer with new mtimes, the build fixed them again, and the tool rewrote nothing
(cnb_python/set_bytecode.py)."""

from __future__ import annotations

import pytest
from conftest import BP_ID, SAMPLES
from testsupport.cachedpycs import cached_pycs

from cnb_python.set_bytecode import SOURCE_MTIME

# The sample, and the file whose change makes the tool run again.
SAMPLE_AND_INPUT = {
    "poetry": ("poetry-flask", "poetry.lock"),
    "pdm": ("pdm-flask", "pdm.lock"),
    "pipenv": ("pipenv-flask", "Pipfile"),
}


def runs_its_tool(app, tool: str) -> None:
    """Make the sample one whose install runs the tool. A fresh lock the build reads itself runs
    no Pipenv (pipfile_hash.py), Poetry (poetry_export.py) or PDM (pdm_export.py): the Pipenv
    app keeps only its Pipfile, which Pipenv locks, the Poetry one requires a Poetry version,
    which Poetry checks, and the PDM one has a pdm.toml (PDM's project settings), which PDM
    reads."""
    (app.dir / "Pipfile.lock").unlink(missing_ok=True)
    if tool == "poetry":
        pyproject = app.dir / "pyproject.toml"
        pyproject.write_text(
            pyproject.read_text().replace(
                "[tool.poetry]\n", '[tool.poetry]\nrequires-poetry = ">=2"\n'
            )
        )
    if tool == "pdm":
        (app.dir / "pdm.toml").write_text("# no project settings\n")


@pytest.mark.parametrize("tool", sorted(SAMPLE_AND_INPUT))
def test_a_lock_change_reads_the_pycs_the_cold_build_wrote(make_app, tool):
    sample, changed = SAMPLE_AND_INPUT[tool]
    app = make_app(str(SAMPLES / sample))
    runs_its_tool(app, tool)
    app.build_ok()
    pycs = cached_pycs(app, tool)
    assert any(f"/site-packages/{tool}/__pycache__/" in name for name in pycs)
    # Timestamp pycs, as imports write them, of sources with the fixed mtime.
    assert set(pycs.values()) == {(0, SOURCE_MTIME)}

    (app.dir / changed).write_text((app.dir / changed).read_text() + "\n")
    relocked = app.build_ok()
    assert "Installing dependencies with" in relocked.output  # the tool ran again
    assert f"Reusing cache layer '{BP_ID}:{tool}'" in relocked.output  # and wrote nothing
