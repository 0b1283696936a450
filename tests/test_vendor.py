"""The committed vendor/ matches requirements/runtime.txt (the byte-for-byte check, which
downloads, is `scripts/build.sh --check` in CI)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s\\]+)", re.MULTILINE)


def test_vendor_was_made_from_the_current_requirements():
    requirements = (ROOT / "requirements/runtime.txt").read_bytes()
    stamp = (ROOT / "vendor/.requirements.sha256").read_text().strip()
    assert stamp == hashlib.sha256(requirements).hexdigest(), "run scripts/build.sh"


def test_vendor_holds_exactly_the_pinned_distributions():
    pins = {
        canonicalize_name(n): v
        for n, v in PIN.findall((ROOT / "requirements/runtime.txt").read_text())
    }
    vendored = {}
    for dist_info in (ROOT / "vendor").glob("*.dist-info"):
        name, version = dist_info.name.removesuffix(".dist-info").rsplit("-", 1)
        vendored[canonicalize_name(name)] = version
    assert vendored == pins
    assert sorted(pins) == ["certifi", "charset-normalizer", "idna", "packaging", "requests",
                            "tomli", "tomli-w", "urllib3"]  # fmt: skip
