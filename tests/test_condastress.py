"""The stress script's verdict: every way a run can fail counts, and names its cause."""

from __future__ import annotations

import condastress


def test_signals_are_named_as_the_shell_and_popen_report_them() -> None:
    assert condastress.describe(0) == "ok"
    assert condastress.describe(139) == "killed by SIGSEGV"  # sh: 128 + 11
    assert condastress.describe(-11) == "killed by SIGSEGV"  # Popen
    assert condastress.describe(3) == "exit status 3"


def test_any_failed_run_fails_the_stress_run(capsys) -> None:
    assert condastress.report([0, 0]) == 0
    assert capsys.readouterr().out == "2 installs, 0 failed\n"
    assert condastress.report([0, 139, 3, -11]) == 1
    out = capsys.readouterr().out
    assert out == "4 installs, 3 failed: exit status 3, killed by SIGSEGV\n"
