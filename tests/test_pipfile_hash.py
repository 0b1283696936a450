import json
from pathlib import Path

import pytest

from cnb_python.managers.pipfile_hash import pipfile_hash

REPO = Path(__file__).resolve().parents[1]
# Apps whose Pipfile.lock a real `pipenv lock` wrote.
LOCKED_APPS = [
    REPO / "samples" / "pipenv-flask",
    REPO / "integration" / "fixtures" / "pipenv-project",
    REPO / "integration" / "fixtures" / "pipenv-six",
]
BASE = """\
[[source]]
url = "https://pypi.org/simple"
verify_ssl = true
name = "pypi"

[packages]
six = "==1.16.0"
"""


@pytest.mark.parametrize("app", LOCKED_APPS, ids=lambda app: app.name)
def test_the_hash_is_the_one_pipenv_wrote_into_the_lock(app):
    lock = json.loads((app / "Pipfile.lock").read_text())
    assert pipfile_hash((app / "Pipfile").read_text()) == lock["_meta"]["hash"]["sha256"]


def test_layout_comments_and_key_order_do_not_count():
    reordered = """\
# the index
[packages]
"six" = "==1.16.0"   # pinned

[[source]]
name = "pypi"
verify_ssl = true
url = "https://pypi.org/simple"
"""
    assert pipfile_hash(reordered) == pipfile_hash(BASE)


def test_a_pipfile_without_a_source_hashes_as_with_pypi():
    without = BASE.split("[packages]")[1]
    assert pipfile_hash("[packages]" + without) == pipfile_hash(BASE)


@pytest.mark.parametrize(
    "added",
    [
        '[dev-packages]\npytest = "*"\n',
        '[requires]\npython_version = "3.12"\n',
        '[docs]\nx = "*"\n',
    ],
    ids=["dev-packages", "requires", "custom category"],
)
def test_packages_requires_and_every_category_count(added):
    assert pipfile_hash(BASE + added) != pipfile_hash(BASE)


@pytest.mark.parametrize(
    "added",
    ['[scripts]\nserve = "flask run"\n', "[pipenv]\nallow_prereleases = true\n", "[pipfile]\n"],
    ids=["scripts", "pipenv", "pipfile"],
)
def test_sections_pipenv_leaves_out_do_not_count(added):
    assert pipfile_hash(BASE + added) == pipfile_hash(BASE)


@pytest.mark.parametrize(
    "text", ["[packages\n", "[packages]\nsix = 1979-05-27\n"], ids=["not TOML", "a date"]
)
def test_a_pipfile_this_cannot_hash_has_none(text):
    assert pipfile_hash(text) is None
