"""A web app whose dependencies are C extensions compiled from source by three build systems: a
hand-written build script (handbuilt), meson-python (mesonext) and scikit-build-core (cmakeext).
Serves on $PORT (default 8080)."""

import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cmakeext
import handbuilt
import mesonext


class Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        total = handbuilt.tally(4) + mesonext.twice(5) + cmakeext.thrice(6)
        body = f"10 + 10 + 18 = {total}; built {handbuilt.stamp()}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8080"))), Hello).serve_forever()
