"""The `pip:` list of an environment.yml, read line by line before the build installs it, so
that the app's own projects on it can go to the project step (listed_projects.py).

The YAML itself is read by the install script (toolscripts/conda_env.py), which the buildpack's
process never imports. Here only the plainest spelling counts: one block list under `- pip:` in
`dependencies:`, one plain or quoted requirement per line. Anything else gives None, and the
list is installed whole, as before. The install compares what it reads here with the script's
list (CondaManager).
"""

from __future__ import annotations

import re
from pathlib import Path

_PIP_KEY = re.compile(r"^( *)- +pip *:[ \t]*(#.*)?$")
_TOP_KEY = re.compile(r"^([A-Za-z_][\w-]*) *:")
_COMMENT = re.compile(r"\s+#.*$")
_ITEM = re.compile(r"^( *)- +(\S.*?)\s*$")
# A plain scalar YAML would read as something other than its text, or as more than one value.
_RETYPED = re.compile(r"^(true|false|yes|no|on|off|null|~|[-+.]?[0-9][0-9_.:eE+-]*)$", re.I)
_NOT_PLAIN = re.compile(r"^[\[\]{}&*!|>%@`'\",?#]|^- |: |:$")


def pip_list_lines(environment_file: Path) -> list[tuple[int, str]] | None:
    """(line number, requirement) of each item of the file's `pip:` list, as a YAML parser
    reads them; None when the file has none or spells it in any other way."""
    lines = environment_file.read_text(errors="replace").splitlines()
    keys = [n for n, line in enumerate(lines) if _PIP_KEY.match(line)]
    tops = [_TOP_KEY.match(line) for line in lines]
    if len(keys) != 1 or [t.group(1) for t in tops if t].count("dependencies") != 1:
        return None  # a YAML parser keeps the last of two keys of one name
    if _top_key_above(lines, keys[0]) != "dependencies":
        return None
    dash = len(lines[keys[0]]) - len(lines[keys[0]].lstrip(" "))
    items: list[tuple[int, str]] = []
    indent = None
    for number, line in enumerate(lines[keys[0] + 1 :], keys[0] + 2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if "\t" in line:
            return None
        width = len(line) - len(line.lstrip(" "))
        if indent is None and width >= dash + 2:
            indent = width
        if indent is None or width < indent:
            break
        item = _ITEM.match(line)
        value = _scalar(item.group(2)) if item and width == indent else None
        if value is None:
            return None
        items.append((number, value))
    return items or None


def _top_key_above(lines: list[str], index: int) -> str | None:
    """The name of the top-level key whose value holds line `index`."""
    for line in reversed(lines[:index]):
        if line and not line[0].isspace() and not line.startswith(("#", "-")):
            key = _TOP_KEY.match(line)
            return key.group(1) if key else None
    return None


def _scalar(text: str) -> str | None:
    """The string a YAML parser reads from an item's text: quoted without escapes, or plain
    (its comment dropped); None for any other form."""
    if text[0] in "'\"":
        inner, closed, rest = text[1:].partition(text[0])
        if not closed or "\\" in inner or (rest and not _COMMENT.fullmatch(rest)):
            return None
        return inner
    plain = _COMMENT.sub("", text)
    if _NOT_PLAIN.search(plain) or _RETYPED.match(plain):
        return None
    return plain
