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
