"""SandboxFusion's /run_code, called by SandboxFusion's own PyPI client (sandbox-fusion), in a
process whose SANDBOX_FUSION_ENDPOINT points at the server, as its users configure it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CLIENT = Path(__file__).with_name("sandbox_fusion_client.py")


def client(server, *args: str) -> list[dict]:
    pytest.importorskip("sandbox_fusion")
    done = subprocess.run([sys.executable, str(CLIENT), *args], capture_output=True, text=True, timeout=240,
                          env={**os.environ, "SANDBOX_FUSION_ENDPOINT": server.url})
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def check_cases(responses: list[dict]) -> None:
    echo, exited, raised, looped, with_files, network, cpp = responses
    assert echo["status"] == "Success" and echo["run_result"]["stdout"] == "olleh\n"
    assert echo["run_result"]["status"] == "Finished" and echo["run_result"]["return_code"] == 0
    assert exited["status"] == "Failed" and exited["run_result"]["return_code"] == 3
    assert exited["run_result"]["stdout"] == "partial\n" and exited["run_result"]["status"] == "Finished"
    assert raised["status"] == "Failed" and raised["run_result"]["return_code"] == 1
    stderr = raised["run_result"]["stderr"]
    assert stderr.startswith("Traceback") and 'File "<program>", line 2, in f' in stderr
    assert stderr.endswith("ZeroDivisionError: division by zero\n") and "ekt_curate" not in stderr
    assert looped["status"] == "Failed" and looped["run_result"]["status"] == "TimeLimitExceeded"
    assert looped["run_result"]["return_code"] is None and looped["run_result"]["execution_time"] < 1.9
    assert with_files["status"] == "Success" and with_files["run_result"]["stdout"] == "FROM A FILE\n"
    assert with_files["files"] == {"out.txt": "d3JpdHRlbg=="}  # base64 of 'written'
    assert network["status"] == "Failed" and "connected" not in network["run_result"]["stdout"]
    assert "PermissionError" in network["run_result"]["stderr"]
    assert cpp["status"] == "Failed" and cpp["run_result"] is None and "Python" in cpp["message"]


def test_the_sandbox_fusion_client_runs_code(server):
    check_cases(client(server, "sync"))


def test_the_async_client_runs_them_all_at_once(server):
    check_cases(client(server, "async"))


def test_run_concurrent_gets_every_answer_once_and_in_order(server):
    responses = client(server, "concurrent", "96")
    assert [r["run_result"]["stdout"] for r in responses] == [f"{i * i}\n" for i in range(96)]
    assert all(r["status"] == "Success" for r in responses)


def test_unknown_fields_are_accepted_and_bad_ones_named(server):
    status, body = server.post("/run_code", {"code": "print(1)", "language": "python", "a_later_field": [1]})
    assert status == 200 and body["run_result"]["stdout"] == "1\n"
    status, body = server.post("/run_code", {"code": "print(1)", "language": "python", "run_timeout": "soon"})
    assert status == 422 and body["detail"].startswith("body.run_timeout:")
    status, body = server.post("/run_code", {"code": "print(1)", "language": "python", "files": {"../x": "eA=="}})
    assert status == 422 and body["detail"].startswith("body.files.../x:")
    status, body = server.post("/run_code", {"code": "print(1)", "language": "python", "files": {"x": "not base64!"}})
    assert status == 422 and "base64" in body["detail"]


def test_a_program_flooding_stdout_is_cut_at_the_policy_limit(server):
    status, body = server.post("/run_code", {"code": "while True:\n    print('x' * 10000)", "language": "python"})
    assert status == 200 and body["status"] == "Failed"
    assert "output" in body["message"] and len(body["run_result"]["stdout"]) <= 1 << 20


def test_ping_health_and_metrics(server):
    assert server.get("/v1/ping") == (200, '"pong"')
    status, text = server.get("/health")
    health = json.loads(text)
    assert status == 200 and health["status"] == "ok" and health["workers"] == 2 and "layers" not in health  # no token needed: says little
    server.post("/run_code", {"code": "print(1)", "language": "python"})
    status, text = server.get("/metrics")
    assert 'ekt_requests_total{code="200",endpoint="run_code"}' in text
    assert 'ekt_verdicts_total{endpoint="run_code",status="ok"}' in text
    assert "ekt_request_seconds_bucket" in text and "ekt_queue_depth" in text and "ekt_requests_in_flight" in text
