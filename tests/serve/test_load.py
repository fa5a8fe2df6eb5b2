"""Load, bounded (64 clients for a few seconds, loopback): every response comes back exactly
once, with its own program's output; the same load code as benchmarks/bench_serve.py."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import bench_serve  # noqa: E402 - the benchmark's load client, not a copy of it

PROGRAMS = ["answer = 6 * 7", "x = [i * i for i in range(100)]\nprint(sum(x))", "raise ValueError('boom')",
            "import math\nprint(math.factorial(20))", "x = ("]


def test_64_clients_get_every_answer_once(server):
    report = asyncio.run(bench_serve.load(server.url, PROGRAMS, clients=64, seconds=3, path="/run_code", batch=1))
    assert report["requests"] > 64 and report["errors"] == []
    assert report["lost"] == 0 and report["wrong_or_duplicated"] == 0


def test_verify_batches_under_load_keep_each_sample_with_its_verdict(server):
    report = asyncio.run(bench_serve.load(server.url, PROGRAMS, clients=8, seconds=3, path="/verify", batch=16))
    assert report["requests"] >= 8 and report["errors"] == []
    assert report["lost"] == 0 and report["wrong_or_duplicated"] == 0
