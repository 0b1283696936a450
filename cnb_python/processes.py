"""Launch processes: from a Procfile, or a default for apps with an obvious entry point.

Rules (also in the README), first match wins:
- A Procfile's entries become processes. `web` is the default when present, else the first.
  A Procfile without entries (empty, or only comments) counts as no Procfile.
- A Django app whose venv has gunicorn: `web` serves its WSGI module with gunicorn.
- When the installed project has exactly one [project.scripts] entry, that script is `web`.
- Otherwise `web: python <script>` for the first of app.py, main.py, server.py.
- Otherwise no process is set, and the log says how to add one.
Commands that need a shell (variables, pipes, `&&`...) run under `sh -c`; others run directly.
A shell command that is one simple command runs as `exec <command>`, so the app replaces the
shell and, as the container's PID 1, receives SIGTERM itself (a shell as PID 1 ignores it).
Python itself as PID 1 stops on SIGTERM through the image's startup hook (pid1.py).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from cnb_python.cnb.launch import Process
from cnb_python.errors import UserError

DEFAULT_SCRIPTS = ("app.py", "main.py", "server.py")
_PROCFILE_LINE = re.compile(r"^([A-Za-z0-9._-]+):\s*(.+)$")
_SHELL_SYNTAX = re.compile(r"[$`|&;<>(){}*?~]|\\")


# Leading `NAME=value` words of a simple command; `exec` goes after them.
_ASSIGNMENTS = re.compile(
    r"""^\s*(?:[A-Za-z_][A-Za-z0-9_]*=(?:'[^']*'|"(?:[^"\\]|\\.)*"|\\.|[^\s'"\\])*\s+)*"""
)
# Shell builtins that have no program to exec into.
_BUILTINS = frozenset(
    [
        ".",
        ":",
        "alias",
        "cd",
        "eval",
        "exec",
        "exit",
        "export",
        "readonly",
        "return",
        "set",
        "shift",
        "source",
        "trap",
        "ulimit",
        "umask",
        "unset",
        "wait",
    ]
)
_RESERVED = frozenset(
    [
        "!",
        "{",
        "}",
        "(",
        ")",
        "if",
        "then",
        "else",
        "elif",
        "fi",
        "for",
        "while",
        "until",
        "do",
        "done",
        "case",
        "esac",
    ]
)
_CONTROL = frozenset(";&|()\n")


def _command(text: str) -> tuple[str, ...]:
    if _SHELL_SYNTAX.search(text):
        return ("sh", "-c", exec_simple_command(text))
    try:
        return tuple(shlex.split(text))
    except ValueError:
        return ("sh", "-c", text)


def exec_simple_command(text: str) -> str:
    """`exec <text>` (after leading assignments) when `text` is one simple command; otherwise
    `text` unchanged, since `exec` in front of a list or pipeline would change its meaning."""
    if not _is_simple_command(text):
        return text
    prefix = _ASSIGNMENTS.match(text)
    assert prefix is not None  # the pattern matches the empty string
    rest = text[prefix.end() :]
    try:
        words = shlex.split(rest)
    except ValueError:
        return text
    if not words or words[0] in _BUILTINS:
        return text
    return f"{text[: prefix.end()]}exec {rest}"


def _is_simple_command(text: str) -> bool:
    """No control operator (`;`, `&`, `|`, `(`, `)`, newline) outside quotes and `$(...)`/backquote
    substitutions, and no reserved word first. Redirections (`>`, `2>&1`) are allowed."""
    try:
        first = shlex.split(text)[:1]
    except ValueError:
        return False
    if not first or first[0] in _RESERVED:
        return False
    quote, depth, i = "", 0, 0
    while i < len(text):
        char = text[i]
        if char == "\\" and quote != "'":
            i += 2
            continue
        if quote:
            if char == quote:
                quote = ""
            elif char == "$" and quote == '"' and text[i + 1 : i + 2] == "(":
                depth, i = depth + 1, i + 1
            elif depth and char == ")":
                depth -= 1
        elif char in "'\"`":
            quote = char
        elif char == "$" and text[i + 1 : i + 2] == "(":
            depth, i = depth + 1, i + 1
        elif depth and char == ")":
            depth -= 1
        elif not depth and char in _CONTROL and not _is_redirection(text, i):
            return False
        i += 1
    return not quote and not depth


def _is_redirection(text: str, i: int) -> bool:
    """The `&` of `2>&1` or `<&0`."""
    return text[i] == "&" and i > 0 and text[i - 1] in "<>"


def pid1_advice(process: Process) -> str | None:
    """A log line when a process will not stop on SIGTERM as a container's PID 1: a shell that
    stays PID 1. (Python as PID 1 stops: the image's startup hook sees to it, see pid1.py.)"""
    command = process.command
    if command[:2] == ("sh", "-c") and not _starts_with_exec(command[2]):
        return (
            f"The {process.type} process is a shell list or pipeline, so `sh` stays PID 1 and "
            "does not pass SIGTERM on: `docker stop` waits and kills it. Put `exec` before its "
            "last command, e.g. `cd src && exec gunicorn app:app`."
        )
    return None


def _starts_with_exec(text: str) -> bool:
    prefix = _ASSIGNMENTS.match(text)
    assert prefix is not None
    return text[prefix.end() :].startswith("exec ")


def read_procfile(path: Path) -> list[tuple[str, str]]:
    entries: list[tuple[str, str]] = []
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _PROCFILE_LINE.match(line.strip())
        if not match:
            raise UserError(
                "Invalid Procfile",
                f"Line {number} of the Procfile is not `<type>: <command>`: {line.strip()!r}",
                "Write one process per line, for example `web: gunicorn app:app`.",
            )
        if any(existing == match.group(1) for existing, _ in entries):
            raise UserError(
                "Invalid Procfile",
                f"The Procfile defines the process type {match.group(1)!r} twice.",
                "Give every process its own type.",
            )
        entries.append((match.group(1), match.group(2).strip()))
    return entries


def app_processes(
    app: Path, project_scripts: tuple[str, ...] = (), django_web: Process | None = None
) -> tuple[list[Process], str]:
    """The processes and a sentence for the log saying where they came from. Facts from the
    build: `project_scripts`, the console scripts the install put on PATH; `django_web`, the
    gunicorn process of a Django app (django.default_process), if it is one."""
    procfile = app / "Procfile"
    entries = read_procfile(procfile) if procfile.is_file() else []
    if entries:
        default = "web" if any(t == "web" for t, _ in entries) else entries[0][0]
        processes = [Process(t, _command(c), default=t == default) for t, c in entries]
        return processes, "from the Procfile"
    processes, source = _default_process(app, project_scripts, django_web)
    if processes and procfile.is_file():
        source = f"the Procfile has no entries; {source}"
    return processes, source


def _default_process(
    app: Path, project_scripts: tuple[str, ...], django_web: Process | None
) -> tuple[list[Process], str]:
    if django_web:
        return [django_web], "a Django app with gunicorn"
    if len(project_scripts) == 1:
        script = project_scripts[0]
        return [Process("web", (script,), default=True)], f"the project's one script, {script}"
    for script in DEFAULT_SCRIPTS:
        if (app / script).is_file():
            return [Process("web", ("python", script), default=True)], f"{script} exists"
    return [], ""
