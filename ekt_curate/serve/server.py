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
    listener = _listen(settings.host, settings.port)  # before the sandbox: a taken port is one line, at once
    shared = SharedSandbox(Sandbox(settings.policy, workers=settings.workers))
    judge = None
    try:
        shared.start()
        judge = Judge(shared, settings.checker, settings.rel_tol, settings.gold_precision,
                      warn=logging.getLogger("ekt_curate.serve").warning, compare=settings.compare,
                      case_seconds=settings.case_seconds)
        app = create_app(settings, shared, judge, token)
        config = uvicorn.Config(app, lifespan="off", access_log=False, log_level="warning",
                                timeout_graceful_shutdown=int(settings.drain_seconds) or None)
        host, port = listener.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        print(f"ekt-curate serve: listening on http://{shown}:{port} ({shared.sandbox.workers} sandbox workers, "
              f"policy {shared.policy.name}{', bearer token required' if token else ''})", file=sys.stderr, flush=True)
        try:
            uvicorn.Server(config).run(sockets=[listener])
        except Terminated:  # uvicorn drained, then passed SIGTERM on: the stop we were asked for
            pass
        unanswered = app.app.state.admission.admitted
        print("ekt-curate serve: stopped" + (f"; {unanswered} requests were still running at the drain limit "
              f"({settings.drain_seconds:g} s, --drain-seconds)" if unanswered else ""), file=sys.stderr, flush=True)
        return 0
    finally:
        listener.close()
        if judge is not None:
            judge.close()
        shared.close()


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        raise EktError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
