"""One judgement everywhere (issue 17): the same samples, in every gold form and completion shape
the README lists, get the same pass/fail from `verify`, from the RL reward and from `eval` (a
student served on 127.0.0.1 that answers with these completions)."""

from __future__ import annotations

import json

from ekt_curate.cli import main
from ekt_curate.rewards import VerifiedAnswerReward
from tests.json_server import JsonHandler, serving
from tests.stages.conftest import write_jsonl

RIGHT72 = "```python\ndef solution():\n    return 48 + 24\n```\nThe answer is 72."
# task: (the gold as the problems file or record gives it, completions the student writes)
CASES = {
    "gsm8k-answer": ({"answer": "She sold 48 + 24 = <<48+24=72>>72.\n#### 72"}, [RIGHT72, "answer = 71", ""]),
    "float-gold": ({"gold": 6.67}, ["answer = 6.67", "answer = 20 / 3", "answer = 6.7"]),
    "dollars": ({"gold": "$10"}, ["answer = 10", "print('$10')", "answer = '10 dollars'"]),
    "thousands": ({"gold": "1,234"}, ["answer = 1234", "answer = '1,234'", "answer = '0,042'"]),
    "boxed": ({"gold": "\\boxed{72}"}, ["answer = 72"]),
    "scientific": ({"gold": "1.5e3"}, ["answer = 1500", "answer = 1501"]),
    "fraction": ({"gold": "3/4"}, ["answer = 0.75", "from fractions import Fraction\nanswer = Fraction(3, 4)"]),
    "integer": ({"gold": 30}, ["def solution():\n    return 30", "answer = 30.0", "answer = True"]),
    "negative": ({"gold": "-5"}, ["answer = -5.0", "answer = 5"]),
    "failures": ({"gold": 1}, ["while True: pass", "x = (", "raise ValueError('no')", "answer = '1 squared'"]),
}


def shapes(text: str) -> list:
    """The completion shapes verify reads from records and TRL hands the reward."""
    return [text, [{"role": "user", "content": "q"}, {"role": "assistant", "content": text}],
            [{"role": "assistant", "content": [{"type": "text", "text": text}]}]]


def gold_of(case: dict) -> object:
    return case.get("gold", case.get("answer"))


class Student(JsonHandler):
    """Answers /v1/completions for a problem with that problem's completions, in turn."""

    served: dict[str, int] = {}

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        task = next(task for task in CASES if f"Problem {task}." in body["prompt"])
        turn = Student.served.get(task, 0)
        Student.served[task] = turn + 1
        completions = CASES[task][1]
        text = completions[turn % len(completions)]
        self._send(200, {"id": "x", "object": "text_completion", "model": body["model"],
                         "choices": [{"index": 0, "text": text, "finish_reason": "stop"}],
                         "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})


def case_records() -> list[dict]:
    """Every case's completions in every shape, as verify input records (the server's tests use them too)."""
    records = []
    for task, (gold, completions) in CASES.items():
        for text in completions:
            for shape in shapes(text):
                key = "messages" if isinstance(shape, list) else "completion"
                records.append({"task_id": task, key: shape, **gold})
    return records


def test_verify_the_reward_and_eval_agree_on_every_sample(tmp_path, fast_policy_file):
    records = case_records()
    assert main(["verify", "--quiet", str(write_jsonl(tmp_path / "s.jsonl", records)), "--policy",
                 str(fast_policy_file)]) == 0
    verified = [json.loads(line) for line in (tmp_path / "s.verified.jsonl").read_text().splitlines()]
    assert len(verified) == len(records)  # every sample judged, none rejected (the empty one included)
    by_verify = [(r["task_id"], r["verdict"]["passed"]) for r in verified]

    reward = VerifiedAnswerReward(policy=str(fast_policy_file), workers=2)
    try:
        completions = [r.get("completion", r.get("messages")) for r in records]
        rewards = reward(completions=completions, gold=[gold_of(r) for r in records], prompts=["p"] * len(records))
    finally:
        reward.close()
    assert [(r["task_id"], value == 1.0) for r, value in zip(records, rewards)] == by_verify
    assert [v["status"] for v in reward.last_verdicts] == [r["verdict"]["status"] for r in verified]

    # Each distinct case (task, completion) has one verdict across shapes: the one eval must give.
    expected = {(r["task_id"], text): passed for r, passed, text in
                zip(records, (p for _, p in by_verify), (t for c in CASES.values() for t in c[1] for _ in range(3)))}
    assert any(expected.values()) and not all(expected.values())
    problems = write_jsonl(tmp_path / "problems.jsonl", [{"task_id": task, "question": f"Problem {task}.", **gold}
                                                          for task, (gold, _) in CASES.items()])
    n = max(len(c) for _, c in CASES.values())
    Student.served = {}
    with serving(Student) as url:
        assert main(["eval", "--model", "student", "--backend", "openai", "--base-url", url, "--problems",
                     str(problems), "-n", str(n), "--k", "1", "--out", str(tmp_path / "eval"), "--policy",
                     str(fast_policy_file), "-q"]) == 0
    evaluated = [json.loads(line) for line in (tmp_path / "eval" / "samples.verified.jsonl").read_text().splitlines()]
    assert len(evaluated) == n * len(CASES)  # every sample counts, the empty completion too
    for record in evaluated:
        assert record["verdict"]["passed"] == expected[(record["task_id"], record["completion"])], record
    stats = json.loads((tmp_path / "eval" / "stats.json").read_text())
    assert "no_program" in json.dumps(stats)
