"""verl's own SandboxFusion reward (verl.utils.reward_score.sandbox_fusion, the files of the
verl wheel that `make install` unpacks into .venv/verl-wheel) judging stdin/stdout cases through
our /run_code. verl itself needs Ray and an older transformers, so its reward package is loaded
from the wheel's files alone: its code as shipped, not a copy."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

WHEEL = Path(sys.prefix) / "verl-wheel" / "verl" / "utils" / "reward_score" / "sandbox_fusion"


@pytest.fixture(scope="module")
def verl_sandbox_fusion():
    if not (WHEEL / "__init__.py").exists():
        pytest.fail(f"verl's wheel is not unpacked at {WHEEL}: run make install")
    spec = importlib.util.spec_from_file_location("verl_sandbox_fusion", WHEEL / "__init__.py",
                                                  submodule_search_locations=[str(WHEEL)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


CASES = {"inputs": ["1 2\n", "10 20\n", "-5 5\n"], "outputs": ["3\n", "30\n", "0\n"]}
RIGHT = "a, b = map(int, input().split())\nprint(a + b)"


def test_check_correctness_passes_a_right_program_and_fails_a_wrong_one(server, verl_sandbox_fusion):
    check = verl_sandbox_fusion.utils.check_correctness
    url = server.url + "/run_code"
    results, metadata = check(url, CASES, RIGHT, timeout=5)
    assert results == [True, True, True], metadata
    results, _ = check(url, CASES, "input()\nprint(0)", timeout=5)
    assert results == [False, False, True]  # right only where the sum is 0
    results, metadata = check(url, CASES, "import sys\nsys.exit(1)", timeout=5)
    assert results == [-2, -2, -2] and metadata[0]["status"] == "runtime_error"
    results, metadata = check(url, CASES, "while True:\n    pass", timeout=1)
    assert results == [-3, -3, -3] and metadata[0]["status"] == "timeout"


def test_call_based_cases_through_verls_wrapper(server, verl_sandbox_fusion):
    check = verl_sandbox_fusion.utils.check_correctness
    cases = {"fn_name": "twoSum", "inputs": ["[2, 7, 11, 15]\n9", "[3, 2, 4]\n6"], "outputs": ["[0, 1]", "[1, 2]"]}
    solution = ("class Solution:\n    def twoSum(self, nums, target):\n        seen = {}\n"
                "        for i, n in enumerate(nums):\n            if target - n in seen:\n"
                "                return [seen[target - n], i]\n            seen[n] = i\n")
    results, metadata = check(server.url + "/run_code", cases, solution, timeout=5)
    assert results == [True, True], metadata


def test_compute_score_as_verls_reward_manager_calls_it(server, verl_sandbox_fusion):
    completion = f"Here is my solution:\n```python\n{RIGHT}\n```"
    score, _ = verl_sandbox_fusion.compute_score(server.url + "/run_code", None, 1024, completion, CASES)
    assert score == 1.0
    score, _ = verl_sandbox_fusion.compute_score(server.url + "/run_code", None, 1024, "print(3)", CASES)
    assert score == 0.0
