"""The harness of the golden-text tests of titled errors.

A test module lists its cases as `GOLDEN = {case: (trigger, expected render)}`, where a trigger
gets a fresh directory and must raise the UserError, and takes its test from
`error_text_test(GOLDEN)`. The triggers shared by several modules are here too.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from standins import quiet_logger

from cnb_python.errors import UserError
from cnb_python.run import run as run_command
from cnb_python.toolscripts import conda_env

Trigger = Callable[[Path], object]
Golden = dict[str, tuple[Trigger, str]]


def error_text_test(golden: Golden) -> Callable[..., None]:
    """A test over every case: the whole render of the error its trigger raises, with the
    trigger's directory written as ROOT, is the expected text."""

    @pytest.mark.parametrize("case", list(golden))
    def test_error_text(tmp_path: Path, case: str) -> None:
        trigger, expected = golden[case]
        with pytest.raises(UserError) as error:
            trigger(tmp_path)
        assert error.value.render().replace(str(tmp_path), "ROOT") == expected

    return test_error_text


def fails(show: str, title: str, known: dict[str, tuple[str, str]], *output: str) -> Trigger:
    """A tool's failure as the runner reports it, with the tool's own messages in its output."""

    def run_tool(root: Path) -> object:
        printed = "; ".join(f"echo {shlex.quote(line)}" for line in output)
        return run_command(
            ["sh", "-c", f"{printed}; exit 1"],
            env={"PATH": "/usr/bin:/bin"},
            log=quiet_logger(),
            show=show,
            error_title=title,
            error_fix="(the generic fix)",
            known_errors=known,
        )

    return run_tool


def conda_fails(call: Trigger) -> Trigger:
    """A failure of the conda tool script as the build reports it: a UserError from the payload
    the script writes to its result file."""

    def run_script(root: Path) -> object:
        try:
            return call(root)
        except conda_env.Failure as failure:
            raise UserError(**failure.payload) from None

    return run_script


def repodata_channel(
    directory: Path, packages: Sequence[tuple[str, str, list[str]]], platforms: Sequence[str]
) -> str:
    """A conda channel of repodata only (a lock or a solve works, an install cannot) at
    `directory`: `packages` as (name, version, depends), all noarch, and an empty index for
    each of `platforms`. Its URL."""
    records = {
        f"{name}-{version}-0.tar.bz2": {
            "name": name,
            "version": version,
            "build": "0",
            "build_number": 0,
            "depends": depends,
            "subdir": "noarch",
            "noarch": "generic",
            "timestamp": 1,
        }
        for name, version, depends in packages
    }
    for subdir in ("noarch", *platforms):
        (directory / subdir).mkdir(parents=True)
        repodata = {"info": {"subdir": subdir}, "packages": records if subdir == "noarch" else {}}
        (directory / subdir / "repodata.json").write_text(json.dumps(repodata))
    return directory.as_uri()
