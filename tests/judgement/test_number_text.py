"""The number grammar: what text is a number, what stays text, and the bounds."""

from fractions import Fraction

import pytest

from ekt_curate.judgement import parse_text


@pytest.mark.parametrize(
    ("text", "number", "unit", "why"),
    [
        ("1e-05", Fraction(1, 100000), None, "print(0.00001) prints 1e-05"),
        ("1e+16", 10 ** 16, None, "print(1e16) prints 1e+16"),
        ("2.0107e-06", Fraction(20107, 10 ** 10), None, "gsm-hard writes small golds in scientific notation"),
        ("4.2E1", 42, None, "an upper-case exponent"),
        ("\u22125", -5, None, "the unicode minus sign"),
        ("+7", 7, None, "an explicit plus sign"),
        ("1 1/2", Fraction(3, 2), None, "a mixed number"),
        ("-1 1/2", Fraction(-3, 2), None, "the sign applies to the whole mixed number"),
        ("3/4", Fraction(3, 4), None, "a fraction in lowest terms"),
        ("12,345,678", 12345678, None, "proper thousands groups"),
        ("$1,234.50", Fraction(246900, 200), "dollar", "currency is a unit"),
        ("-$5", -5, "dollar", "sign before the currency"),
        ("$-5", -5, "dollar", "sign after the currency"),
        ("15 Hours", 15, "hour", "a unit word, case- and plural-insensitive"),
        ("50%", 50, "%", "percent sign"),
        ("50 percent", 50, "%", "percent word is the same unit"),
        (".5", Fraction(1, 2), None, "no integer part"),
    ],
)
def test_numbers(text, number, unit, why):
    answer = parse_text(text)
    assert answer.number == number and answer.unit == unit, why


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("5 million", "a scale word changes the value: never the bare 5"),
        ("3 dozen", "a scale word"),
        ("2 thousand", "a scale word"),
        ("5k", "a one-letter suffix (k, m, b: scale; j: complex)"),
        ("3j", "a complex number"),
        ("(3+4j)", "a complex number"),
        ("\u0663", "ARABIC-INDIC DIGIT THREE is not an ASCII digit"),
        ("\uff17\uff12", "full-width digits"),
        ("1,23", "a comma in the wrong place"),
        ("0,042", "a first group with a leading zero: 0.042 written with a decimal comma (issue 17)"),
        ("00,042", "...two leading zeros"),
        ("1234,567", "a first group of more than 3 digits"),
        ("1,234e5", "an exponent on a grouped number"),
        ("10/05", "a date (MM/DD) with a leading zero"),
        ("02/01", "a date"),
        ("10/5", "not in lowest terms: a date or a ratio, not a fraction anyone reduces"),
        ("12/25/2020", "a full date"),
        ("1.5/2", "a decimal over an integer"),
        ("1 3/2", "a mixed number's fraction must be proper"),
        ("18 apples and pears", "more than one word is a sentence"),
        ("$5 euros", "two different currencies"),
        ("5.", "a trailing dot"),
    ],
)
def test_text(text, why):
    answer = parse_text(text)
    assert answer.number is None and answer.problem is None and answer.text is not None, why


@pytest.mark.parametrize(
    "text",
    ["1E+5000", "1E+999999999", "1e-5000", "9" * 4001, "1/" + "7" * 4001, "x" * 5001, "1e9999999"],
)
def test_out_of_bounds_is_a_problem_not_a_number(text):
    answer = parse_text(text)
    assert answer.problem and "bounds" in answer.problem or "longer" in answer.problem


def test_large_but_bounded_numbers_stay_exact():
    answer = parse_text("9" * 400 + ".5")
    assert answer.number == 10 ** 400 - Fraction(1, 2)  # 400 nines then .5


def test_lone_surrogate_becomes_a_replacement_character():
    answer = parse_text("abc\ud800")
    assert answer.text == "abc\ufffd"
    answer.text.encode("utf-8")


def test_printed_float_noise_snaps_only_for_output():
    assert parse_text("2.9999999999999996", inexact=True).number == 3
    assert parse_text("2.9999999999999996").number != 3  # a gold is exact as written


@pytest.mark.parametrize(("text", "decimals"), [("6.67", 2), ("6.70", 2), ("72", 0), ("1e-05", None), ("3/4", None)])
def test_written_decimals(text, decimals):
    assert parse_text(text).decimals == decimals
