"""The Judge over a real sandbox: verdicts in input order whatever each sample is, samples
without a program or a usable gold never run, text golds warned about once."""

from __future__ import annotations

import pytest

from ekt_curate.judge import Judge, Sample, read_gold
from ekt_curate.sandbox import Sandbox
from tests.sandbox.conftest import fast_policy


@pytest.fixture(scope="module")
def box():
    with Sandbox(fast_policy(), workers=2) as sandbox:
        yield sandbox


def statuses(judge, samples):
    return [verdict["status"] for verdict in judge.verdicts(samples)]


def test_verdicts_keep_input_order_across_samples_that_are_not_run(box):
    samples = [Sample("answer = 72", read_gold("#### 72")), Sample("", read_gold(72)),
               Sample("answer = 1", read_gold(None)), Sample("```python\n```", read_gold(3)),
               Sample("import time\ntime.sleep(5)", read_gold(1)), Sample("answer = 7", read_gold("7")),
               Sample("answer = 2", read_gold(True))]
    assert statuses(Judge(box), samples) == ["pass", "no_program", "bad_gold", "no_program", "timeout", "pass",
                                            "bad_gold"]


def test_a_sample_that_is_not_run_says_why_and_costs_nothing(box):
    verdicts = list(Judge(box).verdicts([Sample(" \n", read_gold(1)), Sample("answer = 1", read_gold([1]))]))
    assert verdicts[0]["detail"].startswith("the completion holds no program")
    assert verdicts[1]["detail"] == "no gold: 'gold' must be a number or text, not list"
    assert all(v["passed"] is False and v["cpu_ms"] == 0.0 for v in verdicts)


def test_text_gold_with_numeric_answers_is_counted_and_warned_once(box):
    warnings: list[str] = []
    judge = Judge(box, warn=warnings.append)
    samples = [Sample("answer = 0.75", read_gold("\\frac{3}{4}"), task=f"t{n % 2}") for n in range(4)]
    verdicts = list(judge.verdicts(samples))
    assert all(v["gold_not_numeric"] for v in verdicts)
    assert judge.gold_not_numeric == {"t0", "t1"} and len(warnings) == 1 and "frac" in warnings[0]


def test_math_verify_compares_text_golds_so_none_is_flagged(box):
    """A wrong answer to a LaTeX gold under math-verify is a wrong answer, not a gold that 'can
    never pass': the flag and its warning once sent math-verify users to math-verify."""
    warnings: list[str] = []
    judge = Judge(box, checker="math-verify", warn=warnings.append)
    try:
        verdicts = list(judge.verdicts([Sample("answer = 72.5", read_gold("\\boxed{72}"), "t"),
                                        Sample("answer = 72", read_gold("\\boxed{72}"), "u")]))
    finally:
        judge.close()
    assert [v["status"] for v in verdicts] == ["wrong_answer", "pass"]
    assert not any(v.get("gold_not_numeric") for v in verdicts) and judge.gold_not_numeric == set() and not warnings
