"""Reward-hacking attacks on tests (issue 18): none passes, as assert tests or as calls, and an
honest program after each, on the same worker, still passes."""

from __future__ import annotations

import pytest

from ekt_curate.sandbox import Sandbox
from ekt_curate.sandbox.program import Call, Program
from tests.sandbox.conftest import fast_policy
from tests.sandbox.gaming_attacks import ATTACKS, CALLS, HONEST, TESTS


def asserts(code: str) -> Program:
    return Program(code, tests=TESTS, all_cases=True, case_seconds=0.5)


def calls(code: str) -> Program:
    return Program(code, calls=tuple(Call(name, args) for name, args, _ in CALLS), case_seconds=0.5)


def passed_asserts(result) -> bool:
    return result.ok and result.cases is not None and len(result.cases) == len(TESTS) and \
        all(status == "pass" for status, _ in result.cases)


def passed_calls(result) -> bool:
    if not (result.ok and result.returns is not None and len(result.returns) == len(CALLS)):
        return False
    try:
        return all(status == "ok" and result.returned(i) == expected and type(result.returned(i)) is type(expected)
                   for i, ((status, _), (_, _, expected)) in enumerate(zip(result.returns, CALLS)))
    except ValueError:
        return False


@pytest.fixture(scope="module")
def one_worker():
    with Sandbox(fast_policy(), workers=1) as sandbox:
        yield sandbox


def test_an_honest_program_passes_both_ways(one_worker):
    assert passed_asserts(one_worker.run(asserts(HONEST)))
    assert passed_calls(one_worker.run(calls(HONEST)))


@pytest.mark.parametrize("name, code", ATTACKS, ids=[name for name, _ in ATTACKS])
def test_no_attack_passes_and_the_next_honest_program_does(one_worker, name, code):
    attacked, honest = one_worker.map([asserts(code), asserts(HONEST)])
    assert not passed_asserts(attacked), (name, attacked)
    assert passed_asserts(honest), (name, honest)
    attacked, honest = one_worker.map([calls(code), calls(HONEST)])
    assert not passed_calls(attacked), (name, attacked)
    assert passed_calls(honest), (name, honest)


def test_all_attacks_in_one_sequence_on_one_worker(one_worker):
    programs = [asserts(code) for _, code in ATTACKS] + [asserts(HONEST)]
    results = list(one_worker.map(programs))
    assert not any(passed_asserts(result) for result in results[:-1])
    assert passed_asserts(results[-1])


def test_helpers_of_the_prompt_are_the_datasets_not_the_completions(one_worker):
    from tests.sandbox.gaming_attacks import HELPER_ATTACK, HELPER_HONEST, HELPER_TESTS, PROMPT_WITH_HELPER

    def human_eval(code: str) -> Program:
        return Program(code, tests=(HELPER_TESTS + "\ncheck(halve)\n",), setup=PROMPT_WITH_HELPER, entry="halve")

    attacked, honest = one_worker.map([human_eval(HELPER_ATTACK), human_eval(HELPER_HONEST)])
    assert attacked.cases[0][0] == "wrong_answer" and honest.cases == (("pass", ""),)


@pytest.mark.parametrize("program", ["def add(a, b):\n    while True:\n        pass\n",
                                     "def add(a, b):\n    import os\n    os._exit(0)\n"])
def test_a_test_that_catches_exception_does_not_swallow_a_hang_or_an_exit(one_worker, program):
    from tests.sandbox.gaming_attacks import CATCHING_TESTS

    result = one_worker.run(Program(program, tests=CATCHING_TESTS, case_seconds=0.3))
    assert result.cases[0][0] in ("timeout", "runtime_error"), result
    assert one_worker.run(Program(HONEST, tests=CATCHING_TESTS)).cases == (("pass", ""),)


def test_a_forged_protocol_message_is_the_programs_failure_not_the_sandboxs(one_worker):
    forged = dict(ATTACKS)["a malformed ready message, to be blamed on the sandbox"]
    result = one_worker.run(asserts(forged))
    assert result.status.value != "sandbox_error" and not passed_asserts(result), result


def test_the_programs_builtin_exception_reaches_the_test_as_that_type(one_worker):
    code = "def parse(text):\n    raise ValueError('not a number: ' + text)\n"
    tests = ("try:\n    parse('x')\n    raise AssertionError('no error')\nexcept ValueError as e:\n"
             "    assert str(e) == 'not a number: x'",)
    assert one_worker.run(Program(code, tests=tests)).cases == (("pass", ""),)
