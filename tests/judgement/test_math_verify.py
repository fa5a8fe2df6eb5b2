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


# issue 22: math-verify read an undelimited gold as its first bare number, and rounded both sides
# to 6 decimals; each pair is (answer the attack corpus passed, the right value, the gold)
FIRST_NUMBER_GOLDS = [
    ("int", "2", "float", "3.4641016151377544", "2\\sqrt{3}"),
    ("int", "5", "float", "15.707963267948966", "5\\pi"),
    ("int", "2", "int", "1024", "2^{10}"),
    ("int", "10", "float", "3e-07", "3 \\times 10^{-7}"),
]


@pytest.mark.parametrize(("wrong_kind", "wrong", "right_kind", "right", "gold"), FIRST_NUMBER_GOLDS)
def test_an_undelimited_gold_is_read_whole(checker, wrong_kind, wrong, right_kind, right, gold):
    assert not check(checker, wrong_kind, wrong, gold)[0], "its first bare number is not the gold"
    assert check(checker, right_kind, right, gold)[0], "the gold's own value meets it"


def test_a_tuple_gold_is_not_its_last_number(checker):
    assert not check(checker, "int", "2", "(1, 2)")[0]
    assert not check(checker, "int", "1", "(1, 2)")[0]


def test_a_rounded_answer_does_not_meet_a_tiny_gold(checker):
    assert not check(checker, "float", "0.0", "\\frac{1}{3000000}")[0]
    assert check(checker, "fraction", "1/3000000", "\\frac{1}{3000000}")[0]
    # rel_tol is the rule for a non-integral gold, whatever math-verify would round to
    assert check(checker, "float", "3.3333333e-07", "\\frac{1}{3000000}")[0]
    tight = MathVerifyChecker(rel_tol=1e-12)
    try:
        assert not tight.check(from_reported("float", "3.3333333e-07"), parse_gold("\\frac{1}{3000000}"),
                               "3.3333333e-07", "\\frac{1}{3000000}")[0]
    finally:
        tight.close()


def test_an_integral_latex_gold_needs_the_integer(checker):
    assert not check(checker, "float", "1024.0001", "2^{10}")[0]
    assert check(checker, "float", "1024.0", "2^{10}")[0]


@pytest.mark.parametrize("text", ["4 squared", "The answer is 4", "4 apples"])
def test_a_text_answer_is_not_read_for_its_first_number(checker, text):
    assert not check(checker, "str", text, "2^{2}")[0]


def test_the_reward_reads_latex_golds_the_same_way():
    from ekt_curate.rewards import VerifiedAnswerReward

    reward = VerifiedAnswerReward(checker="math-verify", workers=1)
    try:
        programs = ["answer = 2", "answer = 2 * 3 ** 0.5", "answer = 2", "answer = 1024"]
        assert reward(completions=programs, gold=["2\\sqrt{3}", "2\\sqrt{3}", "2^{10}", "2^{10}"]) == [0.0, 1.0, 0.0, 1.0]
    finally:
        reward.close()
