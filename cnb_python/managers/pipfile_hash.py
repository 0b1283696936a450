"""The Pipfile hash that Pipfile.lock's `_meta.hash.sha256` records, computed as Pipenv does.

`pipenv verify` (the check `pipenv install --deploy` makes) compares that hash with the Pipfile's.
Computing it here lets a build whose lock matches skip installing Pipenv at all: about a second
of a cold build, and its 30 MB cache layer on every rebuild (docs/benchmarks.md).

Pipenv 2025.0 (pipenv/project.py calculate_pipfile_hash, vendored plette's Pipfile.get_hash):
the Pipfile parsed as TOML, with pypi as the one [[source]] when it has none; the sha256 of
compact JSON with sorted keys of {"_meta": {"sources", "requires"}, "default": [packages],
"develop": [dev-packages]} and every other top-level table (custom categories) except
[scripts], [pipfile] and [pipenv]. Only the pinned Pipenv is mirrored: a Pipfile this cannot
hash, or a hash that differs, is left to Pipenv itself, so a lock is never accepted that the
pinned Pipenv would reject.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from cnb_python.cnb.toml import TOMLDecodeError, loads_toml

_DEFAULT_SOURCE = {"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": True}
# Top-level tables hashed as custom categories: all but plette's PIPFILE_SECTIONS and the two
# names get_hash skips besides.
_NOT_CATEGORIES = frozenset(
    {"source", "packages", "dev-packages", "requires", "scripts", "pipfile", "pipenv"}
    | {"default", "develop"}
)


def pipfile_hash(pipfile_text: str) -> str | None:
    """The hex sha256 Pipenv would record for this Pipfile; None if it cannot be computed
    here (not TOML for tomli, or values JSON cannot hold, such as dates)."""
    try:
        data: dict[str, Any] = loads_toml(pipfile_text)
    except TOMLDecodeError:
        return None
    hashed = {
        "_meta": {
            "sources": data.get("source", [_DEFAULT_SOURCE]),
            "requires": data.get("requires", {}),
        },
        "default": data.get("packages", {}),
        "develop": data.get("dev-packages", {}),
    }
    for name, value in data.items():
        if name not in _NOT_CATEGORIES:
            hashed[name] = value
    try:
        content = json.dumps(hashed, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        return None
    return hashlib.sha256(content.encode()).hexdigest()
