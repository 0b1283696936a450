"""A web app whose dependencies are C extensions built from source: greet (a local project) and
mmh3 (an sdist from PyPI). Serves on $PORT (default 8080)."""

import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import greet
import mmh3


class Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"{greet.hello('world')}; mmh3 {mmh3.hash('cnb-python')}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8080"))), Hello).serve_forever()
