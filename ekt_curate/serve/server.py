"""run_server: the sandbox, the judge and the application under uvicorn, until SIGTERM or Ctrl-C.

SIGTERM (Kubernetes, Slurm, systemd) stops accepting connections at once, gives the requests
already accepted ``drain_seconds`` to be answered, then stops the sandbox and exits 0.
"""

from __future__ import annotations

import logging
import socket
import sys

from ekt_curate.errors import EktError, Terminated
from ekt_curate.serve.settings import ServeSettings


def run_server(settings: ServeSettings) -> int:
    import uvicorn

    from ekt_curate.judge import Judge
    from ekt_curate.sandbox import Sandbox
    from ekt_curate.sandbox.shared import SharedSandbox
    from ekt_curate.serve.app import create_app

    token = settings.token()
    _raise_descriptor_limit()
    listener = _listen(settings.host, settings.port)  # before the sandbox: a taken port is one line, at once
    shared = SharedSandbox(Sandbox(settings.policy, workers=settings.workers))
    judge = None
    try:
        shared.start()
        judge = Judge(shared, settings.checker, settings.rel_tol, settings.gold_precision,
                      warn=logging.getLogger("ekt_curate.serve").warning, compare=settings.compare,
                      case_seconds=settings.case_seconds)
        app = create_app(settings, shared, judge, token)
        stopping = app.app.state.stopping
        # h11, not httptools: it bounds a request's headers (httptools takes any size); uvicorn
        # answers 503 past limit_concurrency connections and tasks, before we run out of descriptors
        config = uvicorn.Config(app, lifespan="off", access_log=False, log_level="warning", http="h11",
                                h11_max_incomplete_event_size=64 * 1024,
                                limit_concurrency=settings.max_queue * 4 + 256,
                                timeout_graceful_shutdown=int(settings.drain_seconds) + 5)
        host, port = listener.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        print(f"ekt-curate serve: listening on http://{shown}:{port} ({shared.sandbox.workers} sandbox workers, "
              f"policy {shared.policy.name}{', bearer token required' if token else ''})", file=sys.stderr, flush=True)
        try:
            _Server(config, stopping.begin).run(sockets=[listener])
        except Terminated:  # uvicorn drained, then passed SIGTERM on: the stop we were asked for
            pass
        print("ekt-curate serve: stopped" + (f"; {stopping.cut} requests still running at the drain limit "
              f"(--drain-seconds {settings.drain_seconds:g}) were answered 503" if stopping.cut else ""),
              file=sys.stderr, flush=True)
        return 0
    finally:
        listener.close()
        if judge is not None:
            judge.close()
        shared.close()


def _server_class() -> type:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, telling the application when SIGTERM (or Ctrl-C) starts the drain."""

        def __init__(self, config: object, on_stop: object):
            super().__init__(config)
            self._on_stop = on_stop

        def handle_exit(self, sig: int, frame: object) -> None:
            self._on_stop()  # type: ignore[operator]
            super().handle_exit(sig, frame)  # type: ignore[arg-type]

    return Server


def _Server(config: object, on_stop: object) -> object:  # noqa: N802 - a class, made when uvicorn is imported
    return _server_class()(config, on_stop)


def _raise_descriptor_limit() -> None:
    """Each connection and each running program holds descriptors: take the hard limit."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 1 << 20 if hard == resource.RLIM_INFINITY else min(hard, 1 << 20)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        raise EktError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
