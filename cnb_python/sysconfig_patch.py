"""Point an unpacked CPython's build settings at its layer and at the builder's C toolchain.

python-build-standalone records its own build machine in the files that compilers read: the
prefix `/install`, clang and llvm-ar from its toolchain, and flags only clang accepts. pip
building a C extension from an sdist, and later buildpacks using `python3-config` or
pkg-config, would use them and fail on a builder that has gcc as `cc`. So, once, at install:

- the recorded prefix becomes the layer's path, in every variable;
- clang, clang++ and llvm-ar (and cross-compilers named for a target triple) become cc, c++
  and ar in the compiler and linker variables;
- flags that gcc rejects are dropped.

Files: `_sysconfigdata_*.py`, `config-3.X-*/Makefile`, `lib/pkgconfig/*.pc` and
`bin/python3.X-config`. `CONFIG_ARGS`, the record of how CPython was configured, stays as is.
Only the values that change are rewritten, so an archive without these quirks is unchanged
and the same archive always gives the same bytes.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

from cnb_python.log import Logger

# Variables holding a compiler, linker or archiver command (as sysconfig and the Makefile name
# them). Other variables may mention "clang" in some other sense and are left alone.
COMPILER_VARIABLES = frozenset(
    {"CC", "CXX", "CPP", "MAINCC", "LINKCC", "LDSHARED", "BLDSHARED", "LDCXXSHARED", "AR"}
)
# A record of the configure command line; nothing compiles with it.
UNTOUCHED_VARIABLES = frozenset({"CONFIG_ARGS"})

# Tokens end at whitespace or a quote (python3.X-config holds its values in shell strings).
_START = r"(?<![^\s\"'])"
_END = r"(?=[\s\"']|$)"
# clang-17 and /tools/llvm/bin/clang count too; clang++ is matched first. PBS's aarch64 builds
# are cross-compiled and record /usr/bin/aarch64-linux-gnu-gcc (and have had the build host's
# x86_64-linux-gnu-g++ as CXX): the builder's cc and c++ are the native equivalents.
_TOOLS = (
    (re.compile(_START + r"[^\s\"']*?\bclang\+\+(?:-\d+)?" + _END), "c++"),
    (re.compile(_START + r"[^\s\"']*?\bclang(?:-\d+)?" + _END), "cc"),
    (re.compile(_START + r"[^\s\"']*?\bllvm-ar(?:-\d+)?" + _END), "ar"),
    (re.compile(_START + r"[^\s\"']*?\b\w+-linux-gnu-g\+\+" + _END), "c++"),
    (re.compile(_START + r"[^\s\"']*?\b\w+-linux-gnu-gcc" + _END), "cc"),
)
# Each is rejected by gcc ("unrecognized command-line option", or "-flto=thin": unrecognized
# argument). Flags gcc accepts stay, even when PBS meant them for clang.
_CLANG_ONLY_FLAG = (
    r"(?:-fdebug-default-version=[^\s\"']+|-fprofile-instr-(?:use|generate)(?:=[^\s\"']*)?"
    r"|-Qunused-arguments|-flto=thin)"
)
# A flag goes with the blanks after it; at the end of a value, with the blanks before it.
_FLAG_AND_BLANKS_AFTER = re.compile(_START + _CLANG_ONLY_FLAG + r"[ \t]+")
_BLANKS_AND_LAST_FLAG = re.compile(r"[ \t]*" + _START + _CLANG_ONLY_FLAG + _END)
# `NAME=value` in a Makefile (also `NAME =`, `NAME:=`), a shell script or a .pc file.
_ASSIGNMENT = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>[ \t]*[:?+]?=)(?P<value>.*)$")


@dataclass(frozen=True)
class Change:
    file: str
    variable: str
    old: str
    new: str


@dataclass
class Patcher:
    """Rewrites values for one install. `old_prefix` is None when nothing records a prefix."""

    old_prefix: str | None
    new_prefix: str
    changes: list[Change] = field(default_factory=list)
    tools: dict[str, str] = field(default_factory=dict)
    dropped: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._prefix: re.Pattern[str] | None = None
        if self.old_prefix and self.old_prefix != self.new_prefix:
            # A path at the prefix: after a separator, `=` or `-I`/`-L`, and ending there or at /.
            self._prefix = re.compile(
                r"(?:(?<![^\s=:,\"'])|(?<=-[IL]))"
                + re.escape(self.old_prefix)
                + r"(?=[/\s:,\"']|$)"
            )

    @property
    def rewrites_prefix(self) -> bool:
        return self._prefix is not None

    def text(self, value: str) -> str:
        return self._prefix.sub(self.new_prefix, value) if self._prefix else value

    def variable(self, name: str, value: str) -> str:
        if name in UNTOUCHED_VARIABLES:
            return value
        new = self.text(value)
        if name in COMPILER_VARIABLES:
            for pattern, replacement in _TOOLS:
                new = pattern.sub(lambda m, r=replacement: self._tool(m[0], r), new)
        new = _FLAG_AND_BLANKS_AFTER.sub(self._drop, new)
        return _BLANKS_AND_LAST_FLAG.sub(self._drop, new)

    def _tool(self, old: str, new: str) -> str:
        self.tools[old] = new
        return new

    def _drop(self, match: re.Match[str]) -> str:
        self.dropped.add(match[0].strip())
        return ""

    def record(self, file: str, variable: str, old: str, new: str) -> None:
        if old != new:
            self.changes.append(Change(file, variable, old, new))


def patch_install(home: Path, minor: str, log: Logger) -> None:
    """Patch the CPython installed at `home` (python3.X, X from `minor`) for this location."""
    stdlib = home / "lib" / f"python{minor}"
    sysconfigdata = sorted(p for p in stdlib.glob("_sysconfigdata_*.py") if _regular(p))
    patcher = Patcher(_recorded_prefix(sysconfigdata), str(home))
    line_files = [
        *sorted(stdlib.glob("config-*/Makefile")),
        *sorted((home / "lib" / "pkgconfig").glob("*.pc")),
        *sorted((home / "bin").glob("python*-config")),
    ]
    changed = [p for p in sysconfigdata if _patch_sysconfigdata(p, home, patcher)]
    changed += [p for p in line_files if _regular(p) and _patch_lines(p, home, patcher)]
    if not changed:
        log.debug("build settings: nothing to patch")
        return
    log.step(f"Patched the build settings of {len(changed)} files: {_summary(patcher)}")
    for change in patcher.changes:
        log.debug(f"{change.file}: {change.variable}: {change.old!r} -> {change.new!r}")


def _summary(patcher: Patcher) -> str:
    parts = []
    if patcher.rewrites_prefix:
        parts.append(f"prefix {patcher.old_prefix} -> {patcher.new_prefix}")
    if patcher.tools:
        parts.append(", ".join(f"{old} -> {new}" for old, new in sorted(patcher.tools.items())))
    if patcher.dropped:
        parts.append(f"dropped {' '.join(sorted(patcher.dropped))}")
    return "; ".join(parts)


def _regular(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def _build_time_vars(tree: ast.Module) -> ast.Dict | None:
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "build_time_vars" for t in node.targets)
            and isinstance(node.value, ast.Dict)
        ):
            return node.value
    return None


def _string_items(node: ast.Dict) -> list[tuple[str, ast.Constant]]:
    return [
        (key.value, value)
        for key, value in zip(node.keys, node.values)
        if isinstance(key, ast.Constant)
        and isinstance(key.value, str)
        and isinstance(value, ast.Constant)
        and isinstance(value.value, str)
    ]


def _recorded_prefix(sysconfigdata: list[Path]) -> str | None:
    for path in sysconfigdata:
        node = _build_time_vars(ast.parse(path.read_bytes()))
        if node is not None:
            for name, value in _string_items(node):
                if name == "prefix":
                    return value.value
    return None


def _patch_sysconfigdata(path: Path, home: Path, patcher: Patcher) -> bool:
    """Rewrite, in place, only the source text of the values that change, so the rest of the
    file keeps its bytes."""
    source = path.read_bytes()
    node = _build_time_vars(ast.parse(source))
    if node is None:
        return False
    line_starts = [0]
    for line in source.splitlines(keepends=True):
        line_starts.append(line_starts[-1] + len(line))
    edits = []
    for name, value in _string_items(node):
        new = patcher.variable(name, value.value)
        if new != value.value:
            patcher.record(_relative(path, home), name, value.value, new)
            # Offsets are in UTF-8 bytes; end_* are set on Python 3.8+.
            start = line_starts[value.lineno - 1] + value.col_offset
            end = line_starts[value.end_lineno - 1] + value.end_col_offset  # type: ignore[operator]
            edits.append((start, end, repr(new).encode()))
    for start, end, text in reversed(edits):
        source = source[:start] + text + source[end:]
    if edits:
        path.write_bytes(source)
    return bool(edits)


def _patch_lines(path: Path, home: Path, patcher: Patcher) -> bool:
    original = path.read_bytes().decode("utf-8", "surrogateescape")
    out = []
    for line in original.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        ending = line[len(body) :]
        match = _ASSIGNMENT.match(body)
        if match:
            new = patcher.variable(match["name"], match["value"])
            patcher.record(_relative(path, home), match["name"], match["value"], new)
            body = f"{match['name']}{match['op']}{new}"
        else:
            body = patcher.text(body)
        out.append(body + ending)
    patched = "".join(out)
    if patched == original:
        return False
    path.write_bytes(patched.encode("utf-8", "surrogateescape"))
    return True


def _relative(path: Path, home: Path) -> str:
    return path.relative_to(home).as_posix()
