"""pylock.toml apps end to end, with real pip and real files from PyPI: what is particular to
this manager (the contract is test_manager_contract.py's)."""

from __future__ import annotations

import hashlib
import urllib.request

from conftest import SAMPLES, App

SAMPLE = SAMPLES / "pylock-flask"
SIX_WHEEL = "six-1.17.0-py2.py3-none-any.whl"
SIX_URL = f"https://files.pythonhosted.org/packages/b7/ce/149a00dd41f10bc29e5921b496af8b574d8413afcd5e30dfa0ed46c2cc5e/{SIX_WHEEL}"
SIX_SHA = "4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274"
# six, in the lock's `dev` group only (PEP 751: a marker on `dependency_groups`), and named by a
# `path` in the app (vendor/), as a lock for an offline build names its files.
SIX = f"""
[[packages]]
name = "six"
version = "1.17.0"
marker = "'dev' in dependency_groups"
wheels = [{{ path = "vendor/{SIX_WHEEL}", hashes = {{ sha256 = "{SIX_SHA}" }} }}]
"""
WERKZEUG_SHA = "6392e50c78460ba618e5b21f08a71f59c99ce99cdc6cf6e3dd7e6ccca8754fab"
WERKZEUG_URL = "a1/38/df03f564f43cec2684823f3cccae1a652ee7face1cbaa76fb223096e64d7"


def error_of(result) -> str:
    assert not result.success
    assert "Traceback" not in result.output
    return result.output[result.output.index("[Error: ") :]


def test_markers_groups_and_errors_of_a_real_lock(tmp_path, buildpack):
    """The sample's Windows-only colorama is skipped; a group the lock declares is installed
    when asked for (the venv is rebuilt from empty), from a file the lock names by path; a
    hash mismatch and a file gone from the
    index are titled errors that leave the last good build's cache in place."""
    app = App(tmp_path, buildpack, SAMPLE)
    wheel = urllib.request.urlopen(SIX_URL, timeout=60).read()
    assert hashlib.sha256(wheel).hexdigest() == SIX_SHA
    (app.dir / "vendor").mkdir()
    (app.dir / "vendor" / SIX_WHEEL).write_bytes(wheel)
    lock = app.dir / "pylock.toml"
    original = lock.read_text()
    grouped = original.replace(
        'requires-python = ">=3.12"\n', 'requires-python = ">=3.12"\ndependency-groups = ["dev"]\n'
    )
    lock.write_text(grouped + SIX)
    app.build_ok()
    found = "import importlib.util as u; print([bool(u.find_spec(m)) for m in {}])"
    assert app.python(found.format("('flask', 'colorama', 'six')")) == "[True, False, False]\n"

    dev = app.build_ok(env={"BP_PYLOCK_INSTALL_GROUPS": "dev"})
    assert "Rebuilding the virtual environment: groups" in dev.output
    assert "--group=pylock.toml:dev" in dev.output
    assert app.python("import six; print(six.__version__)") == "1.17.0\n"

    lock.write_text((grouped + SIX).replace(WERKZEUG_SHA, "0" * 64))
    mismatch = error_of(app.build(env={"BP_PYLOCK_INSTALL_GROUPS": "dev"}))
    assert mismatch.startswith("[Error: A file does not match its hash in pylock.toml]")
    assert f"Got        {WERKZEUG_SHA}" in mismatch

    lock.write_text((grouped + SIX).replace(WERKZEUG_URL, WERKZEUG_URL.replace("df03f", "df04f")))
    missing = error_of(app.build(env={"BP_PYLOCK_INSTALL_GROUPS": "dev"}))
    assert missing.startswith("[Error: A file named in pylock.toml is missing]")
    assert "HTTP error 404" in missing

    lock.write_text(grouped + SIX)
    restored = app.build_ok(env={"BP_PYLOCK_INSTALL_GROUPS": "dev"})
    assert "Reusing cached virtual environment" in restored.output


def test_a_package_projects_lock_installs_the_project_non_editable(make_app):
    """`uv export --format pylock.toml` of a package project lists the project itself as an
    editable directory entry: the locked files are installed first, then the project, without
    hashes and non-editable, and its one console script is the web process."""
    app = make_app("uv-package")
    (app.dir / "uv.lock").unlink()
    six = SIX.replace(f'path = "vendor/{SIX_WHEEL}"', f'url = "{SIX_URL}"')
    six = six.replace("marker = \"'dev' in dependency_groups\"\n", "")
    project = '\n[[packages]]\nname = "hello-server"\ndirectory = { path = ".", editable = true }\n'
    header = 'lock-version = "1.0"\ncreated-by = "uv"\nrequires-python = ">=3.11"\n'
    (app.dir / "pylock.toml").write_text(header + six + project)
    result = app.build_ok()
    assert "(without its directory entries)" in result.output
    assert "web (default): hello-server" in result.output
    record = app.python(
        "import importlib.metadata as m; d = m.distribution('hello-server'); "
        "print(d.read_text('direct_url.json'), m.version('six'))"
    )
    assert record == '{"dir_info": {}, "url": "file:///workspace"} 1.17.0\n'
