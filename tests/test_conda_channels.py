"""Which channels a conda app solves from, as conda reads environment.yml and .condarc."""

from __future__ import annotations

import json
from pathlib import Path

from cnb_python.toolscripts import conda_env
from cnb_python.toolscripts.conda_env import (
    ANACONDA_DEFAULTS,
    pin_spec_channels,
    read_condarc,
    read_environment,
    resolve_channels,
    write_state,
)

NO_BINDING = read_condarc(None)


def condarc(tmp_path: Path, text: str) -> conda_env.Condarc:
    (tmp_path / ".condarc").write_text(text)
    return read_condarc(tmp_path / ".condarc")


def test_nodefaults_is_not_a_channel(capsys):
    assert resolve_channels(["conda-forge", "nodefaults"], [], NO_BINDING) == ["conda-forge"]
    assert "`nodefaults`: no default channels are added" in capsys.readouterr().out


def test_defaults_are_anacondas_channels_unless_the_binding_says_otherwise(tmp_path, capsys):
    assert resolve_channels(["defaults"], [], NO_BINDING) == list(ANACONDA_DEFAULTS)
    assert "`defaults` means https://repo.anaconda.com/pkgs/main" in capsys.readouterr().out
    mirror = condarc(tmp_path, "default_channels:\n  - https://mirror.example/main\n")
    assert resolve_channels(["defaults", "x"], [], mirror) == ["https://mirror.example/main", "x"]


def test_listed_channels_then_the_bindings_then_the_fallback(tmp_path):
    binding = condarc(tmp_path, "channels:\n  - bioconda\n  - nodefaults\n")
    assert binding.default_channels == []
    assert resolve_channels(["a"], ["conda-forge"], binding) == ["a"]
    assert resolve_channels([], ["conda-forge"], binding) == ["bioconda"]
    assert resolve_channels(["nodefaults"], ["conda-forge"], NO_BINDING) == ["conda-forge"]


def test_a_channel_qualified_spec_names_its_channel_and_joins_the_list(tmp_path):
    channels = ["conda-forge"]
    specs = ["python=3.12", "bioconda::samtools >=1.20", "conda-forge::flask"]
    assert pin_spec_channels(specs, channels, NO_BINDING) == [
        "python=3.12",
        "https://conda.anaconda.org/bioconda/::samtools >=1.20",
        "https://conda.anaconda.org/conda-forge/::flask",
    ]
    assert channels == ["conda-forge", "bioconda"]
    aliased = condarc(tmp_path, "channel_alias: http://127.0.0.1:8/channels\n")
    assert aliased.channel_alias == "http://127.0.0.1:8/channels/"
    assert pin_spec_channels(["x::y"], [], aliased) == ["http://127.0.0.1:8/channels/x/::y"]


def test_keys_the_build_does_not_use_are_named(tmp_path, capsys):
    (tmp_path / "environment.yml").write_text(
        "name: app\nprefix: /opt/env\nchannels: [conda-forge]\ndependencies: [python]\n"
    )
    assert read_environment(tmp_path / "environment.yml") == (["conda-forge"], ["python"], [], {})
    out = capsys.readouterr().out
    assert "Ignoring `name:` in environment.yml" in out
    assert "Ignoring `prefix:` in environment.yml" in out


def test_variables_are_kept_where_conda_activate_reads_them(tmp_path):
    (tmp_path / "environment.yaml").write_text(
        "dependencies: [python]\nvariables:\n  APP_MODE: prod\n  WORKERS: 2\n  DEBUG: false\n"
    )
    *_, variables = read_environment(tmp_path / "environment.yaml")
    assert variables == {"APP_MODE": "prod", "WORKERS": "2", "DEBUG": "false"}
    (tmp_path / "conda-meta").mkdir()
    write_state(tmp_path, variables)
    state = json.loads((tmp_path / "conda-meta" / "state").read_text())
    assert state == {"env_vars": variables}
