import io
import subprocess
import sys
from pathlib import Path

from cnb_python.errors import UserError
from cnb_python.log import Logger, format_duration, redact_urls

ROOT = Path(__file__).resolve().parents[1]


def test_redacts_credentials_in_urls():
    text = (
        "Looking in indexes: https://alice:hunter22@pypi.example/simple "
        "and https://tok3n@git.example/repo.git, not https://pypi.org/simple"
    )
    assert redact_urls(text) == (
        "Looking in indexes: https://alice:****@pypi.example/simple "
        "and https://****@git.example/repo.git, not https://pypi.org/simple"
    )


def test_known_secrets_never_reach_the_log():
    out, err = io.StringIO(), io.StringIO()
    log = Logger(out, err)
    log.add_secret("p4ssw0rd-value")
    log.step("token is p4ssw0rd-value")
    log.warning("Careful", "p4ssw0rd-value again")
    assert "p4ssw0rd" not in out.getvalue() + err.getvalue()
    assert out.getvalue() == "    token is ****\n"


def test_a_held_logger_writes_at_release_and_redacts_later_secrets():
    out, err = io.StringIO(), io.StringIO()
    log = Logger(out, err)
    held = log.held()
    held.step("Downloading https://user:pw@mirror.example/pip.whl with token t0ken-later")
    held.warning("Slow", "retrying")
    log.section("Installing pip")
    log.add_secret("t0ken-later")  # a secret the build learns while the thread runs
    assert out.getvalue() == "  Installing pip\n" and err.getvalue() == ""
    log.release(held)
    assert out.getvalue() == (
        "  Installing pip\n"
        "    Downloading https://user:****@mirror.example/pip.whl with token ****\n"
    )
    assert err.getvalue() == "  [Warning: Slow]\n    retrying\n"
    log.release(held)  # released lines are not written twice
    assert out.getvalue().count("Downloading") == 1


def test_levels_and_timing():
    out = io.StringIO()
    log = Logger(out, out)
    log.title("T")
    log.section("S")
    log.step("s")
    with log.timed():
        log.detail("d")
    lines = out.getvalue().splitlines()
    assert lines[:4] == ["T", "  S", "    s", "      d"]
    assert lines[4].startswith("      Completed in ") and lines[4].endswith("s")
    assert format_duration(62.3456) == "1m2.346s"


def test_debug_only_when_enabled():
    out = io.StringIO()
    Logger(out, out).debug("hidden")
    Logger(out, out, debug=True).debug("shown")
    assert out.getvalue() == "      [debug] shown\n"


def test_user_error_renders_title_detail_and_fix():
    error = UserError("Something broke", "What happened.\nMore.", "Do this.")
    assert error.render() == (
        "[Error: Something broke]\n\n  What happened.\n  More.\n\n  How to fix:\n    Do this."
    )


def run_main(phase: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    code = (
        f"import sys; sys.path[:0] = [{str(ROOT / 'vendor')!r}, {str(ROOT)!r}]; "
        "from cnb_python.__main__ import main; sys.exit(main(sys.argv))"
    )
    return subprocess.run(
        [sys.executable, "-c", code, phase], env=env, cwd=cwd, capture_output=True, text=True
    )


def test_user_errors_print_a_titled_block_and_no_traceback(tmp_path):
    (tmp_path / "app").mkdir()
    result = run_main("build", {"PATH": "/usr/bin:/bin"}, tmp_path / "app")
    assert result.returncode == 1
    assert "[Error: Not run by a CNB lifecycle]" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_internal_errors_are_titled_and_traceback_only_at_debug(tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    env = {
        "PATH": "/usr/bin:/bin",
        "CNB_LAYERS_DIR": str(tmp_path / "layers"),
        "CNB_PLATFORM_DIR": str(tmp_path / "platform"),
        "CNB_BP_PLAN_PATH": str(tmp_path / "plan.toml"),
        "CNB_BUILDPACK_DIR": str(tmp_path / "no-such-buildpack"),
    }
    result = run_main("build", env, app)
    assert result.returncode == 1
    assert "[Error: Internal buildpack error]" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    debug = run_main("build", {**env, "BP_LOG_LEVEL": "DEBUG"}, app)
    assert "Traceback" in debug.stdout
