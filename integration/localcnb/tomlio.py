"""TOML reading and a small writer, plus the JSON round trip that the lifecycle's labels impose.

The writer only needs what the lifecycle itself writes: Buildpack Plans, restored ``<layer>.toml``
and ``store.toml`` files. Keys are sorted, as the Go TOML encoder does.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomllib

TOMLError = tomllib.TOMLDecodeError

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def load(path: Path) -> dict[str, Any]:
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def golike(value: Any) -> Any:
    """``value`` as it comes back after the lifecycle stored it as JSON and decoded it in Go.

    Layer ``[metadata]`` and ``store.toml`` travel through the image label / cache metadata as JSON,
    and Go decodes every JSON number as float64: an integer ``3`` comes back as ``3.0``. TOML dates
    become strings. Restored files therefore differ from what the buildpack wrote.
    """
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Mapping):
        return {str(k): golike(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [golike(v) for v in value]
    raise TypeError(f"cannot store {type(value).__name__} in layer metadata")


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def dumps(doc: Mapping[str, Any]) -> str:
    lines: list[str] = []
    _table(lines, (), doc)
    return "\n".join(lines) + "\n" if lines else ""


def _table(lines: list[str], path: tuple[str, ...], table: Mapping[str, Any]) -> None:
    items = sorted(table.items())
    for key, value in items:
        if value is not None and not _is_table(value) and not _is_table_array(value):
            lines.append(f"{_key(key)} = {_value(value)}")
    for key, value in items:
        if _is_table(value):
            lines.append(f"[{_dotted((*path, key))}]")
            _table(lines, (*path, key), value)
        elif _is_table_array(value):
            for item in value:
                lines.append(f"[[{_dotted((*path, key))}]]")
                _table(lines, (*path, key), item)


def _is_table(value: Any) -> bool:
    return isinstance(value, Mapping)


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _string(key)


def _dotted(path: tuple[str, ...]) -> str:
    return ".".join(_key(k) for k in path)


def _string(text: str) -> str:
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, Mapping):
        inner = ", ".join(
            f"{_key(k)} = {_value(v)}" for k, v in sorted(value.items()) if v is not None
        )
        return "{" + inner + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def project_build_env(app: Path) -> dict[str, str]:
    """The build variables of the app's project.toml, as pack reads them before the build
    (project descriptor 0.2: `[[io.buildpacks.build.env]]` tables of `name` and `value`);
    `pack build --env` values win over them."""
    path = app / "project.toml"
    if not path.is_file():
        return {}
    entries = tomllib.loads(path.read_text()).get("io", {}).get("buildpacks", {})
    return {str(e["name"]): str(e["value"]) for e in entries.get("build", {}).get("env", [])}
