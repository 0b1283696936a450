from pathlib import Path

import pytest

from cnb_python.buildenv import DEFAULT_SOURCE_DATE_EPOCH, source_date_epoch, tool_env


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"SOURCE_DATE_EPOCH": "1700000000"}, 1_700_000_000),
        ({"SOURCE_DATE_EPOCH": " 0 "}, 0),
        ({"SOURCE_DATE_EPOCH": "yesterday"}, DEFAULT_SOURCE_DATE_EPOCH),
        ({"SOURCE_DATE_EPOCH": "-5"}, DEFAULT_SOURCE_DATE_EPOCH),
        ({}, DEFAULT_SOURCE_DATE_EPOCH),
    ],
)
def test_source_date_epoch(environ, expected):
    assert source_date_epoch(environ) == expected


def test_tool_env_pins_reproducibility_settings():
    env = tool_env(
        {
            "PATH": "/usr/bin",
            "PYTHONPYCACHEPREFIX": "/layers/x",
            "PIP_INDEX_URL": "https://i.example/simple",
            "SOURCE_DATE_EPOCH": "1700000000",
        },
        Path("/layers/bp/cpython/bin"),
    )
    assert env == {
        "PATH": "/layers/bp/cpython/bin:/usr/bin",
        "PIP_INDEX_URL": "https://i.example/simple",
        "PYTHONDONTWRITEBYTECODE": "1",
        "SOURCE_DATE_EPOCH": "1700000000",
        "PYTHONHASHSEED": "0",
        "PYTHONUNBUFFERED": "1",
        "CFLAGS": "-g0",
        "CXXFLAGS": "-g0",
    }


def test_tool_env_keeps_the_users_compiler_flags():
    env = tool_env({"CFLAGS": "-O2 -g", "CXXFLAGS": ""}, Path("/layers/bp/cpython/bin"))
    assert (env["CFLAGS"], env["CXXFLAGS"]) == ("-O2 -g", "")
