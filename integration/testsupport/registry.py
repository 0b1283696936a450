"""A real OCI registry for the publishing tests: Debian's docker-registry (distribution 2.8,
installed by scripts/dev-setup), run on 127.0.0.1 on a free port with its own config file,
htpasswd users and storage in a temp dir, and stopped on exit. Not the packaged systemd service.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

STARTUP_SECONDS = 30


class LocalRegistry:
    def __init__(self, root: Path, port: int, users: dict[str, str]) -> None:
        self.root = root
        self.host = f"127.0.0.1:{port}"
        self.users = users
        self.log_path = root / "registry.log"
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LocalRegistry:
        binary = shutil.which("docker-registry")
        htpasswd = shutil.which("htpasswd")
        if not binary or not htpasswd:
            raise RuntimeError(
                "docker-registry and htpasswd are missing: scripts/dev-setup installs them "
                "(apt-get install docker-registry apache2-utils)"
            )
        self.root.mkdir(parents=True, exist_ok=True)
        lines = [
            subprocess.run(
                [htpasswd, "-nbB", user, password], check=True, capture_output=True, text=True
            ).stdout.strip()
            for user, password in self.users.items()
        ]
        (self.root / "htpasswd").write_text("\n".join(lines) + "\n")
        config = self.root / "config.yml"
        config.write_text(
            "version: 0.1\n"
            "log:\n  level: info\n  accesslog:\n    disabled: false\n"
            f"storage:\n  filesystem:\n    rootdirectory: {self.root / 'storage'}\n"
            f"http:\n  addr: {self.host}\n"
            f"auth:\n  htpasswd:\n    realm: cnb-python-tests\n    path: {self.root / 'htpasswd'}\n"
        )
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT
            )
        self._wait_until_up()
        return self

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"docker-registry exited: {self.log_path.read_text()}")
            try:
                urllib.request.urlopen(f"http://{self.host}/v2/", timeout=2)
                return
            except urllib.error.HTTPError:
                return  # 401: up, and asking for credentials
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"docker-registry did not answer on {self.host} in {STARTUP_SECONDS}s")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def blob_uploads(self) -> int:
        """How many blob uploads the registry has started (its access log's POSTs)."""
        return sum(
            1
            for line in self.log().splitlines()
            if '"POST /v2/' in line and "/blobs/uploads/" in line
        )
