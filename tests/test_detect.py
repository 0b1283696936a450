import subprocess
from pathlib import Path

import pytest
import tomllib

from cnb_python.detect import SIGNAL_FILES

ROOT = Path(__file__).resolve().parents[1]


def detect(app: Path, tmp_path: Path) -> tuple[int, str, Path]:
    plan = tmp_path / "plan.toml"
    plan.touch()
    (tmp_path / "platform").mkdir(exist_ok=True)
    proc = subprocess.run(
        [str(ROOT / "bin/detect")],
        cwd=app,
        env={
            "PATH": "/usr/bin:/bin",
            "CNB_PLATFORM_DIR": str(tmp_path / "platform"),
            "CNB_BUILD_PLAN_PATH": str(plan),
            "CNB_BUILDPACK_DIR": str(ROOT),
        },
        capture_output=True,
        text=True,
    )
    return proc.returncode, proc.stdout + proc.stderr, plan


@pytest.mark.parametrize("signal", [*SIGNAL_FILES, "main.py", "anything.py"])
def test_each_python_signal_passes_and_plans_cpython(tmp_path, signal):
    app = tmp_path / "app"
    app.mkdir()
    (app / signal).write_text("")
    before = sorted(p.name for p in app.iterdir())
    code, output, plan = detect(app, tmp_path)
    assert code == 0, output
    doc = tomllib.loads(plan.read_text())
    assert doc["provides"] == [{"name": "cpython"}]
    assert doc["requires"] == [{"name": "cpython", "metadata": {"launch": True}}]
    assert doc["or"] == [{"provides": [{"name": "cpython"}]}]
    assert sorted(p.name for p in app.iterdir()) == before  # nothing written into the app


def test_no_signal_fails_with_100(tmp_path):
    app = tmp_path / "app"
    (app / "sub").mkdir(parents=True)
    (app / "sub" / "nested.py").write_text("")  # only the app root counts
    (app / "package.json").write_text("{}")
    code, output, plan = detect(app, tmp_path)
    assert code == 100
    assert "No Python app found" in output
    assert plan.read_text() == ""
