"""Unit tests import the buildpack package and its vendored runtime dependencies."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "vendor"
if not VENDOR.is_dir():
    raise RuntimeError("vendor/ is missing: run scripts/dev-setup first")
sys.path.insert(0, str(VENDOR))
