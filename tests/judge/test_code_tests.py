"""Reading tests from records in the shapes public code sets publish."""

from __future__ import annotations

import json

import pytest

from ekt_curate.judge.code_tests import CodeTestsError, has_tests, read_tests


def test_human_eval():
    tests = read_tests({"task_id": "HumanEval/0", "prompt": "def f(x):\n", "entry_point": "f",
                        "test": "def check(candidate):\n    assert candidate(1) == 2\n"})
    assert tests.kind == "asserts" and tests.source == "humaneval" and tests.prefix == "def f(x):\n"
    assert tests.cases == ("def check(candidate):\n    assert candidate(1) == 2\n\n\ncheck(f)\n",)


def test_mbpp():
    tests = read_tests({"task_id": 11, "test_setup_code": "import math", "test_list": ["assert g(1) == 1",
                                                                                       "assert g(2) == 4"],
                        "challenge_test_list": ["assert g(3) == 9"]})
    assert (tests.kind, tests.cases, tests.setup, tests.source) == ("asserts", ("assert g(1) == 1", "assert g(2) == 4"),
                                                                   "import math", "mbpp")


def test_apps_stdio_and_call_based():
    stdio = read_tests({"input_output": json.dumps({"inputs": ["1 2\n", ["3", "4"]], "outputs": ["3\n", "7"]})})
    assert stdio.kind == "stdio" and stdio.cases == (("1 2\n", "3\n"), ("3\n4", "7"))
    calls = read_tests({"input_output": {"fn_name": "twoSum", "inputs": [[[2, 7], 9]], "outputs": [[0, 1]]}})
    assert calls.kind == "calls" and calls.function == "twoSum" and calls.cases == ((([2, 7], 9), [0, 1]),)


def test_open_r1_verification_info():
    info = {"language": "python", "test_cases": [{"input": "5\n", "output": "25\n", "type": "stdin_stdout"}]}
    tests = read_tests({"verification_info": json.dumps(info)})
    assert tests.kind == "stdio" and tests.cases == (("5\n", "25\n"),) and tests.source == "open-r1"


def test_verl_ground_truth_at_the_top_or_under_reward_model():
    truth = {"inputs": ["1\n"], "outputs": ["1\n"]}
    assert read_tests({"ground_truth": json.dumps(truth)}).kind == "stdio"
    assert read_tests({"reward_model": {"style": "rule", "ground_truth": json.dumps(truth)}}).source == "verl"
    asserts = read_tests({"reward_model": {"ground_truth": {"assert_case": ["assert h() == 1"]}}})
    assert asserts.kind == "asserts" and asserts.cases == ("assert h() == 1",)
    assert not has_tests({"ground_truth": "72"})  # a math gold in verl's field is not a test


@pytest.mark.parametrize("record, reason", [
    ({"test_list": []}, "'test_list' must be a non-empty list"),
    ({"test_list": "assert f()"}, "'test_list' must be a non-empty list"),
    ({"input_output": "{not json"}, "'input_output' is not JSON"),
    ({"input_output": {"inputs": ["1"], "outputs": []}}, "1 inputs but 0 outputs"),
    ({"input_output": {"inputs": [1], "outputs": ["1"]}}, "input must be text, not int"),
    ({"input_output": {"fn_name": "f(x)", "inputs": [[1]], "outputs": [1]}}, "'fn_name' must be a function name"),
    ({"input_output": {"fn_name": "f", "inputs": [1], "outputs": [1]}}, "inputs must be lists of arguments"),
    ({"verification_info": {"language": "cpp", "test_cases": [{"input": "", "output": ""}]}}, "not 'cpp'"),
    ({"test": 3, "entry_point": "f"}, "HumanEval's 'test' must be text"),
    ({"input_output": {"fn_name": "f", "inputs": [[list(range(300_000))]], "outputs": [1]}},
     "a call's arguments cannot be sent"),
], ids=lambda value: str(value)[:40])
def test_unusable_tests_say_why(record, reason):
    assert has_tests(record)
    with pytest.raises(CodeTestsError, match="bad tests: .*" + reason.replace("(", r"\(").replace(")", r"\)")):
        read_tests(record)


def test_mbpp_entry_point_and_test_imports():
    record = {"task_id": 126, "code": "def sum(a, b):\n    return a + b", "test_imports": ["import math"],
              "test_list": ["assert math.isclose(sum(1, 2), 3)"]}
    tests = read_tests(record)
    assert tests.entry == "sum" and tests.setup == "import math"  # the reference defines sum: it is theirs
    assert read_tests({**record, "code": None}).entry is None  # never a builtin the dataset did not name
    assert read_tests({"test_list": ["assert abs(f(1) - 2) < 1e-9"]}).entry == "f"
    assert read_tests({"test_list": ["assert len(PRIMES) == 3"]}).entry is None
