"""The one downloader: bundled files, mirrors, dependency-mapping bindings, retries, sha256.

Bytes are streamed to a temp file while hashed, and nothing is handed on until the sha256
matches the buildpack's metadata.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from cnb_python.cnb.bindings import Binding, bindings_of_type
from cnb_python.errors import UserError
from cnb_python.log import Logger, format_duration, format_size

CHUNK = 1 << 20
CONNECT_TIMEOUT = 15
READ_TIMEOUT = 60
ATTEMPTS = 5
BACKOFF_SECONDS = 1.0  # doubled after each failed attempt
PROGRESS_INTERVAL = 5.0
# The buildpack's own directory, where an offline package bundles its downloads.
BUILDPACK_DIR = Path(__file__).resolve().parents[1]
BUNDLED_DEPENDENCIES = "dependencies"
BUNDLED = "the buildpack's bundled copy"


class _Retryable(Exception):
    pass


@dataclass(frozen=True)
class Source:
    """Where a dependency is fetched from, after mirrors and mappings are applied."""

    url: str
    via: str  # "" for the original URL, else what redirected it


def bundled_path(buildpack_dir: Path, url: str, sha256: str) -> Path:
    """Where an offline package (scripts/package.sh --offline) bundles the file at `url`:
    `dependencies/<sha256>/<original file name>` in the buildpack."""
    name = unquote(PurePosixPath(urlsplit(url).path).name)
    return buildpack_dir / BUNDLED_DEPENDENCIES / sha256 / name


def resolve_source(
    url: str,
    sha256: str,
    env: Mapping[str, str],
    bindings: Sequence[Binding],
    *,
    buildpack_dir: Path = BUILDPACK_DIR,
) -> Source:
    """A file bundled in the buildpack wins (same sha256, no network); then a
    dependency-mapping binding (sha256 -> uri); then mirrors; then the URL itself."""
    bundled = bundled_path(buildpack_dir, url, sha256)
    if bundled.is_file():
        return Source(bundled.as_uri(), BUNDLED)
    for binding in bindings_of_type(bindings, "dependency-mapping"):
        for key in (sha256, f"sha256:{sha256}", f"sha256_{sha256}"):
            if key in binding.entries:
                return Source(binding.read(key), f"dependency-mapping binding '{binding.name}'")
    host = urlsplit(url).hostname or ""
    # BP_DEPENDENCY_MIRROR_<HOST>: "__" stands for "-" and "_" for "." in the host name.
    for name, value in sorted(env.items()):
        if name.startswith("BP_DEPENDENCY_MIRROR_") and value:
            mirror_host = name[len("BP_DEPENDENCY_MIRROR_") :].lower()
            mirror_host = mirror_host.replace("__", "\0").replace("_", ".").replace("\0", "-")
            if mirror_host == host:
                return Source(_mirrored(url, value, name), name)
    default = env.get("BP_DEPENDENCY_MIRROR", "")
    if default:
        return Source(_mirrored(url, default, "BP_DEPENDENCY_MIRROR"), "BP_DEPENDENCY_MIRROR")
    return Source(url, "")


def _mirrored(url: str, mirror: str, variable: str) -> str:
    scheme = urlsplit(mirror).scheme
    if scheme not in ("https", "file"):
        raise UserError(
            f"Invalid {variable}",
            f"{variable} must be an https:// or file:// URL, not {scheme or 'a bare path'}.",
            "Point it at an HTTPS mirror or a file:// directory laid out like the original host.",
        )
    original = urlsplit(url)
    base = mirror.rstrip("/").replace("{originalHost}", original.hostname or "")
    return f"{base}{original.path}"


def tls_verify() -> str | bool:
    """requests reads REQUESTS_CA_BUNDLE itself; SSL_CERT_FILE is the OpenSSL convention users
    of TLS-inspecting proxies set, so it is honoured too."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE") or True


def download(
    source: Source,
    sha256: str,
    dest: Path,
    *,
    what: str,
    log: Logger,
) -> None:
    """Fetch `source` to `dest` and verify its sha256; `what` names it in messages."""
    if source.via == BUNDLED:
        path = Path(unquote(urlsplit(source.url).path))
        log.step(f"Using {BUNDLED} {path}")
        actual = _copy_file(path, dest, what)
        if actual != sha256:
            dest.unlink(missing_ok=True)
            raise UserError(
                f"Corrupted bundled file for {what}",
                f"The buildpack's bundled file {path} has sha256 {actual}, but the buildpack "
                f"expects {sha256}.",
                "The buildpack package is damaged. Download or package it again "
                "(scripts/package.sh --offline), recreate the builder, and rebuild.",
            )
        log.detail(f"Copied {format_size(dest.stat().st_size)}, sha256 verified")
        return
    if source.via:
        log.step(f"Using {source.via}")
    log.step(f"Downloading {source.url}")
    start = time.monotonic()
    if urlsplit(source.url).scheme == "file":
        actual = _copy_file(Path(unquote(urlsplit(source.url).path)), dest, what)
    else:
        actual = _fetch_with_retries(source.url, dest, what, log)
    if actual != sha256:
        dest.unlink(missing_ok=True)
        raise UserError(
            f"Checksum mismatch for {what}",
            f"The file from {source.url} has sha256 {actual}, but the buildpack expects {sha256}.",
            "Retry the build. If it fails again, the server or mirror serves different bytes than "
            "the buildpack was released with: check BP_DEPENDENCY_MIRROR and dependency-mapping "
            "bindings, or use a buildpack version whose metadata matches.",
        )
    log.detail(
        f"Downloaded {format_size(dest.stat().st_size)} in "
        f"{format_duration(time.monotonic() - start)}, sha256 verified"
    )


def _copy_file(path: Path, dest: Path, what: str) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as src, dest.open("wb") as out:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
    except OSError as e:
        raise UserError(
            f"Unable to download {what}",
            f"Reading {path} failed: {e.strerror or e}.",
            "Check that the mirror directory holds the file and is readable by the build user.",
        ) from e
    return digest.hexdigest()


def _fetch_with_retries(url: str, dest: Path, what: str, log: Logger) -> str:
    import requests  # imported here: detect never needs it, and it is slow to import

    problem = ""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _fetch_once(url, dest, what, log)
        except _Retryable as e:
            problem = str(e)
        except requests.exceptions.SSLError as e:
            # Not transient: retrying cannot fix an untrusted certificate.
            raise UserError(
                f"Unable to download {what}",
                f"The TLS certificate of {url} could not be verified: {e}",
                "Behind a TLS-inspecting proxy, pass its CA bundle to the build: "
                "`pack build --env SSL_CERT_FILE=/path/ca.pem` (or REQUESTS_CA_BUNDLE), with the "
                "file readable in the build container.",
            ) from e
        except requests.RequestException as e:
            problem = type(e).__name__ + (f": {e}" if str(e) else "")
        if attempt < ATTEMPTS:
            delay = BACKOFF_SECONDS * 2 ** (attempt - 1)
            log.detail(
                f"Attempt {attempt} of {ATTEMPTS} failed ({log.redact(problem)}); "
                f"retrying in {delay:g}s"
            )
            time.sleep(delay)
    raise UserError(
        f"Unable to download {what}",
        f"Downloading {url} failed {ATTEMPTS} times. The last problem: {problem}",
        "Check the network and proxy settings of the build (HTTPS_PROXY, and SSL_CERT_FILE for "
        "a TLS-inspecting proxy), or set BP_DEPENDENCY_MIRROR to a reachable mirror, then retry.",
    )


def _fetch_once(url: str, dest: Path, what: str, log: Logger) -> str:
    import requests

    with requests.get(
        url, stream=True, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT), verify=tls_verify()
    ) as response:
        if response.status_code >= 500 or response.status_code == 429:
            raise _Retryable(f"HTTP {response.status_code}")
        if response.status_code != 200:
            raise UserError(
                f"Unable to download {what}",
                f"{url} answered HTTP {response.status_code} {response.reason}.",
                "If a mirror or dependency-mapping binding is set, check that it serves this file; "
                "otherwise the file may have moved: use a newer buildpack version.",
            )
        total = int(response.headers.get("Content-Length") or 0)
        if total:
            log.detail(f"Size {format_size(total)}")
        digest = hashlib.sha256()
        received = 0
        last_report = time.monotonic()
        with dest.open("wb") as out:
            for chunk in response.iter_content(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                received += len(chunk)
                if time.monotonic() - last_report >= PROGRESS_INTERVAL:
                    last_report = time.monotonic()
                    share = (
                        f" of {format_size(total)} ({100 * received // total}%)" if total else ""
                    )
                    log.detail(f"Received {format_size(received)}{share}")
        if total and received != total and "Content-Encoding" not in response.headers:
            raise _Retryable(f"connection closed after {received} of {total} bytes")
        return digest.hexdigest()
