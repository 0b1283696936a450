"""The pixi manager's parts that need no channel: what it reads from the manifest, its reuse
key's inputs, and how it hands the lock's PyPI packages to pip (online and offline)."""

from __future__ import annotations

from pathlib import Path

from standins import quiet_logger, stand_in_tool

from cnb_python.managers import pixi, select_manager
from cnb_python.managers.base import ToolRun
from cnb_python.venv import install_inputs

# Records pip's arguments and the requirements file it was given.
FAKE_PIP = """\
echo "$@" > "$RECORD/args"
for arg; do case "$arg" in *.txt) cp "$arg" "$RECORD/requirements.txt";; esac; done
"""
PACKAGES = [
    {"name": "gunicorn", "version": "23.0.0", "url": "https://x/gunicorn.whl", "sha256": "ab"},
]


def test_manifest_requirements_follow_features_targets_and_the_project():
    manifest = {
        "project": {"dependencies": ["requests>=2"]},
        "tool": {
            "pixi": {
                "dependencies": {"python": "3.12.*", "numpy": {"version": ">=2", "channel": "x"}},
                "pypi-dependencies": {"local": {"path": "."}},
                "target": {"linux-64": {"dependencies": {"libgreet": "*"}}},
                "feature": {"web": {"dependencies": {"flask": ">=3"}}},
                "environments": {"web": {"features": ["web"], "no-default-feature": True}},
            }
        },
    }
    source = "pyproject.toml [tool.pixi]"
    assert pixi.manifest_requirements(manifest, True, "default", "linux-64") == [
        {"kind": "conda", "name": "numpy", "spec": ">=2", "source": f"{source} [dependencies]"},
        {"kind": "conda", "name": "python", "spec": "3.12.*", "source": f"{source} [dependencies]"},
        {
            "kind": "pypi",
            "name": "local",
            "spec": "*",
            "source": f"{source} [pypi-dependencies]",
            "path": ".",
        },
        {
            "kind": "conda",
            "name": "libgreet",
            "spec": "*",
            "source": f"{source} [target.linux-64.dependencies]",
        },
        {"kind": "pep508", "name": "", "spec": "requests>=2", "source": "pyproject.toml [project]"},
    ]
    assert pixi.manifest_requirements(manifest, True, "web", "osx-arm64") == [
        {
            "kind": "conda",
            "name": "flask",
            "spec": ">=3",
            "source": f"{source} [feature.web.dependencies]",
        },
    ]


def _app(root: Path, manifest: str) -> Path:
    app = root / "app"
    app.mkdir()
    (app / "pixi.lock").write_text("version: 6\n")
    (app / "pixi.toml").write_text(manifest)
    return app


def test_the_environment_and_the_manifest_are_key_inputs_the_path_projects_not(tmp_path):
    app = _app(tmp_path, '[pypi-dependencies]\nlib = { path = "lib" }\n[environments]\nt = []\n')
    (app / "lib").mkdir()
    (app / "lib" / "setup.py").write_text("")
    manager = select_manager(app, {}, [])
    key = install_inputs(manager.manager, manager.installer, {})
    assert set(key) == {"file:pixi.lock", "file:pixi.toml", "environment", "env"}
    other = select_manager(app, {"BP_PIXI_ENVIRONMENT": "t"}, [])
    assert install_inputs(other.manager, other.installer, {})["environment"] != key["environment"]
    # lib is the project step's: its files key that step, what it depends on is in the lock
    assert manager.installer.projects() == ("lib",)
    (app / "lib" / "setup.py").write_text("# changed\n")
    assert install_inputs(manager.manager, manager.installer, {}) == key


def _pip_run(tmp_path: Path, vendor: bool) -> tuple[str, str]:
    app = _app(tmp_path, "")
    if vendor:
        (app / "vendor").mkdir()
    record = tmp_path / "record"
    record.mkdir()
    manager = select_manager(app, {}, []).installer
    assert isinstance(manager, pixi.PixiManager)
    pip = {"pip": stand_in_tool(tmp_path, "pip", FAKE_PIP, version="1")}
    env = {"PATH": "/usr/bin:/bin", "RECORD": str(record)}
    run = ToolRun(tmp_path / "env", pip, env, quiet_logger())
    manager._install_pypi(run, PACKAGES, tmp_path)
    args = (record / "args").read_text().replace(str(tmp_path), "ROOT")
    return args, (record / "requirements.txt").read_text()


def test_the_lock_pypi_packages_are_installed_hash_checked_from_their_urls(tmp_path):
    args, requirements = _pip_run(tmp_path, vendor=False)
    assert args.endswith("--require-hashes --no-deps --requirement ROOT/pypi-requirements.txt\n")
    assert requirements == "gunicorn @ https://x/gunicorn.whl --hash=sha256:ab\n"


def test_offline_they_come_from_the_vendor_directory_by_version_and_hash(tmp_path):
    args, requirements = _pip_run(tmp_path, vendor=True)
    assert "--no-index --find-links=ROOT/app/vendor --require-hashes --no-deps" in args
    assert requirements == "gunicorn==23.0.0 --hash=sha256:ab\n"
