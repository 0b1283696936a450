"""A small Flask app, served by gunicorn (see Procfile), installed from pylock.toml."""

import platform

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/")
def index() -> str:
    return f"Hello from Flask on Python {platform.python_version()}\n"


@app.get("/health")
def health():
    return jsonify(status="ok")
