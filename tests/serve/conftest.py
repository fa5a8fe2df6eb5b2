"""A real `ekt-curate serve` on 127.0.0.1, started as users start it (a subprocess), its port
read from the line it prints; stopped with SIGTERM, which must end it with exit code 0."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.stages.conftest import fast_policy_file  # noqa: F401 - the stages' policy file, by its name here

LISTENING = re.compile(r"listening on (http://\S+)")


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path
    token: str | None = None

    def post(self, path: str, body: object, token: str | None = "default", timeout: float = 60.0,
             raw: bytes | None = None) -> tuple[int, dict]:
        """(HTTP status, JSON body) of a POST, as any client would see them."""
        token = self.token if token == "default" else token
        headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
        data = raw if raw is not None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            text = exc.read()
            return exc.code, (json.loads(text) if text else {}) | {"_headers": {key.lower(): value for key, value in exc.headers.items()}}

    def get(self, path: str) -> tuple[int, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        with urllib.request.urlopen(urllib.request.Request(self.url + path, headers=headers), timeout=30) as response:
            return response.status, response.read().decode()

    def stop(self, timeout: float = 60.0) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)


def start_server(tmp_path: Path, *args: str, token: str | None = None, env: dict | None = None,
                 preexec_fn=None) -> Server:
    log = tmp_path / f"serve-{time.monotonic_ns()}.log"
    handle = log.open("w")
    process = subprocess.Popen([sys.executable, "-m", "ekt_curate", "serve", "--port", "0", *args],
                               stdout=handle, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
                               preexec_fn=preexec_fn)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = LISTENING.search(log.read_text())
        if found:
            return Server(found.group(1), process, log, token)
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}: {log.read_text()}")
        time.sleep(0.05)
    process.kill()
    raise AssertionError(f"the server did not start: {log.read_text()}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, fast_policy_file: Path) -> Iterator[Server]:  # noqa: F811
    """One server for a module's tests: 2 workers, the fast policy (2 s wall, 1 s CPU)."""
    running = start_server(tmp_path_factory.mktemp("serve"), "--workers", "2", "--policy", str(fast_policy_file))
    yield running
    assert running.stop() == 0, running.log.read_text()
