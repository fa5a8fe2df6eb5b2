"""--checker math-verify: LaTeX golds compared by math-verify, numbers by the strict rules,
every comparison under a deadline that works from any thread."""

import threading

import pytest

from ekt_curate.judgement import from_reported, parse_gold
from ekt_curate.judgement.math_verify import MathVerifyChecker

# The [math] extra is part of `make install`: a missing package fails this file, never skips it.
import math_verify  # noqa: F401, E402


@pytest.fixture(scope="module")
def checker():
    checker = MathVerifyChecker()
    yield checker
    checker.close()


def check(checker, kind, text, gold):
    return checker.check(from_reported(kind, text), parse_gold(gold), text, gold)


@pytest.mark.parametrize(
    ("kind", "text", "gold", "expected"),
    [
        ("int", "72", "\\boxed{72}", True),
        ("float", "0.75", "\\frac{3}{4}", True),
        ("fraction", "3/4", "\\frac{3}{4}", True),
        ("int", "72", "72 \\text{ clips}", True),
        ("float", "1.4142135623730951", "\\sqrt{2}", True),
        ("int", "71", "\\boxed{72}", False),
        ("float", "0.76", "\\frac{3}{4}", False),
        # a number in LaTeX dress is judged by the strict rules (latex_number.py), each case a report:
        ("float", "3.14159", "\\boxed{3.14}", True),        # gold precision inside \boxed, as outside
        ("int", "1000", "\\$1,\\!000", True),              # math-verify found no expression here
        ("float", "18.9", "\\$18.90", True),
        ("str", "72 dogs", "72 \\text{ clips}", False),      # math-verify dropped the unit and passed it
        ("str", "72 clips", "72 \\text{ clips}", True),
        ("float", "72.00001", "\\boxed{72}", False),       # an integral gold needs an integral answer
        ("str", "\\frac{144}{2}", "\\boxed{72}", True),     # a text answer: still math-verify's
    ],
)
def test_latex_golds(checker, kind, text, gold, expected):
    assert check(checker, kind, text, gold)[0] is expected


def test_numeric_golds_keep_the_strict_rules(checker):
    # math-verify rounds floats to a few decimals; an integer gold must still need an integer
    assert not check(checker, "float", "42.0000001", "42")[0]
    assert not check(checker, "str", "15 hours", "15 minutes")[0]


def test_a_stuck_comparison_is_abandoned_and_the_helper_replaced():
    checker = MathVerifyChecker(deadline=0.5)
    try:
        # the deadline is the parent's: it holds even when the helper never answers
        checker._start().send_signal(19)  # SIGSTOP: a helper wedged in C code ignores its own alarm
        passed, detail = check(checker, "int", "72", "\\frac{144}{2}")
        assert not passed and "no verdict" in detail
        assert check(checker, "int", "72", "\\frac{144}{2}") == (True, "")  # a fresh helper
    finally:
        checker.close()


def test_works_from_a_worker_thread(checker):
    results = []
    thread = threading.Thread(target=lambda: results.append(check(checker, "int", "5", "\\sqrt{25}")))
    thread.start()
    thread.join(30)
    assert results == [(True, "")]
