"""The sdist samples/pip-native installs is its source directory, packed (testsupport/sdist.py):
the two cannot drift apart."""

from __future__ import annotations

from pathlib import Path

from testsupport.sdist import read_sdist, sdist_members, write_sdist

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "pip-native"


def test_the_committed_sdist_holds_its_source_directory():
    committed = SAMPLE / "sdist" / "handbuilt-1.0.tar.gz"
    assert read_sdist(committed) == sdist_members(SAMPLE / "handbuilt"), (
        "Repack it: PYTHONPATH=integration .venv/bin/python -m testsupport.sdist "
        "samples/pip-native/handbuilt samples/pip-native/sdist"
    )


def test_packing_gives_the_same_bytes_each_time(tmp_path):
    one = write_sdist(SAMPLE / "handbuilt", tmp_path / "one").read_bytes()
    assert write_sdist(SAMPLE / "handbuilt", tmp_path / "two").read_bytes() == one
