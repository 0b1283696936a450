"""A Flask app installed with `-e .`, with a library installed with `-e ./libs/greeting` and a
wheel found with `--find-links` (see README.md)."""

import platform

import motd
from flask import Flask
from greeting import greet

app = Flask(__name__)


@app.get("/")
async def index() -> str:  # async views need flask[async]
    return f"{greet()} {motd.MESSAGE} Python {platform.python_version()}\n"
