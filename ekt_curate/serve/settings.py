"""What a server is started with, checked before it binds (one line and exit 2 for a bad value)."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from ekt_curate.errors import EktError
from ekt_curate.judge import check_options
from ekt_curate.judge.output_match import COMPARE_MODES
from ekt_curate.judgement.compare import DEFAULT_REL_TOL

LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True)
class ServeSettings:
    host: str = "127.0.0.1"
    port: int = 8080                  # SandboxFusion clients' default endpoint is localhost:8080
    workers: int | None = None        # sandbox workers (default: all cores)
    policy: str = "default"
    token_file: Path | None = None    # bearer token; required to bind anything but loopback
    max_queue: int = 256              # requests admitted at once (running or waiting for a worker)
    queue_wait: float = 0.0           # seconds a request over max_queue waits for room before its 429
    max_batch: int = 1024             # samples in one /verify or /get_reward request
    max_body_bytes: int = 32 << 20    # request body; over it: 413
    body_seconds: float = 30.0        # a client that has not sent its whole body by then: 408
    deadline: float = 300.0           # a request not answered by then: 504 (verl retries 504)
    drain_seconds: float = 30.0       # on SIGTERM, time for accepted requests to be answered
    checker: str = "strict"
    rel_tol: float = DEFAULT_REL_TOL
    gold_precision: str = "auto"
    compare: str = "lines"
    case_seconds: float | None = None

    def __post_init__(self) -> None:
        check_options(self.rel_tol, self.gold_precision, self.checker)
        if self.compare not in COMPARE_MODES:
            raise EktError(f"--compare must be one of {', '.join(COMPARE_MODES)}, got {self.compare!r}")
        if not 0 <= self.port <= 65535:
            raise EktError(f"--port must be from 0 to 65535, got {self.port}")
        for name in ("max_queue", "max_batch", "max_body_bytes"):
            if getattr(self, name) < 1:
                raise EktError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}")
        for name in ("queue_wait", "body_seconds", "deadline", "drain_seconds"):
            if not getattr(self, name) >= 0:
                raise EktError(f"--{name.replace('_', '-')} must be a number of seconds >= 0")
        if self.workers is not None and self.workers < 1:
            raise EktError(f"--workers must be at least 1, got {self.workers}")
        if self.token_file is None and not is_loopback(self.host):
            raise EktError(f"--host {self.host} is reachable from other machines: give --token-file FILE "
                           f"(a bearer token clients send as 'Authorization: Bearer ...'); without a token "
                           f"the server binds only to 127.0.0.1")

    def token(self) -> str | None:
        """The bearer token, read once at start; an unreadable, empty or world-readable file is an error."""
        if self.token_file is None:
            return None
        try:
            text = self.token_file.read_text(encoding="utf-8").strip()
            mode = self.token_file.stat().st_mode
        except (OSError, UnicodeDecodeError) as exc:
            raise EktError(f"--token-file {self.token_file}: cannot be read ({exc})") from None
        if not text or len(text) < 16:
            raise EktError(f"--token-file {self.token_file}: the token must be at least 16 characters "
                           f"(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))' > {self.token_file})")
        if mode & 0o004 and os.name == "posix":
            raise EktError(f"--token-file {self.token_file} is readable by every user: chmod 600 it")
        return text


def is_loopback(host: str) -> bool:
    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
