"""Every normalization rule, with the case that motivated it."""

from decimal import Decimal
from fractions import Fraction

import pytest

from ekt_curate.answers import compare, from_value, parse_gold, parse_text


def passes(value, gold, rel_tol=1e-4) -> bool:
    return compare(from_value(value), parse_gold(gold), rel_tol)[0]


@pytest.mark.parametrize(
    ("value", "gold", "expected", "why"),
    [
        (72, "72", True, "the plain case"),
        (72.0, "72", True, "48 + 48 / 2 is a float in Python 3"),
        (0.1 * 3 * 10, "3", True, "float noise within 1e-9 of an integer is that integer"),
        (71.99999, "72", False, "an integral gold needs an integral answer: no tolerance (issue 11)"),
        (100001, "100000", False, "two integers compare exactly, though they differ by only 1e-5 relative"),
        (2.50001, "2.5", True, "non-integral answers compare within the relative tolerance"),
        (2.51, "2.5", False, "...and only within it"),
        (Fraction(5, 2), "2.5", True, "Fraction answers are exact"),
        (Decimal("2.50"), "2.5", True, "Decimal answers are exact"),
        (True, "1", False, "True is not the number 1"),
        (False, 0, False, "False is not the number 0"),
        (float("nan"), "3", False, "NaN never passes"),
        (float("inf"), "3", False, "infinity never passes"),
        ("$1,234", "1234", True, "currency sign and thousands separators are formatting"),
        ("1,234.50", "1234.5", True, "thousands separators with decimals"),
        ("1,23", "123", False, "a comma in the wrong place is not a thousands separator"),
        ("  18 \n", "18", True, "surrounding whitespace"),
        ("50%", "50", True, "GSM8K writes percentages without the sign"),
        ("18 dollars", "18", True, "one trailing unit word"),
        ("18 apples and pears", "18", False, "more than a unit word is a sentence, not a number"),
        ("3/4", "0.75", True, "a/b fractions in lowest terms"),
        ("-5", "-5", True, "negative numbers"),
        ("- $5", "-5", True, "a sign before the currency"),
        ("1/0", "1", False, "a zero denominator is no number"),
        ("nan", "1", False, "printed NaN never passes"),
        ("abc", "1", False, "text does not match a number"),
        ("Paris", "paris", True, "text gold compares case-insensitively"),
        ("0", "0", True, "zero gold"),
        (1e-12, "0", True, "float noise around zero snaps to zero"),
        (10 ** 30, str(10 ** 30), True, "big integers stay exact"),
        (0.333333, "1/3", True, "a rounded decimal matches an exact fraction within the tolerance"),
        (0.33, "1/3", False, "...but not one rounded too far"),
    ],
)
def test_rule(value, gold, expected, why):
    assert passes(value, gold) is expected, why


def test_relative_tolerance_is_configurable():
    assert passes(2.6, "2.5", rel_tol=0.05)
    assert not passes(2.6, "2.5", rel_tol=0.01)


def test_wrong_answer_details_say_what_was_expected():
    passed, detail = compare(from_value(71), parse_gold("72"))
    assert not passed and detail == "expected 72, got 71"
    passed, detail = compare(from_value("abc"), parse_gold("72"))
    assert "not a number" in detail


def test_display_values_are_json_friendly():
    assert from_value(72.0).display() == 72 and type(from_value(72.0).display()) is int
    assert from_value(2.5).display() == 2.5
    assert parse_text("True").display() is True
    assert parse_text("hello  world").display() == "hello world"
