"""A small Flask app; its console script `pdm-flask` serves it with gunicorn on $PORT."""

import os
import platform
import sys

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/")
def index() -> str:
    return f"Hello from Flask on Python {platform.python_version()}\n"


@app.get("/health")
def health():
    return jsonify(status="ok")


def main() -> None:
    from gunicorn.app.wsgiapp import run

    port = os.environ.get("PORT", "8080")
    sys.argv = ["gunicorn", "pdm_flask:app", f"--bind=0.0.0.0:{port}", "--workers=2"]
    run()
