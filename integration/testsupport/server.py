"""A local HTTP file server for download tests, with a request log and fault injection.

    with DownloadServer(directory) as server:
        server.fail_next(2, status=503)
        url = server.url("cpython-3.12.1-amd64-....tar.gz")

Faults are queued and each one applies to the next `count` requests whose path matches (any path
when `path` is None), in the order they were queued. Faults on the body (truncate, corrupt, slow)
skip requests that get no file body: HEADs and 404s.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import quote, unquote, urlsplit

_TEXT = {"Content-Type": "text/plain"}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    status: int
    fault: str | None  # "status", "truncate", "corrupt", "slow" or None


@dataclass
class _Fault:
    kind: str
    count: int
    path: str | None
    status: int = 503
    after: int | None = None  # truncate: body bytes sent before the connection is closed
    bytes_per_second: int = 0  # slow


class DownloadServer:
    """Serves the files in `root` on 127.0.0.1 at a random port while the context is open."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._lock = threading.Lock()
        self._faults: list[_Fault] = []
        self._log: list[Request] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, name: str) -> str:
        return f"{self.base_url}/{quote(name)}"

    @property
    def requests(self) -> list[Request]:
        """Every request answered so far, oldest first."""
        with self._lock:
            return list(self._log)

    def fail_next(self, count: int = 1, *, status: int = 503, path: str | None = None) -> None:
        """Answer the next `count` requests with `status` and a short text body."""
        self._queue(_Fault("status", count, path, status=status))

    def truncate_next(
        self, count: int = 1, *, after: int | None = None, path: str | None = None
    ) -> None:
        """Announce the full Content-Length, send `after` bytes (default: half), then hang up."""
        self._queue(_Fault("truncate", count, path, after=after))

    def corrupt_next(self, count: int = 1, *, path: str | None = None) -> None:
        """Serve the right length with one byte flipped in the middle: only a checksum notices."""
        self._queue(_Fault("corrupt", count, path))

    def slow_next(self, count: int = 1, *, bytes_per_second: int, path: str | None = None) -> None:
        """Send the body at about `bytes_per_second`."""
        self._queue(_Fault("slow", count, path, bytes_per_second=bytes_per_second))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def __enter__(self) -> DownloadServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def _queue(self, fault: _Fault) -> None:
        if fault.count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._faults.append(fault)

    def _take_fault(self, path: str, *, body: bool) -> _Fault | None:
        """Consume the first matching fault. Faults on the body need one to be sent."""
        with self._lock:
            for fault in self._faults:
                if fault.path in (None, path) and (body or fault.kind == "status"):
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _record(self, request: Request) -> None:
        with self._lock:
            self._log.append(request)

    def _resolve(self, path: str) -> Path | None:
        """The file a URL path names, or None if it is missing or outside root."""
        candidate = (self.root / unquote(path).lstrip("/")).resolve()
        if candidate.is_relative_to(self.root) and candidate.is_file():
            return candidate
        return None


def _handler_for(server: DownloadServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        owner = server

    return Handler


class _Handler(BaseHTTPRequestHandler):
    owner: DownloadServer
    protocol_version = "HTTP/1.1"  # keep-alive, as real download clients expect
    timeout = 30  # idle keep-alive connections end eventually

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the request log replaces stderr lines."""

    def _respond(self, *, send_body: bool) -> None:
        path = urlsplit(self.path).path
        file = self.owner._resolve(path)
        fault = self.owner._take_fault(path, body=send_body and file is not None)
        kind = fault.kind if fault else None
        if fault is not None and fault.kind == "status":
            status, headers, body = fault.status, _TEXT, f"injected {fault.status}\n".encode()
        elif file is None:
            status, headers, body = 404, _TEXT, b"not found\n"
        else:
            data = file.read_bytes()
            if kind == "corrupt":
                middle = len(data) // 2
                data = data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]
            status, headers, body = _file_response(data, self.headers.get("Range"))
        # Logged before anything is sent: a client that has the response finds it in the log.
        self.owner._record(Request(self.command, path, dict(self.headers.items()), status, kind))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self._write_body(body, fault)

    def _write_body(self, body: bytes, fault: _Fault | None) -> None:
        if fault is not None and fault.kind == "truncate":
            after = len(body) // 2 if fault.after is None else min(fault.after, len(body))
            self.wfile.write(body[:after])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
        elif fault is not None and fault.kind == "slow":
            # About ten writes a second, so a client sees the bytes trickle in.
            rate = fault.bytes_per_second
            chunk = max(1, rate // 10)
            for offset in range(0, len(body), chunk):
                time.sleep(min(chunk, len(body) - offset) / rate)
                self.wfile.write(body[offset : offset + chunk])
                self.wfile.flush()
        else:
            self.wfile.write(body)


def _file_response(data: bytes, range_header: str | None) -> tuple[int, dict[str, str], bytes]:
    start, end = _byte_range(range_header, len(data))
    if start >= len(data) > 0:
        return 416, _TEXT, b"range not satisfiable\n"
    headers = {"Content-Type": "application/octet-stream", "Accept-Ranges": "bytes"}
    if (start, end) == (0, len(data)):
        return 200, headers, data
    headers["Content-Range"] = f"bytes {start}-{end - 1}/{len(data)}"
    return 206, headers, data[start:end]


def _byte_range(header: str | None, size: int) -> tuple[int, int]:
    """[start, end) of one "bytes=a-b", "bytes=a-" or "bytes=-n" range; else the whole file."""
    if not header or not header.startswith("bytes=") or "," in header:
        return 0, size
    first, _, last = header[len("bytes=") :].strip().partition("-")
    try:
        if not first:
            return max(size - int(last), 0), size
        return int(first), size if not last else min(int(last) + 1, size)
    except ValueError:
        return 0, size
