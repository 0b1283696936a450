"""Our buildpack in a group with a later buildpack that builds on our Python."""

from __future__ import annotations

from testsupport.later_buildpack import make_later_buildpack

from localcnb import Platform


def test_a_later_buildpack_gets_python_and_the_venv_at_build_time(tmp_path, buildpack, make_app):
    later = make_later_buildpack(
        tmp_path / "later",
        "python -c \"import six, sys; print('later sees', sys.version_info[:2], six.__version__)\"",
        cpython_version="3.12.*",
    )
    app = make_app(files={"requirements.txt": "six==1.16.0\n"})
    result = Platform(tmp_path / "platform", [buildpack, later]).build(app.dir)
    assert result.success, result.output
    assert result.group == ["cnb-python/python", "test/later"]
    assert "later sees (3, 12) 1.16.0" in result.output
