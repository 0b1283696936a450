"""Launch processes: from a Procfile, or a default for apps with an obvious entry script.

Rules (also in the README):
- A Procfile's entries become processes. `web` is the default when present, else the first.
- Without a Procfile, when the installed project has exactly one [project.scripts] entry, that
  script is `web`.
- Otherwise `web: python <script>` for the first of app.py, main.py, server.py.
- Otherwise no process is set, and the log says how to add one.
Commands that need a shell (variables, pipes, `&&`...) run under `sh -c`; others run directly.
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


def _command(text: str) -> tuple[str, ...]:
    if _SHELL_SYNTAX.search(text):
        return ("sh", "-c", text)
    try:
        return tuple(shlex.split(text))
    except ValueError:
        return ("sh", "-c", text)


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


def app_processes(app: Path, project_scripts: tuple[str, ...] = ()) -> tuple[list[Process], str]:
    """The processes and a sentence for the log saying where they came from.
    `project_scripts` are the console scripts the install put on PATH."""
    procfile = app / "Procfile"
    if procfile.is_file():
        entries = read_procfile(procfile)
        if entries:
            default = "web" if any(t == "web" for t, _ in entries) else entries[0][0]
            processes = [Process(t, _command(c), default=t == default) for t, c in entries]
            return processes, "from the Procfile"
    if len(project_scripts) == 1:
        script = project_scripts[0]
        return [Process("web", (script,), default=True)], f"the project's one script, {script}"
    for script in DEFAULT_SCRIPTS:
        if (app / script).is_file():
            return [Process("web", ("python", script), default=True)], f"{script} exists"
    return [], ""
