"""The OpenAI backend (official SDK) against a real chat/completions server on 127.0.0.1,
written here with the standard library: what the requests carry (messages, a seed per
sample, the key), what comes back (the program out of a chat reply), and the errors."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from ekt_curate.cli import main
from ekt_curate.problems import iter_problems
from ekt_curate.prompts import load_prompt_format
from tests.json_server import JsonHandler, serving

GOLD = {p.question.strip(): p.gold for p in iter_problems("gsm8k:test")}


class Teacher(JsonHandler):
    """Answers chat requests like a reasoning model (a <think> block with a wrong draft, prose, a
    fenced program) and completions requests with a bare program. The program is right when the
    request's seed is even. ``script`` holds (status, headers) to answer first, one per request."""

    requests: list[tuple[str, dict, dict]] = []
    script: list[tuple[int, dict]] = []
    times: list[float] = []
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        cls = type(self)
        with cls.lock:
            # header names are case-insensitive (HTTP); clients differ in how they spell them
            cls.requests.append((self.path, body, {k.lower(): v for k, v in self.headers.items()}))
            cls.times.append(time.monotonic())
            scripted = cls.script.pop(0) if cls.script else None
        if scripted:
            return self._send(scripted[0], {"error": {"message": f"scripted {scripted[0]}"}}, scripted[1])
        if self.path == "/v1/chat/completions":
            question = body["messages"][-1]["content"].rsplit("Q: ", 1)[-1].split("\n")[0]
            answer = int(GOLD[question]) + body.get("seed", 1) % 2
            reply = (f"<think>\n```python\ndef solution():\n    return -1\n```\nno, that is wrong\n</think>\n"
                     f"Here is the program:\n\n```python\ndef solution():\n    return {answer}\n```\n\nDone.")
            choice = {"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}
            kind = "chat.completion"
        elif self.path == "/v1/completions":
            question = body["prompt"].rsplit("Q: ", 1)[1].split("\n")[0]
            answer = int(GOLD[question]) + body.get("seed", 1) % 2
            choice = {"index": 0, "text": f"def solution():\n    return {answer}\n\n\nQ: next", "finish_reason": "stop"}
            kind = "text_completion"
        else:
            return self._send(404, {"error": {"message": "no such route"}})
        self._send(200, {"id": "x", "object": kind, "created": 0, "model": body["model"], "choices": [choice],
                         "usage": {"prompt_tokens": 100, "completion_tokens": 7, "total_tokens": 107}})



@pytest.fixture()
def server():
    Teacher.requests, Teacher.script, Teacher.times = [], [], []
    with serving(Teacher) as url:
        yield url


def sample(url: str, out: Path, *args: object) -> int:
    return main(["sample", "-q", "--backend", "openai", "--base-url", url, "--model", "teacher",
                 "--problems", "gsm8k:test", "-o", str(out), *map(str, args)])


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_chat_format_sends_messages_and_a_seed_per_sample(server, tmp_path, monkeypatch):
    monkeypatch.setenv("TEACHER_KEY", "sk-secret-value")
    out = tmp_path / "s.jsonl"
    assert sample(server, out, "--prompt", "pal-chat", "--limit", "5", "-n", "4", "--concurrency", "4",
                  "--api-key-env", "TEACHER_KEY") == 0
    assert {path for path, _, _ in Teacher.requests} == {"/v1/chat/completions"}
    bodies = [body for _, body, _ in Teacher.requests]
    assert all(h["authorization"] == "Bearer sk-secret-value" for _, _, h in Teacher.requests)
    messages = bodies[0]["messages"]
    assert messages == load_prompt_format("pal-chat").messages(messages[-1]["content"])
    assert [m["role"] for m in messages] == ["system"] + ["user", "assistant"] * 8 + ["user"]
    assert all(b["n"] == 1 and "stop" not in b and b["max_tokens"] == 256 for b in bodies)
    samples = rows(out)
    assert len(samples) == 20 and len({b["seed"] for b in bodies}) == 20  # every sample its own seed
    assert {b["seed"] for b in bodies} == {s["sample_seed"] for s in samples}
    for s in samples:  # the program, not the draft in <think>, not the prose
        answer = int(GOLD[s["question"].strip()]) + s["sample_seed"] % 2
        assert s["completion"] == f"def solution():\n    return {answer}\n" and s["reply"].startswith("<think>")
    assert samples[0]["meta"]["endpoint"] == "chat" and samples[0]["meta"]["chat_template"] == "server"
    assert samples[0]["meta"]["prompt"] == "pal-chat"


def test_text_format_on_the_chat_endpoint_is_one_user_message(server, tmp_path):
    out = tmp_path / "s.jsonl"
    assert sample(server, out, "--endpoint", "chat", "--limit", "2", "-n", "1") == 0
    messages = Teacher.requests[0][1]["messages"]
    assert len(messages) == 1 and messages[0]["role"] == "user" and messages[0]["content"].count("Q: ") == 9


def test_completions_resume_asks_only_for_missing_samples(server, tmp_path):
    out = tmp_path / "s.jsonl"
    assert sample(server, out, "--limit", "3", "-n", "2") == 0
    first = out.read_text()
    assert {path for path, _, _ in Teacher.requests} == {"/v1/completions"}
    assert Teacher.requests[0][1]["stop"] == ["\nQ:", "\n\n\n"] and Teacher.requests[0][1]["prompt"].count("Q: ") == 9
    Teacher.requests = []
    assert sample(server, out, "--limit", "3", "-n", "3", "--resume") == 0
    assert len(Teacher.requests) == 3 and out.read_text().startswith(first)
    samples = rows(out)
    assert Counter(s["task_id"] for s in samples) == Counter({t: 3 for t in {s["task_id"] for s in samples}})
    assert all("Q:" not in s["completion"] and "reply" not in s for s in samples)
    assert len({s["sample_seed"] for s in samples}) == 9


def test_429_and_500_are_retried_honouring_retry_after(server, tmp_path):
    Teacher.script = [(429, {"Retry-After": "0.3"}), (500, {})]
    out = tmp_path / "s.jsonl"
    assert sample(server, out, "--limit", "1", "-n", "1", "--concurrency", "1") == 0
    assert len(Teacher.requests) == 3 and len(rows(out)) == 1
    assert Teacher.times[1] - Teacher.times[0] >= 0.3  # waited as the server asked


def test_404_is_one_line_exit_4_with_a_hint(server, tmp_path, capsys):
    Teacher.script = [(404, {})]
    assert sample(server, tmp_path / "s.jsonl", "--limit", "1", "-n", "1") == 4
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "404" in err and "--endpoint chat" in err


def test_persistent_errors_give_up_with_exit_4(server, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TEACHER_KEY", "sk-secret-value")
    Teacher.script = [(503, {"Retry-After": "0"})] * 3
    assert sample(server, tmp_path / "s.jsonl", "--limit", "1", "-n", "1", "--max-retries", "2",
                  "--api-key-env", "TEACHER_KEY") == 4
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "503" in err and "sk-secret" not in err
    assert len(Teacher.requests) == 3


def test_a_chat_format_needs_a_chat_endpoint(server, tmp_path, capsys):
    assert sample(server, tmp_path / "s.jsonl", "--prompt", "pal-chat", "--endpoint", "completions") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "chat format" in err and not Teacher.requests


def test_seeding_none_sends_no_seed(server, tmp_path):
    out = tmp_path / "s.jsonl"
    assert sample(server, out, "--limit", "1", "-n", "2", "--seeding", "none") == 0
    assert all("seed" not in body for _, body, _ in Teacher.requests)
    assert all(s["sample_seed"] is None for s in rows(out))
