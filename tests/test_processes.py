import pytest

from cnb_python.cnb.launch import Process
from cnb_python.errors import UserError
from cnb_python.processes import app_processes, pid1_advice


def test_procfile_web_is_default_and_shell_syntax_uses_sh(tmp_path):
    (tmp_path / "Procfile").write_text(
        "# processes\nworker: celery -A tasks worker\n\nweb: gunicorn app:app --bind :$PORT\n"
    )
    processes, source = app_processes(tmp_path)
    assert source == "from the Procfile"
    assert [(p.type, p.command, p.default) for p in processes] == [
        ("worker", ("celery", "-A", "tasks", "worker"), False),
        ("web", ("sh", "-c", "exec gunicorn app:app --bind :$PORT"), True),
    ]


def test_procfile_without_web_makes_the_first_default(tmp_path):
    (tmp_path / "Procfile").write_text("worker: python worker.py\nclock: python clock.py\n")
    processes, _ = app_processes(tmp_path)
    assert [(p.type, p.default) for p in processes] == [("worker", True), ("clock", False)]


@pytest.mark.parametrize("content", ["web gunicorn app:app\n", "web: a\nweb: b\n"])
def test_invalid_procfile(tmp_path, content):
    (tmp_path / "Procfile").write_text(content)
    with pytest.raises(UserError, match="Invalid Procfile"):
        app_processes(tmp_path)


@pytest.mark.parametrize(
    ("files", "script"),
    [
        (["main.py", "server.py"], "main.py"),
        (["server.py"], "server.py"),
        (["app.py", "main.py"], "app.py"),
    ],
)
def test_default_script(tmp_path, files, script):
    for name in files:
        (tmp_path / name).write_text("print('hi')\n")
    processes, source = app_processes(tmp_path)
    assert [(p.type, p.command, p.default) for p in processes] == [
        ("web", ("python", script), True)
    ]
    assert source == f"{script} exists"


def test_no_process(tmp_path):
    (tmp_path / "worker.py").write_text("")
    assert app_processes(tmp_path) == ([], "")


@pytest.mark.parametrize(
    ("line", "command"),
    [
        (
            "gunicorn app:app --bind 0.0.0.0:${PORT:-8080}",
            "exec gunicorn app:app --bind 0.0.0.0:${PORT:-8080}",
        ),
        ("FOO='a b' gunicorn app:app -w $(nproc)", "FOO='a b' exec gunicorn app:app -w $(nproc)"),
        ("python worker.py > /tmp/log 2>&1", "exec python worker.py > /tmp/log 2>&1"),
        ('echo "a; b" $X', 'exec echo "a; b" $X'),
        ('run "$(a; b)"', 'exec run "$(a; b)"'),
        ("exec gunicorn app:app -b :$PORT", "exec gunicorn app:app -b :$PORT"),
        # Lists, pipelines, background jobs, compound commands and builtins keep their shape.
        ("cd src && gunicorn app:app", "cd src && gunicorn app:app"),
        ("migrate; gunicorn app:app", "migrate; gunicorn app:app"),
        ("gunicorn app:app | tee log", "gunicorn app:app | tee log"),
        ("worker &", "worker &"),
        ("if true; then run; fi", "if true; then run; fi"),
        ("{ run; }", "{ run; }"),
        ("cd $HOME", "cd $HOME"),
        ("run 'unclosed", "run 'unclosed"),
    ],
)
def test_simple_shell_commands_are_execd(tmp_path, line, command):
    (tmp_path / "Procfile").write_text(f"web: {line}\n")
    [process], _ = app_processes(tmp_path)
    assert process.command == ("sh", "-c", command)


def test_pid1_advice_for_shell_lists(tmp_path):
    (tmp_path / "Procfile").write_text("web: cd src && gunicorn app:app\nworker: celery -A t\n")
    web, worker = app_processes(tmp_path)[0]
    assert pid1_advice(web) == (
        "The web process is a shell list or pipeline, so `sh` stays PID 1 and does not pass "
        "SIGTERM on: `docker stop` waits and kills it. Put `exec` before its last command, "
        "e.g. `cd src && exec gunicorn app:app`."
    )
    assert pid1_advice(worker) is None


@pytest.mark.parametrize("procfile", ["", "web: python app.py\n", "web: python -m pkg\n"])
def test_no_pid1_advice_for_python(tmp_path, procfile):
    """Python as PID 1 stops on SIGTERM through the image's startup hook (pid1.py)."""
    (tmp_path / "app.py").write_text("")
    if procfile:
        (tmp_path / "Procfile").write_text(procfile)
    [web], _ = app_processes(tmp_path)
    assert pid1_advice(web) is None


DJANGO_WEB = Process("web", ("sh", "-c", "exec gunicorn mysite.wsgi"), default=True)


@pytest.mark.parametrize("procfile", [None, "", "# no processes yet\n\n"])
def test_a_procfile_without_entries_counts_as_none_for_every_default(tmp_path, procfile):
    (tmp_path / "app.py").write_text("")
    if procfile is not None:
        (tmp_path / "Procfile").write_text(procfile)
    empty = "the Procfile has no entries; " if procfile is not None else ""
    assert app_processes(tmp_path, django_web=DJANGO_WEB) == (
        [DJANGO_WEB],
        f"{empty}a Django app with gunicorn",
    )
    assert app_processes(tmp_path, ("serve",)) == (
        [Process("web", ("serve",), default=True)],
        f"{empty}the project's one script, serve",
    )
    assert app_processes(tmp_path) == (
        [Process("web", ("python", "app.py"), default=True)],
        f"{empty}app.py exists",
    )


def test_precedence_of_the_defaults(tmp_path):
    (tmp_path / "app.py").write_text("")
    # A Procfile with entries beats the Django default, which beats the project's script.
    assert app_processes(tmp_path, ("serve",), DJANGO_WEB)[0] == [DJANGO_WEB]
    (tmp_path / "Procfile").write_text("worker: python worker.py\n")
    assert app_processes(tmp_path, ("serve",), DJANGO_WEB) == (
        [Process("worker", ("python", "worker.py"), default=True)],
        "from the Procfile",
    )
