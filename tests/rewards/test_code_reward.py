"""The reward on code datasets: judged by their tests, as verify judges them (one Judge)."""

from __future__ import annotations

import json

import pytest

from ekt_curate.cli import main
from ekt_curate.rewards import VerifiedAnswerReward
from ekt_curate.rewards.verl import compute_score
from tests.stages.conftest import fast_policy_file, write_jsonl  # noqa: F401 - a fixture

PROMPT = 'def add(a, b):\n    """The sum of a and b."""\n'
TEST = "def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(-1, 1) == 0\n"
IO = json.dumps({"inputs": ["1\n", "2\n", "3\n", "4\n"], "outputs": ["1\n", "4\n", "9\n", "16\n"]})


@pytest.fixture(scope="module")
def reward(fast_policy_file):
    made = VerifiedAnswerReward(policy=str(fast_policy_file), workers=2)
    yield made
    made.close()


def test_human_eval_columns_in_completion_style(reward):
    metrics: dict[str, float] = {}
    rewards = reward(prompts=[PROMPT] * 3, completions=["    return a + b\n", "    return a - b\n", ""],
                     test=[TEST] * 3, entry_point=["add"] * 3, log_metric=metrics.__setitem__)
    assert rewards == [1.0, 0.0, 0.0]
    assert metrics["verified_answer/pass"] == 1 and metrics["verified_answer/wrong_answer"] == 1
    assert metrics["verified_answer/no_program"] == 1


def test_mbpp_columns_with_chat_completions(reward):
    chat = [{"role": "assistant", "content": "```python\ndef sq(x):\n    return x * x\n```"}]
    wrong = [{"role": "assistant", "content": "```python\ndef sq(x):\n    return x + x\n```"}]
    tests = [["assert sq(2) == 4", "assert sq(3) == 9"]] * 2
    assert reward(prompts=["p", "p"], completions=[chat, wrong], test_list=tests) == [1.0, 0.0]


def test_fraction_of_cases(fast_policy_file):
    fraction = VerifiedAnswerReward(policy=str(fast_policy_file), workers=2, score="fraction")
    try:
        values = fraction(prompts=["p"] * 3, completions=["n = int(input())\nprint(n * n)",
                                                          "n = int(input())\nprint(n * n if n < 3 else 0)",
                                                          "print(1)"], input_output=[IO] * 3)
    finally:
        fraction.close()
    assert values == [1.0, 0.5, 0.25]


def test_verl_compute_score_with_code_ground_truth(fast_policy_file):
    options = {"policy": str(fast_policy_file), "workers": 1}
    assert compute_score("apps", "n = int(input())\nprint(n * n)", IO, **options) == {"score": 1.0, "acc": 1.0}
    asserts = json.dumps({"assert_case": ["assert inc(1) == 2"]})
    assert compute_score("x", "```python\ndef inc(x):\n    return x + 2\n```", asserts, **options)["acc"] == 0.0
    batch = compute_score(solution_strs=["def inc(x):\n    return x + 1", "72"], ground_truths=[asserts, asserts],
                          data_sources=["x", "x"], extra_infos=[None, None], **options)
    assert [item["acc"] for item in batch] == [1.0, 0.0]


def test_verify_and_the_reward_agree_on_code_records(tmp_path, fast_policy_file, reward):
    records = [
        {"task_id": "he", "prompt": PROMPT, "test": TEST, "entry_point": "add", "completion": c}
        for c in ("    return a + b\n", "    return b + a + 0\n", "    return a * b\n", "    raise ValueError\n")
    ] + [
        {"task_id": "io", "input_output": IO, "completion": c}
        for c in ("n = int(input())\nprint(n ** 2)", "print(int(input()) * 2)", "while True: pass", "")
    ] + [{"task_id": "mbpp", "test_list": ["assert sq(3) == 9"], "completion": c}
         for c in ("def sq(x):\n    return x ** 2", "def sq(x):\n    return 9", "def sq(x):\n    return '9'")]
    path = write_jsonl(tmp_path / "code.jsonl", records)
    assert main(["verify", "--quiet", str(path), "--policy", str(fast_policy_file)]) == 0
    verified = [json.loads(line)["verdict"] for line in (tmp_path / "code.verified.jsonl").read_text().splitlines()]
    columns = {key: [r.get(key) for r in records] for key in ("test", "entry_point", "input_output", "test_list")}
    rewards = reward(prompts=[r.get("prompt", "p") for r in records], completions=[r["completion"] for r in records],
                     **columns)
    assert [value == 1.0 for value in rewards] == [v["passed"] for v in verified]
    assert [v["status"] for v in reward.last_verdicts] == [v["status"] for v in verified]
    assert [v["passed"] for v in verified] == [True, True, False, False, True, False, False, False, True, True, False]
