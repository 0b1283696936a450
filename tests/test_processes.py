import pytest

from cnb_python.errors import UserError
from cnb_python.processes import app_processes


def test_procfile_web_is_default_and_shell_syntax_uses_sh(tmp_path):
    (tmp_path / "Procfile").write_text(
        "# processes\nworker: celery -A tasks worker\n\nweb: gunicorn app:app --bind :$PORT\n"
    )
    processes, source = app_processes(tmp_path)
    assert source == "from the Procfile"
    assert [(p.type, p.command, p.default) for p in processes] == [
        ("worker", ("celery", "-A", "tasks", "worker"), False),
        ("web", ("sh", "-c", "gunicorn app:app --bind :$PORT"), True),
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
