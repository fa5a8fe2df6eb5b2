"""The server under faults, on 127.0.0.1: tokens, oversized and malformed bodies, a client that
trickles its body or goes away, a full queue, a deadline, attackers beside honest programs in
one batch, and SIGTERM while requests run (each accepted one answered, exit 0)."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit

import pytest

from tests.sandbox.hostile_programs import HOSTILE
from tests.serve.conftest import start_server

TOKEN = "a-test-token-0123456789abcdef"
SLEEPER = "import time\ntime.sleep(30)\nprint('woke')"


@pytest.fixture(scope="module")
def tight(tmp_path_factory):
    """A server with a token and small bounds; a 20 s wall clock, so a sleeper holds its worker."""
    folder = tmp_path_factory.mktemp("tight")
    token = folder / "token"
    token.write_text(TOKEN + "\n")
    token.chmod(0o600)
    policy = folder / "slow.toml"
    policy.write_text('name = "long-wall"\n[limits]\nwall_seconds = 20.0\ncpu_seconds = 1\n')
    running = start_server(folder, "--workers", "2", "--policy", str(policy), "--token-file", str(token),
                           "--max-queue", "2", "--max-body-bytes", "4096", "--max-batch", "4",
                           "--body-seconds", "1", "--deadline", "3", token=TOKEN)
    yield running
    assert running.stop() == 0, running.log.read_text()


def test_a_missing_or_wrong_token_is_401_and_the_right_one_works(tight):
    program = {"code": "print(1)", "language": "python"}
    status, body = tight.post("/run_code", program, token=None)
    assert status == 401 and "bearer token" in body["detail"]
    assert tight.post("/run_code", program, token="wrong-token-wrong-token")[0] == 401
    assert tight.post("/run_code", program)[0] == 200
    assert tight.get("/v1/ping")[0] == 200  # liveness probes need no token


def test_bodies_over_the_limit_malformed_or_mistyped(tight):
    status, body = tight.post("/run_code", {"code": "x" * 5000, "language": "python"})
    assert status == 413 and "--max-body-bytes" in body["detail"]
    # chunked, so no Content-Length to refuse it by: counted as it arrives
    host, port = urlsplit(tight.url).hostname, urlsplit(tight.url).port
    connection = http.client.HTTPConnection(host, port, timeout=30)
    chunks = iter([b'{"code": "', b"x" * 3000, b"y" * 3000, b'", "language": "python"}'])
    connection.request("POST", "/run_code", body=chunks, encode_chunked=True,
                       headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
    assert connection.getresponse().status == 413
    status, body = tight.post("/run_code", None, raw=b'{"code": "print(1)", "language": ')
    assert status == 400 and "JSON" in body["detail"]
    status, body = tight.post("/verify", {"samples": "all of them"})
    assert status == 422 and body["detail"].startswith("body.samples:") and "all of them" not in json.dumps(body)
    status, body = tight.post("/verify", {"samples": [{"task_id": str(i)} for i in range(5)]})
    assert status == 413 and "--max-batch" in body["detail"]


def test_a_client_that_trickles_its_body_gets_408(tight):
    address = urlsplit(tight.url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as conn:
        conn.sendall(b"POST /run_code HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Authorization: Bearer " + TOKEN.encode() + b"\r\nContent-Length: 100\r\n\r\n{\"code\"")
        reply = conn.recv(4096)
    assert reply.startswith(b"HTTP/1.1 408")


def test_a_full_queue_is_429_with_retry_after_and_a_deadline_is_504(tight):
    answers: list = []
    holders = [threading.Thread(target=lambda: answers.append(tight.post("/run_code", {"code": SLEEPER,
                                                                                         "language": "python"})))
               for _ in range(2)]
    for holder in holders:
        holder.start()
    time.sleep(0.5)
    status, body = tight.post("/run_code", {"code": "print(1)", "language": "python"})
    assert status == 429 and body["_headers"]["retry-after"] == "1"
    for holder in holders:
        holder.join(30)
    assert [status for status, _ in answers] == [504, 504]  # --deadline 3: cancelled, not run to 30 s
    started = time.monotonic()
    assert tight.post("/run_code", {"code": "print(2)", "language": "python"})[1]["run_result"]["stdout"] == "2\n"
    assert time.monotonic() - started < 2  # the sleepers were killed with their requests


def test_a_client_that_goes_away_frees_its_workers(tight):
    address = urlsplit(tight.url)
    for _ in range(2):  # both workers
        conn = socket.create_connection((address.hostname, address.port), timeout=10)
        body = json.dumps({"code": SLEEPER, "language": "python"}).encode()
        conn.sendall(b"POST /run_code HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer "
                     + TOKEN.encode() + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        time.sleep(0.2)
        conn.close()
    started = time.monotonic()
    status, body = tight.post("/run_code", {"code": "print(3)", "language": "python"})
    assert status == 200 and body["run_result"]["stdout"] == "3\n"
    assert time.monotonic() - started < 2.5
    _, metrics = tight.get("/metrics")
    assert 'ekt_requests_total{code="499",endpoint="run_code"} 2.0' in metrics


def test_attackers_in_a_batch_leave_the_honest_samples_passing(server):
    groups = ("infinite loop", "memory bomb", "fork bomb", "output flood", "kill", "forged verdict",
              "forged equality", "early exit", "crash")
    attacks = [code.format(marker="/tmp/ekt-serve-marker", port=1, udp_port=1, unix_path="/tmp/x",
                           secret_path="/etc/hostname", gold=1234567)  # never the samples' gold
               for group, _, code, _ in HOSTILE if group in groups]
    samples = []
    for index, attack in enumerate(attacks):
        samples.append({"task_id": f"attack/{index}", "completion": attack, "gold": 42})
        samples.append({"task_id": f"honest/{index}", "completion": f"answer = 6 * 7 + {index} - {index}", "gold": 42})
    status, answer = server.post("/verify", {"samples": samples}, timeout=300)
    assert status == 200
    results = answer["results"]
    assert all(r["verdict"]["passed"] for r in results[1::2])
    assert not any(r["verdict"]["passed"] for r in results[0::2])
    assert not os.path.exists("/tmp/ekt-serve-marker")


def test_sigterm_answers_every_accepted_request_then_exits_0(tmp_path, fast_policy_file):
    running = start_server(tmp_path, "--workers", "2", "--policy", str(fast_policy_file), "--drain-seconds", "30")
    answers: dict[int, tuple] = {}

    def ask(index: int) -> None:
        answers[index] = running.post("/run_code", {"code": f"import time\ntime.sleep(0.4)\nprint({index})",
                                                    "language": "python"})

    threads = [threading.Thread(target=ask, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and 'ekt_requests_in_flight 8.0' not in running.get("/metrics")[1]:
        time.sleep(0.05)
    assert running.stop() == 0, running.log.read_text()
    for thread in threads:
        thread.join(30)
    assert {index: (status, body["run_result"]["stdout"]) for index, (status, body) in answers.items()} == \
        {index: (200, f"{index}\n") for index in range(8)}
    with pytest.raises(OSError):
        running.get("/health")


def test_settings_refused_before_start(tmp_path):
    def serve(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "ekt_curate", "serve", *args], capture_output=True, text=True,
                              timeout=60)

    open_host = serve("--host", "0.0.0.0", "--port", "0")
    assert open_host.returncode == 2 and "--token-file" in open_host.stderr and "Traceback" not in open_host.stderr
    readable = tmp_path / "token"
    readable.write_text(TOKEN)
    readable.chmod(0o644)
    shared = serve("--token-file", str(readable), "--port", "0")
    assert shared.returncode == 2 and "chmod 600" in shared.stderr
    assert serve("--max-queue", "0").returncode == 2


def test_at_the_drain_limit_requests_still_running_get_a_json_503(tmp_path, fast_policy_file):
    policy = tmp_path / "slow.toml"
    policy.write_text('name = "long-wall"\n[limits]\nwall_seconds = 20.0\ncpu_seconds = 1\n')
    running = start_server(tmp_path, "--workers", "2", "--policy", str(policy), "--drain-seconds", "2")
    answers: list = []
    threads = [threading.Thread(target=lambda: answers.append(running.post(
        "/run_code", {"code": SLEEPER, "language": "python"}))) for _ in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    started = time.monotonic()
    assert running.stop() == 0
    assert time.monotonic() - started < 8  # the sleepers were killed with their requests, not waited for
    for thread in threads:
        thread.join(10)
    assert [status for status, _ in answers] == [503, 503, 503]
    assert all("--drain-seconds" in body["detail"] and body["_headers"]["retry-after"] == "1" for _, body in answers)
    assert "3 requests still running at the drain limit" in running.log.read_text()
    assert "Traceback" not in running.log.read_text()


def test_running_out_of_descriptors_fails_jobs_not_the_server(tmp_path, fast_policy_file):
    import resource

    def low_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (160, 160))

    running = start_server(tmp_path, "--workers", "2", "--policy", str(fast_policy_file), "--max-queue", "8",
                           preexec_fn=low_limit)
    address = urlsplit(running.url)
    idle = []
    try:
        for _ in range(200):  # connections that send nothing, until the server's descriptors run out
            try:
                idle.append(socket.create_connection((address.hostname, address.port), timeout=2))
            except OSError:
                break
        time.sleep(0.5)
        for _ in range(3):
            try:
                running.post("/run_code", {"code": "print(1)", "language": "python"}, timeout=5)
            except OSError:
                pass  # refused or reset while the server has no descriptor to spare: fine
    finally:
        for conn in idle:
            conn.close()
    time.sleep(1.0)
    status, body = running.post("/run_code", {"code": "print(2)", "language": "python"})
    assert status == 200 and body["run_result"]["stdout"] == "2\n", body
    status, text = running.get("/health")
    assert status == 200 and json.loads(text)["status"] == "ok"
    assert running.stop() == 0


def test_odd_values_are_answered_not_crashed_on(server):
    deep = '{"a":' + "[" * 100000 + "]" * 100000 + "}"
    status, body = server.post("/get_reward", {"query": ["answer = 1"], "labels": [deep]})
    assert status == 200 and body["rewards"] == [0.0]  # not JSON it can read: a gold, and not this answer
    status, body = server.post("/verify", None, raw=b'{"samples": [], "passed": NaN}')
    assert status == 422 and body["detail"].startswith("body.passed")
    exited = server.post("/run_code", {"code": "import sys\nsys.exit(2 ** 70)", "language": "python"})[1]
    assert exited["run_result"]["return_code"] == 255
    boolean = server.post("/run_code", {"code": "import sys\nsys.exit(True)", "language": "python"})[1]
    assert boolean["run_result"]["return_code"] == 1 and boolean["run_result"]["stderr"] == ""
