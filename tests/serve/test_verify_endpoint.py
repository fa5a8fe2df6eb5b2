"""POST /verify and POST /get_reward judge as `ekt-curate verify` and the in-process reward do:
the same records (every gold form and completion shape of the one-judgement test, code samples,
attackers beside honest programs) get the same verdicts over HTTP."""

from __future__ import annotations

import asyncio
import json

import requests

from ekt_curate.cli import main
from ekt_curate.rewards import RemoteVerifiedReward, VerifiedAnswerReward
from tests.stages.conftest import write_jsonl
from tests.stages.test_one_judgement import CASES, case_records, gold_of, shapes

CODE = [  # MBPP-style asserts and APPS-style stdin/stdout cases, as verify reads them
    {"task_id": "code/asserts", "completion": "def add(a, b):\n    return a + b",
     "test_list": ["assert add(1, 2) == 3", "assert add(-1, 1) == 0"]},
    {"task_id": "code/asserts", "completion": "def add(a, b):\n    return a - b",
     "test_list": ["assert add(1, 2) == 3", "assert add(-1, 1) == 0"]},
    {"task_id": "code/stdio", "completion": "print(sum(map(int, input().split())))",
     "input_output": json.dumps({"inputs": ["1 2\n", "3 4\n"], "outputs": ["3\n", "7\n"]})},
    {"task_id": "code/gaming", "completion": "import sys\nsys.exit(0)",  # exits before the tests run
     "test_list": ["assert add(1, 2) == 3"]},
    {"task_id": "code/gaming", "completion": "class A:\n    def __eq__(self, o):\n        return True\n"
                                             "def add(a, b):\n    return A()",
     "test_list": ["assert add(1, 2) == 3"]},
]


def records() -> list[dict]:
    return case_records() + CODE


def test_verify_endpoint_gives_verifys_verdicts(server, tmp_path, fast_policy_file):
    samples = records()
    assert main(["verify", "--quiet", str(write_jsonl(tmp_path / "s.jsonl", samples)), "--policy",
                 str(fast_policy_file)]) == 0
    by_cli = [json.loads(line)["verdict"] for line in (tmp_path / "s.verified.jsonl").read_text().splitlines()]
    status, answer = server.post("/verify", {"samples": samples})
    assert status == 200 and len(answer["results"]) == len(samples)
    by_server = [result["verdict"] for result in answer["results"]]
    assert [v["status"] for v in by_server] == [v["status"] for v in by_cli]
    assert [v["passed"] for v in by_server] == [v["passed"] for v in by_cli]
    assert [r["reward"] for r in answer["results"]] == [1.0 if v["passed"] else 0.0 for v in by_cli]
    assert [v.get("cases") for v in by_server] == [v.get("cases") for v in by_cli]
    assert by_server[-2]["passed"] is False and by_server[-1]["passed"] is False  # the attackers
    assert answer["counts"]["pass"] == sum(v["passed"] for v in by_cli)


def test_rejected_samples_are_counted_and_score_failed(server):
    status, answer = server.post("/verify", {"samples": [{"task_id": "a", "completion": "answer = 1"},
                                                         {"completion": "answer = 1", "gold": 1},
                                                         {"task_id": "b", "completion": "answer = 1", "gold": 1}],
                                             "failed": -1.0})
    assert status == 200
    first, second, third = answer["results"]
    assert first["rejected"].startswith("no gold") and first["reward"] == -1.0
    assert second["rejected"].startswith("no task_id") and third["reward"] == 1.0
    assert answer["counts"] == {"pass": 1, "rejected": 2}


def test_fraction_scores_the_share_of_cases(server):
    sample = {"task_id": "t", "completion": "def f(x):\n    return x if x < 3 else 0",
              "test_list": [f"assert f({i}) == {i}" for i in range(4)]}
    status, answer = server.post("/verify", {"samples": [sample], "score": "fraction"})
    assert status == 200 and answer["results"][0]["reward"] == 0.75
    assert answer["results"][0]["verdict"]["cases"] == {"passed": 3, "total": 4}


def test_the_remote_reward_equals_the_in_process_one(server, fast_policy_file):
    completions, golds = [], []
    for task, (gold, texts) in CASES.items():
        for text in texts:
            completions += shapes(text)[1:2]  # as TRL passes conversational completions
            golds.append(gold_of(gold))
    local = VerifiedAnswerReward(policy=str(fast_policy_file), workers=2)
    remote = RemoteVerifiedReward(server.url)
    logged_local, logged_remote = {}, {}
    try:
        expected = local(completions=completions, gold=golds, log_metric=logged_local.__setitem__)
    finally:
        local.close()
    got = asyncio.run(remote(completions=completions, gold=golds, log_metric=logged_remote.__setitem__))
    assert got == expected and any(got) and not all(got)
    assert logged_remote == logged_local
    assert [v["status"] for v in remote.last_verdicts] == [v["status"] for v in local.last_verdicts]


def test_openrlhf_request_as_its_client_sends_it(server):
    prompts = ["Question: 48 + 24?\nAnswer:", "Question: 2 + 2?\nAnswer:", "Question: 1?\nAnswer:"]
    responses = ["\nanswer = 48 + 24", "\nanswer = 5", "\nwhile True: pass"]
    # openrlhf/utils/remote_rm_utils.py: requests.post(url, json={"query", "prompts", "labels"}), then .json()
    reply = requests.post(server.url + "/get_reward", timeout=60, headers={"Content-Type": "application/json"},
                          json={"query": [p + r for p, r in zip(prompts, responses)], "prompts": prompts,
                                "labels": ["She sold 72.\n#### 72", "4", "1"]})
    reply.raise_for_status()
    body = reply.json()
    assert body["rewards"] == [1.0, 0.0, 0.0] and body["scores"] == [1.0, 0.0, 0.0]
    assert body["extra_logs"] == {"verified/pass": 1.0, "verified/timeout": 1.0, "verified/wrong_answer": 1.0}
    status, answer = server.post("/get_reward", {"query": ["a", "b"], "labels": ["1"]})
    assert status == 422 and answer["detail"] == "body.labels: 1 items for 2 queries"
