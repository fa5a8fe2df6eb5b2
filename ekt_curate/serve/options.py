"""`ekt-curate serve`'s command-line options (argparse only, so `--help` imports nothing heavy)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path


def add_serve_parser(sub: argparse._SubParsersAction, epilog: str, handler: Callable[..., int]) -> None:
    p = sub.add_parser(
        "serve", help="the verifier over HTTP for RL trainers: SandboxFusion's /run_code, /verify, OpenRLHF's "
                      "/get_reward",
        description="Serve the sandbox and the judge over HTTP. POST /run_code speaks SandboxFusion's API (verl's "
                    "sandbox_fusion reward, the sandbox-fusion client: point SANDBOX_FUSION_ENDPOINT here); POST "
                    "/verify takes samples as `ekt-curate verify` reads them and answers verdicts and rewards; "
                    "POST /get_reward is OpenRLHF's remote reward (--remote_rm_url http://HOST:PORT/get_reward); "
                    "GET /health, /v1/ping, /metrics (Prometheus). Binds 127.0.0.1 unless --host and "
                    "--token-file are given. SIGTERM drains and exits 0.",
        epilog=epilog)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1; any other needs "
                                                       "--token-file)")
    p.add_argument("--port", type=int, default=8080, help="port (default: 8080, SandboxFusion clients' default; "
                                                         "0 picks a free one, printed at start)")
    p.add_argument("--workers", type=int, metavar="N", help="sandbox workers (default: all cores)")
    p.add_argument("--policy", default="default", help="sandbox policy, by name or TOML path (default: default)")
    p.add_argument("--token-file", type=Path, metavar="FILE",
                   help="bearer token clients must send ('Authorization: Bearer TOKEN'); chmod 600")
    p.add_argument("--max-queue", type=int, default=256, metavar="N",
                   help="requests admitted at once; more get 429 with Retry-After (default: 256)")
    p.add_argument("--queue-wait", type=float, default=0.0, metavar="SECONDS",
                   help="how long a request over --max-queue waits for room before its 429 (default: 0; "
                        "verl does not retry 429: see the README)")
    p.add_argument("--max-batch", type=int, default=1024, metavar="N",
                   help="samples in one /verify or /get_reward request (default: 1024)")
    p.add_argument("--max-body-bytes", type=int, default=32 << 20, metavar="N",
                   help="largest request body, else 413 (default: 32 MiB)")
    p.add_argument("--body-seconds", type=float, default=30.0, metavar="SECONDS",
                   help="a request body not received by then is refused with 408 (default: 30)")
    p.add_argument("--deadline", type=float, default=300.0, metavar="SECONDS",
                   help="a request not answered by then is cancelled and gets 504 (default: 300)")
    p.add_argument("--drain-seconds", type=float, default=30.0, metavar="SECONDS",
                   help="on SIGTERM, time for accepted requests to finish (default: 30)")
    judging = p.add_argument_group("judging (/verify and /get_reward; as for verify)")
    judging.add_argument("--checker", default="strict", choices=("strict", "math-verify"))
    judging.add_argument("--compare", default="lines", choices=("exact", "lines", "tokens"),
                         help="code tests' printed output (default: lines)")
    judging.add_argument("--case-seconds", type=float, metavar="SECONDS", help="code tests: a case's time limit")
    p.set_defaults(handler=handler)
