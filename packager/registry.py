"""Push buildpackages to an OCI registry over the distribution API (v2), with no pack or Docker:
blobs first (a HEAD says whether the registry has one already, and then it is not sent again),
then each image manifest by digest, then the tag: on the one manifest, or on an OCI image index
of them all when there are several arches (as pack's CreateManifest does).

Credentials come from the Docker config: $DOCKER_CONFIG/config.json, else ~/.docker/config.json,
`auths.<registry>.auth` (base64 of user:password) or its `username`/`password`. They answer a
Basic challenge, or buy a Bearer token from the challenge's realm. They never reach the log.
Registries on a loopback address are spoken to over plain HTTP (as Docker allows), others HTTPS.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from cnb_python.errors import UserError
from cnb_python.log import Logger, format_size
from packager.oci import OCI_INDEX, OCI_MANIFEST, ManifestRef, image_index
from packager.reader import Package

_REFERENCE = re.compile(
    r"^(?P<registry>[^/]+)/(?P<repository>[a-z0-9]+(?:[._/-][a-z0-9]+)*)(?::(?P<tag>[\w][\w.-]{0,127}))?$"
)
_LOOPBACK = re.compile(r"^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$")
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')
TIMEOUT = 60


@dataclass(frozen=True)
class Reference:
    registry: str
    repository: str
    tag: str

    @classmethod
    def parse(cls, text: str) -> Reference:
        match = _REFERENCE.match(text)
        if not match or not ("." in match["registry"] or ":" in match["registry"]
                             or match["registry"] == "localhost"):  # fmt: skip
            raise UserError(
                "Not an image reference to publish to",
                f"--publish {text!r} is not REGISTRY/NAME[:TAG] (a registry host, a lowercase "
                "repository name and an optional tag).",
                "Name the registry host, e.g. --publish registry.example.com/cnb/python:0.1.0.",
            )
        return cls(match["registry"], match["repository"], match["tag"] or "latest")

    def __str__(self) -> str:
        return f"{self.registry}/{self.repository}:{self.tag}"


@dataclass
class PushResult:
    digest: str  # what the tag points at: the manifest, or the index
    media_type: str
    uploaded: int = 0
    present: int = 0


def docker_credentials(registry: str, env: Mapping[str, str]) -> tuple[str, str] | None:
    """(user, password) for `registry` from the Docker config, or None when it has none."""
    directory = Path(env["DOCKER_CONFIG"]) if env.get("DOCKER_CONFIG") else Path.home() / ".docker"
    path = directory / "config.json"
    if not path.is_file():
        return None
    try:
        config = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise UserError(
            "Unreadable Docker config",
            f"{path} is not valid JSON ({e}).",
            "Fix the file, or point DOCKER_CONFIG at a directory whose config.json is valid.",
        ) from None
    auths = config.get("auths") or {}
    for key, entry in auths.items():
        host = re.sub(r"^https?://", "", key).split("/", 1)[0]
        if host != registry:
            continue
        if entry.get("auth"):
            try:
                user, sep, password = base64.b64decode(entry["auth"]).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                sep = ""
            if not sep:
                raise UserError(
                    "Unreadable Docker credentials",
                    f"{path}: auths.{key}.auth is not base64 of user:password.",
                    "Log in again, or write base64 of 'user:password' there.",
                )
            return user, password
        if entry.get("username"):
            return entry["username"], entry.get("password", "")
    helper = (config.get("credHelpers") or {}).get(registry) or config.get("credsStore")
    if helper:
        raise UserError(
            "Docker credential helpers are not supported",
            f"{path} keeps the credentials for {registry} in the '{helper}' helper, which this "
            "script does not run.",
            f"Add an auths entry for {registry} with its base64 'auth' to a config.json of its "
            "own and point DOCKER_CONFIG at that directory.",
        )
    return None


class Registry:
    """One repository of one registry, with the credentials it asks for."""

    def __init__(self, ref: Reference, env: Mapping[str, str], log: Logger) -> None:
        scheme = "http" if _LOOPBACK.match(ref.registry) else "https"
        self.base = f"{scheme}://{ref.registry}/v2/{ref.repository}"
        self.ref = ref
        self.log = log
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy or netrc of this machine decides the target
        self._credentials = docker_credentials(ref.registry, env)
        if self._credentials:
            user, password = self._credentials
            for secret in (password, base64.b64encode(f"{user}:{password}".encode()).decode()):
                log.add_secret(secret)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = path if path.startswith("http") else f"{self.base}/{path}"
        try:
            response = self.session.request(method, url, timeout=TIMEOUT, **kwargs)
            if response.status_code == 401 and self._authenticate(response):
                if "data" in kwargs and hasattr(kwargs["data"], "seek"):
                    kwargs["data"].seek(0)
                response = self.session.request(method, url, timeout=TIMEOUT, **kwargs)
        except requests.RequestException as e:
            raise UserError(
                "Cannot reach the registry",
                f"{method} {self.ref.registry} failed: {type(e).__name__}.",
                "Check the registry address and that it is running and reachable from here.",
            ) from None
        if response.status_code == 401:
            who = "the credentials in the Docker config" if self._credentials else "no credentials"
            raise UserError(
                "The registry refused the credentials",
                f"{self.ref.registry} answered 401 Unauthorized to {method} with {who}.",
                f"Log in to {self.ref.registry} (the auths entry of $DOCKER_CONFIG/config.json or "
                "~/.docker/config.json) with an account that may push to "
                f"{self.ref.repository}.",
            )
        return response

    def _authenticate(self, response: requests.Response) -> bool:
        """Answer a 401's challenge; False when there is nothing to answer with."""
        challenge = response.headers.get("WWW-Authenticate", "")
        scheme, _, params_text = challenge.partition(" ")
        params = dict(_CHALLENGE_PARAM.findall(params_text))
        if scheme.lower() == "basic":
            if not self._credentials or self.session.auth:
                return False
            self.session.auth = self._credentials
            return True
        if scheme.lower() != "bearer" or "realm" not in params:
            return False
        query = {k: v for k, v in params.items() if k in ("service", "scope")}
        query.setdefault("scope", f"repository:{self.ref.repository}:pull,push")
        token = self.session.get(
            params["realm"], params=query, auth=self._credentials, timeout=TIMEOUT
        )
        if token.status_code != 200:
            return False
        body = token.json()
        value = body.get("token") or body.get("access_token")
        if not value:
            return False
        self.log.add_secret(value)
        self.session.auth = None
        self.session.headers["Authorization"] = f"Bearer {value}"
        return True

    def has_blob(self, digest: str) -> bool:
        response = self.request("HEAD", f"blobs/{digest}")
        if response.status_code not in (200, 404):
            self._fail("HEAD", f"blobs/{digest}", response)
        return response.status_code == 200

    def upload_blob(self, digest: str, size: int, data: Any) -> None:
        start = self.request("POST", "blobs/uploads/")
        if start.status_code != 202 or "Location" not in start.headers:
            self._fail("POST", "blobs/uploads/", start)
        location = requests.compat.urljoin(self.base + "/", start.headers["Location"])
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        done = self.request("PUT", location, params={"digest": digest}, data=data, headers=headers)
        if done.status_code != 201:
            self._fail("PUT", "blob upload", done)

    def put_manifest(self, reference: str, media_type: str, data: bytes) -> str:
        """Store `data` under `reference`; return its digest, checked against the registry's."""
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        response = self.request(
            "PUT", f"manifests/{reference}", data=data, headers={"Content-Type": media_type}
        )
        if response.status_code != 201:
            self._fail("PUT", f"manifests/{reference}", response)
        stored = response.headers.get("Docker-Content-Digest", digest)
        if stored != digest:
            raise UserError(
                "The registry changed the manifest",
                f"{self.ref.registry} stored {reference} as {stored}, not as {digest}.",
                "Use a registry that stores manifests as they are sent (OCI distribution).",
            )
        return digest

    def get_manifest(self, reference: str) -> tuple[bytes, str, str]:
        """The manifest or index `reference` names: its bytes, media type and digest."""
        accept = ", ".join((OCI_MANIFEST, OCI_INDEX))
        response = self.request("GET", f"manifests/{reference}", headers={"Accept": accept})
        if response.status_code != 200:
            self._fail("GET", f"manifests/{reference}", response)
        return (
            response.content,
            response.headers.get("Content-Type", ""),
            response.headers.get("Docker-Content-Digest", ""),
        )

    def _fail(self, method: str, what: str, response: requests.Response) -> None:
        errors = ""
        with contextlib.suppress(ValueError):
            errors = "; ".join(
                f"{e.get('code')}: {e.get('message')}" for e in response.json().get("errors", [])
            )
        raise UserError(
            "The registry refused the push",
            f"{method} {what} on {self.ref.registry}/{self.ref.repository} answered "
            f"{response.status_code} {response.reason}" + (f" ({errors})." if errors else "."),
            "Check that the repository name is allowed there and that the account may push to it.",
        )


def publish(
    packages: list[Package], ref: Reference, env: Mapping[str, str], log: Logger
) -> PushResult:
    """Push every image of `packages` and tag the one manifest, or an index of them all."""
    registry = Registry(ref, env, log)
    images = [(package, image) for package in packages for image in package.images]
    result = PushResult("", OCI_MANIFEST)
    for package, image in images:
        log.section(f"Pushing {image.os}/{image.arch} ({image.manifest_digest})")
        for digest in image.blobs[:-1]:
            size = package.blob_size(digest)
            if registry.has_blob(digest):
                log.step(f"{digest[:19]}: already in the registry")
                result.present += 1
                continue
            with package.open_blob(digest) as data:
                registry.upload_blob(digest, size, data)
            log.step(f"{digest[:19]}: uploaded ({format_size(size)})")
            result.uploaded += 1
        registry.put_manifest(
            image.manifest_digest, OCI_MANIFEST, package.read_blob(image.manifest_digest)
        )
    if len(images) == 1:
        package, image = images[0]
        manifest = package.read_blob(image.manifest_digest)
        result.digest = registry.put_manifest(ref.tag, OCI_MANIFEST, manifest)
    else:
        refs = [ManifestRef(i.manifest_digest, i.manifest_size, i.arch, i.os) for _, i in images]
        result.media_type = OCI_INDEX
        result.digest = registry.put_manifest(ref.tag, OCI_INDEX, image_index(refs))
    return result
