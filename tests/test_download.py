import hashlib
import io
from pathlib import Path

import pytest
from testsupport.server import DownloadServer

from cnb_python import download as download_module
from cnb_python.cnb.bindings import Binding
from cnb_python.download import Source, download, resolve_source
from cnb_python.errors import UserError
from cnb_python.log import Logger

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB
SHA = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    monkeypatch.setattr(download_module, "BACKOFF_SECONDS", 0.01)


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "served"
    root.mkdir()
    (root / "python.tar.gz").write_bytes(PAYLOAD)
    with DownloadServer(root) as s:
        yield s


def fetch(server: DownloadServer, dest: Path, sha: str = SHA) -> str:
    out = io.StringIO()
    download(
        Source(server.url("python.tar.gz"), ""),
        sha,
        dest,
        what="CPython 3.12.4",
        log=Logger(out, out),
    )
    return out.getvalue()


def test_downloads_and_verifies(server, tmp_path):
    log = fetch(server, tmp_path / "f")
    assert (tmp_path / "f").read_bytes() == PAYLOAD
    assert "Size 1.0 MB" in log and "sha256 verified" in log


def test_retries_server_errors_and_truncation(server, tmp_path):
    server.fail_next(2, status=503)
    server.truncate_next(1, after=1000)
    log = fetch(server, tmp_path / "f")
    assert (tmp_path / "f").read_bytes() == PAYLOAD
    assert log.count("Attempt ") == 3
    assert len(server.requests) == 4


def test_gives_up_after_attempts(server, tmp_path):
    server.fail_next(10, status=502)
    with pytest.raises(UserError) as e:
        fetch(server, tmp_path / "f")
    assert e.value.title == "Unable to download CPython 3.12.4"
    assert "failed 5 times" in e.value.detail and "HTTP 502" in e.value.detail


def test_not_found_is_not_retried(server, tmp_path):
    server.fail_next(1, status=404)
    with pytest.raises(UserError, match=r"Unable to download CPython 3\.12\.4") as e:
        fetch(server, tmp_path / "f")
    assert "HTTP 404" in e.value.detail
    assert len(server.requests) == 1


def test_checksum_mismatch_removes_the_file(server, tmp_path):
    server.corrupt_next(1)
    with pytest.raises(UserError) as e:
        fetch(server, tmp_path / "f")
    assert e.value.title == "Checksum mismatch for CPython 3.12.4"
    assert SHA in e.value.detail
    assert not (tmp_path / "f").exists()


def test_file_urls(tmp_path):
    (tmp_path / "a.tgz").write_bytes(PAYLOAD)
    out = io.StringIO()
    download(
        Source(f"file://{tmp_path}/a.tgz", "BP_DEPENDENCY_MIRROR"),
        SHA,
        tmp_path / "f",
        what="x",
        log=Logger(out, out),
    )
    assert (tmp_path / "f").read_bytes() == PAYLOAD
    assert "Using BP_DEPENDENCY_MIRROR" in out.getvalue()


URL = "https://github.com/astral-sh/python-build-standalone/releases/download/1/cpython.tar.gz"


def test_mirror_variables():
    assert resolve_source(URL, SHA, {}, []) == Source(URL, "")
    mirror = {"BP_DEPENDENCY_MIRROR": "https://mirror.example/{originalHost}/"}
    assert resolve_source(URL, SHA, mirror, []).url == (
        "https://mirror.example/github.com/astral-sh/python-build-standalone/releases/download/1/"
        "cpython.tar.gz"
    )
    per_host = {**mirror, "BP_DEPENDENCY_MIRROR_GITHUB_COM": "file:///mirror"}
    assert resolve_source(URL, SHA, per_host, []) == Source(
        "file:///mirror/astral-sh/python-build-standalone/releases/download/1/cpython.tar.gz",
        "BP_DEPENDENCY_MIRROR_GITHUB_COM",
    )
    dashed = {"BP_DEPENDENCY_MIRROR_FILES__HOST_EXAMPLE_ORG": "file:///m"}
    assert resolve_source("https://files-host.example.org/a/b", SHA, dashed, []).url == (
        "file:///m/a/b"
    )


def test_mirror_must_be_https_or_file():
    with pytest.raises(UserError, match="Invalid BP_DEPENDENCY_MIRROR"):
        resolve_source(URL, SHA, {"BP_DEPENDENCY_MIRROR": "http://plain.example"}, [])


def test_dependency_mapping_binding_wins(tmp_path):
    entry = tmp_path / SHA
    entry.write_text("file:///bindings/cpython.tgz\n")
    binding = Binding("offline", "dependency-mapping", "", tmp_path, {SHA: entry})
    source = resolve_source(URL, SHA, {"BP_DEPENDENCY_MIRROR": "https://m"}, [binding])
    assert source == Source("file:///bindings/cpython.tgz", "dependency-mapping binding 'offline'")


def test_slow_downloads_report_progress(server, tmp_path, monkeypatch):
    monkeypatch.setattr(download_module, "PROGRESS_INTERVAL", 0.1)
    server.slow_next(1, bytes_per_second=2_000_000)
    log = fetch(server, tmp_path / "f")
    progress = [line.strip() for line in log.splitlines() if "Received" in line]
    assert progress, log
    assert all(line.endswith("%)") and " of 1.0 MB (" in line for line in progress)


def bundle(buildpack: Path, data: bytes, url: str = URL, sha: str = SHA) -> Path:
    path = download_module.bundled_path(buildpack, url, sha)
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    return path


def test_a_bundled_file_wins_over_bindings_mirrors_and_the_network(tmp_path):
    url = "https://example.org/r/cpython-3.12.4%2B2026-x86_64.tar.gz"
    path = bundle(tmp_path / "bp", PAYLOAD, url)
    assert path == tmp_path / "bp/dependencies" / SHA / "cpython-3.12.4+2026-x86_64.tar.gz"
    entry = tmp_path / SHA
    entry.write_text("file:///bindings/cpython.tgz\n")
    binding = Binding("offline", "dependency-mapping", "", tmp_path, {SHA: entry})
    env = {"BP_DEPENDENCY_MIRROR": "https://m"}
    source = resolve_source(url, SHA, env, [binding], buildpack_dir=tmp_path / "bp")
    assert source == Source(path.as_uri(), download_module.BUNDLED)
    out = io.StringIO()
    download(source, SHA, tmp_path / "out", what="CPython 3.12.4", log=Logger(out, out))
    assert (tmp_path / "out").read_bytes() == PAYLOAD
    assert f"Using the buildpack's bundled copy {path}" in out.getvalue()
    # Another sha256 (another release) is not served from this bundle.
    other = "1" * 64
    assert resolve_source(url, other, {}, [], buildpack_dir=tmp_path / "bp") == Source(url, "")


def test_a_corrupted_bundled_file_fails_without_falling_back(tmp_path):
    bundle(tmp_path / "bp", PAYLOAD[:-1] + b"x")
    source = resolve_source(URL, SHA, {}, [], buildpack_dir=tmp_path / "bp")
    with pytest.raises(UserError, match=r"Corrupted bundled file for CPython 3\.12\.4"):
        download(source, SHA, tmp_path / "out", what="CPython 3.12.4", log=Logger(io.StringIO()))
    assert not (tmp_path / "out").exists()
