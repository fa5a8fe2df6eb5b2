"""The strict checker's rules (issue 11), each with the case that motivated it."""

from fractions import Fraction

import pytest

from ekt_curate.judgement import compare, from_value, parse_gold


def passes(value, gold, rel_tol=1e-4, gold_precision="auto") -> bool:
    return compare(from_value(value), parse_gold(gold), rel_tol, gold_precision)[0]


@pytest.mark.parametrize(
    ("value", "gold", "expected", "why"),
    [
        # false passes that must not happen
        ("15 hours", "15 minutes", False, "two different unit words never match"),
        ("2 cats", "2 dogs", False, "two different unit words never match"),
        ("15 hours", "15", True, "a unit is ignored when only one side has one"),
        ("$5", "5 euros", False, "currency signs are units"),
        ("$5", "5 dollars", True, "$ and dollars are the same unit"),
        ("5 million", "5", False, "a scale word is not dropped"),
        ("5k", "5", False, "a one-letter suffix is not dropped"),
        ("3j", "3", False, "a complex number is not a number"),
        ("\u0663", "3", False, "a non-ASCII digit is not a digit"),
        ("1,23", "123", False, "improper thousands groups"),
        (42.004, "42", False, "an integral gold needs an integral answer, whatever rel_tol"),
        (42.004, 42, False, "...also as a JSON int gold"),
        ("42.004", "42", False, "...also printed"),
        (1e9 / 3 * 3, "1000000000", True, "float noise scales with the magnitude"),
        (1e9 + 0.001, "1000000000", False, "...but the snap is far below a real difference"),
        (0.1 * 3 * 10, "3", True, "float noise near a small integer"),
        ("02/01", "10/05", False, "dates are text: not the fractions 2 and 2"),
        (2, "10/05", False, "a date gold is not the number 2"),
        ("10/05", "10/05", True, "the same date text matches"),
        (Fraction(12, 25), "12/25/2020", False, "a full date is text"),
        # correct programs that used to fail
        ("2.0107e-06", "2.0107e-06", True, "scientific notation on both sides"),
        (2.0107e-06, "2.0107e-06", True, "a float answer against a scientific gold"),
        ("1e-05", "0.00001", True, "print(0.00001) prints 1e-05"),
        ("1e+16", "10000000000000000", True, "print(1e16) prints 1e+16"),
        (1e16, "10000000000000000", True, "the float 1e16 is that integer"),
        ("\u22125", "-5", True, "unicode minus"),
        ("1 1/2", "1.5", True, "a mixed number"),
        ("4.2E1", "42", True, "upper-case exponent"),
        ("+7", "7", True, "explicit plus"),
        (20 / 3, "6.67", True, "a gold written with 2 decimals matches an answer that rounds to it"),
        (6.664, "6.67", False, "...and not one that rounds elsewhere"),
        (20 / 3, "6.7", False, "one written decimal is not enough under auto"),
        (6.6, "6.67", False, "rounding at 2 decimals, not a looser tolerance"),
        (6.004, "6.00", True, "a gold written 6.00 was rounded to 2 decimals"),
        (Fraction(6665, 1000), "6.67", True, "a tie may round either way: half-up authors"),
        (Fraction(6675, 1000), "6.67", True, "...and half-even authors"),
        (2.0107e-06 * 1.00001, "2.0107e-06", True, "relative tolerance still applies to non-integral golds"),
        (0.000014, "1e-05", False, "scientific golds carry no rounding to exploit"),
        (0.5000004, "0.5", True, "a non-integral gold within rel_tol"),
        # issue 17: classes an outside attack corpus and a seeded fuzz found
        ("0,042", "42", False, "0.042 with a decimal comma is not forty-two thousandths of a thousand"),
        ("00,042", "42", False, "...nor with two leading zeros"),
        ("-0,042", "-42", False, "...nor negative"),
        ("42,000", "42000", True, "a proper thousands group still reads"),
        (3e11 + 0.25, "300000000000", False, "a quarter is never float noise, at any magnitude"),
        (2.5e11 + 0.25, 250000000000, False, "...the magnitude where the relative margin reached 0.25"),
        (1e15 + 0.25, "1000000000000000", False, "...nor where it is one float step"),
        (3e11 + 0.001, "300000000000", False, "a thousandth is not noise either"),
        (3e11 + 6.103515625e-05, "300000000000", True, "one float step at 3e11 is noise"),
        (12345678901.2, "1.234568e+10", True, "a %e gold is rounded to its significant digits (10**4 here)"),
        (12345675000, "1.234568e+10", True, "...half a step below it still rounds to it"),
        (12345690000, "1.234568e+10", False, "...a value that rounds elsewhere does not"),
        (12345678901.2, "12345680000", False, "the same value written as an integer is an integer gold"),
        (12345678901.2, 12345680000, False, "...also as a JSON int"),
        (1500.4, "1.5e3", False, "one digit after the point is not enough under auto: 1.5e3 is 1500"),
        (1500, "1.5e3", True, "...and 1500 meets it"),
    ],
)
def test_rule(value, gold, expected, why):
    assert passes(value, gold) is expected, why


def test_gold_precision_modes():
    assert passes(20 / 3, "6.7", gold_precision="always")  # one decimal is enough when asked
    assert passes(1549, "1.5e3", gold_precision="always") and not passes(1551, "1.5e3", gold_precision="always")
    assert not passes(12345678901.2, "1.234568e+10", gold_precision="off")
    assert not passes(20 / 3, "6.67", gold_precision="off")
    assert passes(20 / 3, "6.67", rel_tol=1e-2, gold_precision="off")


@pytest.mark.parametrize("mode", ["auto", "always", "off"])
@pytest.mark.parametrize("answer", [42.4, 41.6, "42.4", Fraction(85, 2)])
def test_gold_precision_never_loosens_an_integer_gold(mode, answer):
    assert not passes(answer, "42", gold_precision=mode)
    assert not passes(answer, 42, gold_precision=mode)


def test_json_float_gold_carries_its_written_decimals():
    assert passes(20 / 3, 6.67)
    assert not passes(72.004, 72.0)  # a float gold 72.0 is integral


# issue 22: each word an outside attack corpus passed against gold 42 by reading it as a unit
NOT_UNITS = ["squared", "cubed", "factorial", "tenths", "hundredths", "thousandths", "tens", "halves", "quarters",
             "MM", "bps", "ppm", "myriad", "lacs", "tn", "bil", "ks", "below", "apples"]


@pytest.mark.parametrize("word", NOT_UNITS)
def test_a_word_that_is_not_a_unit_of_measure_never_passes_a_gold_without_one(word):
    passed, detail = compare(from_value(f"42 {word}"), parse_gold("42"))
    assert not passed and "not a unit of measure" in detail
    assert not passes(f"42 {word}", 42)


@pytest.mark.parametrize("word", ["dollars", "hours", "hrs", "Minutes.", "cm", "kg", "lbs", "feet", "inches", "miles",
                                  "liters", "cups", "percent", "degrees", "mph", "cents", "years", "days"])
def test_units_of_measure_label_a_number_against_a_gold_without_one(word):
    assert passes(f"42 {word}", "42"), word
    assert not passes(f"43 {word}", "42"), word


@pytest.mark.parametrize(
    ("value", "gold", "expected", "why"),
    [
        ("42 apples", "42 apples", True, "a word outside the list passes only the gold's own word"),
        ("42 Apples.", "42 apple", True, "...compared canonically"),
        ("42 apples", "42 pears", False, "...and not another"),
        ("42", "42 apples", True, "an answer with no word meets a gold with one"),
        ("5 lbs", "5 pounds", True, "abbreviations are the unit they abbreviate"),
        ("15 hrs", "15 hours", True, "...hr is hour"),
        ("15 inches", "15 inch", True, "an irregular plural is the unit"),
        ("$5", "5 bucks", True, "$ is dollars"),
        ("42 squared", "42 squared", True, "even a modifier passes a gold that says the same"),
    ],
)
def test_unit_words_against_a_gold_with_a_word(value, gold, expected, why):
    assert passes(value, gold) is expected, why


def test_unit_mismatch_detail_says_so():
    passed, detail = compare(from_value("15 hours"), parse_gold("15 minutes"))
    assert not passed and "units differ" in detail


def test_non_integral_answer_to_integral_gold_detail():
    assert compare(from_value(42.004), parse_gold("42")) == (False, "expected 42, got 42.004, which is not an integer")
