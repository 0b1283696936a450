"""A test copy of the buildpack whose CPython dependencies are local test tarballs.

Only buildpack.toml changes: its `id = "cpython"` dependency entries are swapped for entries that
describe the test tarballs, and `default-python-version` is set. The swap edits the text, so
comments and layout survive, and the result is checked against the intended change by parsing.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from testsupport.cpython import REPO_ROOT, TestCPython

# TOML support comes from the buildpack's own vendor/ (committed). Appended, so
# packages in the dev venv take precedence.
if str(REPO_ROOT / "vendor") not in sys.path:
    sys.path.append(str(REPO_ROOT / "vendor"))

import tomli
import tomli_w

BUILDPACK_PARTS = ("bin", "cnb_python", "vendor", "requirements/tools")

_HEADER = re.compile(r"^\s*\[\[?[^\[\]]+\]\]?\s*(#.*)?$")
_DEPENDENCY_HEADER = re.compile(r"^\s*\[\[\s*metadata\s*\.\s*dependencies\s*\]\]")
_METADATA_HEADER = re.compile(r"^\s*\[\s*metadata\s*\]")
_DEFAULT_VERSION = re.compile(r"^\s*default-python-version\s*=")


def make_test_buildpack(
    dest: Path,
    *,
    base_url: str,
    cpythons: Sequence[TestCPython],
    default_python: str | None = None,
    source: Path = REPO_ROOT,
    include_runtime: bool = False,
    patch_build_settings: bool = True,
    wrap_toolchain: bool = True,
) -> Path:
    """Copy the buildpack from `source` to `dest`, pointing its CPython downloads at `base_url`.

    `default_python` defaults to the newest minor version among `cpythons`. `runtime/` (a
    bootstrap interpreter) is copied only when asked for. `patch_build_settings=False` makes a
    copy that installs CPython with PBS's build settings as they are, so tests can show what the
    patch (cnb_python/sysconfig_patch.py) is for; `wrap_toolchain=False` one whose installs run
    the compilers without the shims of cnb_python/toolchain.py.
    """
    if not cpythons:
        raise ValueError("a test buildpack needs at least one CPython")
    dest.mkdir(parents=True, exist_ok=True)
    for part in (*BUILDPACK_PARTS, "runtime") if include_runtime else BUILDPACK_PARTS:
        shutil.copytree(
            source / part,
            dest / part,
            symlinks=True,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            dirs_exist_ok=True,
        )
    default = default_python or max((c.minor for c in cpythons), key=_version_key)
    entries = [dependency_entry(c, base_url) for c in cpythons]
    text = (source / "buildpack.toml").read_text()
    (dest / "buildpack.toml").write_text(rewrite_buildpack_toml(text, entries, default))
    if not patch_build_settings:
        _redefine(
            dest / "cnb_python" / "sysconfig_patch.py",
            "def patch_install(home: Path, minor: str, log: Logger, prefix: str | None = None)"
            " -> None:",
            '    log.step("Not patching the build settings (test buildpack)")\n',
        )
    if not wrap_toolchain:
        _redefine(
            dest / "cnb_python" / "toolchain.py",
            "def wrapped_toolchain(\n"
            "    directory: Path, env: Mapping[str, str], log: Logger\n"
            ") -> Iterator[dict[str, str]]:",
            '    log.step("Not wrapping the compilers (test buildpack)")\n    yield dict(env)\n',
            decorator="@contextmanager\n",
        )
    return dest


def _redefine(module: Path, signature: str, body: str, decorator: str = "") -> None:
    """Redefine one of the module's functions at its end, in the copy only."""
    text = module.read_text()
    if f"\n{decorator}{signature}\n" not in text:
        name = signature.removeprefix("def ").split("(")[0]
        raise RuntimeError(f"{module} no longer has the {name} this test copy replaces")
    module.write_text(f"{text}\n\n{decorator}{signature}\n{body}")


def dependency_entry(cpython: TestCPython, base_url: str) -> dict[str, Any]:
    """A [[metadata.dependencies]] entry shaped like the production ones."""
    version, sha256 = cpython.version, cpython.sha256
    url = f"{base_url.rstrip('/')}/{quote(cpython.path.name)}"
    return {
        "id": "cpython",
        "name": "CPython",
        "version": version,
        "arch": cpython.arch,
        "os": "linux",
        "url": url,
        "sha256": sha256,
        "purl": (
            f"pkg:generic/cpython@{version}?checksum=sha256:{sha256}"
            f"&download_url={quote(url, safe='')}"
        ),
        "cpe": f"cpe:2.3:a:python:python:{version}:*:*:*:*:*:*:*",
        "licenses": ["PSF-2.0"],
    }


def rewrite_buildpack_toml(text: str, entries: list[dict[str, Any]], default_python: str) -> str:
    """Replace the cpython dependency entries of a buildpack.toml and set the default version.

    The new entries go where the first cpython entry was (at the end when there was none).
    """
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    starts = [i for i, line in enumerate(lines) if _HEADER.match(line)]
    out = lines[: starts[0]] if starts else list(lines)
    new_entries = "\n".join(_entry_toml(entry) for entry in entries)
    inserted = has_metadata = False
    for start, end in zip(starts, [*starts[1:], len(lines)]):
        core_end = end  # a table's own lines; trailing blank and comment lines stay in place
        while core_end > start + 1 and _is_trivia(lines[core_end - 1]):
            core_end -= 1
        core, tail = lines[start:core_end], lines[core_end:end]
        if _is_cpython_entry(core):
            if not inserted:
                out.append(new_entries)
                inserted = True
            while tail and tail[0].strip() == "" and out[-1].strip() == "":
                tail = tail[1:]  # no double blank lines where an entry was taken out
            out += tail
            continue
        if _METADATA_HEADER.match(core[0]):
            has_metadata = True
            core = _set_default_version(core, default_python)
        out += core + tail
    if not has_metadata:
        raise ValueError("buildpack.toml has no [metadata] table")
    if not inserted:
        out += ["\n", new_entries]
    result = "".join(out)
    if tomli.loads(result) != _expected(tomli.loads(text), entries, default_python):
        raise RuntimeError("rewriting buildpack.toml changed more than the cpython entries")
    return result


def _entry_toml(entry: dict[str, Any]) -> str:
    # Key by key: tomli_w would write a short array of tables inline, under a second [metadata].
    body = "".join(tomli_w.dumps({key: value}) for key, value in entry.items())
    return f"[[metadata.dependencies]]\n{body}"


def _is_trivia(line: str) -> bool:
    return line.strip() == "" or line.lstrip().startswith("#")


def _is_cpython_entry(core: list[str]) -> bool:
    if not _DEPENDENCY_HEADER.match(core[0]):
        return False
    (entry,) = tomli.loads("".join(core))["metadata"]["dependencies"]
    return entry.get("id") == "cpython"


def _set_default_version(core: list[str], version: str) -> list[str]:
    line = f'default-python-version = "{version}"\n'
    for i, existing in enumerate(core):
        if _DEFAULT_VERSION.match(existing):
            return [*core[:i], line, *core[i + 1 :]]
    return [core[0], line, *core[1:]]


def _expected(doc: dict[str, Any], entries: list[dict[str, Any]], default: str) -> dict[str, Any]:
    """What the rewritten document must parse to."""
    meta = doc["metadata"]
    deps = meta.get("dependencies", [])
    first = next((i for i, d in enumerate(deps) if d.get("id") == "cpython"), len(deps))
    meta["dependencies"] = [
        *deps[:first],
        *entries,
        *(d for d in deps[first:] if d.get("id") != "cpython"),
    ]
    meta["default-python-version"] = default
    return doc


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))
