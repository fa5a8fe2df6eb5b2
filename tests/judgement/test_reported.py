"""Bounded parsing of what a program reports: hostile values are a problem, never an exception."""

from decimal import Decimal
from fractions import Fraction

import pytest

from ekt_curate.judgement import from_reported, from_value, parse_gold


@pytest.mark.parametrize(
    ("kind", "text", "why"),
    [
        ("decimal", "1E+5000", "int-to-string of 5,001 digits raised in the comparison"),
        ("decimal", "1E+999999999", "pegged the parent's CPU building a billion-digit integer"),
        ("decimal", "1E-999999999", "the same, as a denominator"),
        ("fraction", "1/0", "a forged fraction with a zero denominator"),
        ("fraction", "1/" + "3" * 4001, "a forged fraction with a huge denominator"),
        ("int", "9" * 4500, "above CPython's int-from-string limit"),
        ("int", "12a", "a malformed int"),
        ("float", "1e400", "a forged float that is infinite"),
        ("float", "nan", "not finite"),
        ("float", "1" * 100, "a forged float, too long for any repr"),
        ("bool", "maybe", "a malformed bool"),
        ("complex", "1", "an unknown kind"),
        ("str", "x" * 6000, "longer than any sandbox limit"),
    ],
)
def test_hostile_reports_are_problems(kind, text, why):
    answer = from_reported(kind, text)
    assert answer.problem and answer.number is None, why


def test_a_printed_400_digit_decimal_is_exact():
    answer = from_reported("str", "1" + "0" * 399 + ".25")
    assert answer.number == 10 ** 399 + Fraction(1, 4)


def test_a_text_answer_of_exactly_answer_chars_is_whole():
    # The sandbox refuses a longer text itself (no_answer) and never cuts one, so a text of exactly
    # the limit is whole: calling it truncated failed correct 1,000-character answers.
    assert from_reported("str", "1" * 1000, answer_chars=1000).number == int("1" * 1000)
    assert from_reported("str", " " * 997 + "-72", answer_chars=1000).number == -72
    assert from_reported("str", "1" * 999, answer_chars=1000).number == int("1" * 999)


def test_a_text_answer_longer_than_answer_chars_is_never_judged():
    # Only a forged report can carry one; a cut "-" + padding + "5" could read as something else.
    assert "truncated" in from_reported("str", "-" + " " * 1000, answer_chars=1000).problem
    assert "truncated" in from_reported("str", "1" * 1001, answer_chars=1000).problem


def test_a_value_the_sandbox_marks_truncated_is_never_judged_whole():
    assert "truncated" in from_reported("int", "72", cut=True).problem


def test_kinds():
    assert from_reported("int", "-72").number == -72
    assert from_reported("fraction", "-3/4").number == Fraction(-3, 4)
    assert from_reported("decimal", "2.50").number == Fraction(5, 2)
    assert from_reported("decimal", "1E+3").number == 1000
    assert from_reported("float", "1e-05").number == Fraction(1e-05)
    assert from_reported("float", "2.9999999999999996").number == 3
    assert from_reported("bool", "True").flag is True


def test_python_values():
    assert from_value(Decimal("1E+999999999")).problem
    assert from_value(10 ** 5000).problem
    assert from_value(Fraction(1, 10 ** 5000)).problem
    assert from_value(float("inf")).problem


@pytest.mark.parametrize("gold", ["9" * 5000, "1E+999999999", float("nan"), float("inf"), [1], None])
def test_unusable_golds(gold):
    assert parse_gold(gold).problem


def test_a_400_digit_gold_is_usable():
    assert parse_gold("9" * 400 + ".5").number == 10 ** 400 - Fraction(1, 2)
