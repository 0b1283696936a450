"""testsupport.server: a local file server with a request log and fault injection."""

from __future__ import annotations

import hashlib
import http.client
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from testsupport.server import DownloadServer

BLOB = bytes(range(256)) * 800  # 204800 bytes


@pytest.fixture
def server(tmp_path: Path) -> Iterator[DownloadServer]:
    root = tmp_path / "root"
    root.mkdir()
    (root / "blob.bin").write_bytes(BLOB)
    (root / "other.bin").write_bytes(b"other")
    (tmp_path / "secret.txt").write_text("outside the served dir")
    with DownloadServer(root) as srv:
        yield srv


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(), dict(response.headers.items())
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers.items())


def raw_get(server: DownloadServer, path: str) -> http.client.HTTPResponse:
    """A request with the path sent exactly as given (urllib would normalize it)."""
    parts = urlsplit(server.base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", path)
    return conn.getresponse()


def test_serves_files_on_loopback_and_logs_requests(server: DownloadServer) -> None:
    assert server.base_url.startswith("http://127.0.0.1:")
    status, body, headers = get(server.url("blob.bin"), {"User-Agent": "probe/1"})
    assert (status, body, headers["Content-Length"]) == (200, BLOB, str(len(BLOB)))
    head = urllib.request.Request(server.url("blob.bin"), method="HEAD")
    with urllib.request.urlopen(head, timeout=10) as response:
        assert (response.status, response.read()) == (200, b"")

    (first, second) = server.requests
    assert (first.method, first.path, first.status, first.fault) == ("GET", "/blob.bin", 200, None)
    assert first.headers["User-Agent"] == "probe/1"
    assert (second.method, second.status) == ("HEAD", 200)


def test_missing_files_and_paths_outside_the_root_are_404(server: DownloadServer) -> None:
    assert get(server.url("nope.tar.gz"))[0] == 404
    response = raw_get(server, "/../secret.txt")
    assert (response.status, response.read()) == (404, b"not found\n")
    assert [r.status for r in server.requests] == [404, 404]


def test_fail_next_answers_with_the_status_then_recovers(server: DownloadServer) -> None:
    server.fail_next(2, status=503)
    server.fail_next(status=404)
    statuses = [get(server.url("blob.bin"))[0] for _ in range(4)]
    assert statuses == [503, 503, 404, 200]
    assert [r.fault for r in server.requests] == ["status", "status", "status", None]


def test_faults_can_target_one_path(server: DownloadServer) -> None:
    server.fail_next(status=500, path="/blob.bin")
    assert get(server.url("other.bin"))[:2] == (200, b"other")
    assert get(server.url("blob.bin"))[0] == 500
    assert get(server.url("blob.bin"))[0] == 200


def test_body_faults_wait_for_a_body(server: DownloadServer) -> None:
    server.corrupt_next()
    assert get(server.url("nope"))[0] == 404
    head = urllib.request.Request(server.url("blob.bin"), method="HEAD")
    urllib.request.urlopen(head, timeout=10).close()
    assert get(server.url("blob.bin"))[1] != BLOB
    assert [r.fault for r in server.requests] == [None, None, "corrupt"]


def test_clear_faults(server: DownloadServer) -> None:
    server.fail_next(3)
    server.clear_faults()
    assert get(server.url("blob.bin"))[0] == 200


def test_truncate_next_hangs_up_mid_body(server: DownloadServer) -> None:
    server.truncate_next(after=1000)
    response = raw_get(server, "/blob.bin")
    assert response.getheader("Content-Length") == str(len(BLOB))
    with pytest.raises(http.client.IncompleteRead) as excinfo:
        response.read()
    assert excinfo.value.partial == BLOB[:1000]
    assert get(server.url("blob.bin"))[1] == BLOB
    assert [r.fault for r in server.requests] == ["truncate", None]


def test_corrupt_next_keeps_the_length_but_not_the_checksum(server: DownloadServer) -> None:
    server.corrupt_next()
    status, body, _ = get(server.url("blob.bin"))
    assert status == 200 and len(body) == len(BLOB)
    assert hashlib.sha256(body).digest() != hashlib.sha256(BLOB).digest()
    assert sum(a != b for a, b in zip(body, BLOB)) == 1
    assert get(server.url("blob.bin"))[1] == BLOB


def test_slow_next_trickles_the_body(server: DownloadServer) -> None:
    server.slow_next(bytes_per_second=len(BLOB) * 2)  # about half a second
    response = raw_get(server, "/blob.bin")
    start = time.monotonic()
    first = response.read(1000)
    first_at = time.monotonic() - start
    rest = response.read()
    total = time.monotonic() - start
    assert first + rest == BLOB
    assert first_at < 0.3
    assert 0.4 < total < 5
    assert server.requests[0].fault == "slow"


def test_range_requests_get_partial_content(server: DownloadServer) -> None:
    status, body, headers = get(server.url("blob.bin"), {"Range": "bytes=1000-"})
    assert (status, body) == (206, BLOB[1000:])
    assert headers["Content-Range"] == f"bytes 1000-{len(BLOB) - 1}/{len(BLOB)}"
    assert get(server.url("blob.bin"), {"Range": "bytes=0-9"})[:2] == (206, BLOB[:10])
    assert get(server.url("blob.bin"), {"Range": f"bytes={len(BLOB)}-"})[0] == 416


def test_stops_listening_on_exit(tmp_path: Path) -> None:
    with DownloadServer(tmp_path) as srv:
        url = srv.url("x")
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=2)
